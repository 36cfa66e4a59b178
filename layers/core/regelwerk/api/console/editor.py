"""The rule editor's form: a rule document laid out as form fields, read back from them, and the API's
problems (JSON paths such as ``$.when.all[0].value``) placed at the field they name.

Field names follow the document: ``name``, ``triggers-0-event``, ``actions-1-template``; a condition is a node
of the tree named by its position (``c`` the root group, ``c-0`` its first child, ``c-0-1`` ...) with a
``-kind`` (all, any, not or leaf) and, for a leaf, ``-field``, ``-op`` and its value inputs. Reading never
validates: the rule goes to ``load_rule`` / ``save_rule`` as it is, and their problems are the truth.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from ...engine.conditions import OPERATORS
from ...engine.fields import field_kinds, kind_of
from ...engine.windows import WINDOWS
from ...errors import Problem

Form = dict[str, list[str]]

GROUPS = ("all", "any", "not")
NO_VALUE = ("exists", "not_exists", "changed")
ORDERED = ("integer", "decimal", "money", "datetime")
CURRENCIES = ("EUR", "CHF", "GBP", "USD", "PLN", "CZK", "DKK", "SEK", "NOK", "HUF")
TRIGGER_FIELDS = ("event", "to", "from", "sku", "cron", "time_zone")
RULE_FIELDS = (
    "id",
    "name",
    "description",
    "enabled",
    "limit",
    "mode",
    "category",
    "over",
    "window",
    "triggers",
    "actions",
)
COMMON_ACTION_FIELDS = ("type", "as", "delay", "recheck")

# Each action type's own fields: (name, input, choices). Inputs: text, textarea, select, template (the shop's
# templates), list (comma-separated), recipient (customer | owner | an address), phone (customer | owner | +E.164),
# secret ({env: X} | {ssm: /p}).
ACTION_FIELDS: dict[str, tuple[tuple[str, str, tuple[str, ...]], ...]] = {
    "email": (("template", "template", ()), ("to", "recipient", ()), ("attach", "list", ())),
    "sms": (("template", "template", ()), ("to", "phone", ())),
    "pdf": (("document", "select", ("invoice", "delivery_note", "payment_reminder", "credit_note", "dunning_letter")),),
    "notify_owner": (("via", "select", ("email", "sms")), ("template", "template", ()), ("attach", "list", ())),
    "create_task": (("title", "text", ()), ("body", "textarea", ()), ("due", "text", ()), ("assignee", "text", ())),
    "set_order_status": (("status", "text", ()),),
    "webhook": (("url", "text", ()), ("secret", "secret", ())),
    "export": (("of", "select", ("orders", "invoices", "customers")), ("window", "select", WINDOWS)),
    "set_customer_language": (
        ("source", "select", ("shipping_country", "billing_country")),
        ("fallback", "text", ()),
    ),
    "tag_customer": (
        ("field", "select", ("tags", "groups")),
        ("add", "list", ()),
        ("remove", "list", ()),
        ("replace", "list", ()),
    ),
}
ACTION_TYPES = tuple(ACTION_FIELDS)


# ------------------------------------------------------------------ the catalog


def is_country(path: str) -> bool:
    return path.endswith(".country")


def operators_for(path: str) -> tuple[str, ...]:
    """The operators the engine accepts for a field (engine/conditions.py): by its kind, and changed /
    changed_to for order fields, which have a previous value."""
    kind = kind_of(path) or "any"
    ops = {
        "string": ("eq", "ne", "in", "not_in", "contains", "not_contains", "starts_with", "ends_with", "matches"),
        "boolean": ("eq", "ne"),
        "list": ("contains", "not_contains"),
        "any": ("eq", "ne", "contains", "not_contains", "starts_with", "ends_with", "matches"),
    }.get(kind, ("eq", "ne", "gt", "gte", "lt", "lte", "between", "in", "not_in"))
    ops += ("exists", "not_exists")
    if path.startswith("order."):
        ops += ("changed",) if kind == "list" else ("changed", "changed_to")
    return tuple(o for o in OPERATORS if o in ops)


@cache
def field_groups() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The catalog's paths grouped by their first part (order, customer, invoice ...), for the field picker."""
    groups: dict[str, list[str]] = {}
    for path in sorted(field_kinds()):
        groups.setdefault(path.split(".")[0], []).append(path)
    return tuple((name, tuple(paths)) for name, paths in groups.items())


