"""Rules and templates of a shop: versioned writes, and one Query per cold load with a short warm cache."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from ..clients import connection
from ..engine.rule import CompiledRule, Rule, load_rule
from ..errors import Conflict, InvalidInput, NotFound, Problem
from ..settings import settings
from .delayed import cancel_rule
from .schedules import has_schedule, sync_rule_schedules
from .shops import get_shop
from .tables import RuleItem

_cache: dict[str, tuple[float, list[CompiledRule]]] = {}
_template_cache: dict[tuple[str, str], tuple[float, dict[str, Any] | None]] = {}


def load_rules(shop_id: str) -> list[CompiledRule]:
    """The shop's live rules, compiled. One DynamoDB Query when cold, none while the cache is fresh."""
    now = time.monotonic()
    hit = _cache.get(shop_id)
    if hit and now - hit[0] < settings().rules_cache_seconds:
        return hit[1]
    compiled = []
    for item in RuleItem.query(shop_id, RuleItem.sk.startswith("rule#")):
        compiled.append(load_rule(json.loads(item.document) | {"version": int(item.version)}))
    compiled.sort(key=lambda c: c.rule.id)
    _cache[shop_id] = (now, compiled)
    return compiled


def save_rule(shop_id: str, document: dict[str, Any]) -> Rule:
    """Validate and store a rule as a new version; the old versions stay readable.

    A rule that can only fail is refused (422 naming the path): an action naming a template the
    shop does not have in its default language (or English, the last fallback of every send).
    """
    compiled = load_rule(document)
    rule = compiled.rule
    missing_templates(shop_id, rule)
    current = None
    try:
        current = RuleItem.get(shop_id, f"rule#{rule.id}", consistent_read=True)
    except RuleItem.DoesNotExist:
        pass
    body = rule.document()
    if current is not None and json.loads(current.document) == body:
        if has_schedule(rule):  # re-creates a schedule an interrupted save left missing; else only reads
            _sync_schedules(shop_id, rule.id, rule)
        return rule.model_copy(update={"version": int(current.version)})  # unchanged: no new version
    if current is not None:
        version = int(current.version) + 1
    else:  # new, or created again after a deletion: its numbering goes on after the kept versions
        last = list(
            RuleItem.query(shop_id, RuleItem.sk.startswith(f"version#{rule.id}#"), scan_index_forward=False, limit=1)
        )
        version = int(last[0].version) + 1 if last else 1
    now = datetime.now(UTC).isoformat()
    text = json.dumps(body, sort_keys=True)
    live = RuleItem(shop_id, f"rule#{rule.id}", document=text, version=version, updated_at=now)
    history = RuleItem(shop_id, f"version#{rule.id}#{version:06d}", document=text, version=version, updated_at=now)
    condition = RuleItem.sk.does_not_exist() if current is None else RuleItem.version == current.version
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.save(live, condition=condition)
            tx.save(history, condition=RuleItem.sk.does_not_exist())
    except TransactWriteError as exc:
        raise Conflict(f"rule {rule.id!r} was changed concurrently; try again") from exc
    _cache.pop(shop_id, None)
    if has_schedule(rule) or (current is not None and _had_schedule(current.document)):
        _sync_schedules(shop_id, rule.id, rule)
    if not rule.enabled and current is not None and json.loads(current.document).get("enabled", True):
        cancel_rule(shop_id, rule.id, f"the rule was disabled (version {version})")
    return rule.model_copy(update={"version": version})


def missing_templates(shop_id: str, rule: Rule) -> None:
    """Raise InvalidInput naming each action whose template cannot be found when it is sent."""
    language = get_shop(shop_id).language
    problems = []
    for i, action in enumerate(rule.actions):
        name = getattr(action, "template", None)
        if not name:
            continue
        if get_template(shop_id, name, language) is None and get_template(shop_id, name, "en") is None:
            problems.append(
                Problem(
                    f"$.actions[{i}].template",
                    f"no template {name!r} ({language}): save the template first (PUT .../templates/{name}/{language})",
                )
            )
    if problems:
        raise InvalidInput(f"rule {rule.id!r} names templates the shop does not have", problems)


def _had_schedule(document: str) -> bool:
    """Whether a stored rule has a schedule trigger (read without validation: older versions may not pass today's)."""
    doc = json.loads(document)
    triggers = [doc.get("trigger")] if doc.get("trigger") else doc.get("triggers") or []
    return any(isinstance(t, dict) and t.get("event") == "schedule" for t in triggers)


