"""The one translation function every user-facing string goes through, and the choice of language."""

from __future__ import annotations

import gettext
import os
from pathlib import Path

SUPPORTED_LANGUAGES = ("en", "es")
DEFAULT_LANGUAGE = "en"
_LOCALE_DIR = Path(__file__).parent / "locale"

_translation: gettext.NullTranslations = gettext.NullTranslations()
_language = DEFAULT_LANGUAGE


def _(message: str) -> str:
    """Translate `message` into the active language (English is the source text)."""
    return _translation.gettext(message)


def active_language() -> str:
    return _language


def set_language(language: str) -> None:
    global _translation, _language
    _language = language if language in SUPPORTED_LANGUAGES else DEFAULT_LANGUAGE
    _translation = gettext.translation(
        "cmday", localedir=_LOCALE_DIR, languages=[_language], fallback=True
    )


def language_from_locale(environ: os._Environ[str] | dict[str, str] | None = None) -> str | None:
    """The language the system locale asks for, when it is one cmday speaks."""
    env = os.environ if environ is None else environ
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(variable, "")
        code = value.split(".")[0].split("_")[0].lower()
        if code in SUPPORTED_LANGUAGES:
            return code
        if value:
            return None
    return None


def resolve_language(flag: str | None, workspace_language: str | None) -> str:
    """--lang, else CMDAY_LANG, else the workspace's language, else the locale, else English."""
    for candidate in (flag, os.environ.get("CMDAY_LANG"), workspace_language):
        if candidate:
            return candidate if candidate in SUPPORTED_LANGUAGES else DEFAULT_LANGUAGE
    return language_from_locale() or DEFAULT_LANGUAGE
