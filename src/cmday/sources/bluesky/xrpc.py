"""Calls to the PDS: one session per account, kept between commands and renewed, and XRPC errors read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cmday.errors import SourceError
from cmday.i18n import _
from cmday.private import private_folder
from cmday.sources.base import AuthenticationFailed
from cmday.sources.bluesky.entities import CREATE_SESSION, EXPIRED, REFRESH_SESSION, Session


class Xrpc:
    """The XRPC half of BlueskyAdapter: calls, and the session they need."""

    async def _call(self, nsid: str, params: dict[str, Any]) -> Any:
        response = await self._xrpc("GET", nsid, params=params)
        if response.status != 200:
            raise SourceError(_("Bluesky refused {nsid}: {detail}").format(nsid=nsid, detail=_xrpc_message(response)))
        return response.json()

    async def _xrpc(
        self, method: str, nsid: str, *, params: dict[str, Any] | None = None, body: Any = None,
        expect: tuple[int, ...] = (), retry_on: tuple[int, ...] | None = None,
        content: bytes | None = None, content_type: str | None = None,
    ) -> Any:
        """One call with the session's token; an expired or refused token is renewed once and the call repeated.

        Answers 200, 400 and what `expect` adds come back to the caller; others are the HTTP layer's errors.
        """
        response = await self._once(method, nsid, params, body, expect, retry_on, content, content_type)
        if _needs_new_session(response):
            await self._renew()
            response = await self._once(method, nsid, params, body, expect, retry_on, content, content_type)
            if _needs_new_session(response):
                raise self._log_in_again()
        return response

    async def _once(
        self, method: str, nsid: str, params: dict[str, Any] | None, body: Any, expect: tuple[int, ...],
        retry_on: tuple[int, ...] | None = None, content: bytes | None = None, content_type: str | None = None,
    ) -> Any:
        session = await self._session()
        headers = {"Authorization": f"Bearer {session.access_jwt}"}
        if content_type:
            headers["Content-Type"] = content_type
        return await self.context.http.request(
            method,
            self.base + nsid,
            params=params,
            headers=headers,
            json_body=body,
            content=content,
            expect=(200, 400, 401, *expect),
            **({"retry_on": retry_on} if retry_on is not None else {}),
        )

    async def _session(self) -> Session:
        """The session this command already has, else the one an earlier command kept, else a new login.

        A PDS allows 30 logins per 5 minutes and 300 a day per account; a CM replying fast, plus cron,
        would be locked out if every command logged in.
        """
        session = self.context.state.get(self._session_key)
        if isinstance(session, Session):
            return session
        kept = self._kept_session()
        if kept is not None:
            self.context.state[self._session_key] = kept
            return kept
        return await self._create_session()

    def _session_file(self) -> Path:
        from cmday.secrets import secrets_dir

        return secrets_dir() / f"{self.context.project_slug}.{self.source.id}.session"

    def _kept_session(self) -> Session | None:
        """The session file, when it belongs to this account on this service (the project may have changed)."""
        try:
            kept = json.loads(self._session_file().read_text(encoding="utf-8"))
            if kept.get("service") != self.source.service or kept.get("identifier") != self.source.handle:
                return None
            return Session.model_validate(kept["session"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError, ValidationError):
            return None

    def _store_session(self, session: Session) -> None:
        """Written readable by its owner only, never with wider permissions, replaced whole (two commands may race)."""
        import os
        import tempfile

        path = self._session_file()
        text = json.dumps({"service": self.source.service, "identifier": self.source.handle,
                           "session": session.model_dump(by_alias=True)})
        try:
            private_folder(path.parent)
            descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
            try:
                with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                    handle.write(text)
                os.chmod(temporary, 0o600)
                os.replace(temporary, path)
            except BaseException:
                os.unlink(temporary)
                raise
        except OSError:
            pass  # not kept: the next command logs in again, which is slower but works

    def _forget_session(self) -> None:
        self.context.state.pop(self._session_key, None)
        try:
            self._session_file().unlink()
        except OSError:
            pass

    async def _create_session(self) -> Session:
        password = self.context.secret(self.source.password_env)
        if not password:
            raise AuthenticationFailed(
                _("no app password for Bluesky account {handle}: {how}").format(
                    handle=self.source.handle, how=self._how()
                )
            )
        response = await self.context.http.request(
            "POST",
            self.base + CREATE_SESSION,
            json_body={"identifier": self.source.handle, "password": password},
            expect=(200, 400, 401),
        )
        if response.status != 200:
            raise AuthenticationFailed(
                _("Bluesky refused the login for {handle} ({detail}): {how}").format(
                    handle=self.source.handle, detail=_xrpc_message(response), how=self._how()
                )
            )
        return self._keep(response, CREATE_SESSION)

    async def _renew(self) -> None:
        """A new access token: refresh the session, else log in once more, else the user must log in again."""
        session = await self._session()
        try:
            response = await self.context.http.request(
                "POST", self.base + REFRESH_SESSION, headers={"Authorization": f"Bearer {session.refresh_jwt}"}
            )
            self._keep(response, REFRESH_SESSION)
            return
        except SourceError:
            pass  # refresh tokens expire and get revoked too; a fresh login may still work
        if self._logged_in_again:
            raise self._log_in_again()
        self._logged_in_again = True
        self._forget_session()
        await self._create_session()  # refused: its error says why, in the server's words ("Invalid identifier or password")

    def _keep(self, response: Any, nsid: str) -> Session:
        try:
            session = Session.model_validate(response.json())
        except ValidationError:
            raise SourceError(_("{nsid} answered without a usable session").format(nsid=nsid)) from None
        self.context.state[self._session_key] = session
        self._store_session(session)
        return session

    def _log_in_again(self) -> AuthenticationFailed:
        return AuthenticationFailed(
            _("the Bluesky session for {handle} expired and could not be renewed; log in again: {how}").format(
                handle=self.source.handle, how=self._how()
            )
        )

    def _how(self) -> str:
        if self.source.password_env:
            return _("set an app password in {env} or run `cmday auth {source}`").format(
                env=self.source.password_env, source=self.source.id
            )
        return _("run `cmday auth {source}` with an app password").format(source=self.source.id)


def _needs_new_session(response: Any) -> bool:
    return response.status == 401 or (response.status == 400 and _xrpc_error(response)[0] in EXPIRED)


def _xrpc_error(response: Any) -> tuple[str, str]:
    """XRPC's `{"error": name, "message": text}` body, when the answer carries one."""
    try:
        body = json.loads(response.body[:4096])
    except (ValueError, UnicodeDecodeError):
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    name, message = body.get("error"), body.get("message")
    return (name if isinstance(name, str) else ""), (message if isinstance(message, str) else "")


def _xrpc_message(response: Any) -> str:
    name, message = _xrpc_error(response)
    return (message or name or f"HTTP {response.status}")[:200]