def _sync_schedules(shop_id: str, rule_id: str, rule: Rule | None) -> None:
    """Bring the rule's EventBridge Scheduler schedules in step (its triggers' time zone defaults to the shop's)."""
    zone = "UTC"
    if rule is not None and any(t.cron and not t.time_zone for t in rule.all_triggers):
        zone = get_shop(shop_id).time_zone
    sync_rule_schedules(shop_id, rule_id, rule, zone)


def delete_rule(shop_id: str, rule_id: str) -> None:
    try:
        item = RuleItem.get(shop_id, f"rule#{rule_id}")
    except RuleItem.DoesNotExist as exc:
        raise NotFound(f"unknown rule {rule_id!r}") from exc
    item.delete()
    _cache.pop(shop_id, None)
    if _had_schedule(item.document):
        _sync_schedules(shop_id, rule_id, None)

    cancel_rule(shop_id, rule_id, "the rule was deleted")


def save_template(shop_id: str, name: str, language: str, template: dict[str, str]) -> None:
    """Check that a template variant compiles, then store it. E-mail templates have a subject; SMS ones do not."""
    from ..documents.templates import check_template  # jinja2 stays out of the ingest functions' cold start

    check_template("email" if "subject" in template or "html" in template else "sms", template)
    RuleItem(
        shop_id,
        f"template#{name}#{language}",
        document=json.dumps(template, sort_keys=True),
        updated_at=datetime.now(UTC).isoformat(),
    ).save()
    _template_cache.pop((shop_id, f"{name}#{language}"), None)


def get_template(shop_id: str, name: str, language: str) -> dict[str, Any] | None:
    """A template variant ({subject, html, text} or {text}), cached briefly in a warm container."""
    key = (shop_id, f"{name}#{language}")
    now = time.monotonic()
    hit = _template_cache.get(key)
    if hit and now - hit[0] < settings().rules_cache_seconds:
        return hit[1]
    try:
        doc: dict[str, Any] | None = json.loads(RuleItem.get(shop_id, f"template#{name}#{language}").document)
    except RuleItem.DoesNotExist:
        doc = None
    _template_cache[key] = (now, doc)
    return doc


def clear_cache() -> None:
    _cache.clear()
    _template_cache.clear()


def get_rule(shop_id: str, rule_id: str) -> Rule:
    try:
        item = RuleItem.get(shop_id, f"rule#{rule_id}", consistent_read=True)
    except RuleItem.DoesNotExist as exc:
        raise NotFound(f"unknown rule {rule_id!r}") from exc
    return Rule.model_validate(json.loads(item.document) | {"version": int(item.version)})


def list_rules(shop_id: str) -> list[Rule]:
    items = RuleItem.query(shop_id, RuleItem.sk.startswith("rule#"))
    return [Rule.model_validate(json.loads(i.document) | {"version": int(i.version)}) for i in items]


def rule_versions(shop_id: str, rule_id: str) -> list[dict[str, Any]]:
    """Every stored version of a rule, oldest first (kept after changes and after deletion)."""
    items = list(RuleItem.query(shop_id, RuleItem.sk.startswith(f"version#{rule_id}#")))
    if not items:
        raise NotFound(f"unknown rule {rule_id!r}")
    return [{"version": int(i.version), "saved_at": i.updated_at, "rule": json.loads(i.document)} for i in items]


def get_rule_version(shop_id: str, rule_id: str, version: int) -> dict[str, Any]:
    try:
        item = RuleItem.get(shop_id, f"version#{rule_id}#{version:06d}")
    except RuleItem.DoesNotExist as exc:
        raise NotFound(f"rule {rule_id!r} has no version {version}") from exc
    return {"version": int(item.version), "saved_at": item.updated_at, "rule": json.loads(item.document)}


def list_templates(shop_id: str) -> list[dict[str, Any]]:
    out = []
    for item in RuleItem.query(shop_id, RuleItem.sk.startswith("template#")):
        _, name, lang = item.sk.split("#", 2)
        out.append({"name": name, "language": lang, "updated_at": item.updated_at})
    return out


def delete_template(shop_id: str, name: str, language: str) -> None:
    try:
        RuleItem.get(shop_id, f"template#{name}#{language}").delete()
    except RuleItem.DoesNotExist as exc:
        raise NotFound(f"no template {name!r} in {language!r}") from exc
    _template_cache.pop((shop_id, f"{name}#{language}"), None)
