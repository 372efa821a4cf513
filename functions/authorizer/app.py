"""API Gateway REQUEST authorizer: the presented key -> application, scope and usage-plan key."""

from __future__ import annotations

from typing import Any

from patron.auth import policy
from patron.auth.credentials import header_values
from patron.auth.wiring import authenticator
from patron.errors import ForbiddenError, UnauthorizedError
from patron.logs import get_logger
from patron.observability import event_handler
from patron.settings import AuthorizerSettings

log = get_logger("patron.authorizer")

# The settings this function reads; a template test checks template.yaml gives it every one.
SETTINGS = AuthorizerSettings


@event_handler
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    auth = authenticator()
    try:
        grant = auth.authenticate(header_values(event.get("headers"), event.get("multiValueHeaders")))
    except UnauthorizedError as error:
        log.info("request refused", reason=error.message)
        # API Gateway answers 401 (the UNAUTHORIZED gateway response) for exactly this message.
        raise Exception("Unauthorized") from None
    try:
        auth.authorize(grant, str(event.get("httpMethod", "")), str(event.get("resource", "")))
    except ForbiddenError:
        log.info("scope refused", key_id=grant.key_id, scope=grant.scope.value)
        return policy.deny(grant, str(event["methodArn"]))
    return policy.allow(grant, str(event["methodArn"]))
