"""``cityos classify``: scan a CSV/XLSX file and print the column report (JSON or a table)."""

from __future__ import annotations

import json
import sys
import unicodedata
from pathlib import Path
from typing import TextIO

from cityos.core.i18n import gettext, lazy
from cityos.protection.grades import category_label, type_label
from cityos.protection.scan import ColumnReport, resource_suggestion, scan_columns
from cityos.protection.tables import TableError, read_table

HEADINGS = (
    lazy("Column"),
    lazy("Detected (share of values)"),
    lazy("Suggested grade"),
    lazy("Personal information category"),
)


def to_json(reports: list[ColumnReport]) -> str:
    """Exactly {"columns": [{"name", "detected": [{"type", "ratio"}], "suggested_grade"}]}."""
    return json.dumps({"columns": [r.to_json() for r in reports]}, ensure_ascii=False, indent=2)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def to_text(reports: list[ColumnReport], rows: int, source: str) -> str:
    """A readable table (labels in the current locale, zh-Hans by default)."""
    table = [[gettext(h) for h in HEADINGS]]
    for report in reports:
        detected = "、".join(f"{type_label(t)} {r:.1%}" for t, r in report.detected) or "—"
        table.append(
            [
                report.name or "—",
                detected,
                report.suggested_grade,
                category_label(report.personal_category) or "—",
            ]
        )
    widths = [max(_width(row[i]) for row in table) for i in range(len(table[0]))]
    lines = []
    for index, row in enumerate(table):
        lines.append("  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.append("")
    lines.append(
        gettext("Suggested grade of the resource: {grade}", grade=resource_suggestion(reports))
    )
    lines.append(gettext("Rows scanned: {rows} (read as {source})", rows=rows, source=source))
    lines.append(
        gettext(
            "Grades follow GB/T 43697-2024 with 一般数据 split into levels 1–4; the scan sees "
            "identifiers and personal information only, so review the suggestion."
        )
    )
    return "\n".join(lines)


def classify_file(
    path: Path,
    fmt: str = "text",
    sample: int = 10_000,
    min_ratio: float = 0.1,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run the command; returns the exit code (2 when the file cannot be read)."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        header, rows, source = read_table(path, sample)
    except TableError as exc:
        print(gettext("error: {detail}", detail=str(exc)), file=err)
        return 2
    reports = scan_columns(header, rows, sample, min_ratio=min_ratio)
    print(to_json(reports) if fmt == "json" else to_text(reports, len(rows), source), file=out)
    return 0
