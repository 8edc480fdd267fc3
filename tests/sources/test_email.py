"""The mailbox source against a real Dovecot (IMAPS) and a real SMTP receiver on loopback, started here.

The messages are built in the tests from RFC 5322/2045/2047 (nothing recorded fits a mailbox):
each says what a real mail client or a hostile sender would put on the wire.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmday.sources.base import Batch, FetchContext, ReplyTarget
from cmday.sources.email.adapter import EmailAdapter
from cmday.sources.email.send import AnswerLost, message_id
from cmday.sources.email.settings import EmailSource
from tests.cli_runner import run
from tests.support.mailserver import DOVECOT, PASSWORD, Dovecot, SmtpReceiver, make_certificate

if not Path(DOVECOT).exists():
    if os.environ.get("CI"):
        pytest.fail("Dovecot is missing: .ci/run installs Debian's dovecot-imapd", pytrace=False)
    pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd)", allow_module_level=True)

NOW = datetime.now(UTC)  # Dovecot dates what it stores by the real clock; SEARCH SINCE works on that


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory) -> tuple[Path, Path]:
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def dovecot(tmp_path_factory, tls_files) -> Iterator[Dovecot]:
    cert, key = tls_files
    server = Dovecot(tmp_path_factory.mktemp("dovecot"), cert, key).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mailbox(dovecot: Dovecot) -> str:
    return dovecot.add_user()


@pytest.fixture
def smtp(tls_files) -> Iterator[SmtpReceiver]:
    cert, key = tls_files
    receiver = SmtpReceiver(cert, key).start()
    try:
        yield receiver
    finally:
        receiver.stop()


def source_for(dovecot: Dovecot, user: str, smtp: SmtpReceiver | None = None, **extra) -> EmailSource:
    return EmailSource(
        id="info", platform="email", host="127.0.0.1", port=dovecot.port, username=user, password_env="ACME_MAIL",
        address="info@acme.example", label="Acme Coffee", ca_file=str(dovecot.cert),
        smtp_host="127.0.0.1", smtp_port=smtp.port if smtp else 1, smtp_security="starttls", **extra,
    )


def drive(source: EmailSource, action):
    async def go():
        context = FetchContext(http=None, secret=lambda _name: PASSWORD, workspace_root=Path("/"), now=NOW, project_slug="acme")
        return await action(EmailAdapter(source, context))

    return asyncio.run(go())


def sweep(source: EmailSource, cursor: str | None) -> list[Batch]:
    async def collect(adapter):
        return [batch async for batch in adapter.fetch(cursor)]

    return drive(source, collect)


def mail(subject: str = "Where is my order?", body: str = "Hello, my order 1234 has not arrived.", *,
         sender: str = "Ana Ruiz <ana@example.org>", message_id: str | None = "<order-1234@example.org>", **headers) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "info@acme.example"
    message["Subject"] = subject
    message["Date"] = format_datetime(NOW)
    if message_id:
        message["Message-ID"] = message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return bytes(message)


def flags(dovecot: Dovecot, user: str, folder: str = "INBOX") -> list[str]:
    session = dovecot.client(user)
    try:
        session.select(folder, readonly=True)
        _status, data = session.fetch("1:*", "(FLAGS)")
        return [item.decode() for item in data if isinstance(item, bytes)]
    finally:
        session.logout()


def test_new_messages_come_in_once_across_two_sweeps_and_stay_unread(dovecot, mailbox):
    dovecot.deliver(mailbox, mail())
    dovecot.deliver(mailbox, mail("Opening hours", "Are you open on Sunday?", sender="Luis <luis@example.net>", message_id="<hours@example.net>"))
    source = source_for(dovecot, mailbox)

    first = sweep(source, None)
    mentions = [m for batch in first for m in batch.mentions]
    assert [(m.kind, m.author_handle, m.author_name) for m in mentions] == [
        ("email", "ana@example.org", "Ana Ruiz"), ("email", "luis@example.net", "Luis")]
    assert mentions[0].platform_id == "<order-1234@example.org>"
    assert mentions[0].text == "Where is my order?\n\nHello, my order 1234 has not arrived."
    cursor = first[-1].cursor

    again = sweep(source, cursor)
    assert [m for batch in again for m in batch.mentions] == []

    dovecot.deliver(mailbox, mail("Refund", "I want a refund", message_id="<refund@example.org>"))
    third = [m for batch in sweep(source, cursor) for m in batch.mentions]
    assert [m.platform_id for m in third] == ["<refund@example.org>"]
    # Read-only: the CM's other mail client still shows all three as unread.
    assert all("\\Seen" not in line for line in flags(dovecot, mailbox)), flags(dovecot, mailbox)


def test_a_rebuilt_folder_under_a_new_uidvalidity_is_read_again_without_duplicates(dovecot, mailbox, workspace: Path, monkeypatch):
    dovecot.deliver(mailbox, mail(), folder="Support")
    project = workspace / "projects" / "acme.toml"
    project.write_text(project.read_text(encoding="utf-8") + f"""
