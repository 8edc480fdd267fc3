"""The demo source: realistic, deterministic mentions timed relative to when the demo started."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

from cmday.clock import from_utc_text
from cmday.mention import Mention
from cmday.sources.base import Batch, FetchContext, ReplyTarget, Sent

# (minutes from the demo's start, platform, kind, handle, display name, text)
# Negative minutes came in overnight; positive ones arrive while the newcomer looks around.
SCRIPT: list[tuple[int, str, str, str, str, str]] = [
    (-610, "bluesky", "mention", "lucia.bsky.social", "Lucía M.",
     "¡El flat white de @cafearoma.bsky.social en Malasaña es el mejor café de Madrid! Gracias por el trato 🙌"),
    (-545, "mastodon", "mention", "@oatlover@mastodon.social", "Sam",
     "@cafearoma do you have oat milk options at the Chamberí shop? Planning to visit with my team"),
    (-480, "instagram", "import", "marta_runs", "Marta",
     "Pedí un café para llevar y llegó frío. Sigo esperando respuesta a mi mensaje de ayer."),
    (-430, "google-alerts", "alert", "madridcafeblog.example", "Madrid Café Blog",
     "Nueva cafetería de especialidad en Malasaña: Café Aroma abre su tercer local"),
    (-365, "mastodon", "dm", "@jon@fosstodon.org", "Jon Ibarra",
     "Hi! Can you send me the invoice for my order #4821? I need it for my company's expenses."),
    (-300, "bluesky", "mention", "growfast.bsky.social", "GROW FAST",
     "Free followers!! click here to promote your account [bold]now[/bold] \x1b[31mhttps://spam.example\x1b[0m"),
    (-240, "bluesky", "search", "teletrabajo.bsky.social", "Pablo",
     "Probé el café de Aroma en Chamberí: buen ambiente para trabajar y wifi rápido"),
    (-125, "mastodon", "mention", "@dani@mastodon.social", "Dani",
     "Third time this week the card machine at @cafearoma Chamberí is not working. Unacceptable."),
    (-95, "instagram", "import", "ana.g.mad", "Ana G.",
     "Mi hija tuvo una reacción alérgica con el bizcocho «sin frutos secos» de Café Aroma. Estamos en urgencias."),
    (-40, "bluesky", "reply", "rober.bsky.social", "Rober",
     "¿Alguien más se ha intoxicado con el sándwich de pollo de Café Aroma de ayer? Somos tres en casa"),
    (-20, "mastodon", "mention", "@coffeegeek@mas.to", "Coffee Geek",
     "Lovely cortado at @cafearoma this morning, thanks for the recommendation!"),
    (70, "mastodon", "mention", "@weekend@mastodon.social", "Irene",
     "@cafearoma what time do you open on Sunday?"),
    (150, "bluesky", "mention", "latteart.bsky.social", "Latte Art Club",
     "Thanks @cafearoma.bsky.social for the latte art workshop, amazing afternoon!"),
    (240, "google-alerts", "alert", "guia-madrid.example", "Guía Madrid",
     "Reseña: los mejores cafés para teletrabajar en Madrid, con Café Aroma en la lista"),
]

ANCHOR_KEY = "demo_anchor"
# The platforms cmday replies and publishes on: the demo rehearses those; for the others it gives text to copy.
REHEARSED_PLATFORMS = ("mastodon", "bluesky")


def script_mention(index: int, anchor: datetime) -> Mention:
    minutes, platform, kind, handle, name, text = SCRIPT[index]
    return Mention(
        platform=platform,
        platform_id=f"demo-{index:03d}",
        kind=kind,
        text=text,
        created_at=anchor + timedelta(minutes=minutes),
        author_handle=handle,
        author_name=name,
        url=f"https://demo.cmday.invalid/{platform}/{index}",
        raw={"demo": index},
    )


class DemoAdapter:
    """Hands over every scripted mention whose time has come; storing dedupes re-runs."""

    uses_network = False

    def __init__(self, source: object, context: FetchContext) -> None:
        self.context = context

    async def fetch(self, cursor: str | None) -> AsyncIterator[Batch]:
        anchor_text = self.context.demo_anchor
        if not anchor_text:
            return
        anchor = from_utc_text(anchor_text)
        due = [script_mention(i, anchor) for i in range(len(SCRIPT))]
        yield Batch([m for m in due if m.created_at <= self.context.now])

    async def text_limit(self) -> int:
        return 500

    def reply_text(self, target: ReplyTarget, text: str) -> str:
        """As the real platform's adapter would write it: Mastodon's `@user@host` in front, Bluesky's text as it is."""
        from cmday.sources.mastodon.text import addressed

        user, _at, host = target.author_handle.lstrip("@").partition("@")
        return addressed(text, f"{user}@{host}", "") if target.author_handle.startswith("@") and host else text

    async def reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> Sent:
        """The demo answers without a network: the reply is recorded as answered, nothing leaves the machine."""
        return Sent(f"demo-reply-{idempotency_key[:12]}", "")

    async def find_reply(self, target: ReplyTarget, text: str, idempotency_key: str, since: datetime) -> Sent | None:
        return None  # nothing ever left the machine: a pending demo reply is never anywhere

    async def publish(self, text: str, link: str | None, media: list, idempotency_key: str, alts: list[str] | None = None) -> Sent:
        """The demo publishes without a network: the post is recorded as published, nothing leaves the machine."""
        return Sent(f"demo-post-{idempotency_key[:12]}", "")

    async def find_post(self, text: str, link: str | None, idempotency_key: str, since: datetime) -> Sent | None:
        return None  # nothing ever left the machine

    async def verify(self) -> str:
        return "@cafearoma (demo)"
