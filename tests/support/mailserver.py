"""A real mailbox on loopback for the email tests: Debian's Dovecot (IMAPS) and an aiosmtpd receiver (STARTTLS).

Dovecot runs from a throw-away configuration in a temporary folder, with one passwd-file user per
test and a certificate made for 127.0.0.1. Run as root (as CI does), its login and internal
processes take an unprivileged system user and the mail belongs to `nobody`; otherwise everything
runs as the current user.
"""

from __future__ import annotations

import getpass
import imaplib
import itertools
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from email.policy import default as default_policy
from pathlib import Path

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
PASSWORD = "correct horse battery staple"
USERS = 40


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, good for two days: the adapter trusts it through `ca_file`."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    return cert, key


class Dovecot:
    """`dovecot -F -c <conf>` on a free port; `add_user()` gives each test a mailbox of its own."""

    def __init__(self, folder: Path, cert: Path, key: Path) -> None:
        self.folder = folder
        self.cert = cert
        self.port = free_port()
        self.starttls_port = free_port()
        self.users = itertools.count(1)
        self.passwd = folder / "passwd"
        if os.geteuid() == 0:
            # Dovecot refuses uid 0 for mail and root for its login processes.
            self.mail_uid = pwd.getpwnam("nobody").pw_uid
            self.mail_gid = pwd.getpwnam("nobody").pw_gid
            login_user = _first_user("dovenull", "nobody")
            internal_user = _first_user("dovecot", "nobody")
            # The passwd file sits in pytest's folder, which only root may enter.
            auth_user = "root"
        else:
            self.mail_uid, self.mail_gid = os.getuid(), os.getgid()
            login_user = internal_user = auth_user = getpass.getuser()
        # Mail lives in a folder of /tmp the mail user can reach (pytest's own are root's alone).
        self.mail_root = Path(tempfile.mkdtemp(prefix="cmday-mail-"))
        os.chown(self.mail_root, self.mail_uid, self.mail_gid)
        # Every user up front: Dovecot does not always see a passwd file grow within the same second.
        self.passwd.write_text("".join(
            f"cm{n}:{{PLAIN}}{PASSWORD}:{self.mail_uid}:{self.mail_gid}::{self.mail_root}/cm{n}::\n" for n in range(1, USERS + 1)
        ), encoding="utf-8")
        run = folder / "run"
        run.mkdir()
        self.log = folder / "dovecot.log"
        self.conf = folder / "dovecot.conf"
        self.conf.write_text(
            f"""
base_dir = {run}
state_dir = {run}/state
log_path = {self.log}
protocols = imap
listen = 127.0.0.1
default_internal_user = {internal_user}
default_login_user = {login_user}
first_valid_uid = {min(self.mail_uid, 500)}
mail_location = maildir:{self.mail_root}/%u/Maildir
ssl = required
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = yes
auth_mechanisms = plain
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {self.passwd}
}}
userdb {{
  driver = passwd-file
  args = {self.passwd}
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {self.starttls_port}
  }}
  inet_listener imaps {{
    port = {self.port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service auth {{
  user = {auth_user}
}}
""",
            encoding="utf-8",
        )
        (run / "state").mkdir()
        self.process: subprocess.Popen | None = None

    def start(self) -> Dovecot:
        self.process = subprocess.Popen([DOVECOT, "-F", "-c", str(self.conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot stopped: {self.process.stderr.read().decode()} {self.log_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"dovecot did not listen on {self.port}: {self.log_text()}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.mail_root, ignore_errors=True)

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def add_user(self) -> str:
        number = next(self.users)
        assert number <= USERS, "raise USERS in tests/support/mailserver.py"
        return f"cm{number}"

    def client(self, user: str) -> imaplib.IMAP4_SSL:
        """The test's own IMAP session, as another mail client of the CM would be."""
        context = ssl.create_default_context(cafile=str(self.cert))
        session = imaplib.IMAP4_SSL("127.0.0.1", self.port, ssl_context=context, timeout=10)
        session.login(user, PASSWORD)
        return session

    def deliver(self, user: str, message: bytes, folder: str = "INBOX", flags: str | None = None) -> None:
        session = self.client(user)
        try:
            if folder != "INBOX":
                session.create(folder)
            status, detail = session.append(folder, flags, None, message)
            assert status == "OK", detail
        finally:
            session.logout()


def _first_user(*names: str) -> str:
    for name in names:
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError(f"none of the users {names} exists for Dovecot's unprivileged processes")


@dataclass
class Received:
    mail_from: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> Message:
        return message_from_bytes(self.data, policy=default_policy)


@dataclass
class SmtpReceiver:
    """aiosmtpd on a free loopback port with STARTTLS required; `drop_after_data` stores one message then hangs up."""

    cert: Path
    key: Path
    received: list[Received] = field(default_factory=list)
    drop_after_data: int = 0
    on_data: Callable[[], None] | None = None  # run once the message is stored, before any answer (a SIGKILL there)
    logins: list[str] = field(default_factory=list)
    port: int = 0
    implicit_tls: bool = False  # TLS from the first byte (port 465's way) instead of STARTTLS

    def start(self) -> SmtpReceiver:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(self.cert), str(self.key))
        receiver = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                receiver.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content or envelope.content)))
                if receiver.on_data is not None:
                    receiver.on_data()
                if receiver.drop_after_data > 0:
                    receiver.drop_after_data -= 1
                    server.transport.abort()  # stored, and the answer never goes out: the client cannot know
                    return "250 never said"
                return "250 OK"

        def authenticator(server, session, envelope, mechanism, auth_data):
            good = isinstance(auth_data, LoginPassword) and auth_data.password == PASSWORD.encode()
            if good:
                receiver.logins.append(auth_data.login.decode())
            return AuthResult(success=good)

        self.port = free_port()
        # aiosmtpd does not count implicit TLS as TLS for AUTH; it is, from the first byte.
        tls = {"ssl_context": context, "auth_require_tls": False} if self.implicit_tls else {"tls_context": context, "require_starttls": True}
        self.controller = Controller(
            Handler(), hostname="127.0.0.1", port=self.port, authenticator=authenticator, auth_required=True,
            ready_timeout=10, **tls,
        )
        # The controller checks it is up by connecting itself; with STARTTLS required that is still fine.
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