[[sources]]
id = "info"
platform = "email"
host = "127.0.0.1"
port = {dovecot.port}
username = "{mailbox}"
password_env = "ACME_MAIL"
folder = "Support"
ca_file = "{dovecot.cert}"
""", encoding="utf-8")
    monkeypatch.setenv("ACME_MAIL", PASSWORD)

    def fetched() -> int:
        ran = run("fetch", "--workspace", str(workspace), "--json")
        assert ran.exit_code == 0, ran.stdout + ran.stderr
        return sum(r["new"] for p in [json.loads(ran.stdout)] for r in _results(p))

    assert fetched() == 1
    # The folder is deleted and made again (a server migration does the same): new UIDVALIDITY, UIDs from 1.
    session = dovecot.client(mailbox)
    session.delete("Support")
    session.logout()
    dovecot.deliver(mailbox, mail(), folder="Support")
    dovecot.deliver(mailbox, mail("Allergens", "Does the cake have nuts?", message_id="<nuts@example.org>"), folder="Support")
    assert fetched() == 1  # the allergen question only: the order message is the same Message-ID
    inbox = json.loads(run("inbox", "--workspace", str(workspace), "--json").stdout)
    texts = sorted(m["text"] for m in _mentions(inbox))
    assert texts == ["Allergens\n\nDoes the cake have nuts?", "Where is my order?\n\nHello, my order 1234 has not arrived."]
    assert "\\Seen" not in " ".join(flags(dovecot, mailbox, "Support"))


def _results(payload):
    if isinstance(payload, list):
        return [r for p in payload for r in _results(p)]
    if "results" in payload:
        return payload["results"]
    if "projects" in payload:
        return [r for p in payload["projects"] for r in _results(p)]
    if "sources" in payload:
        return payload["sources"]
    raise AssertionError(payload)


def _mentions(payload):
    if isinstance(payload, list):
        return payload
    for key in ("mentions", "items", "open"):
        if key in payload:
            return payload[key]
    if "projects" in payload:
        return [m for p in payload["projects"] for m in _mentions(p)]
    raise AssertionError(payload)


def test_hostile_mail_is_plain_text_and_a_huge_attachment_is_never_downloaded(dovecot, mailbox):
    injected = (
        b"From: =?utf-8?q?Ana=0D=0ABcc:_all@victims.example?= <ana@example.org>\r\n"
        b"To: info@acme.example\r\n"
        b"Subject: =?utf-8?b?wr9Ib3JhcmlvPw==?= =?iso-8859-1?q?_ma=F1ana?=\x1b[31m red\r\n"
        b"Message-ID: <hostile-1@example.org>\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
        b"Hi \x1b]8;;http://evil.example\x07click\x1b]8;;\x07 [bold]me[/bold]\r\n"
    )
    broken_mime = (
        b"From: broken@example.org\r\nSubject: broken\r\nMessage-ID: <broken@example.org>\r\n"
        b"Content-Type: multipart/mixed; boundary=\"never-closed\"\r\n\r\n"
        b"--never-closed\r\nContent-Type: text/plain; charset=x-unknown-charset\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n%%%not base64%%%\r\n"
    )
    html = EmailMessage()
    html["From"] = "Web <web@example.org>"
    html["Subject"] = "Form"
    html["Message-ID"] = "<html@example.org>"
    html.set_content("<html><head><style>p{}</style><script>alert('x')</script></head>"
                     "<body><p>I&nbsp;love <b>your</b> coffee</p><img src=x onerror=alert(1)></body></html>", subtype="html")
    big = EmailMessage()
    big["From"] = "Photo <photo@example.org>"
    big["Subject"] = "Receipt attached"
    big["Message-ID"] = "<big@example.org>"
    big.set_content("The receipt is attached.\n\n-- \nPhoto Person\nCEO")
    big.add_attachment(os.urandom(20 * 1024 * 1024), maintype="application", subtype="octet-stream", filename="receipt.bin")
    quoted = mail("Re: order", "Still nothing.\n\nOn Mon, 1 Dec 2026, Acme wrote:\n> We are on it\n", message_id="<quoted@example.org>",
                  In_Reply_To="<cmday.abc@acme.example>", References="<order-1234@example.org> <cmday.abc@acme.example>")
    for message in (injected, broken_mime, bytes(html), bytes(big), quoted):
        dovecot.deliver(mailbox, message)

    mentions = {m.platform_id: m for batch in sweep(source_for(dovecot, mailbox), None) for m in batch.mentions}

    hostile = mentions["<hostile-1@example.org>"]
    assert hostile.author_handle == "ana@example.org"
    assert "\n" not in hostile.author_name and "\r" not in hostile.author_name
    assert hostile.text.startswith("¿Horario? mañana red\n\n")
    assert "\x1b" not in hostile.text and "\x07" not in hostile.text
    assert "[bold]me[/bold]" in hostile.text  # kept as the words it is; the renderers never read it as markup
    assert "\x1b" not in hostile.raw["headers"]
    assert mentions["<broken@example.org>"].text.startswith("broken")
    assert mentions["<html@example.org>"].text == "Form\n\nI love your coffee"
    receipt = mentions["<big@example.org>"]
    assert receipt.text == "Receipt attached\n\nThe receipt is attached."
    assert receipt.raw["size"] > 20 * 1024 * 1024
    assert receipt.raw["downloaded_bytes"] < 300 * 1024
    assert receipt.raw["text"].endswith("Photo Person\nCEO")  # the raw copy keeps the signature
    reply = mentions["<quoted@example.org>"]
    assert reply.text == "Re: order\n\nStill nothing."
    assert "> We are on it" in reply.raw["text"]
    assert reply.in_reply_to == "<cmday.abc@acme.example>"


def target_of(dovecot, mailbox, message: bytes) -> ReplyTarget:
    dovecot.deliver(mailbox, message)
    [mention] = [m for batch in sweep(source_for(dovecot, mailbox), None) for m in batch.mentions]
    return ReplyTarget(mention.platform_id, mention.author_handle, mention.kind, json.loads(json.dumps(mention.raw)))


def test_a_reply_is_threaded_and_kept_in_sent(dovecot, mailbox, smtp):
    target = target_of(dovecot, mailbox, mail(References="<earlier@example.org>", Reply_To="Ana at work <ana.work@example.org>"))
    source = source_for(dovecot, mailbox, smtp)

    sent = drive(source, lambda adapter: adapter.reply(target, "Hi Ana, it ships today.", "key-1"))

    [received] = smtp.received
    assert received.recipients == ["ana.work@example.org"]
    message = received.message
    assert message["In-Reply-To"] == "<order-1234@example.org>"
    assert message["References"] == "<earlier@example.org> <order-1234@example.org>"
    assert message["Subject"] == "Re: Where is my order?"
    assert message["From"] == "Acme Coffee <info@acme.example>"
    assert message["Message-ID"] == sent.remote_id == message_id("key-1", "info@acme.example")
    assert sent.url == "mid:" + sent.remote_id.strip("<>")
    assert message.get_content().strip() == "Hi Ana, it ships today."
    # The copy in Sent, read and without cmday's marks.
    [line] = flags(dovecot, mailbox, "Sent")
    assert "\\Seen" in line and "$Cmday" not in line


def test_a_reply_whose_answer_is_lost_after_data_arrives_once_when_retried(dovecot, mailbox, smtp):
    target = target_of(dovecot, mailbox, mail())
    source = source_for(dovecot, mailbox, smtp)
    smtp.drop_after_data = 1  # the receiver stores the message and hangs up before saying 250

    with pytest.raises(AnswerLost):
        drive(source, lambda adapter: adapter.reply(target, "It ships today.", "key-2"))
    assert len(smtp.received) == 1

    found = drive(source, lambda adapter: adapter.find_reply(target, "It ships today.", "key-2", NOW))
    again = drive(source, lambda adapter: adapter.reply(target, "It ships today.", "key-2"))

    assert len(smtp.received) == 1
    assert found is not None and found.remote_id == again.remote_id == message_id("key-2", "info@acme.example")


def test_a_reply_cut_before_data_is_sent_on_retry_and_only_then(dovecot, mailbox, smtp, tls_files):
    target = target_of(dovecot, mailbox, mail())
    down = source_for(dovecot, mailbox, smtp).model_copy(update={"smtp_port": 1})  # nothing listens there

    with pytest.raises(Exception) as refused:
        drive(down, lambda adapter: adapter.reply(target, "It ships today.", "key-3"))
    assert not isinstance(refused.value, AnswerLost)
    assert drive(down, lambda adapter: adapter.find_reply(target, "It ships today.", "key-3", NOW)) is None

    source = source_for(dovecot, mailbox, smtp)
    drive(source, lambda adapter: adapter.reply(target, "It ships today.", "key-3"))
    drive(source, lambda adapter: adapter.reply(target, "It ships today.", "key-3"))

    assert len(smtp.received) == 1
    [line] = flags(dovecot, mailbox, "Sent")  # one copy, the pending one of the first attempt reused
    assert "$Cmday" not in line


def test_an_untrusted_certificate_and_a_wrong_password_say_what_to_do(dovecot, mailbox):
    from cmday.errors import SourceError
    from cmday.sources.base import AuthenticationFailed

    untrusted = source_for(dovecot, mailbox).model_copy(update={"ca_file": None})
    with pytest.raises(SourceError, match="certificate is not trusted"):
        sweep(untrusted, None)

    async def wrong(adapter):
        adapter.context.secret = lambda _name: "wrong"
        return [b async for b in adapter.fetch(None)]

    with pytest.raises(AuthenticationFailed, match="refused the login"):
        drive(source_for(dovecot, mailbox), wrong)


def test_the_model_refuses_hosts_with_schemes_and_folders_with_line_breaks():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="not a host name"):
        EmailSource(id="info", platform="email", host="imaps://mail.example", username="info@acme.example")
    with pytest.raises(ValidationError, match="not a mail folder"):
        EmailSource(id="info", platform="email", host="mail.example", username="u", folder="INBOX\r\nA1 DELETE INBOX")


def test_folder_names_are_quoted_in_modified_utf7():
    from cmday.sources.email.fetch import quoted_folder

    assert quoted_folder("INBOX") == '"INBOX"'
    assert quoted_folder("Elementos enviados") == '"Elementos enviados"'
    assert quoted_folder("Éxito") == "\"&AMk-xito\""
    assert quoted_folder("Atención & clientes") == '"Atenci&APM-n &- clientes"'
    assert quoted_folder('a"b') == '"a\\"b"'




def test_a_silent_mail_server_costs_the_sweep_only_its_time_limit(dovecot):
    import socket
    import time

    with socket.socket() as silent:  # accepts the connection (the kernel does) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        source = EmailSource(id="info", platform="email", host="127.0.0.1", port=silent.getsockname()[1],
                             username="cm", password_env="ACME_MAIL", ca_file=str(dovecot.cert))

        async def sweep_beside_another(adapter):
            async def other_source():
                await asyncio.sleep(0.2)
                return "stored"

            async def limited():
                async with asyncio.timeout(1.5):  # what sync gives each source
                    return [b async for b in adapter.fetch(None)]

            return await asyncio.gather(limited(), other_source(), return_exceptions=True)

        started = time.monotonic()
        mail_result, other = drive(source, sweep_beside_another)
        took = time.monotonic() - started

    assert isinstance(mail_result, TimeoutError)
    assert other == "stored"
    assert took < 5, f"the sweep waited {took:.1f} s for a thread stuck on the silent server"


def test_the_cm_fetches_and_answers_an_email_from_the_command_line(dovecot, mailbox, smtp, workspace: Path, monkeypatch):
    dovecot.deliver(mailbox, mail("¿Tenéis leche de avena?", "Hola, ¿tenéis leche de avena en Chamberí?"))
    project = workspace / "projects" / "acme.toml"
    project.write_text(project.read_text(encoding="utf-8") + f"""
