"""botocore's ClientError codes become domain errors here, and nowhere else."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

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


def refuses_content(exc: Exception) -> bool:
    """Whether AWS refused what a request asked it to store (an item too large, a key too long or empty, a value
    botocore cannot send): the request's content, which a retry does not change. Every other AWS failure
    (throttling, a 5xx, access denied, a missing table, a timeout, a lost connection) is the infrastructure's."""
    if isinstance(exc, ClientError):
        return error_code(exc) == "ValidationException"
    return isinstance(exc, ParamValidationError)


def is_aws_failure(exc: Exception) -> bool:
    """An error raised by botocore rather than by Patron's own code."""
    return isinstance(exc, ClientError | BotoCoreError)
