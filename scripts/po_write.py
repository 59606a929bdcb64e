"""Development helper: merge translations into a domain PO file.

    .venv/bin/python scripts/po_write.py core translations.tsv   # lines: msgid<TAB>msgstr
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

LOCALE_DIR = Path(__file__).resolve().parent.parent / "cityos" / "locale" / "zh_Hans" / "LC_MESSAGES"


def main(domain: str, tsv: str) -> None:
    path = LOCALE_DIR / f"{domain}.po"
    if path.exists():
        with path.open("rb") as fh:
            catalog = read_po(fh, locale="zh_Hans")
    else:
        catalog = Catalog(locale="zh_Hans", domain=domain, project="CityOS", charset="utf-8")
    for line in Path(tsv).read_text(encoding="utf-8").splitlines():
        if "\t" in line:
            msgid, msgstr = line.split("\t", 1)
            catalog.add(msgid.replace("\\n", "\n"), msgstr.replace("\\n", "\n"))
    with path.open("wb") as fh:
        write_po(fh, catalog, width=100, omit_header=False, sort_output=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
