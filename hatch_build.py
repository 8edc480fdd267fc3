"""Build hook: compiles every translation catalog (locale/*/LC_MESSAGES/cmday.po) to its .mo before a wheel is built."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

LOCALE_DIR = Path("src") / "cmday" / "locale"
DOMAIN = "cmday"


def compile_catalogs(root: Path) -> list[Path]:
    """Write each catalog's .mo beside its .po (the .mo files are not committed); return them relative to `root`."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    compiled = []
    for po_path in sorted((root / LOCALE_DIR).glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        language = po_path.parent.parent.name
        with po_path.open("rb") as po_file:
            # The .po files carry no header (--omit-header): the language comes from the folder name.
            catalog = read_po(po_file, locale=language, domain=DOMAIN)
        mo_path = po_path.with_suffix(".mo")
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)  # fuzzy entries are left out, as gettext would
        compiled.append(mo_path.relative_to(root))
    return compiled


class CatalogBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        # Wheels only ("standard" and "editable"): an sdist ships the .po files and compiles when built.
        if self.target_name != "wheel":
            return
        compiled = compile_catalogs(Path(self.root))
        # *.mo is git-ignored, and hatchling leaves ignored files out unless they are artifacts.
        build_data["artifacts"].extend(path.as_posix() for path in compiled)
        # An editable install imports from src/, where the .mo files now are.

    def clean(self, versions: list[str]) -> None:
        for mo_path in (Path(self.root) / LOCALE_DIR).glob(f"*/LC_MESSAGES/{DOMAIN}.mo"):
            mo_path.unlink()
