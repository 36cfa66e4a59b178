"""The owner's daily digest of actions that ended in a dead-letter queue.

When an action is dead-lettered, its run gets ``dead_at`` and so enters the sparse
``dead-lettered`` index of the runs table. Once a day (``shop.yaml: alerts``, 08:00 in the shop's
time zone unless configured, or ``dead_letters: off``) the schedule function reads the runs that
entered it since the day before and, if there are any, queues one e-mail to the owner listing each
action with its rule, order and reason, and how to send them again (``regelwerk dlq SHOP
--redrive``). The e-mail uses the shop's template ``dead-letter-digest`` if it has one, else the
built-in one. It is an action like any other (its run id is made from the slot): sent once.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from ..delivery import queue
from ..engine.context import rule_context
from ..model.messages import ActionMessage, dumps
from ..store.shops import get_shop
from ..store.tables import RunItem, get_or_none
from .run_writer import event_id_for

TEMPLATE = "dead-letter-digest"
BUILTIN = {
    "de": {
        "subject": "{{ dead_letters | length }} fehlgeschlagene Aktion(en) bei {{ shop.name }}",
        "text": (
            "Guten Tag,\n\nseit gestern sind diese Aktionen auch nach allen Wiederholungen fehlgeschlagen:\n\n"
            "{% for d in dead_letters %}- {{ d.at[:16] }}  Regel {{ d.rule }} ({{ d.type }})"
            "{% if d.order_number %}, Bestellung {{ d.order_number }}{% endif %}: {{ d.reason }}\n{% endfor %}\n"
            "Nach der Ursache (z. B. eine Vorlage oder eine Telefonnummer) sendet `regelwerk dlq {{ shop.id }} "
            "--redrive` sie erneut; was schon hinausging, geht nicht doppelt hinaus.\n\nRegelwerk\n"
        ),
    },
    "en": {
        "subject": "{{ dead_letters | length }} failed action(s) at {{ shop.name }}",
        "text": (
            "Hello,\n\nsince yesterday these actions failed after all their retries:\n\n"
            "{% for d in dead_letters %}- {{ d.at[:16] }}  rule {{ d.rule }} ({{ d.type }})"
            "{% if d.order_number %}, order {{ d.order_number }}{% endif %}: {{ d.reason }}\n{% endfor %}\n"
            "Once the cause is fixed (a template, a phone number ...), `regelwerk dlq {{ shop.id }} --redrive` "
            "sends them again; what already went out does not go out twice.\n\nRegelwerk\n"
        ),
    },
}


def dead_letters_since(shop_id: str, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Each dead-lettered action of the shop's runs that entered the index in ``[since, until)``."""
    out = []
    runs = RunItem.dead_lettered.query(shop_id, RunItem.dead_at.between(since.isoformat(), until.isoformat()))
    for run in runs:
        doc = json.loads(run.document)
        deliveries = run.deliveries.as_dict() if hasattr(run.deliveries, "as_dict") else dict(run.deliveries)
        for action_id, d in sorted(deliveries.items()):
            if d.get("state") == "dead_lettered" and since.isoformat() <= d.get("at", "") < until.isoformat():
                out.append(
                    {
                        "action_id": action_id,
                        "run_id": run.run_id,
                        "rule": d.get("rule"),
                        "type": d.get("type"),
                        "reason": d.get("reason", ""),
                        "at": d.get("at", ""),
                        "order_number": doc.get("order_number"),
                    }
                )
    return out


def send_digest(shop_id: str, slot: str) -> dict[str, Any]:
    """The daily digest for one slot: queue the owner's e-mail if anything was dead-lettered. Idempotent."""

    shop = get_shop(shop_id)
    until = datetime.fromisoformat(slot.replace("Z", "+00:00")).astimezone(UTC)
    entries = dead_letters_since(shop.id, until - timedelta(days=1), until)
    if not entries:
        return {"shop_id": shop.id, "slot": slot, "dead_letters": 0}
    run_id = event_id_for(shop.id, "digest", slot, b"")
    if get_or_none(RunItem, shop.id, run_id) is not None:
        return {"shop_id": shop.id, "slot": slot, "dead_letters": len(entries), "duplicate": True}
    ctx = rule_context(shop) | {
        "event": {"id": run_id, "type": "dead_letter_digest", "received_at": until.isoformat(), "schedule_slot": slot},
        "dead_letters": entries,
    }
    action_id = f"{run_id}:dead_letter_digest:-:0"
    message = ActionMessage.plan(
        shop_id=shop.id,
        run_id=run_id,
        event_type="dead_letter_digest",
        action_id=action_id,
        rule_id="-",
        rule_version=0,
        action={"type": "notify_owner", "via": "email", "template": TEMPLATE},
        context=ctx,
    )
    RunItem(
        shop.id,
        run_id,
        received_at=until.isoformat(),
        state="queued",
        event_type="dead_letter_digest",
        document=dumps(
            {
                "run_id": run_id,
                "event_id": run_id,
                "platform": "schedule",
                "received_at": until.isoformat(),
                "note": f"daily digest to the owner: {len(entries)} dead-lettered action(s)",
                "events": [],
            }
        ),
        deliveries={action_id: {"state": "queued", "rule": "-", "type": "notify_owner", "event": "dead_letter_digest"}},
        expires_at=until + timedelta(days=90),
    ).save(condition=RunItem.run_id.does_not_exist())
    queue.send([("mail", message)])
    return {"shop_id": shop.id, "slot": slot, "dead_letters": len(entries), "run_id": run_id}
