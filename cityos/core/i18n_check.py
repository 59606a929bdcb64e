"""Find user-visible messages without a zh-Hans translation (used by a test and by developers).

python -m cityos.core.i18n_check          # lists missing msgids with where they appear
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

from cityos.core.i18n import catalog

PACKAGE = Path(__file__).resolve().parent.parent
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "lazy": None,
    "ProblemError": (3,),
    "invalid": (2,),
    "conflict": (2,),
    "forbidden": None,
}
METHOD_MAP = [("**.py", "python"), ("templates/**.html", "jinja2")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def extracted() -> dict[str, list[str]]:
    """msgid → places it is used."""
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(PACKAGE),
        METHOD_MAP,
        OPTIONS,
        keywords=KEYWORDS,
    ):
        ids = message if isinstance(message, tuple) else (message,)
        for msgid in ids:
            if msgid:
                found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return found


def missing(locale: str = "zh_Hans") -> dict[str, list[str]]:
    translations = catalog(locale)
    return {m: places for m, places in extracted().items() if m not in translations}


if __name__ == "__main__":  # pragma: no cover
    for msgid, places in sorted(missing().items(), key=lambda kv: kv[1][0]):
        print(f"{places[0]}\t{msgid!r}")
