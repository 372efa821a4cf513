"""SQS consumers: a function of one record becomes a `lambda_handler` answering a partial batch response (the
template's `FunctionResponseTypes: [ReportBatchItemFailures]`), through Powertools' BatchProcessor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.base import FailureResponse
from aws_lambda_powertools.utilities.batch.exceptions import ExceptionInfo
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from patron.logs import get_logger
from patron.observability import ColdStart, Handler, lambda_keys, logged_with, mark

__all__ = ["RecordHandler", "SQSRecord", "sqs_handler"]

RecordHandler = Callable[[SQSRecord], object]

_log = get_logger("patron.observability")


class _Processor(BatchProcessor):
    """Powertools' processor, with each failed record logged by its exception's type alone: the message may quote
    the record (personal data). No `logger=` for the same reason: Powertools' would log the traceback."""

    def failure_handler(self, record: Any, exception: ExceptionInfo) -> FailureResponse:
        kind = exception[0].__name__ if exception[0] is not None else "unknown"
        _log.error("record failed; it returns to the queue", error=kind, message_id=getattr(record, "message_id", None))
        return super().failure_handler(record, exception)


def sqs_handler(record_handler: RecordHandler) -> Handler:
    """`lambda_handler = sqs_handler(write_chunk)`: each record that raises is reported in batchItemFailures (SQS
    delivers it again, then dead-letters it), the others are deleted; a batch where every record fails is answered
    the same way, not raised (an error would count as the function's and carry the exceptions' text)."""
    cold_start = ColdStart()

    def one_record(record: SQSRecord) -> object:  # Powertools calls it with record=...
        with logged_with({"message_id": record.message_id}):
            return record_handler(record)

    def sqs_invocation(event: dict[str, Any], context: Any) -> dict[str, Any]:
        with logged_with(lambda_keys(context, cold_start())):
            if not event.get("Records"):
                return {"batchItemFailures": []}
            processor = _Processor(EventType.SQS, raise_on_entire_batch_failure=False)
            return dict(process_partial_response(event, one_record, processor, context))

    return mark(sqs_invocation, "sqs")
