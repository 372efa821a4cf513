"""The background job on every member of an audience (patron.audiences.jobs): one page of members at a time."""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from patron.audiences.jobs import AudienceJob, JobKind
from patron.audiences.model import AudienceState
from patron.audiences.repository import AudienceRepository
from patron.errors import ValidationError
from patron.logs import get_logger
from patron.profiles.model import is_anonymous
from patron.profiles.service import ProfileService

_log = get_logger("patron.audiences")

PAGE = 100  # members per page: a page's profile updates run 16 at a time, its member deletions 25 a call
# A page takes a few seconds at most: with less time than this left, the job is sent on rather than risk a timeout.
RESERVE_MS = 20_000


class AudienceWorker:
    def __init__(self, repository: AudienceRepository, profiles: ProfileService, page: int = PAGE):
        self._repository = repository
        self._profiles = profiles
        self._page = page

    def run(self, job: AudienceJob, remaining_ms: Callable[[], int]) -> AudienceJob | None:
        """Pages of the job while time remains: the job to send on (with its cursor), or None when it is done."""
        cursor = job.cursor
        done = 0
        while True:
            if job.kind is JobKind.ATTRIBUTES and not self._repository.live(job.application_id, [job.audience_id]):
                _log.info("audience gone: attribute job dropped", audience_id=job.audience_id)
                return None
            members, cursor = self._repository.members(job.application_id, job.audience_id, cursor, self._page)
            if job.kind is JobKind.REMOVE:
                done += self._repository.remove(job.application_id, job.audience_id, members, job.below)
            else:
                done += self._set_attributes(job, [member for member, _ in members])
            if cursor is None:
                break
            if remaining_ms() < RESERVE_MS:
                _log.info("audience job continues", audience_id=job.audience_id, kind=job.kind.value, members=done)
                return msgspec.structs.replace(job, cursor=cursor)
        if job.kind is JobKind.REMOVE and job.below is None:
            audience = self._repository.get(job.application_id, job.audience_id)
            if audience is not None and audience.state is AudienceState.DELETED:
                self._repository.drop(job.application_id, job.audience_id)
        _log.info("audience job done", audience_id=job.audience_id, kind=job.kind.value, members=done)
        return None

    def _set_attributes(self, job: AudienceJob, members: list[str]) -> int:
        """The page's members updated as a bulk profile update would; a member that cannot take the attributes (its
        profile would pass 400 KB) is skipped and counted, never retried: the others are written, and a retry would
        fail the same way. An anonymous member (Patron's own id, which no client update may name) is skipped too.
        Throttling and other failures raise, and the page is done again."""
        wanted = [member for member in members if not is_anonymous(member)]
        attributes = job.attributes or {}
        try:
            self._profiles.update_many(job.application_id, [(member, dict(attributes)) for member in wanted])
        except ValidationError as refused:
            _log.warning("members skipped: their profiles cannot take the attributes", count=len(refused.details))
        return len(wanted)
