"""API Gateway REQUEST authorizer: the presented key -> application, scope and usage-plan key."""

from __future__ import annotations

from typing import Any

from patron.auth import policy, wiring
from patron.auth.credentials import header_values
from patron.dynamo.client import dynamodb_client
from patron.errors import ForbiddenError, UnauthorizedError
from patron.logs import get_logger
from patron.observability import event_handler
from patron.settings import Auth, Tables
from patron.wiring import CompositionRoot

log = get_logger("patron.authorizer")

# This function's composition root: the key lookup, from the config table and the Auth group.
authenticator = CompositionRoot(
    lambda environ: wiring.authenticator(dynamodb_client(), Tables.from_environ(environ), Auth.from_environ(environ))
)


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
