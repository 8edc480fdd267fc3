"""Click's and Typer's own words (help, usage, prompts, usage errors) in the session's language."""

from __future__ import annotations

import gettext
import re
import sys
from collections.abc import Callable
from typing import IO, Any

from cmday.i18n import _, active_language

# Typer 0.28 vendors Click with its gettext calls taken out: its words are plain English strings made
# in a few places (the help formatter, the help option, ParamType.fail, the error display, confirm).
# install() puts the session's words in exactly those places; Typer's own core still calls the
# stdlib's gettext.gettext, whose global domain picks its language from LANGUAGE/LC_*, not from
# --lang, so its `_` is pointed at these words too. tests/test_spanish_screens.py renders every
# command's help and every dashboard in Spanish and fails on any of Click's English left.


def _fixed_words() -> dict[str, str]:
    """Click's and Typer's fixed words as they write them, in the active language (msgids for pybabel)."""
    return {
        "Usage: ": _("Usage: "),
        "Options": _("Options"),
        "Arguments": _("Arguments"),
        "Commands": _("Commands"),
        "Show this message and exit.": _("Show this message and exit."),
        "Aborted!": _("Aborted!"),
        "Aborted.": _("Aborted!"),
        "required": _("required"),
        "default: {default}": _("default: {default}"),
        "env var: {var}": _("env var: {var}"),
        "(dynamic)": _("(dynamic)"),
        "Missing command.": _("Missing command."),
        "No such command {name!r}.": _("No such command {name!r}."),
    }


def _type_names() -> dict[str, str]:
    """Click's parameter type names, as its metavars (`<str>`) and messages ("not a valid float") say them."""
    return {
        "str": _("text"),
        "text": _("text"),
        "path": _("path"),
        "filename": _("file"),
        "int": _("whole number"),
        "integer": _("whole number"),
        "float": _("number"),
        "boolean": _("yes or no"),
        "datetime": _("date and time"),
        "uuid": _("UUID"),
        "choice": _("choice"),
    }


_words_cache: dict[str, dict[str, str]] = {}


def word(english: str) -> str:
    """One of Click's or Typer's fixed words in the active language (itself when it is not one)."""
    language = active_language()
    if language not in _words_cache:
        _words_cache[language] = _fixed_words()
    return _words_cache[language].get(english, english)


def _type_name(english: str) -> str:
    return _type_names().get(english, english)


# Click's messages as it formats them, each with its translation; translated parts are matched again.
_MESSAGE_PATTERNS: list[tuple[re.Pattern[str], Callable[[dict[str, str]], str]]] = [
    (re.compile(r"Invalid value for (?P<hint>.+?): (?P<message>.*)", re.S),
     lambda m: _("Invalid value for {hint}: {message}").format(hint=m["hint"], message=translate_message(m["message"]))),
    (re.compile(r"Invalid value: (?P<message>.*)", re.S),
     lambda m: _("Invalid value: {message}").format(message=translate_message(m["message"]))),
    (re.compile(r"(?P<value>.+) is not a valid (?P<type>[\w ]+)\."), lambda m: _not_valid(m["value"], m["type"])),
    (re.compile(r"(?P<value>.+) is not one of (?P<choices>.+)\."),
     lambda m: _("{value} is not one of {choices}.").format(value=m["value"], choices=m["choices"])),
    (re.compile(r"(?P<value>.+) is not in the range (?P<range>.+)\."),
     lambda m: _("{value} is not in the range {range}.").format(value=m["value"], range=m["range"])),
    (re.compile(r"(?P<value>.+) does not match the formats (?P<formats>.+)\."),
     lambda m: _("{value} does not match the formats {formats}.").format(value=m["value"], formats=m["formats"])),
    (re.compile(r"Missing (?P<kind>argument|option|parameter)(?: (?P<hint>.+?))?\.(?: (?P<rest>.*))?", re.S),
     lambda m: _missing(m)),
    (re.compile(r"No such option: (?P<name>\S+)(?: \(Possible options: (?P<possible>.+)\))?"),
     lambda m: _("No such option: {name}").format(name=m["name"])
     + (" " + _("(possible options: {options})").format(options=m["possible"]) if m["possible"] else "")),
    (re.compile(r"Option (?P<option>'.+') requires an argument\."),
     lambda m: _("Option {option} requires an argument.").format(option=m["option"])),
    (re.compile(r"Option (?P<option>'.+') does not take a value\."),
     lambda m: _("Option {option} does not take a value.").format(option=m["option"])),
    (re.compile(r"Got unexpected extra argument(?:\(s\)|s)? \((?P<arguments>.*)\)", re.S),
     lambda m: _("Got unexpected extra arguments ({arguments})").format(arguments=m["arguments"])),
    # Typer adds its suggestion to a message it has already translated
    (re.compile(r"(?P<message>.+?)\.? Did you mean (?P<matches>.+)\?", re.S),
     lambda m: translate_message(m["message"] + ".") + " " + _("Did you mean {matches}?").format(matches=m["matches"])),
    (re.compile(r"No such command (?P<name>'.*?')\."), lambda m: _("No such command {name!r}.").replace("{name!r}", m["name"])),
    (re.compile(r"Missing command\."), lambda m: _("Missing command.")),
]


def _not_valid(value: str, type_name: str) -> str:
    by_type = {
        "float": _("{value} is not a valid number."),
        "float range": _("{value} is not a valid number."),
        "int": _("{value} is not a whole number."),
        "int range": _("{value} is not a whole number."),
        "integer": _("{value} is not a whole number."),
        "boolean": _("{value} is not yes or no."),
        "datetime": _("{value} is not a valid date and time."),
    }
    if type_name in by_type:
        return by_type[type_name].format(value=value)
    return _("{value} is not a valid {type}.").format(value=value, type=_type_name(type_name))


