"""`Store`: everything cmday keeps between commands, as the rest of cmday sees it, whatever database holds it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path

from cmday.mention import Mention, StoredMention
from cmday.store.records import (
    ANY_CURSOR,
    ChecklistMark,
    Draft,
    Escalation,
    KpiValue,
    Note,
    Publication,
    ReplyClaim,
    Replying,
    SentReply,
    SourceHealth,
    TrendMention,
)


def is_database_url(target: object) -> bool:
    return isinstance(target, str) and target.split("://", 1)[0] in ("postgresql", "postgres")


class Store(ABC):
    """The state. `Store(path)` opens a SQLite file, `Store("postgresql://...")` a shared database.

    Every write is one transaction: all of it lands, or none of it. Methods that decide whether
    something may be sent (`claim_reply`, `claim_post`, `claim_notification`) decide inside the
    database, so two cmday processes, on one machine or several, never both get a yes.
    """

    def __new__(cls, target: Path | str, *args: object, **kwargs: object) -> Store:
        if cls is Store:  # as pathlib.Path does: the base class opens the back end the target names
            if is_database_url(target):
                from cmday.store.postgres import PostgresStore

                cls = PostgresStore
            else:
                from cmday.store.sqlite import SQLiteStore

                cls = SQLiteStore
        return super().__new__(cls)

    backend: str  # "sqlite" or "postgresql", as `cmday where` names it
    location: str  # the file, or the database URL without its password: safe to show

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def after_bulk_load(self) -> None:
        """Fresh planner statistics once many rows came at once (`state copy`)."""

    @abstractmethod
    def send_lock(self, name: str) -> AbstractContextManager[bool]:
        """Hold `name` for a whole send, across processes; yields False when another cmday holds it.

        The lock goes with its holder, even one killed with SIGKILL, so an interrupted send can be taken
        at once while one still on its way never is.
        """

    # -- meta ----------------------------------------------------------------------

    @abstractmethod
    def meta(self, key: str) -> str | None: ...

    @abstractmethod
    def set_meta(self, key: str, value: str) -> None: ...

    # -- mentions ------------------------------------------------------------------

    @abstractmethod
    def save_batch(
        self, project: str, source_id: str, platform: str, mentions: list[Mention], cursor: str | None, fetched_at: datetime,
        moving_from: object = ANY_CURSOR,
    ) -> int:
        """Store mentions and move the source's cursor in one transaction; returns how many were new.

        With `moving_from` (the cursor this fetch started from, or last moved to), the cursor moves only if
        it still holds that value: when another machine's fetch moved it on meanwhile, the mentions are
        stored and the cursor is left where that fetch put it, so no cursor ever goes back.

        A mention already stored (same source and platform id) is left as it is; one whose URL
        another source already brought is stored `linked` to it, outside the open queue.
        """

    @abstractmethod
    def mentions(
        self,
        project: str,
        *,
        states: tuple[str, ...] | None = ("open",),
        now: datetime | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        platform: str | None = None,
        fetched_since: datetime | None = None,
        limit: int | None = None,
        assignee: str | None = None,
    ) -> list[StoredMention]:
        """Mentions of a project, urgent and highest priority first, then oldest first.

        With `now`, a snoozed mention whose time has come counts as open again. `assignee` keeps one
        team member's (a handle) or, as `UNASSIGNED`, the ones nobody has.
        """

    @abstractmethod
    def count_mentions(
        self,
        project: str,
        *,
        states: tuple[str, ...] | None = ("open",),
        now: datetime | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        platform: str | None = None,
        fetched_since: datetime | None = None,
        assignee: str | None = None,
    ) -> int:
        """How many mentions `mentions` would list with the same filters, without reading them."""

    @abstractmethod
    def trend_mentions(self, project: str, since: datetime, until: datetime) -> list[TrendMention]:
        """Only what a trend counts of each mention created in [since, until), linked ones left out: no text, no sorting."""

    @abstractmethod
    def mention(self, mention_id: int) -> StoredMention | None: ...

    @abstractmethod
    def thread_above(self, mention: StoredMention, depth: int = 5) -> list[StoredMention]:
        """The mentions this one answers, as far as they are stored, oldest first."""

    @abstractmethod
    def earlier_from_author(self, mention: StoredMention, limit: int = 3) -> tuple[int, list[StoredMention]]:
        """The author's mentions in this project and platform before this one: how many, and the latest `limit`, newest first."""

    @abstractmethod
    def raw_payload(self, mention_id: int) -> str | None:
        """The platform's payload as fetched (secrets redacted), as JSON text."""

    @abstractmethod
    def set_state(
        self, mention_id: int, state: str, at: datetime, reason: str = "", snooze_until: datetime | None = None
    ) -> None: ...

    @abstractmethod
    def set_flags(self, mention_id: int, flags: Iterable[str]) -> None:
        """Replace what is known of how a mention stands on its platform (cmday.mention.FLAGS), e.g. hidden there."""

    @abstractmethod
    def answer_many(self, answers: list[tuple[int, datetime]]) -> None:
        """Mark many mentions answered, each at its own instant, in one transaction (imports and benches)."""

    @abstractmethod
    def count_by(self, project: str, column: str, since: datetime, until: datetime) -> dict[str, int]:
        """How many mentions came in between two instants, grouped by platform, category or kind."""

    @abstractmethod
    def response_minutes(self, project: str, since: datetime, until: datetime) -> list[float]:
        """Minutes from arrival to answer, for mentions answered between two instants."""

    @abstractmethod
    def reclassify(self, changes: list[tuple[int, str, int, bool, datetime | None, str]]) -> None:
        """New (category, priority, urgent, sla_due, matched) for mentions, by id; one transaction."""

    @abstractmethod
    def categorise_by_hand(self, change: tuple[int, str, int, bool, datetime | None, str], flag: str) -> None:
        """The CM's category for one mention, stored as `reclassify` does and flagged in the same transaction."""

    # -- sources ---------------------------------------------------------------------

    @abstractmethod
    def cursor(self, project: str, source_id: str) -> str | None: ...

    @abstractmethod
    def record_fetch(
        self, project: str, source_id: str, platform: str, at: datetime, error: str | None = None, needs_auth: bool = False
    ) -> None:
        """Remember how a fetch of a source ended: success clears the last error, failure keeps the cursor."""

    @abstractmethod
    def source_health(self, project: str) -> dict[str, SourceHealth]: ...

    # -- routine ---------------------------------------------------------------------

    @abstractmethod
    def record_run(self, project: str, routine: str, at: datetime) -> None: ...

    @abstractmethod
    def last_run(self, project: str, routine: str, before: datetime | None = None) -> datetime | None: ...

    @abstractmethod
    def checklist_marks(self, project: str, day: str, routine: str) -> dict[str, ChecklistMark]: ...

    @abstractmethod
    def set_checklist_mark(
        self, project: str, day: str, routine: str, item: str, status: str, note: str, at: datetime
    ) -> None: ...

    @abstractmethod
    def clear_checklist_mark(self, project: str, day: str, routine: str, item: str) -> bool:
        """Remove a mark; False when there was none."""

    # -- reply drafts and the reply gate -------------------------------------------------

    @abstractmethod
    def create_draft(self, mention_id: int, text: str, template: str, idempotency_key: str, at: datetime) -> Draft: ...

    @abstractmethod
    def draft(self, draft_id: int) -> Draft | None: ...

    @abstractmethod
    def drafts_for(self, mention_id: int) -> list[Draft]: ...

    @abstractmethod
    def pending_draft(self, mention_id: int) -> Draft | None: ...

    @abstractmethod
    def claim_reply(
        self, mention_id: int, text: str, template: str, idempotency_key: str, at: datetime, since: datetime,
        again: bool = False, by: str = "",
    ) -> ReplyClaim:
        """The never-twice gate for replies, in one write transaction: a new draft taken for sending, unless
        one is pending (then that one is taken, key and all) or the mention got an answer meanwhile.

        `since` is when the command began: a reply sent after it, by another cmday, is never followed by a
        second one even with `again`. The partial unique index `drafts_one_pending` holds the rule too,
        and a shared database makes a second claimer wait for the first one's transaction. `by` is the
        team member sending, kept for the reply log.
        """

    @abstractmethod
    def start_sending(self, draft_id: int, at: datetime) -> None:
        """A pending draft about to go (again) to the platform; `started_at` keeps the first attempt's time."""

    @abstractmethod
    def set_aside_draft(self, draft_id: int, at: datetime, reason: str) -> None:
        """A pending draft the platform does not hold, dropped by the CM (`reply --discard`): no longer pending."""

    @abstractmethod
    def finish_draft(
        self, draft_id: int, status: str, at: datetime, remote_id: str | None = None, remote_url: str | None = None,
        error: str | None = None,
    ) -> None:
        """Record how a send ended; a sent draft also marks its mention answered, in the same transaction."""

    # -- escalations and notifications ---------------------------------------------------

    @abstractmethod
    def add_escalation(
        self, mention_id: int, target: str, channel: str, note: str, at: datetime, delivered: bool, detail: str
    ) -> int:
        """Record an escalation and put its mention in the escalated state, together."""

    @abstractmethod
    def escalations(self, project: str, since: datetime, until: datetime) -> list[Escalation]: ...

    @abstractmethod
    def claim_notification(self, project: str, item: str, at: datetime) -> bool:
        """True for the one run that may send this item; any later or concurrent run gets False."""

    @abstractmethod
    def forget_notification(self, project: str, item: str) -> None:
        """The item may be sent again: its delivery failed, or it ended (a source that works again)."""

    @abstractmethod
    def notified(self, project: str) -> set[str]: ...

    # -- publications ------------------------------------------------------------------

    @abstractmethod
    def publication(self, project: str, post_key: str) -> Publication | None: ...

    @abstractmethod
    def publications(self, project: str) -> list[Publication]: ...

    @abstractmethod
    def claim_post(self, project: str, post_key: str, at: datetime, interrupted_too: bool = True) -> str:
        """The never-twice gate for posts, in one write transaction: `new`, `pending` (an earlier attempt, failed
        or interrupted, to check with the platform first) or `refused` (published, or being published).

        `interrupted_too` takes a post left `sending`: only for a caller holding the send lock (`send_lock`),
        which proves no other cmday is sending it now.
        """

    def claim_publication(self, project: str, post_key: str, at: datetime) -> bool:
        """Mark a post as being published unless it already is or was (`claim_post` also takes an interrupted one)."""
        return self.claim_post(project, post_key, at, interrupted_too=False) != "refused"

    @abstractmethod
    def finish_publication(
        self, project: str, post_key: str, status: str, at: datetime, remote_id: str | None = None,
        url: str | None = None, error: str | None = None,
    ) -> None: ...

    # -- indicators ----------------------------------------------------------------------

    @abstractmethod
    def set_kpi(self, project: str, key: str, day: str, value: float, origin: str, at: datetime) -> None: ...

    @abstractmethod
    def kpi_values(
        self, project: str, key: str | None = None, since_day: str | None = None, until_day: str | None = None
    ) -> list[KpiValue]:
        """Dated values, oldest first; `until_day` is exclusive. Hand-entered values win over fetched ones per day."""

    # -- a team sharing the state ------------------------------------------------------

    @abstractmethod
    def assign(self, mention_id: int, assignee: str | None, at: datetime) -> bool:
        """Give a mention to a team member (a handle), or to nobody with None; False when there is no such mention."""

    @abstractmethod
    def add_note(self, mention_id: int, author: str, text: str, at: datetime) -> int:
        """An internal note: kept for the team, never sent, never in the client's report."""

    @abstractmethod
    def notes(self, mention_id: int) -> list[Note]: ...

    @abstractmethod
    def start_replying(self, mention_id: int, who: str, at: datetime) -> Replying | None:
        """Mark `who` as writing an answer; returns the other member already doing so (then nothing changes)."""

    @abstractmethod
    def stop_replying(self, mention_id: int, who: str) -> None: ...

    @abstractmethod
    def replying(self, mention_id: int, now: datetime) -> Replying | None:
        """Who is writing an answer to this mention now, if anyone (a mark left by a killed cmday expires)."""

    @abstractmethod
    def reply_log(self, project: str, since: datetime, until: datetime) -> list[SentReply]:
        """Every reply sent in a period: who, when, with which template; oldest first."""