@cache
def countries(language: str) -> tuple[tuple[str, str], ...]:
    """(code, name) of every country in the language, sorted by name as a reader expects (Ö with O)."""
    from babel import Locale  # Babel's data: loaded by the editor, not at cold start

    names = Locale.parse(language).territories
    pairs = [(code, name) for code, name in names.items() if re.fullmatch(r"[A-Z]{2}", code) and code != "ZZ"]

    def key(pair: tuple[str, str]) -> str:
        return unicodedata.normalize("NFD", pair[1]).encode("ascii", "ignore").decode().casefold()

    return tuple(sorted(pairs, key=key))


# ------------------------------------------------------------------ form -> document


def _one(form: Form, name: str) -> str:
    values = form.get(name) or [""]
    return values[0].strip()


def _indexes(form: Form, pattern: str) -> list[int]:
    found = {int(m.group(1)) for key in form if (m := re.fullmatch(pattern, key))}
    return sorted(found)


def _comma(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def document_from_form(form: Form, zone: str) -> dict[str, Any]:
    """The rule document the form says, as the owner filled it in (not validated)."""
    doc: dict[str, Any] = {"id": _one(form, "id"), "name": _one(form, "name")}
    if _one(form, "description"):
        doc["description"] = _one(form, "description")
    doc["enabled"] = _one(form, "enabled") == "on"
    triggers = [_trigger_from_form(form, i) for i in _indexes(form, r"triggers-(\d+)-event")]
    if len(triggers) == 1:
        doc["trigger"] = triggers[0]
    else:
        doc["triggers"] = triggers
    when = _node_from_form(form, "c", zone)
    if when is not None and not (set(when) & {"all", "any"} and not next(iter(when.values()))):
        doc["when"] = when  # an empty top group is no conditions at all
    limit = _one(form, "limit") or "unlimited"
    doc["limit"] = {"once_per_customer_per": _one(form, "limit_per")} if limit == "per" else limit
    for name in ("category", "over", "window"):
        if _one(form, name):
            doc[name] = _one(form, name)
    doc["mode"] = _one(form, "mode") or "sequential"
    doc["actions"] = [_action_from_form(form, i) for i in _indexes(form, r"actions-(\d+)-type")]
    return doc


def _trigger_from_form(form: Form, i: int) -> dict[str, Any]:
    out = {"event": _one(form, f"triggers-{i}-event")}
    for name in TRIGGER_FIELDS[1:]:
        if _one(form, f"triggers-{i}-{name}"):
            out[name] = _one(form, f"triggers-{i}-{name}")
    return out


def _node_from_form(form: Form, nid: str, zone: str) -> dict[str, Any] | None:
    kind = _one(form, f"{nid}-kind")
    if kind in GROUPS:
        children = [_node_from_form(form, f"{nid}-{i}", zone) for i in _indexes(form, rf"{nid}-(\d+)-kind")]
        kept = [c for c in children if c is not None]
        if kind == "not":
            return {"not": kept[0] if kept else {}}
        return {kind: kept}
    if kind != "leaf":
        return None
    field, op = _one(form, f"{nid}-field"), _one(form, f"{nid}-op")
    leaf: dict[str, Any] = {"field": field, "op": op}
    if op in NO_VALUE:
        return leaf
    kind_ = kind_of(field) or "any"
    currency = _one(form, f"{nid}-currency")
    if op == "between":
        leaf["value"] = [_value(kind_, _one(form, f"{nid}-{end}"), currency, zone) for end in ("low", "high")]
    elif op in ("in", "not_in"):
        texts = form.get(f"{nid}-countries") if is_country(field) else _comma(_one(form, f"{nid}-value"))
        leaf["value"] = [_value(kind_, t.strip(), currency, zone) for t in texts or [] if t.strip()]
    elif is_country(field) and op in ("eq", "ne", "changed_to"):
        leaf["value"] = (form.get(f"{nid}-countries") or [""])[0]
    else:
        leaf["value"] = _value(kind_, _one(form, f"{nid}-value"), currency, zone)
    return leaf


def _value(kind: str, text: str, currency: str, zone: str) -> Any:
    """One value input read as the field's kind; what cannot be read stays text, for the engine to name."""
    if kind == "money":
        return {"amount": text, "currency": currency} if currency else text
    if kind == "integer" and re.fullmatch(r"-?\d+", text):
        return int(text)
    if kind == "boolean" and text in ("true", "false"):
        return text == "true"
    if kind == "datetime" and text:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return text
        if moment.tzinfo is None:  # the picker gives the shop's wall-clock time
            moment = moment.replace(tzinfo=ZoneInfo(zone))
        return moment.isoformat()
    return text


def _action_from_form(form: Form, i: int) -> dict[str, Any]:
    prefix = f"actions-{i}"
    kind = _one(form, f"{prefix}-type")
    out: dict[str, Any] = {"type": kind}
    for name, widget, _choices in ACTION_FIELDS.get(kind, ()):
        text = _one(form, f"{prefix}-{name}")
        if widget == "list":
            if name == "replace":
                if text:
                    out[name] = _comma(text)
            elif _comma(text):
                out[name] = _comma(text)
        elif widget in ("recipient", "phone"):
            out[name] = _one(form, f"{prefix}-{name}_other") if text == "other" else (text or "customer")
        elif widget == "secret":
            place = _one(form, f"{prefix}-secret_place") or "env"
            out[name] = {place: _one(form, f"{prefix}-secret_name")}
        elif text:
            out[name] = text
    if _one(form, f"{prefix}-as"):
        out["as"] = _one(form, f"{prefix}-as")
    if _one(form, f"{prefix}-delay"):
        out["delay"] = _one(form, f"{prefix}-delay")
    if _one(form, f"{prefix}-recheck") == "on":
        out["recheck"] = True
    return out


# ------------------------------------------------------------------ changes of the form's shape


def _node_at(doc: dict[str, Any], nid: str) -> tuple[dict[str, Any] | None, list[Any] | None, int]:
    """The node named ``nid`` in the document's ``when``, with the list holding it and its index."""
    node, holder, index = doc.get("when"), None, -1
    for part in nid.split("-")[1:]:
        if not isinstance(node, dict):
            return None, None, -1
        key = next((k for k in GROUPS if k in node), None)
        if key is None:
            return None, None, -1
        if key == "not":
            holder, index, node = None, 0, node["not"]
            continue
        holder, index = node[key], int(part)
        node = holder[index] if index < len(holder) else None
    return node, holder, index


def change_shape(doc: dict[str, Any], do: str, shop_currency: str) -> dict[str, Any]:
    """Add or remove a trigger, a condition, a group or an action, as the button ``do`` says."""
    verb, _, where = do.partition(":")
    if verb == "add-trigger":
        triggers = list(doc.pop("triggers", None) or ([doc.pop("trigger")] if doc.get("trigger") else []))
        triggers.append({"event": "order.paid"})
        doc |= {"trigger": triggers[0]} if len(triggers) == 1 else {"triggers": triggers}
    elif verb == "remove-trigger":
        triggers = list(doc.pop("triggers", None) or ([doc.pop("trigger")] if doc.get("trigger") else []))
        if where.isdigit() and int(where) < len(triggers) and len(triggers) > 1:
            triggers.pop(int(where))
        doc |= {"trigger": triggers[0]} if len(triggers) == 1 else {"triggers": triggers}
    elif verb in ("add-leaf", "add-all", "add-any", "add-not"):
        new: dict[str, Any] = {"field": "order.total", "op": "gt", "value": {"amount": "", "currency": shop_currency}}
        if verb != "add-leaf":
            new = {verb[4:]: []} if verb != "add-not" else {"not": new}
        if where == "c" and not doc.get("when"):
            doc["when"] = {"all": []}
        node, _, _ = _node_at(doc, where)
        key = next((k for k in ("all", "any") if isinstance(node, dict) and k in node), None)
        if key is not None and node is not None:
            node[key].append(new)
    elif verb == "remove":
        _node, holder, index = _node_at(doc, where)
        if holder is not None:
            holder.pop(index)
        elif where == "c":
            doc.pop("when", None)
    elif verb == "refit":  # a leaf's field changed: an operator its kind does not allow becomes the first that fits
        node, _, _ = _node_at(doc, where)
        if isinstance(node, dict) and "field" in node and node.get("op") not in operators_for(str(node["field"])):
            node["op"] = operators_for(str(node["field"]))[0]
            node.pop("value", None)
    elif verb == "add-action" and where in ACTION_FIELDS:
        doc.setdefault("actions", []).append(blank_action(where))
    elif verb == "remove-action" and where.isdigit() and int(where) < len(doc.get("actions", [])):
        doc["actions"].pop(int(where))
    return doc


def blank_action(kind: str) -> dict[str, Any]:
    """A new action of a type, with the first choice of each of its selects."""
    out: dict[str, Any] = {"type": kind}
    for name, widget, choices in ACTION_FIELDS[kind]:
        if widget == "select":
            out[name] = choices[0]
        elif widget in ("recipient", "phone"):
            out[name] = "customer"
    return out


# ------------------------------------------------------------------ problems at their fields


_WHEN_STEP = re.compile(r"\.(all|any)\[(\d+)\]|\.not")


def slot_of(path: str) -> str:
    """The form field a problem's JSON path names (``$.when.all[0].value`` -> ``c-0-value``); a path the form has
    no field for goes to its row (``actions-1``), and one of the whole rule to the summary alone (``""``)."""
    path = re.sub(r"^\$\.rule(?=[.\[]|$)", "$", path)  # dry runs name the rule under $.rule
    path = re.sub(r"^\$\.trigger(?=[.\[]|$)", "$.triggers[0]", path)
    if m := re.match(r"^\$\.triggers\[(\d+)\](?:\.(\w+))?", path):
        row = f"triggers-{m.group(1)}"
        return f"{row}-{m.group(2)}" if m.group(2) in TRIGGER_FIELDS else row
    if m := re.match(r"^\$\.actions\[(\d+)\](?:\.(\w+))?", path):
        row = f"actions-{m.group(1)}"
        name = m.group(2)
        return f"{row}-{name}" if name and (name in COMMON_ACTION_FIELDS[1:] or _is_action_field(name)) else row
    if path.startswith("$.when"):
        rest, nid = path[len("$.when") :], "c"
        while m := _WHEN_STEP.match(rest):
            nid += f"-{m.group(2) or 0}"
            rest = rest[m.end() :]
        m = re.match(r"^\.(field|op|value)", rest)
        return f"{nid}-{m.group(1)}" if m else nid
    if m := re.match(r"^\$\.(\w+)", path):
        return m.group(1) if m.group(1) in RULE_FIELDS else ""
    return ""


def _is_action_field(name: str) -> bool:
    return any(name == f for fields in ACTION_FIELDS.values() for f, _w, _c in fields)


def problems_by_slot(problems: list[Problem]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in problems:
        out.setdefault(slot_of(p.path), []).append(p.reason)
    return out


# ------------------------------------------------------------------ YAML and differences


def to_yaml(doc: dict[str, Any]) -> str:
    import yaml  # the YAML view only: not at cold start

    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, default_flow_style=False)


def from_yaml(text: str) -> dict[str, Any]:
    """The document in the YAML box; a text that is no YAML mapping is a problem at the box."""
    import yaml

    from ...errors import InvalidInput

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput("the YAML cannot be read", [Problem("$", str(exc).splitlines()[0])]) from exc
    if not isinstance(doc, dict):
        raise InvalidInput("the YAML must be a rule: a mapping with id, name, trigger, actions", [])
    doc.pop("version", None)
    return doc


def diff(before: dict[str, Any], after: dict[str, Any], before_name: str, after_name: str) -> str:
    """A unified diff of two rules as YAML (the lines a person compares)."""
    lines = difflib.unified_diff(
        to_yaml(before).splitlines(keepends=True),
        to_yaml(after).splitlines(keepends=True),
        fromfile=before_name,
        tofile=after_name,
    )
    return "".join(lines)


# ------------------------------------------------------------------ document -> what the form shows


def leaf_view(leaf: dict[str, Any], zone: str) -> dict[str, Any]:
    """What a leaf's inputs show: its kind, operators, and the value split into the inputs that fit it."""
    field = str(leaf.get("field") or "")
    op = str(leaf.get("op") or "")
    kind = kind_of(field) or "any"
    value = leaf.get("value")
    view: dict[str, Any] = {"kind": kind, "ops": operators_for(field), "country": is_country(field), "currency": ""}
    items = value if isinstance(value, list) else [value]

    def text(v: Any) -> str:
        if isinstance(v, dict):
            view["currency"] = str(v.get("currency") or "")
            return str(v.get("amount") or "")
        if isinstance(v, str) and kind == "money" and " " in v.strip():
            view["currency"] = v.split()[-1]
            return v.split()[0]
        if isinstance(v, bool):
            return "true" if v else "false"
        if kind == "datetime" and isinstance(v, str):
            try:
                moment = datetime.fromisoformat(v)
                if moment.tzinfo:
                    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")
            except ValueError:
                pass
        return "" if v is None else str(v)

    texts = [text(v) for v in items]
    view["value"] = ", ".join(texts) if op in ("in", "not_in") else (texts[0] if texts else "")
    view["low"], view["high"] = [*texts, "", ""][:2] if op == "between" else ("", "")
    view["chosen"] = [str(v) for v in items if v is not None]
    return view


def recipient_view(value: Any) -> tuple[str, str]:
    """(the select's choice, the other address or number) of an action's ``to``."""
    text = str(value or "customer")
    return (text, "") if text in ("customer", "owner") else ("other", text)


def triggers_of(doc: dict[str, Any]) -> list[dict[str, Any]]:
    if isinstance(doc.get("triggers"), list):
        return [t if isinstance(t, dict) else {} for t in doc["triggers"]]
    return [doc["trigger"]] if isinstance(doc.get("trigger"), dict) else []


def limit_view(doc: dict[str, Any]) -> tuple[str, str]:
    limit = doc.get("limit", "unlimited")
    if isinstance(limit, dict):
        return "per", str(limit.get("once_per_customer_per") or "")
    return str(limit), ""