[[sources]]
id = "info"
platform = "email"
label = "Acme Coffee"
host = "127.0.0.1"
port = {dovecot.port}
username = "{mailbox}"
address = "info@acme.example"
password_env = "ACME_MAIL"
ca_file = "{dovecot.cert}"
smtp_host = "127.0.0.1"
smtp_port = {smtp.port}
""", encoding="utf-8")
    monkeypatch.setenv("ACME_MAIL", PASSWORD)

    assert run("fetch", "--workspace", str(workspace)).exit_code == 0
    [question] = _mentions(json.loads(run("inbox", "--workspace", str(workspace), "--json").stdout))
    assert question["kind"] == "email" and question["author"]["handle"] == "ana@example.org"
    drafting = run("reply", str(question["id"]), "--workspace", str(workspace), "--text", "Hola, {author}: sí, en todas.", "--dry-run", "--json")
    assert drafting.exit_code == 0, drafting.stderr
    drafted = json.loads(drafting.stdout)
    assert "Ana Ruiz" in drafted["text"] and "ana@example.org" not in drafted["text"]  # {author} is a name, not an address
    ran = run("reply", str(question["id"]), "--workspace", str(workspace), "--yes", "--text", "¡Sí, en todas! Gracias por preguntar.")

    assert ran.exit_code == 0, ran.stdout + ran.stderr
    [received] = smtp.received
    assert received.message["Subject"] == "Re: ¿Tenéis leche de avena?"
    assert received.message["In-Reply-To"] == "<order-1234@example.org>"
    assert smtp.logins == [mailbox]  # smtp_username defaults to the IMAP username, with the same password
    assert _mentions(json.loads(run("inbox", "--workspace", str(workspace), "--json").stdout)) == []


INJECTED = (
    b"From: =?utf-8?q?Ana=0D=0ABcc:_all@victims.example?= <ana@example.org>\r\n"
    b"To: info@acme.example\r\n"
    b"Subject: =?utf-8?q?Refund=0D=0ABcc:_all@victims.example=0D=0A=0D=0Afree_money?=\r\n"
    b"Message-ID: <inject@example.org>\r\n\r\n"
    b"Give me my money back\r\n"
)


def test_an_answer_to_a_header_injection_goes_to_the_sender_alone(dovecot, mailbox, smtp):
    target = target_of(dovecot, mailbox, INJECTED)

    drive(source_for(dovecot, mailbox, smtp), lambda adapter: adapter.reply(target, "We are sorry: the refund is on its way.", "key-4"))

    [received] = smtp.received
    assert received.recipients == ["ana@example.org"]
    headers = received.data.split(b"\r\n\r\n", 1)[0]
    assert not [line for line in headers.split(b"\r\n") if line.lower().startswith(b"bcc")]
    assert received.message["Subject"] == "Re: Refund Bcc: all@victims.example free money"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    header=st.lists(st.sampled_from([b"From: ", b"Subject: ", b"Content-Type: multipart/mixed; boundary=b", b"=?utf-8?b?", b"?=",
                                     b"\r\n", b"\x1b[2J", b"\x00", b"<a@b>", b"Message-ID: ", b"Date: ", b"\xff\xfe", b"Reply-To: ",
                                     b"Content-Transfer-Encoding: base64\r\n", b";charset=bogus"]), max_size=20).map(b"".join),
    body=st.binary(max_size=300),
)
def test_any_bytes_make_a_mention_with_nothing_a_terminal_would_obey(header, body):
    from cmday.sources.email.entities import FetchedMessage, to_mention
    from cmday.textsafe import clean

    mention = to_mention(FetchedMessage(uid=7, header=header + b"\r\n\r\n", body=body, size=len(header) + len(body) + 4),
                         "INBOX", 1, NOW)

    assert mention.kind == "email" and mention.platform_id
    for text in (mention.text, mention.author_name, mention.author_handle, mention.raw["subject"], mention.raw["text"]):
        assert clean(text) == text
    assert "\n" not in mention.author_name and "\n" not in mention.raw["subject"]


SEND_IN_ANOTHER_PROCESS = """
import asyncio, json, sys
from pathlib import Path
from cmday.sources.email.settings import EmailSource
from cmday.sources.base import FetchContext, ReplyTarget
from cmday.sources.email.adapter import EmailAdapter

