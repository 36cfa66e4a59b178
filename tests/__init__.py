"""Regelwerk's tests: unit (mirroring the package), integration (handlers on the local stack), reliability."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the repository
FIXTURES = ROOT / "tests" / "fixtures"
FONTS = ROOT / "functions" / "pdf" / "fonts"
