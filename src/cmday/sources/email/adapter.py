"""The brand's mailbox as a source: IMAP read-only for what comes in, SMTP for the answers."""

from __future__ import annotations

import asyncio
import imaplib
import threading
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

from cmday.errors import SourceError
from cmday.i18n import _
from cmday.sources.base import AuthenticationFailed, Batch, FetchContext, ReplyTarget, Sent
from cmday.sources.email import fetch as imap
from cmday.sources.email import send as smtp
from cmday.sources.email.entities import to_mention
from cmday.sources.email.settings import reply_address
from cmday.textsafe import one_line

# A whole session (connect, search, one batch) never waits longer than this, whatever the server does.
SESSION_TIMEOUT_SECONDS = 60.0


class EmailAdapter:
    """Reads one IMAP folder without touching its flags, and answers its messages over SMTP."""

    uses_network = False  # not through the shared HTTP client: imaplib and smtplib have their own sockets

    def __init__(self, source: Any, context: FetchContext) -> None:
        self.source = source
        self.context = context

    async def fetch(self, cursor: str | None) -> AsyncIterator[Batch]:
        """New messages since the cursor, 25 per batch; a folder rebuilt under a new UIDVALIDITY is read again.

        Reading again is safe: a message is stored once per Message-ID, so only those not yet in come in.
        """
        previous = imap.MailCursor.load(cursor)
        session = await self._blocking(imap.connect, self.source, self._password(), self._tls())
        try:
            uidvalidity = await self._blocking(imap.examine, session, self.source.folder)
            uids = await self._blocking(imap.new_uids, session, previous, uidvalidity, self.context.now)
            if not uids and previous.uidvalidity != uidvalidity:
                yield Batch([], imap.MailCursor(uidvalidity, 0).dump())
            for start in range(0, len(uids), imap.MESSAGES_PER_BATCH):
                chunk = uids[start:start + imap.MESSAGES_PER_BATCH]
                fetched = await self._blocking(imap.fetch_messages, session, chunk)
                mentions = [to_mention(message, self.source.folder, uidvalidity, self.context.now) for message in fetched]
                highest = max(chunk[-1], previous.uid if previous.uidvalidity == uidvalidity else 0)
                notes = [
                    _("message {uid} in {folder}: only its first {size} KB were read (an attachment is never downloaded)").format(
                        uid=m.uid, folder=self.source.folder, size=imap.MAX_BODY_BYTES // 1024)
                    for m in fetched if len(m.body) >= imap.MAX_BODY_BYTES
                ]
                yield Batch(mentions, imap.MailCursor(uidvalidity, highest).dump(), notes=notes)
        finally:
            _leave(session)

    async def reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> Sent:
        """An answer to the message `target`, sent once: a copy already in Sent under the draft's Message-ID is the answer."""
        raw = target.raw or {}
        sender = reply_address(self.source)
        if not sender:
            raise SourceError(
                _("email source {source}: no address to answer from").format(source=self.source.id),
                hint=_("set `address` (such as info@acme.example) in the source"),
            )
        message = smtp.compose(raw, text, sender, self.source.label or "", idempotency_key, self.context.now)
        return await self._blocking(self._send_once, message)

    async def find_reply(self, target: ReplyTarget, text: str, idempotency_key: str, since: datetime) -> Sent | None:
        """The answer, when the Sent folder shows an earlier attempt handed it over; None when it never left."""
        sender = reply_address(self.source) or ""
        wanted = smtp.message_id(idempotency_key, sender)
        return await self._blocking(self._look_in_sent, wanted)

    async def verify(self) -> str:
        """Log in and open the folder: the account's name when both work."""
        session = await self._blocking(imap.connect, self.source, self._password(), self._tls())
        try:
            await self._blocking(imap.examine, session, self.source.folder)
        finally:
            _leave(session)
        return self.source.username

    def _send_once(self, message) -> Sent:
        wanted = str(message["Message-ID"])
        password = self._password()
        session = imap.connect(self.source, password, self._tls())
        try:
            folder = smtp.sent_folder(session, self.source.sent_folder)
            kept = smtp.open_sent(session, folder)
            marks = kept and smtp.keywords_allowed(session)
            copy = smtp.find_copy(session, wanted) if kept else None
            if copy is not None and copy.state == "sent":
                return smtp.sent_result(wanted)
            if marks and copy is None:
                smtp.append_copy(session, folder, message, pending=True)
                copy = smtp.find_copy(session, wanted)
            commit = (lambda: smtp.mark(session, copy.uid, "+FLAGS", smtp.COMMITTED)) if marks and copy else (lambda: None)
            smtp.submit(self.source, password, self._tls(), message, commit)
            if marks and copy:
                smtp.mark(session, copy.uid, "-FLAGS", f"{smtp.PENDING} {smtp.COMMITTED}")
            elif kept:
                smtp.append_copy(session, folder, message, pending=False)  # a server without keywords: the copy after
            return smtp.sent_result(wanted)
        finally:
            imap.close(session)

    def _look_in_sent(self, wanted: str) -> Sent | None:
        session = imap.connect(self.source, self._password(), self._tls())
        try:
            folder = smtp.sent_folder(session, self.source.sent_folder)
            status, _detail = session.select(folder, readonly=True)
            copy = smtp.find_copy(session, wanted) if status == "OK" else None
            return smtp.sent_result(wanted) if copy is not None and copy.state == "sent" else None
        finally:
            imap.close(session)

    async def _blocking(self, call, *args):
        """imaplib and smtplib block: in a thread, so a slow mail server never holds up the other sources.

        A daemon thread of its own rather than asyncio's executor: the sweep's end would wait for an
        executor thread stuck on a silent server, and a daemon thread is left to its socket timeout.
        """
        loop = asyncio.get_running_loop()
        answer = loop.create_future()

        def work() -> None:
            try:
                outcome = (call(*args), None)
            except (OSError, imaplib.IMAP4.error) as error:  # a connection cut or a server gone odd mid-session
                outcome = (None, SourceError(_("the mail server {host} broke off: {reason}").format(
                    host=self.source.host, reason=one_line(str(error) or type(error).__name__, 160))))
            except BaseException as error:  # handed to the awaiting coroutine, which raises it there
                outcome = (None, error)
            try:
                loop.call_soon_threadsafe(_settle, answer, *outcome)
            except RuntimeError:  # the sweep is over and its loop closed: nobody waits for this any more
                pass

        threading.Thread(target=work, name=f"cmday-email-{self.source.id}", daemon=True).start()
        async with asyncio.timeout(SESSION_TIMEOUT_SECONDS):
            return await answer

    def _password(self) -> str:
        password = self.context.secret(self.source.password_env)
        if not password:
            raise AuthenticationFailed(
                _("email source {source}: no password").format(source=self.source.id),
                hint=_("set ${env} or run `cmday auth {source}`").format(
                    env=self.source.password_env or "…", source=self.source.id),
            )
        return password

    def _tls(self):
        ca_file = self.source.ca_file
        return imap.tls_context(None if ca_file is None else (self.context.workspace_root / Path(ca_file)))


def _settle(answer: asyncio.Future, result: Any, error: BaseException | None) -> None:
    if answer.done():  # the sweep gave up on it meanwhile
        return
    if error is not None:
        answer.set_exception(error)
    else:
        answer.set_result(result)


def _leave(session: imaplib.IMAP4) -> None:
    """Log out without waiting: a server slow to say goodbye costs the sweep nothing."""
    threading.Thread(target=imap.close, args=(session,), daemon=True).start()