source = EmailSource.model_validate_json(sys.argv[1])
target = ReplyTarget(**json.loads(sys.argv[2]))
context = FetchContext(http=None, secret=lambda _name: sys.argv[3], workspace_root=Path("/"),
                       now=__import__("datetime").datetime.now(__import__("datetime").UTC), project_slug="acme")
asyncio.run(EmailAdapter(source, context).reply(target, "It ships today.", "key-5"))
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_sender_killed_after_data_never_sends_twice(dovecot, mailbox, smtp):
    target = target_of(dovecot, mailbox, mail())
    source = source_for(dovecot, mailbox, smtp)
    sender = subprocess.Popen(
        [sys.executable, "-c", SEND_IN_ANOTHER_PROCESS, source.model_dump_json(), json.dumps(target.__dict__), PASSWORD],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    smtp.on_data = lambda: os.kill(sender.pid, signal.SIGKILL)  # the message is in; its sender dies before the answer

    assert sender.wait(timeout=60) == -signal.SIGKILL, sender.stderr.read().decode()
    smtp.on_data = None
    assert len(smtp.received) == 1

    again = drive(source, lambda adapter: adapter.reply(target, "It ships today.", "key-5"))

    assert len(smtp.received) == 1
    assert again.remote_id == message_id("key-5", "info@acme.example")


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # it is TLS, from the first byte
def test_starttls_on_imap_and_implicit_tls_on_smtp_work_as_well(dovecot, mailbox, tls_files):
    dovecot.deliver(mailbox, mail())
    cert, key = tls_files
    receiver = SmtpReceiver(cert, key, implicit_tls=True).start()
    try:
        source = source_for(dovecot, mailbox, receiver).model_copy(
            update={"port": dovecot.starttls_port, "security": "starttls", "smtp_security": "tls"})
        [mention] = [m for batch in sweep(source, None) for m in batch.mentions]
        target = ReplyTarget(mention.platform_id, mention.author_handle, mention.kind, mention.raw)
        drive(source, lambda adapter: adapter.reply(target, "It ships today.", "key-6"))
    finally:
        receiver.stop()
    assert mention.platform_id == "<order-1234@example.org>"
    assert [r.message["In-Reply-To"] for r in receiver.received] == ["<order-1234@example.org>"]


@pytest.mark.parametrize("below", [
    "El lun, 1 dic 2026 a las 10:02, Acme <info@acme.example> escribió:\n> Tu pedido sale hoy",
    "-----Mensaje original-----\nDe: Acme\nEnviado: lunes",
    "________________________________\nFrom: Acme <info@acme.example>\nSent: Monday",
    "-- \nAna Ruiz\nCalle Mayor 1",
    "Enviado desde mi iPhone",
])
def test_what_the_customer_wrote_is_shown_without_what_they_answer_or_sign(below):
    from cmday.sources.email.entities import trimmed

    assert trimmed(f"Sigue sin llegar.\nGracias\n\n{below}") == "Sigue sin llegar.\nGracias"
