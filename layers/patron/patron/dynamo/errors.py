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


def is_item_too_large(exc: ClientError) -> bool:
    """A write that would take an item past 400 KB. DynamoDB has no distinct code for it, only this
    ValidationException message, so this is the one place that reads an error's text."""
    message = str(exc.response.get("Error", {}).get("Message", ""))
    # PutItem: "Item size has exceeded the maximum allowed size"; UpdateItem: "Item size to update has ...".
    return error_code(exc) == "ValidationException" and "exceeded the maximum allowed size" in message


def translate(exc: ClientError) -> PatronError | ClientError:
    """The domain error for a DynamoDB failure that callers may see; anything else stays a ClientError (a 500)."""
    if error_code(exc) in _THROTTLED:
        return ServiceUnavailableError()
    return exc
