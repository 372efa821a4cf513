"""In-memory fakes of the audiences' repository and job queue, type-checked against their interfaces. The profile
side of a membership lives on the profiles of an InMemoryProfileRepository, as it lives on the profile item."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from msgspec.structs import replace

from patron.audiences.jobs import AudienceJob, JobQueue
from patron.audiences.model import Audience, AudienceExistsError, AudienceNotFoundError, AudienceState, MembershipPlan
from patron.audiences.repository import AudienceRepository
from patron.profiles.model import CustomerProfile, new_profile_id
from tests.fakes import InMemoryProfileRepository


class InMemoryAudienceRepository:
    def __init__(self, profiles: InMemoryProfileRepository) -> None:
        self.profiles = profiles
        self.audiences: dict[tuple[int, int], Audience] = {}
        self.mirrors: dict[tuple[int, str, str], int] = {}
        self.member_items: dict[tuple[int, int], dict[str, int]] = {}  # sorted on read, as a Query of the partition
        self.counters: dict[int, int] = {}

    def next_id(self, application_id: int) -> int:
        self.counters[application_id] = self.counters.get(application_id, 0) + 1
        return self.counters[application_id]

    def create(self, audience: Audience) -> None:
        if audience.integration_id is not None:
            mirror = (audience.application_id, audience.integration or "", audience.integration_id)
            if mirror in self.mirrors:
                raise AudienceExistsError()
            self.mirrors[mirror] = audience.audience_id
        self.audiences[(audience.application_id, audience.audience_id)] = audience

    def get(self, application_id: int, audience_id: int) -> Audience | None:
        return self.audiences.get((application_id, audience_id))

    def live(self, application_id: int, audience_ids: Iterable[int]) -> dict[int, Audience]:
        found = (self.audiences.get((application_id, one)) for one in set(audience_ids))
        return {a.audience_id: a for a in found if a is not None and a.state is AudienceState.LIVE}

    def _live(self, application_id: int, audience_id: int) -> Audience:
        audience = self.live(application_id, [audience_id]).get(audience_id)
        if audience is None:
            raise AudienceNotFoundError()
        return audience

    def rename(self, application_id: int, audience_id: int, name: str) -> Audience:
        renamed = replace(self._live(application_id, audience_id), name=name)
        self.audiences[(application_id, audience_id)] = renamed
        return renamed

    def mark_deleted(self, audience: Audience) -> None:
        current = self._live(audience.application_id, audience.audience_id)
        self.audiences[(audience.application_id, audience.audience_id)] = replace(current, state=AudienceState.DELETED)
        if audience.integration_id is not None:
            self.mirrors.pop((audience.application_id, audience.integration or "", audience.integration_id), None)

    def empty(self, application_id: int, audience_id: int, now: str) -> int:
        current = self._live(application_id, audience_id)
        emptied = replace(current, generation=current.generation + 1, last_update=now)
        self.audiences[(application_id, audience_id)] = emptied
        return emptied.generation

    def touch(self, application_id: int, audience_ids: Iterable[int], now: str) -> None:
        for audience_id in audience_ids:
            if (current := self.live(application_id, [audience_id]).get(audience_id)) is not None:
                self.audiences[(application_id, audience_id)] = replace(current, last_update=now)

    def _profile(self, application_id: int, integration_id: str, now: str) -> CustomerProfile:
        return self.profiles.profiles.get((application_id, integration_id)) or CustomerProfile(
            application_id=application_id,
            integration_id=integration_id,
            profile_id=new_profile_id(),
            created=now,
            updated=now,
            last_activity=now,
            version=1,
        )

    def apply(self, application_id: int, plan: MembershipPlan, now: str) -> None:
        for integration_id, joined in plan.joins.items():
            profile = self._profile(application_id, integration_id, now)
            self.profiles.profiles[(application_id, integration_id)] = replace(
                profile, audiences={**profile.audiences, **joined}
            )
            for audience_id, generation in joined.items():
                self.member_items.setdefault((application_id, audience_id), {})[integration_id] = generation
        for integration_id, left in plan.leaves.items():
            stored = self.profiles.profiles.get((application_id, integration_id))
            if stored is not None:
                audiences = {k: v for k, v in stored.audiences.items() if k not in left}
                self.profiles.profiles[(application_id, integration_id)] = replace(stored, audiences=audiences)
            for audience_id in left:
                self.member_items.get((application_id, audience_id), {}).pop(integration_id, None)

    def members_of(self, application_id: int, audience_id: int) -> dict[str, int]:
        return dict(self.member_items.get((application_id, audience_id), {}))

    def members(
        self, application_id: int, audience_id: int, cursor: str | None, limit: int
    ) -> tuple[list[tuple[str, int]], str | None]:
        ordered = sorted(self.member_items.get((application_id, audience_id), {}).items())
        after = [member for member in ordered if cursor is None or member[0] > cursor]
        page = after[:limit]
        return page, (page[-1][0] if len(page) == limit else None)

    def remove(
        self, application_id: int, audience_id: int, members: Sequence[tuple[str, int]], below: int | None
    ) -> int:
        gone = 0
        stored = self.member_items.get((application_id, audience_id), {})
        for integration_id, _ in members:
            profile = self.profiles.profiles.get((application_id, integration_id))
            joined = profile.audiences.get(audience_id) if profile is not None else None
            if profile is not None and joined is not None and (below is None or joined < below):
                audiences = {k: v for k, v in profile.audiences.items() if k != audience_id}
                self.profiles.profiles[(application_id, integration_id)] = replace(profile, audiences=audiences)
            generation = stored.get(integration_id)
            if generation is not None and (below is None or generation < below):
                del stored[integration_id]
                gone += 1
        return gone

    def drop(self, application_id: int, audience_id: int) -> None:
        current = self.audiences.get((application_id, audience_id))
        if current is not None and current.state is AudienceState.DELETED:
            del self.audiences[(application_id, audience_id)]


class InMemoryJobQueue:
    def __init__(self) -> None:
        self.jobs: list[AudienceJob] = []

    def send(self, job: AudienceJob) -> None:
        # Through the wire form, as SQS carries it.
        self.jobs.append(AudienceJob.decode(job.encode()))


_repository: AudienceRepository = InMemoryAudienceRepository(InMemoryProfileRepository())
_queue: JobQueue = InMemoryJobQueue()
