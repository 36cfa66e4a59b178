"""A shop's configuration directory: shop.yaml, rules/*.yaml and templates/<name>.<lang>.yaml.

Everything is read and checked before anything is written: one bad file means nothing is applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


@dataclass
class ShopConfig:
    shop: dict[str, Any]
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)  # file -> document
    templates: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)  # (name, lang) -> variant


class ConfigError(Exception):
    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def _yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError([f"{path}: not valid YAML: {exc}"]) from exc


def read(directory: Path) -> ShopConfig:
    """Read and validate a configuration directory; ConfigError lists every problem with file and path."""
    from regelwerk.errors import InvalidInput
    from regelwerk.rule import load_rule
    from regelwerk.shop import Shop
    from regelwerk.templates import check_template

    problems: list[str] = []
    shop_file = directory / "shop.yaml"
    if not shop_file.exists():
        raise ConfigError([f"{shop_file}: missing"])
    shop_doc = _yaml(shop_file)
    try:
        Shop.model_validate(shop_doc)
    except Exception as exc:
        from pydantic import ValidationError

        from regelwerk.errors import pydantic_problems

        if isinstance(exc, ValidationError):
            problems += [f"{shop_file}: {p.path}: {p.reason}" for p in pydantic_problems(exc)]
        else:
            raise
    config = ShopConfig(shop=shop_doc)
    seen_ids: dict[str, Path] = {}
    for path in sorted((directory / "rules").glob("*.y*ml")):
        doc = _yaml(path)
        try:
            compiled = load_rule(doc)
        except InvalidInput as exc:
            problems += [f"{path}: {p.path}: {p.reason}" for p in exc.problems] or [f"{path}: {exc.message}"]
            continue
        if compiled.rule.id in seen_ids:
            problems.append(f"{path}: rule id {compiled.rule.id!r} is also used by {seen_ids[compiled.rule.id]}")
        seen_ids[compiled.rule.id] = path
        config.rules[str(path)] = doc
    for path in sorted((directory / "templates").glob("*.y*ml")):
        parts = path.name.rsplit(".", 2)
        if len(parts) != 3 or len(parts[1]) != 2:
            problems.append(f"{path}: name templates <name>.<language>.yaml, e.g. thank-you.de.yaml")
            continue
        doc = _yaml(path)
        if not isinstance(doc, dict):
            problems.append(f"{path}: must be a mapping with subject/html/text (e-mail) or text (SMS)")
            continue
        kind = "email" if "subject" in doc or "html" in doc else "sms"
        try:
            check_template(kind, doc)
        except InvalidInput as exc:
            problems += [f"{path}: {p.path}: {p.reason}" for p in exc.problems]
            continue
        config.templates[(parts[0], parts[1])] = doc
    for path, doc in config.rules.items():
        for i, action in enumerate(doc.get("actions") or []):
            name = action.get("template")
            if name and not any(n == name for n, _ in config.templates):
                problems.append(f"{path}: $.actions[{i}].template: no template {name!r} in templates/")
    if problems:
        raise ConfigError(problems)
    return config


def apply(config: ShopConfig) -> list[str]:
    """Write the shop, its rules and templates; returns what changed, one line each."""
    from regelwerk.shop import Shop
    from regelwerk.store import rules, shops

    shop = Shop.model_validate(config.shop)
    shops.save_shop(shop)
    lines = [f"shop {shop.id}: saved"]
    for (name, lang), variant in sorted(config.templates.items()):
        rules.save_template(shop.id, name, lang, variant)
        lines.append(f"template {name} ({lang}): saved")
    for doc in config.rules.values():
        rule = rules.save_rule(shop.id, doc)
        lines.append(f"rule {rule.id}: version {rule.version}")
    return lines
