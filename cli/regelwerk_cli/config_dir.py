"""A shop's configuration directory: shop.yaml, rules/*.yaml and templates/<name>.<lang>.yaml.

Everything is read and checked before anything is written: one bad file means nothing is applied.

Values that differ between stacks (a receiver's URL on the local stack and in production) may name
an environment variable in shop.yaml and rules: ``${NAME}``, or ``${NAME:-default}`` with a default.
They are filled in when the directory is read; a variable that is not set and has no default is a
problem naming the file and the variable. Templates are never expanded (they are Jinja2 text).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


@dataclass
class ShopConfig:
    shop: dict[str, Any]
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)  # file -> document
    templates: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)  # (name, lang) -> variant
    logo: bytes | None = None  # logo.png beside shop.yaml: the letterhead of the shop's documents


class ConfigError(Exception):
    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def _yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError([f"{path}: not valid YAML: {exc}"]) from exc


_VARIABLE = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}")


def expand(doc: Any, path: Path, problems: list[str]) -> Any:
    """``${NAME}`` / ``${NAME:-default}`` in every string of a YAML document, from the environment."""
    if isinstance(doc, dict):
        return {k: expand(v, path, problems) for k, v in doc.items()}
    if isinstance(doc, list):
        return [expand(v, path, problems) for v in doc]
    if not isinstance(doc, str) or "${" not in doc:
        return doc

    def value(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        found = os.environ.get(name, default)
        if found is None:
            problems.append(f"{path}: environment variable {name} is not set (and ${{{name}}} has no :-default)")
            return match.group(0)
        return found

    return _VARIABLE.sub(value, doc)


def read(directory: Path) -> ShopConfig:
    """Read and validate a configuration directory; ConfigError lists every problem with file and path."""
    from regelwerk.documents.templates import check_template
    from regelwerk.engine.rule import load_rule
    from regelwerk.errors import InvalidInput
    from regelwerk.model.shop import Shop

    problems: list[str] = []
    shop_file = directory / "shop.yaml"
    if not shop_file.exists():
        raise ConfigError([f"{shop_file}: missing"])
    shop_doc = expand(_yaml(shop_file), shop_file, problems)
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
        doc = expand(_yaml(path), path, problems)
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
    logo = directory / "logo.png"
    if logo.exists():
        from regelwerk.documents.branding import problems as logo_problems

        config.logo = logo.read_bytes()
        problems += [f"{logo}: {p}" for p in logo_problems(config.logo)]
    if problems:
        raise ConfigError(problems)
    return config


def apply(config: ShopConfig) -> list[str]:
    """Write the shop, its rules and templates; returns what changed, one line each."""
    from regelwerk.model.shop import Shop
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
    if config.logo is not None:
        from regelwerk.documents.branding import store_logo

        lines.append("logo: uploaded" if store_logo(shop.id, config.logo) else "logo: unchanged")
    return lines


def _live(shop_id: str) -> ShopConfig | None:
    """The shop's live configuration in the same shape as a directory."""
    import json

    from regelwerk.errors import NotFound
    from regelwerk.store import rules, shops
    from regelwerk.store.tables import RuleItem

    try:
        shop = shops.get_shop(shop_id)
    except NotFound:
        return None
    live = ShopConfig(shop=shop.model_dump(mode="json", exclude_none=True))
    for rule in rules.list_rules(shop_id):
        live.rules[rule.id] = rule.document()
    for t in rules.list_templates(shop_id):
        item = RuleItem.get(shop_id, f"template#{t['name']}#{t['language']}")
        live.templates[(t["name"], t["language"])] = json.loads(item.document)
    return live


def diff(config: ShopConfig) -> list[str]:
    """What `apply` would change: + new, ~ changed (with the fields), - live only (deleted with --prune)."""
    from regelwerk.engine.rule import load_rule
    from regelwerk.model.shop import Shop

    shop = Shop.model_validate(config.shop)
    live = _live(shop.id)
    lines: list[str] = []
    if live is None:
        lines.append(f"+ shop {shop.id} (new)")
        live = ShopConfig(shop={})
    else:
        wanted = shop.model_dump(mode="json", exclude_none=True)
        changed = sorted(k for k in set(wanted) | set(live.shop) if wanted.get(k) != live.shop.get(k))
        if changed:
            lines.append(f"~ shop {shop.id}: {', '.join(changed)}")
    wanted_rules = {}
    for doc in config.rules.values():
        rule = load_rule(doc).rule
        wanted_rules[rule.id] = rule.document()
    for rule_id, doc in sorted(wanted_rules.items()):
        if rule_id not in live.rules:
            lines.append(f"+ rule {rule_id}")
        elif live.rules[rule_id] != doc:
            fields = sorted(k for k in set(doc) | set(live.rules[rule_id]) if doc.get(k) != live.rules[rule_id].get(k))
            lines.append(f"~ rule {rule_id}: {', '.join(fields)} (a new version)")
    for rule_id in sorted(set(live.rules) - set(wanted_rules)):
        lines.append(f"- rule {rule_id} (not in the directory; --prune deletes it)")
    for key, variant in sorted(config.templates.items()):
        if key not in live.templates:
            lines.append(f"+ template {key[0]} ({key[1]})")
        elif live.templates[key] != variant:
            lines.append(f"~ template {key[0]} ({key[1]})")
    for key in sorted(set(live.templates) - set(config.templates)):
        lines.append(f"- template {key[0]} ({key[1]}) (not in the directory; --prune deletes it)")
    return lines


def prune(config: ShopConfig) -> list[str]:
    """Delete the live rules and templates the directory no longer has (rule versions stay readable)."""
    from regelwerk.engine.rule import load_rule
    from regelwerk.store import rules

    shop_id = config.shop["id"]
    live = _live(shop_id)
    if live is None:
        return []
    wanted = {load_rule(doc).rule.id for doc in config.rules.values()}
    lines = []
    for rule_id in sorted(set(live.rules) - wanted):
        rules.delete_rule(shop_id, rule_id)
        lines.append(f"rule {rule_id}: deleted")
    for name, lang in sorted(set(live.templates) - set(config.templates)):
        rules.delete_template(shop_id, name, lang)
        lines.append(f"template {name} ({lang}): deleted")
    return lines


def export(shop_id: str, directory: Path) -> list[str]:
    """Write a shop's live configuration as a directory that `apply` reads back unchanged."""
    live = _live(shop_id)
    if live is None:
        raise ConfigError([f"unknown shop {shop_id!r}"])
    (directory / "rules").mkdir(parents=True, exist_ok=True)
    (directory / "templates").mkdir(parents=True, exist_ok=True)

    def dump(path: Path, doc: Any) -> None:
        path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")

    dump(directory / "shop.yaml", live.shop)
    written = ["shop.yaml"]
    for rule_id, doc in sorted(live.rules.items()):
        dump(directory / "rules" / f"{rule_id}.yaml", doc)
        written.append(f"rules/{rule_id}.yaml")
    for (name, lang), variant in sorted(live.templates.items()):
        dump(directory / "templates" / f"{name}.{lang}.yaml", variant)
        written.append(f"templates/{name}.{lang}.yaml")
    return written
