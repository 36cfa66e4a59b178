"""Dead-lettered actions of one shop: list them, or send them back to their queue.

Redriving cannot duplicate what already went out: every action carries its stable id, and the
handlers' delivery ledger skips an action that is recorded as sent.
"""

from __future__ import annotations

import json
import os

QUEUES = {
    "mail": ("MAIL_DLQ_URL", "MAIL_QUEUE_URL"),
    "sms": ("SMS_DLQ_URL", "SMS_QUEUE_URL"),
    "pdf": ("PDF_DLQ_URL", "PDF_QUEUE_URL"),
    "actions": ("ACTIONS_DLQ_URL", "ACTIONS_QUEUE_URL"),
}


def dead_letters(shop_id: str, redrive: bool = False) -> list[str]:
    import boto3

    sqs = boto3.client("sqs")
    lines = []
    for name, (dlq_var, queue_var) in QUEUES.items():
        dlq = os.environ.get(dlq_var)
        if not dlq:
            lines.append(f"{name}: dead-letter queue unknown ({dlq_var} not set)")
            continue
        seen: set[str] = set()
        listed: list[str] = []
        while True:
            got = sqs.receive_message(
                QueueUrl=dlq, MaxNumberOfMessages=10, VisibilityTimeout=30, AttributeNames=["All"]
            ).get("Messages", [])
            fresh = [m for m in got if m["MessageId"] not in seen]
            if not fresh:
                break
            for m in fresh:
                seen.add(m["MessageId"])
                body = json.loads(m["Body"])
                if body.get("shop_id") != shop_id:
                    sqs.change_message_visibility(QueueUrl=dlq, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
                    continue
                lines.append(f"{name}: {body['action_id']}  rule {body['rule_id']}  ({body['action']['type']})")
                if redrive:
                    sqs.send_message(QueueUrl=os.environ[queue_var], MessageBody=m["Body"])
                    sqs.delete_message(QueueUrl=dlq, ReceiptHandle=m["ReceiptHandle"])
                    lines[-1] += "  -> sent back to the queue"
                else:
                    listed.append(m["ReceiptHandle"])
        for handle in listed:  # only looked at: visible again at once
            sqs.change_message_visibility(QueueUrl=dlq, ReceiptHandle=handle, VisibilityTimeout=0)
    return lines or [f"no dead-lettered actions for shop {shop_id}"]
