"""Figure 4: PDF, milliseconds per one-page invoice (warm), and the PDF handler's package size.

Render time: ``regelwerk.documents.render_document("invoice", ctx, functions/pdf/fonts)`` for the
demo shop's first order (two line items at 7 % and 19 %, shipping, German) as not yet paid, so the
invoice carries everything an invoice can: the EPC payment QR code and the embedded Factur-X
EN 16931 XML (a PDF/A-3 file). Warm (after warm-up renders), the median over at least 50 renders.
Interleaved with it: the payment reminder of the same order (the same page without QR code, XML
and PDF/A), the invoice's three extra parts on their own (the XML, the Factur-X embedding, the QR
code), fpdf2 writing one line on an A4 page with the same two DejaVu TTF fonts (the floor for any
fpdf2 document that parses these fonts per document, as ``add_font`` does; regelwerk's documents
parse them once per warm container), and fpdf2 with its built-in Helvetica (no font file parsed or
embedded).

Package size: the handler's own files plus ``functions/pdf/requirements.txt`` installed with
``pip install --target`` for Lambda's platform (manylinux_2_28 / manylinux2014 aarch64, CPython 3.13, wheels only),
unzipped and zipped; beside it, ``.aws-sam/build/PdfFunction`` when a ``sam build`` left one.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from bench import ROOT, Result, interleaved, median, now, paired_ratio, spread, table

FONTS = ROOT / "functions" / "pdf" / "fonts"
TARGET_MS = 15.0
LIMIT_UNZIPPED = 250 * 1024 * 1024  # Lambda: function + layers, unzipped
LIMIT_ZIPPED = 50 * 1024 * 1024  # Lambda: a .zip uploaded directly


def demo_context() -> dict[str, Any]:
    import yaml

    from regelwerk.model.customer import apply_order, customer_id_for
    from regelwerk.model.order import Order
    from regelwerk.model.shop import Shop

    shop = Shop.model_validate(yaml.safe_load((ROOT / "examples" / "demo-shop" / "shop.yaml").read_text()))
    event = json.loads(next((ROOT / "events" / "demo").glob("01-*.json")).read_text())
    order = Order.model_validate(event["order"])
    customer = apply_order(None, customer_id_for(shop.id, order, shop.customer_matching), order, new_order=True)
    return {
        "shop": shop.to_context(),
        "order": order.to_context(),
        "customer": customer.to_context(),
        "previous": None,
        "invoice": None,
        "event": {"id": "evt_bench", "type": "order.imported"},
    }


def render_times(rounds: int, per_sample: int) -> dict[str, list[float]]:
    from datetime import date

    import facturx
    from fpdf import FPDF

    from regelwerk.documents import einvoice
    from regelwerk.documents.pdf import render_document

    ctx = demo_context()
    ctx["order"] = ctx["order"] | {"paid_at": None, "status": "new"}  # unpaid: the invoice gets its QR code
    number = f"RE-{ctx['order']['number']}"
    payload = einvoice.invoice_qr_payload(ctx, number)
    if payload is None:
        raise RuntimeError("the benchmark invoice should carry a payment QR code")

    def ours() -> bytes:
        return render_document("invoice", ctx, FONTS)[0]

    def reminder() -> bytes:
        return render_document("payment_reminder", ctx, FONTS)[0]

    plain = reminder()
    xml = einvoice.invoice_xml(ctx, number, date(2026, 11, 23))

    def xml_only() -> bytes:
        return einvoice.invoice_xml(ctx, number, date(2026, 11, 23))

    def embed_only() -> bytes:
        return einvoice.embed_facturx(plain, xml)

    def qr_only() -> Any:
        return einvoice.epc_qr_image(payload)

    def same_fonts() -> bytes:
        pdf = FPDF(format="A4")
        pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
        pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        pdf.set_font("DejaVu", size=10)
        pdf.add_page()
        pdf.cell(0, 8, "Rechnung RE-1001", new_x="LMARGIN", new_y="NEXT")
        return bytes(pdf.output())

    def fonts_only() -> None:
        pdf = FPDF(format="A4")
        pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
        pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))

    def core_font() -> bytes:
        pdf = FPDF(format="A4")
        pdf.set_font("Helvetica", size=10)
        pdf.add_page()
        pdf.cell(0, 8, "Rechnung RE-1001", new_x="LMARGIN", new_y="NEXT")
        return bytes(pdf.output())

    def timer(fn: Any) -> Any:
        def go() -> float:
            t0 = now()
            for _ in range(per_sample):
                fn()
            return (now() - t0) / per_sample * 1000

        return go

    body = ours()
    if facturx.get_xml_from_pdf(body, check_xsd=True)[0] != "factur-x.xml":
        raise RuntimeError("the benchmark invoice should carry its Factur-X XML")
    size = len(body)
    times = interleaved(
        {
            "invoice": timer(ours),
            "reminder": timer(reminder),
            "xml": timer(xml_only),
            "embed": timer(embed_only),
            "qr": timer(qr_only),
            "same_fonts": timer(same_fonts),
            "fonts_only": timer(fonts_only),
            "core_font": timer(core_font),
        },
        rounds,
        warmup=2,
    )
    times["_bytes"] = [float(size)]
    return times


def tree_size(path: Path) -> tuple[int, dict[str, int]]:
    total, parts = 0, {}
    for p in path.rglob("*"):
        if p.is_file() and "__pycache__" not in p.parts:
            size = p.stat().st_size
            total += size
            top = p.relative_to(path).parts[0]
            parts[top] = parts.get(top, 0) + size
    return total, dict(sorted(parts.items(), key=lambda kv: -kv[1]))


def zipped_size(path: Path) -> int:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        for p in sorted(path.rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts:
                z.write(p, p.relative_to(path))
    return buf.tell()


def package_size() -> dict[str, Any]:
    """The PDF function's files plus its requirements installed for Lambda arm64, in a temp dir."""
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="regelwerk-pdf-pkg-") as tmp:
        target = Path(tmp) / "pkg"
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",
            "--target",
            str(target),
            "--platform",
            "manylinux_2_28_aarch64",  # Lambda's python3.13 runs on Amazon Linux 2023 (glibc 2.34)
            "--platform",
            "manylinux2014_aarch64",
            "--implementation",
            "cp",
            "--python-version",
            "3.13",
            "--only-binary=:all:",
            "-r",
            str(ROOT / "functions" / "pdf" / "requirements.txt"),
        ]
        got = subprocess.run(cmd, capture_output=True, text=True, check=False, env=os.environ | {"PIP_NO_INPUT": "1"})
        if got.returncode == 0:
            for p in (ROOT / "functions" / "pdf").rglob("*"):
                if p.is_file() and "__pycache__" not in p.parts and p.name != "requirements.txt":
                    dest = target / p.relative_to(ROOT / "functions" / "pdf")
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    dest.write_bytes(p.read_bytes())
            total, parts = tree_size(target)
            out["pip_target"] = {
                "how": "pip install --target, manylinux aarch64 cp313 wheels, plus functions/pdf/",
                "unzipped_bytes": total,
                "zipped_bytes": zipped_size(target),
                "largest": {k: v for k, v in list(parts.items())[:8]},
            }
        else:
            out["pip_target_error"] = got.stderr.strip().splitlines()[-3:]
    built = ROOT / ".aws-sam" / "build" / "PdfFunction"
    if built.exists():
        total, parts = tree_size(built)
        out["sam_build"] = {"unzipped_bytes": total, "largest": {k: v for k, v in list(parts.items())[:8]}}
        layer = ROOT / ".aws-sam" / "build" / "CoreLayer"
        if layer.exists():
            out["sam_build"]["core_layer_unzipped_bytes"] = tree_size(layer)[0]
    return out


