"""Refuse what can only fail: a rule naming a template the shop does not have is a 422 naming the action."""

from __future__ import annotations

RULE = {
    "id": "welcome",
    "name": "Welcome",
    "trigger": {"event": "order.imported"},
    "actions": [
        {"type": "email", "template": "thank-you", "to": "customer"},
        {"type": "email", "template": "welcome-new", "to": "customer"},
    ],
}


def test_a_rule_naming_a_missing_template_is_refused_at_the_action(demo_shop):
    status, body = demo_shop.admin("POST", "/rules", RULE)
    assert status == 422, body
    [problem] = body["problems"]
    assert problem["path"] == "$.actions[1].template" and "'welcome-new' (de)" in problem["reason"]
    assert demo_shop.admin("GET", "/rules/welcome")[0] == 404  # nothing written

    # an English variant is enough: English is the last language every send falls back to
    assert demo_shop.admin("PUT", "/templates/welcome-new/en", {"subject": "Welcome", "text": "Hello"})[0] == 200
    assert demo_shop.admin("POST", "/rules", RULE)[0] == 201
