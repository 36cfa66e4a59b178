"""pdf: renders the document actions queued on the pdf queue and stores them in S3."""

from pathlib import Path

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from regelwerk.delivery import deliver_record
from regelwerk.documents import create_document
from regelwerk.observability import logger, metrics

FONTS = Path(__file__).parent / "fonts"
processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> str:
    # a document is written to a fixed S3 key per action: doing it again is safe
    return deliver_record(record, lambda msg: create_document(msg, FONTS), repeatable=True)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
