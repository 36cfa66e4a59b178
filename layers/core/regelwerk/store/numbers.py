"""Invoice and credit-note numbers, allocated once per document, gap-free and in order per shop.

Two items per shop in the shops table:

* ``sequence#<kind>#<scope>`` holds the last number given (``last``) for a kind and scope
  (the year when the pattern shows it, see ``model/numbering.py``);
* ``number#<kind>#<subject>`` is the claim: the number and issue date one document (an
  order's invoice, a refund's credit note) got.

One TransactWriteItems raises the counter from the value read (conditional) and writes the
claim (only if none exists), so a number is given exactly once and never skipped: a lost race
reads again and takes the next one; a second render of the same document (a redelivery, a
retry, a re-run) finds its claim and keeps its number and date. Concurrent invoices of one shop
serialise on its counter item (a few per second per shop is far below DynamoDB's 1,000 writes
a second per partition key).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import date

from botocore.exceptions import ClientError

from ..clients import client
from ..model.numbering import DocumentKind, format_number, sequence_scope
from .tables import ShopItem

MAX_ATTEMPTS = 60  # 50 concurrent invoices of one shop all get through (a reliability test)


@dataclass(frozen=True, slots=True)
class Allocated:
    number: str
    issued_on: date
    seq: int


class NumberingContention(RuntimeError):
    """The counter kept changing under us: the action is retried by its queue."""


def allocate_number(shop_id: str, kind: DocumentKind, subject: str, pattern: str, issued_on: date) -> Allocated:
    """The document's number: its claim if it has one, else the next in the shop's sequence."""
    ddb = client("dynamodb")
    table = ShopItem.Meta.table_name
    claim_key = {"shop_id": {"S": shop_id}, "sk": {"S": f"number#{kind}#{subject}"}}
    scope = sequence_scope(pattern, issued_on)
    counter_key = {"shop_id": {"S": shop_id}, "sk": {"S": f"sequence#{kind}#{scope}"}}
    for attempt in range(MAX_ATTEMPTS):
        claimed = _claimed(ddb, table, claim_key)
        if claimed is not None:
            return claimed
        counter = ddb.get_item(TableName=table, Key=counter_key, ConsistentRead=True).get("Item")
        last = int(counter["last"]["N"]) if counter else 0
        seq = last + 1
        number = format_number(pattern, seq, issued_on)
        counter_update = {
            "TableName": table,
            "Key": counter_key,
            "UpdateExpression": "SET #last = :next",
            "ExpressionAttributeNames": {"#last": "last"},
            "ExpressionAttributeValues": {":next": {"N": str(seq)}},
        }
        if counter:
            counter_update["ConditionExpression"] = "#last = :seen"
            counter_update["ExpressionAttributeValues"][":seen"] = {"N": str(last)}  # type: ignore[index]
        else:
            counter_update["ConditionExpression"] = "attribute_not_exists(sk)"
        claim = {
            "TableName": table,
            "Item": claim_key
            | {
                "number": {"S": number},
                "issued_on": {"S": issued_on.isoformat()},
                "seq": {"N": str(seq)},
                "scope": {"S": scope},
            },
            "ConditionExpression": "attribute_not_exists(sk)",
        }
        try:
            ddb.transact_write_items(TransactItems=[{"Update": counter_update}, {"Put": claim}])
            return Allocated(number, issued_on, seq)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in (
                "TransactionCanceledException",
                "TransactionConflictException",
            ):
                raise
        time.sleep(min(0.2, 0.005 * (attempt + 1)) * random.random())  # another document took this number
    raise NumberingContention(f"no {kind} number for {subject} after {MAX_ATTEMPTS} attempts (heavy contention)")


def _claimed(ddb: object, table: str, key: dict) -> Allocated | None:
    item = ddb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")  # type: ignore[attr-defined]
    if item is None:
        return None
    return Allocated(item["number"]["S"], date.fromisoformat(item["issued_on"]["S"]), int(item["seq"]["N"]))


def number_of(shop_id: str, kind: DocumentKind, subject: str) -> Allocated | None:
    """The number a document already has, or None (nothing is allocated)."""
    key = {"shop_id": {"S": shop_id}, "sk": {"S": f"number#{kind}#{subject}"}}
    return _claimed(client("dynamodb"), ShopItem.Meta.table_name, key)
