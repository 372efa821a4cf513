"""botocore's ClientError codes become domain errors here, and nowhere else."""

from __future__ import annotations

from botocore.exceptions import ClientError

from patron.errors import PatronError, ServiceUnavailableError

_THROTTLED = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
}


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def is_condition_failure(exc: ClientError) -> bool:
    return error_code(exc) == "ConditionalCheckFailedException"


def translate(exc: ClientError) -> PatronError | ClientError:
    """The domain error for a DynamoDB failure that callers may see; anything else stays a ClientError (a 500)."""
    if error_code(exc) in _THROTTLED:
        return ServiceUnavailableError()
    return exc
