"""console: the shop owner's pages under /console/ (people signed in through the user pool, not API keys)."""

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from regelwerk.api.console import pages, rule_editor
from regelwerk.api.console.web import SignInNeeded, answer_error, answer_not_found, answer_sign_in
from regelwerk.errors import RegelwerkError
from regelwerk.observability import logger, metrics

app = APIGatewayRestResolver()
app.include_router(rule_editor.router)  # first: /rules/new is the editor, not a rule named new
app.include_router(pages.router)
app.exception_handler(SignInNeeded)(lambda error: answer_sign_in(app.current_event, error))
app.exception_handler(RegelwerkError)(lambda error: answer_error(app.current_event, error))
app.not_found(lambda _error: answer_not_found(app.current_event))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