def _missing(found: dict[str, str]) -> str:
    kinds = {"argument": _("Missing argument {hint}."), "option": _("Missing option {hint}."), "parameter": _("Missing parameter {hint}.")}
    text = kinds[found["kind"]].format(hint=found["hint"] or "").replace(" .", ".")
    return f"{text} {translate_message(found['rest'])}" if found["rest"] else text


def translate_message(message: str) -> str:
    """A message Click formatted in English, in the active language; unknown ones stay as they are."""
    if active_language() == "en":
        return message
    for pattern, translated in _MESSAGE_PATTERNS:
        found = pattern.fullmatch(message)
        if found:
            return translated(found.groupdict())
    return message


def _show_error(self: Any, file: IO[Any] | None = None) -> None:
    """ClickException.show and UsageError.show, with their words translated."""
    echo = _click("utils").echo
    file = file if file is not None else sys.stderr
    ctx = getattr(self, "ctx", None)
    color = getattr(self, "show_color", None)
    if ctx is not None:
        color = ctx.color
        hint = ""
        if ctx.command.get_help_option(ctx) is not None:
            hint = _("Try '{command} {option}' for help.").format(command=ctx.command_path, option=ctx.help_option_names[0]) + "\n"
        echo(f"{ctx.get_usage()}\n{hint}", file=file, color=color)
    echo(_("Error: {message}").format(message=translate_message(self.format_message())), file=file, color=color)


_METAVAR = re.compile(r"<([\w ]+)>")
_USAGE_WORDS = re.compile(r"\b(OPTIONS|COMMAND|ARGS)\b")


def _translate_metavars(text: str) -> str:
    return _METAVAR.sub(lambda m: f"<{_type_name(m[1])}>", text)


def _translate_usage(args: str) -> str:
    """The usage line's placeholders: `[OPTIONS] COMMAND [ARGS]...`."""
    words = {"OPTIONS": _("OPTIONS"), "COMMAND": _("COMMAND"), "ARGS": _("ARGS")}
    return _USAGE_WORDS.sub(lambda m: words[m[1]], _translate_metavars(args))


def _without_accents(text: str) -> str:
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def confirm(text: str, default: bool | None = False, abort: bool = False, prompt_suffix: str = ": ", show_default: bool = True, err: bool = False) -> bool:
    """typer.confirm in the session's language: "[s/N]", and "s"/"sí" as well as "y"/"yes" for yes."""
    from typer import Abort
    visible_prompt_func, echo = _click("termui").visible_prompt_func, _click("utils").echo

    yes, no = _("y"), _("n")
    choices = f"{yes}/{no}" if default is None else (f"{yes.upper()}/{no}" if default else f"{yes}/{no.upper()}")
    prompt = f"{text} [{choices}]{prompt_suffix}" if show_default else f"{text}{prompt_suffix}"
    # English answers always count too: a CM's fingers type "y" whatever the screen says
    accepted_yes = {"y", "yes", yes, _("yes"), _without_accents(_("yes"))}
    accepted_no = {"n", "no", no, _("no")}
    while True:
        try:
            echo(prompt[:-1], nl=False, err=err)
            value = visible_prompt_func(prompt[-1:]).lower().strip()  # the last character apart, as Click does
        except (KeyboardInterrupt, EOFError):
            raise Abort() from None
        if value in accepted_yes:
            answer = True
        elif value in accepted_no:
            answer = False
        elif default is not None and value == "":
            answer = default
        else:
            echo(_("Error: invalid input (answer {yes} or {no})").format(yes=yes, no=no), err=err)
            continue
        break
    if abort and not answer:
        raise Abort()
    return answer


def _click(module: str) -> Any:
    """One of Click's modules: Typer's vendored copy (0.28), else Click itself (the older Typers pyproject allows)."""
    import importlib

    try:
        return importlib.import_module(f"typer._click.{module}")
    except ImportError:
        return importlib.import_module(f"click.{module}")


_installed = False


def install() -> None:
    """Put the session's words where Click and Typer make theirs; idempotent, English stays English."""
    global _installed
    if _installed:
        return
    _installed = True
    import typer
    core, exceptions, formatting, types = (_click(name) for name in ("core", "exceptions", "formatting", "types"))

    for name, module in list(sys.modules.items()):
        if (name == "typer" or name.startswith(("typer.", "click"))) and getattr(module, "_", None) is gettext.gettext:
            module._ = word  # type: ignore[attr-defined]

    class Formatter(formatting.HelpFormatter):
        def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
            super().write_usage(prog, _translate_usage(args), word("Usage: ") if prefix is None else prefix)

        def write_dl(self, rows: Any, col_max: int = 30, col_spacing: int = 2) -> None:
            rows = [(_translate_metavars(first), word(second)) for first, second in rows]
            super().write_dl(rows, col_max, col_spacing)

    core.Context.formatter_class = Formatter
    exceptions.ClickException.show = _show_error  # type: ignore[method-assign]
    exceptions.UsageError.show = _show_error  # type: ignore[method-assign]
    original_fail = types.ParamType.fail

    def fail(self: Any, message: str, param: Any = None, ctx: Any = None) -> Any:
        return original_fail(self, translate_message(message), param, ctx)

    types.ParamType.fail = fail  # type: ignore[method-assign]
    typer.confirm = confirm  # call sites look it up when they call: `typer.confirm(...)` asks in Spanish
