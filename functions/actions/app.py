"""actions: the actions queue - tasks, status changes, webhooks, exports, delayed actions coming due, fan-outs."""

import json

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from regelwerk.actions.perform import perform
from regelwerk.delivery.delays import release
from regelwerk.delivery.dispatch import deliver
from regelwerk.ingest.dunning import run_fanout
from regelwerk.ingest.selections import run_items, scan
from regelwerk.model.messages import ActionMessage, SchedulerPointer
from regelwerk.observability import logger, metrics

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> str:
    msg = json.loads(record.body)
    if SchedulerPointer.is_pointer(msg):  # EventBridge Scheduler: a delayed action is due
        return release(SchedulerPointer.from_message(msg))
    if msg.get("fanout") in ("selection", "selection_scan"):  # a rule over a selection, or a manual run
        return run_items(msg) if msg["fanout"] == "selection" else scan(msg)
    if "fanout" in msg:  # a page of the daily overdue scan
        return run_fanout(msg)
    receive_count = int(record.attributes.approximate_receive_count or 1)
    # every action here is safe to redo after a crash (see regelwerk.actions)
    return deliver(ActionMessage.from_message(msg), perform, repeatable=True, receive_count=receive_count)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
