"""pdf: renders the document actions queued on the pdf queue and stores them in S3."""

from pathlib import Path

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from regelwerk.actions.documents import create_document
from regelwerk.delivery.dispatch import deliver_record
from regelwerk.observability import logger, metrics

FONTS = Path(__file__).parent / "fonts"
processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> str:
    # a document is written to a fixed S3 key per action: doing it again is safe
    return deliver_record(record, lambda msg: create_document(msg, FONTS), repeatable=True)


def preview(request: dict) -> dict:
    """A document rendered for the admin API's preview (invoked directly): returned, not stored."""
    import base64

    from regelwerk.documents.pdf import document_filename, render_document
    from regelwerk.errors import ActionFailed

    try:
        body, language = render_document(request["kind"], request["context"], FONTS)
    except ActionFailed as exc:
        return {"error": str(exc)}
    filename = document_filename(request["kind"], request["context"], language)
    return {"pdf": base64.b64encode(body).decode(), "filename": filename, "language": language}


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    if "preview" in event:  # the admin API's document preview (regelwerk.pdf_preview)
        return preview(event["preview"])
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
