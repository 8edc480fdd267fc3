"""The settings as commands read them: plain records of the validated `cmday.toml`, project, protocol and checklist files.

A file is validated once by its pydantic model (cmday.models); what commands get is that model's values
frozen into records, plain objects with the same attributes and the behaviour below. cmday.validated keeps
the records between runs, so a check on files that have not changed unpickles records and never loads
pydantic's model machinery nor defines a model class: about half of what a check took to start.

A model's behaviour (methods and properties) lives here, in a mixin its pydantic model also inherits,
so a model fresh from pydantic and its record answer the same calls.
"""

from __future__ import annotations

import copy
import functools
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from cmday.models import Post, Source

Language = Literal["en", "es"]
PUBLISHING_PLATFORMS = ("mastodon", "bluesky")
POST_STATUSES = ("idea", "draft", "ready", "scheduled", "published")
SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
AUTOMATIC_CHECKS = (  # what a checklist item's `auto` may name: cmday.checklists judges them
    "no_urgent_open",
    "no_crisis",
    "sources_healthy",
    "swept_recently",
    "nothing_past_sla",
    "inbox_clear",
    "today_ready",
    "tomorrow_ready",
    "horizon_covered",
)


class Behaviour:
    """The base of a model's behaviour mixin: a model whose class has one freezes into a record that has it too."""

    __slots__ = ()


class Record:
    """A validated model's values, read as attributes, with the two pydantic calls commands make on settings."""

    model_fields_set: frozenset[str]  # the fields the file itself gave, as pydantic's
    _model: str  # the model's name, for repr
    _behaviour: type | None = None  # the mixin its class was made with (record_class)

    def model_copy(self, update: dict[str, Any] | None = None) -> Record:
        """A shallow copy with `update` applied, unvalidated: as pydantic's `model_copy(update=...)`."""
        twin = copy.copy(self)
        if update:
            twin.__dict__.update(update)
            twin.model_fields_set = self.model_fields_set | set(update)
        return twin

    def __eq__(self, other: object) -> bool:
        if getattr(type(other), "__pydantic_fields__", None) is not None:
            other = freeze(other)  # a post read from a CSV against the same post in the TOML
        if not isinstance(other, Record):
            return NotImplemented
        return self._model == other._model and _values(self) == _values(other)

    __hash__ = None  # type: ignore[assignment]  # mutable, as pydantic's models

    def __repr__(self) -> str:
        return f"{self._model.rsplit('.', 1)[-1]}({', '.join(f'{k}={v!r}' for k, v in _values(self).items())})"

    def __reduce__(self):
        return _rebuild, (self._behaviour, self.__dict__)


def _values(record: Record) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in ("model_fields_set", "_model")}


@functools.cache
def record_class(behaviour: type | None) -> type[Record]:
    """The record class of a behaviour mixin (None: a model without one)."""
    if behaviour is None:
        return Record
    return type(behaviour.__name__, (behaviour, Record), {"__module__": __name__, "_behaviour": behaviour})


def file_model(name: str) -> type:
    """The pydantic model of that name (cmday.models), loaded on first need: validating a file, or a default."""
    from cmday import models

    return getattr(models, name)


def _rebuild(behaviour: type | None, values: dict[str, Any]) -> Record:
    record = object.__new__(record_class(behaviour))
    record.__dict__.update(values)
    return record


def freeze(value: Any) -> Any:
    """`value` with every pydantic model in it, however deep, turned into its record."""
    model = type(value)
    fields = getattr(model, "__pydantic_fields__", None)
    if fields is not None:
        behaviour = next((c for c in model.__mro__ if issubclass(c, Behaviour) and not hasattr(c, "__pydantic_fields__")
                          and c is not Behaviour), None)
        return _rebuild(behaviour, {
            **{name: freeze(getattr(value, name)) for name in fields},
            "model_fields_set": frozenset(value.model_fields_set),
            "_model": f"{model.__module__}.{model.__qualname__}",
        })
    if isinstance(value, list):
        return [freeze(item) for item in value]
    if isinstance(value, dict):
        return {key: freeze(item) for key, item in value.items()}
    return value


class ProjectBehaviour(Behaviour):
    """What `cmday.models.Project` and its record answer besides their fields."""

    __slots__ = ()

    @property
    def slug(self) -> str:
        assert self.project.slug is not None, "the loader sets the slug"
        return self.project.slug

    @property
    def name(self) -> str:
        return self.project.name

    def source(self, source_id: str) -> Source | None:
        return next((s for s in self.sources if s.id == source_id), None)

    def post_platform(self, post: Post) -> str:
        if post.platform:
            return post.platform
        source = self.source(post.source or "")
        return source.platform if source else "?"

    def publishing_platforms(self) -> list[str]:
        """The platforms the calendar must feed: set in [calendar], else those of publishing sources."""
        if self.calendar.platforms is not None:
            return list(self.calendar.platforms)
        return sorted({s.platform for s in self.sources if s.enabled and s.platform in PUBLISHING_PLATFORMS})


CALENDAR_DEFAULTS = {"min_per_day": 1, "max_per_day": 3, "min_gap_minutes": 60}


class CalendarBehaviour(Behaviour):
    __slots__ = ()

    def per_platform(self, setting: str, platform: str) -> int:
        value = getattr(self, setting)
        if isinstance(value, dict):
            return value.get(platform, CALENDAR_DEFAULTS[setting])
        return value
