"""The idempotency store: runs a keyed request once, replays its stored response, forgets a subject on erasure.

Rules (docs/architecture.md, "Idempotency-Key"):
- first use of a key: the record is claimed in flight, the route runs, its response is stored (4xx included: the
  request was processed);
- same key, same request: the stored response, without running the route; different request: 422; still in
  flight: 409;
- a 5xx or an exception releases the key (the record is deleted) so a retry runs; a record left in flight by a
  stopped Lambda is abandoned once its lock passes (the invocation's deadline) and the next claim takes it over;
- records expire after the TTL; an expired record not yet swept by DynamoDB counts as absent;
- a stored response with a body is tagged with the subjects it concerns, and `forget_subject` deletes them all.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable

import msgspec

from patron.clock import Clock, SystemClock
from patron.idempotency.model import (
    IdempotencyKeyInFlightError,
    IdempotencyKeyReusedError,
    IdempotencyRecord,
    ResponseTooLargeToStoreError,
    StoredResponse,
)
from patron.idempotency.repository import IdempotencyRepository
from patron.logs import get_logger

_log = get_logger("patron.idempotency")

DAY = 24 * 3600

# Without a Lambda deadline to go by (tests, scripts), a claim is held as long as Lambda's longest invocation.
DEFAULT_LEASE_MS = 900_000
# Lambda hosts' clocks agree to within milliseconds; a second of margin keeps a live request from being taken over.
CLOCK_SKEW_MS = 1_000
# A subject is part of a partition key (2048 bytes with our prefix); a longer one cannot be an id we store.
MAX_SUBJECT_BYTES = 1024


class Outcome(msgspec.Struct, frozen=True):
    response: StoredResponse
    replayed: bool


def _storable(subject: str) -> bool:
    try:
        return 0 < len(subject.encode("utf-8")) <= MAX_SUBJECT_BYTES
    except UnicodeEncodeError:
        return False


# Answers that say "not now" rather than "no": 404 (a status update before its order), 409 (a race or version
# conflict), 429. Storing them would replay the failure for a day.
_TRANSIENT = frozenset({404, 409, 429})


class IdempotencyStore:
    def __init__(
        self,
        repository: IdempotencyRepository,
        ttl_seconds: int = DAY,
        clock: Clock | None = None,
        new_owner: Callable[[], str] = lambda: uuid.uuid4().hex,
    ):
        self._repository = repository
        self._ttl_seconds = ttl_seconds
        self._clock = clock or SystemClock()
        self._new_owner = new_owner

    def _now_ms(self) -> int:
        return int(self._clock.now().timestamp() * 1000)

    def run(
        self,
        application_id: int,
        key: str,
        fingerprint: str,
        execute: Callable[[], StoredResponse],
        subjects: Callable[[], Iterable[str]] = tuple,
        lease_ms: int | None = None,
    ) -> Outcome:
        """`execute` once per key and request; `subjects` names whom its response concerns (read only if the
        response has a body). `lease_ms`: how long this request may hold the key (the invocation's remaining time).
        """
        now_ms = self._now_ms()
        record = IdempotencyRecord(
            application_id=application_id,
            key=key,
            fingerprint=fingerprint,
            owner=self._new_owner(),
            started_at_ms=now_ms,
            locked_until_ms=now_ms + (DEFAULT_LEASE_MS if lease_ms is None else max(0, lease_ms)) + CLOCK_SKEW_MS,
            expires_at=now_ms // 1000 + self._ttl_seconds,
        )
        live = self._repository.claim(record, now_ms)
        if live is not None:
            if live.fingerprint != fingerprint:
                raise IdempotencyKeyReusedError()
            if live.response is None:
                raise IdempotencyKeyInFlightError()
            _log.info("idempotent replay", status=live.response.status)
            return Outcome(live.response, replayed=True)
        try:
            response = execute()
        except BaseException:
            self._release(record)
            raise
        if response.status >= 500 or response.status in _TRANSIENT:
            # Nothing to replay: a retry may well succeed (the order arrives, the race ends, the quota refills).
            self._release(record)
            return Outcome(response, replayed=False)
        self._store(record, response, subjects)
        return Outcome(response, replayed=False)

    def forget_subject(self, application_id: int, subject: str) -> int:
        """Deletes every stored response about `subject` (an erasure); returns how many records went."""
        return self._repository.forget_subject(application_id, subject)

    def refile_subject(self, application_id: int, subject: str, new_subject: str) -> int:
        """Stored responses about `subject` now concern `new_subject` (an anonymous profile merged into it)."""
        return self._repository.refile_subject(application_id, subject, new_subject)

    def _store(
        self, record: IdempotencyRecord, response: StoredResponse, subjects: Callable[[], Iterable[str]]
    ) -> None:
        try:
            # References are written before the response: a response about someone is never stored untagged.
            about = sorted({subject for subject in subjects() if _storable(subject)}) if response.body else []
            if about:
                self._repository.add_subjects(record.application_id, record.key, about, record.expires_at)
            stored = self._repository.complete(record.application_id, record.key, record.owner, response)
        except ResponseTooLargeToStoreError:
            _log.warning("idempotent response too large to store; key released", status=response.status)
            self._release(record)
            return
        except Exception as exc:
            # The route has run: its answer goes back; without a stored response a retry runs again.
            _log.error("idempotent response not stored; key released", error=type(exc).__name__)
            self._release(record)
            return
        if not stored:
            # Erased (forget_subject) or taken over while in flight: the record is no longer ours to fill.
            _log.warning("idempotency record no longer held; response not stored")

    def _release(self, record: IdempotencyRecord) -> None:
        try:
            self._repository.release(record.application_id, record.key, record.owner)
        except Exception as exc:
            # The lock still expires: the key is free again at `locked_until_ms`.
            _log.error("idempotency key not released", error=type(exc).__name__)
