"""schedule: EventBridge Scheduler invokes this with {"shop_id", "rule_id"} for each slot of a rule's cron."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from regelwerk.observability import logger, metrics
from regelwerk.schedules import run_scheduled_rule


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    # Scheduler passes the slot as <aws.scheduler.scheduled-time> in the input; a manual invoke may omit it
    slot = event.get("scheduled_time") or event["slot"]
    result = run_scheduled_rule(event["shop_id"], event["rule_id"], slot)
    return result.as_dict()
