"""schedule: EventBridge Scheduler invokes this for each slot of a rule's cron ({"shop_id", "rule_id"}) and for
each shop's daily overdue scan ({"shop_id", "job": "overdue_scan"})."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from regelwerk.ingest.schedules import run_scheduled_rule
from regelwerk.observability import logger, metrics


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    # Scheduler passes the slot as <aws.scheduler.scheduled-time> in the input; a manual invoke may omit it
    slot = event.get("scheduled_time") or event["slot"]
    if event.get("job") == "overdue_scan":  # the shop's daily dunning scan (regelwerk.dunning)
        from regelwerk.ingest.dunning import scan

        return scan(event["shop_id"], slot)
    if event.get("job") == "dead_letter_digest":  # the owner's daily digest (regelwerk.digest)
        from regelwerk.ingest.digest import send_digest

        return send_digest(event["shop_id"], slot)
    result = run_scheduled_rule(event["shop_id"], event["rule_id"], slot)
    return result.as_dict()