def run(quick: bool = False) -> list[Result]:
    rounds, per_sample = (5, 5) if quick else (12, 5)  # 60 renders of each kind, after 10 warm-up renders
    times = render_times(rounds, per_sample)
    ms, floor, fonts, core = (median(times[k]) for k in ("invoice", "same_fonts", "fonts_only", "core_font"))
    reminder, xml, embed, qr = (median(times[k]) for k in ("reminder", "xml", "embed", "qr"))
    where = {
        "the same page without QR code, XML and PDF/A (the payment reminder)": round(reminder, 2),
        "EN 16931 XML: drafthorse build + XSD validation": round(xml, 2),
        "Factur-X embedding: factur-x (XSD check, XMP) + pypdf rewrite": round(embed, 2),
        "EPC QR code: segno encode (mask choice) + image": round(qr, 2),
        "FPDF() + add_font x2 (parse the two TTF files)": round(fonts, 2),
        "rest of the one-line page with those fonts (page, cell, output: subset + embed)": round(floor - fonts, 2),
        "the same one-line page with built-in Helvetica": round(core, 2),
    }
    pkg = package_size()
    source = pkg.get("pip_target") or pkg.get("sam_build") or {}
    unzipped = source.get("unzipped_bytes")
    zipped = source.get("zipped_bytes")
    results = [
        Result(
            4,
            "pdf: one-page invoice, warm render",
            ms,
            "ms",
            floor,
            "fpdf2 one line, same TTF fonts, ms",
            paired_ratio(times["invoice"], times["same_fonts"]),
            f"<= {TARGET_MS:.0f} ms",
            ms <= TARGET_MS,
            {
                "renders": rounds * per_sample,
                "spread": round(spread(times["invoice"]), 3),
                "pdf_bytes": int(times["_bytes"][0]),
                "fpdf2_core_font_one_line_ms": round(core, 3),
                "where_the_time_goes_ms": where,
                "includes_qr_code": True,
                "includes_factur_x": True,
                "payment_reminder_ms": round(reminder, 3),
            },
        ),
        Result(
            4,
            "pdf: PdfFunction package size (unzipped)",
            round(unzipped / 1024 / 1024, 2) if unzipped else None,
            "MB",
            LIMIT_UNZIPPED / 1024 / 1024,
            "Lambda limit, function + layers unzipped, MB",
            (unzipped / LIMIT_UNZIPPED) if unzipped else None,
            "information",
            None,
            pkg | {"zipped_limit_mb": LIMIT_ZIPPED / 1024 / 1024},
        ),
    ]
    print()
    print(f"Figure 4: PDF render, ms per document (median of {rounds} x {per_sample}, interleaved)")
    print(
        table(
            [
                ["regelwerk invoice (demo order 1001, QR + Factur-X)", ms, round(spread(times["invoice"]), 2)],
                ["  same page, no QR/XML/PDF-A (payment reminder)", reminder, round(spread(times["reminder"]), 2)],
                ["  part: EN 16931 XML (drafthorse + XSD)", xml, round(spread(times["xml"]), 2)],
                ["  part: Factur-X embedding (factur-x + pypdf)", embed, round(spread(times["embed"]), 2)],
                ["  part: EPC QR code (segno + image)", qr, round(spread(times["qr"]), 2)],
                ["fpdf2, one line, same DejaVu TTF fonts", floor, round(spread(times["same_fonts"]), 2)],
                ["fpdf2, FPDF() + add_font x2 only", fonts, round(spread(times["fonts_only"]), 2)],
                ["fpdf2, one line, built-in Helvetica", core, round(spread(times["core_font"]), 2)],
            ],
            ["document", "ms", "spread"],
        )
    )
    if unzipped:
        mb = unzipped / 1024 / 1024
        print(
            f"  PdfFunction package: {mb:.1f} MB unzipped"
            + (f", {zipped / 1024 / 1024:.1f} MB zipped" if zipped else "")
        )
        print("  largest parts (MB):", ", ".join(f"{k} {v / 1024 / 1024:.1f}" for k, v in source["largest"].items()))
    return results


if __name__ == "__main__":
    from bench import child_main

    child_main(run)
