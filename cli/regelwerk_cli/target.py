"""Where the CLI's commands go: the running local stack (make serve) or a deployed stack (--stack NAME)."""

from __future__ import annotations

import os

from .localstack import load_state

# stack output -> environment variable the domain's Settings read
OUTPUTS = {
    "ShopsTableName": "SHOPS_TABLE",
    "RulesTableName": "RULES_TABLE",
    "OrdersTableName": "ORDERS_TABLE",
    "CustomersTableName": "CUSTOMERS_TABLE",
    "InvoicesTableName": "INVOICES_TABLE",
    "RunsTableName": "RUNS_TABLE",
    "IdempotencyTableName": "IDEMPOTENCY_TABLE",
    "DocumentsBucketName": "DOCUMENTS_BUCKET",
    "MailQueueUrl": "MAIL_QUEUE_URL",
    "SmsQueueUrl": "SMS_QUEUE_URL",
    "PdfQueueUrl": "PDF_QUEUE_URL",
    "ActionsQueueUrl": "ACTIONS_QUEUE_URL",
    "TasksTableName": "TASKS_TABLE",
    "MailDeadLetterQueueUrl": "MAIL_DLQ_URL",
    "SmsDeadLetterQueueUrl": "SMS_DLQ_URL",
    "PdfDeadLetterQueueUrl": "PDF_DLQ_URL",
    "ActionsDeadLetterQueueUrl": "ACTIONS_DLQ_URL",
    "ScheduleGroupName": "SCHEDULE_GROUP",
    "ScheduleFunctionArn": "SCHEDULE_TARGET_ARN",
    "SchedulerInvokeRoleArn": "SCHEDULER_ROLE_ARN",
    "ScheduleDeadLetterQueueArn": "SCHEDULE_DLQ_ARN",
    "ConsoleTableName": "CONSOLE_TABLE",
    "ConsoleUserPoolId": "USER_POOL_ID",
    "ConsoleUserPoolClientId": "USER_POOL_CLIENT_ID",
}


class TargetError(Exception):
    pass


def use_local() -> str:
    state = load_state()
    if not state:
        raise TargetError("no local stack is running: start one with `make serve`, or pass --stack NAME")
    os.environ.update(state["env"])
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": state["endpoint"],
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "eu-central-1",
        }
    )
    return f"local stack at {state['endpoint']}"


def use_stack(name: str, region: str | None) -> str:
    import boto3

    cfn = boto3.client("cloudformation", region_name=region)
    try:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    except Exception as exc:
        raise TargetError(f"cannot read stack {name!r}: {exc}") from exc
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    missing = [k for k in OUTPUTS if k not in outputs]
    if missing:
        raise TargetError(f"stack {name!r} lacks outputs {missing}: is it a Regelwerk stack?")
    for key, var in OUTPUTS.items():
        os.environ[var] = outputs[key]
    if region:
        os.environ["AWS_DEFAULT_REGION"] = region
    return f"stack {name} ({outputs.get('ApiUrl', '')})"
