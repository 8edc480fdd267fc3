"""Recommendations drafted from a month's figures, each with the number behind it, for the CM to keep, edit or drop."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cmday.i18n import _, ngettext

if TYPE_CHECKING:
    from cmday.indicators import Indicators
    from cmday.report import ObjectiveLine, Words

RESPONSE_RISE = 1.25  # a platform's median this much slower than last month, and...
RESPONSE_RISE_MINUTES = 10  # ...at least this many minutes slower
MIN_ANSWERED = 3  # answers on a platform before its median says anything
CATEGORY_GROWTH = 1.5
MIN_CATEGORY = 5
LATE_WINDOW_HOURS = 3
MIN_LATE = 3
QUIET_BEFORE = 5  # mentions last month from a platform that brought none this month
MIN_ENGAGED_POSTS = 2

# Words a CM's own recommendations use for a topic (folded: lowercase, no accents): when they appear,
# the CM has spoken about it and the draft on the same topic gives way.
CATEGORY_WORDS = {
    "complaint": ("complaint", "complaints", "queja", "quejas", "reclamacion", "reclamaciones"),
    "praise": ("praise", "elogio", "elogios", "compliments"),
    "question": ("question", "questions", "pregunta", "preguntas", "faq"),
    "request": ("request", "requests", "peticion", "peticiones", "solicitud", "solicitudes"),
    "crisis": ("crisis",),
    "mention": ("mention", "mentions", "mencion", "menciones"),
}
WEEKDAY_WORDS = {
    "mon": ("monday", "mondays", "lunes"), "tue": ("tuesday", "tuesdays", "martes"),
    "wed": ("wednesday", "wednesdays", "miercoles"), "thu": ("thursday", "thursdays", "jueves"),
    "fri": ("friday", "fridays", "viernes"), "sat": ("saturday", "saturdays", "sabado", "sabados"),
    "sun": ("sunday", "sundays", "domingo", "domingos"),
}
LATE_WORDS = ("late", "slow", "tarde", "lento", "lentos", "fuera de plazo", "response time", "tiempo de respuesta")
BEST_POST_WORDS = ("best post", "best posts", "mejor publicacion", "mejores publicaciones", "most favourites", "most liked")


@dataclass
class Draft:
    """One drafted recommendation: its topic, the sentence (with its supporting figure) and the words that name the topic."""

    topic: str  # response:instagram, category:complaint, late-hours, weekdays, best-post, objective:<kpi>, quiet:<platform>
    text: str
    subjects: tuple[str, ...]


def draft(figures: Indicators, objectives: list[ObjectiveLine], words: Words, weekdays: list[str] | None) -> list[Draft]:
    """Everything the month's figures suggest, most pressing first; call it inside `speaking(language)`."""
    details = figures.details
    drafts: list[Draft] = []
    for objective in objectives:
        if objective.met is False or objective.on_track is False:
            template = _("{objective}: {value} against a target of {target}; make it the first goal of next month's plan.") if objective.met is False else _(
                "{objective}: {value} so far against a target of {target}; at this pace it will not be reached."
            )
            drafts.append(Draft(
                f"objective:{objective.kpi}",
                template.format(objective=objective.label, value=words.number(objective.value, objective.unit),
                                target=words.number(objective.target, objective.unit)),
                (objective.label, objective.kpi.replace("_", " ")),
            ))
    for platform, row in details.response_by_platform.items():
        before, now = details.previous_response_by_platform.get(platform), row["median_minutes"]
        if before is None or now is None or (row["answered"] or 0) < MIN_ANSWERED:
            continue
        if now >= before * RESPONSE_RISE and now - before >= RESPONSE_RISE_MINUTES:
            drafts.append(Draft(
                f"response:{platform}",
                _("Answer {platform} sooner: its median response time rose from {before} to {now}; read it at every check.").format(
                    platform=platform, before=words.duration(before), now=words.duration(now)),
                (platform,),
            ))
    if figures.in_progress:
        return drafts  # growth, late hours, empty weekdays and quiet sources say nothing before the month is over
    for category, now in details.by_category.items():
        before = details.previous_by_category.get(category, 0)
        if category == "spam" or now < MIN_CATEGORY or now < max(before, 1) * CATEGORY_GROWTH:
            continue
        drafts.append(Draft(
            f"category:{category}",
            _category_advice(category).format(category=_capital(words.category(category)), before=words.number(before), now=words.number(now)),
            CATEGORY_WORDS.get(category, (category,)),
        ))
    late = sum(details.late_by_hour.values())
    if late >= MIN_LATE:
        start, count = max(
            ((hour, sum(details.late_by_hour.get((hour + step) % 24, 0) for step in range(LATE_WINDOW_HOURS))) for hour in sorted(details.late_by_hour)),
            key=lambda window: window[1],
        )
        if count * 2 >= late:
            drafts.append(Draft(
                "late-hours",
                ngettext(
                    "{count} of the {late} late answer came in between {start}:00 and {end}:00: add a check at that time.",
                    "{count} of the {late} late answers came in between {start}:00 and {end}:00: add a check at that time.",
                    late,
                ).format(count=words.number(count), late=words.number(late), start=f"{start:02d}", end=f"{(start + LATE_WINDOW_HOURS) % 24:02d}"),
                LATE_WORDS,
            ))
    published = sum(details.published_by_weekday.values())
    if published:
        from babel.dates import get_day_names
        from babel.lists import format_list

        from cmday.indicators import WEEKDAYS

        names = get_day_names("wide", locale=words.language)
        empty = [day for day in (weekdays or WEEKDAYS) if not details.published_by_weekday.get(day)]
        if empty and len(empty) < len(weekdays or WEEKDAYS):
            drafts.append(Draft(
                "weekdays",
                ngettext(
                    "No post went out on {days} this month, of {count} published: plan those days, or leave them out on purpose.",
                    "No post went out on {days} this month, of {count} published: plan those days, or leave them out on purpose.",
                    published,
                ).format(days=format_list([names[WEEKDAYS.index(day)] for day in empty], locale=words.language), count=words.number(published)),
                tuple(word for day in empty for word in WEEKDAY_WORDS[day]),
            ))
    engaged = [p for p in details.posts if p.total]
    if len(engaged) >= MIN_ENGAGED_POSTS:
        from cmday.i18n import format_time

        best = max(engaged, key=lambda p: p.total or 0)
        drafts.append(Draft(
            "best-post",
            ngettext(
                "The post with the most reactions ({count}) went out on {platform} at {time}: give the next important ones that hour.",
                "The post with the most reactions ({count}) went out on {platform} at {time}: give the next important ones that hour.",
                int(best.total or 0),
            ).format(count=words.number(best.total), platform=best.platform, time=format_time(best.at.astimezone(words.zone), language=words.language)),
            BEST_POST_WORDS,
        ))
    for platform, before in sorted(details.previous_by_platform.items()):
        if before >= QUIET_BEFORE and not details.by_platform.get(platform):
            drafts.append(Draft(
                f"quiet:{platform}",
                ngettext(
                    "{platform} brought {count} mention last month and none this month: check that the source still works.",
                    "{platform} brought {count} mentions last month and none this month: check that the source still works.",
                    before,
                ).format(platform=platform, count=words.number(before)),
                (platform,),
            ))
    return drafts


def _category_advice(category: str) -> str:
    return {
        "complaint": _("{category} grew from {before} to {now}: find what they have in common and answer the cause in a post."),
        "praise": _("{category} grew from {before} to {now}: thank it and share the best of it, with the authors' permission."),
        "question": _("{category} grew from {before} to {now}: answer the most asked ones in a post and add them to the reply templates."),
        "request": _("{category} grew from {before} to {now}: tell the team which ones come back most."),
        "crisis": _("{category} grew from {before} to {now}: review the crisis steps with the client."),
    }.get(category, _("{category} grew from {before} to {now}."))


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def not_covered(drafts: list[Draft], own: str | None) -> list[Draft]:
    """The drafts whose topic the CM's own recommendations do not already speak of: the CM's words win."""
    if not own:
        return drafts
    from cmday.protocol import fold

    folded = fold(own)
    kept = []
    for item in drafts:
        if not any(re.search(rf"(?<!\w){re.escape(fold(word))}(?!\w)", folded) for word in item.subjects if word.strip()):
            kept.append(item)
    return kept
