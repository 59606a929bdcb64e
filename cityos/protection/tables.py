"""Read the head of a CSV or XLSX file for a scan.

CSV is decoded strictly as UTF-8 (a BOM is allowed) and, when that fails, as GB18030 (a superset
of GBK and GB2312); the delimiter is sniffed among comma, semicolon, tab and '|'. XLSX is read
with openpyxl in read-only mode, first worksheet, values only. The kind of file is told by its
first bytes, not its name.
"""

from __future__ import annotations

import csv
import zipfile
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from cityos.core.i18n import gettext

ENCODINGS = ("utf-8-sig", "gb18030")
_SNIFF_CHARS = 16 * 1024
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class TableError(Exception):
    """The file cannot be read as a table (message already translated)."""


def read_table(path: Path, sample: int) -> tuple[list[str], list[list[str]], str]:
    """(header, first ``sample`` data rows, how it was read: "xlsx" or the CSV encoding)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise TableError(
            gettext("Cannot open {path}: {error}", path=path, error=exc.strerror)
        ) from exc
    if head.startswith(_OLE_MAGIC):
        raise TableError(
            gettext("{path} is an old Excel (.xls) file; save it as .xlsx or CSV.", path=path)
        )
    if head.startswith(_ZIP_MAGIC):
        return (*_read_xlsx(path, sample), "xlsx")
    return _read_csv(path, sample)


def _read_csv(path: Path, sample: int) -> tuple[list[str], list[list[str]], str]:
    for encoding in ENCODINGS:
        try:
            header, rows = _csv_rows(path, encoding, sample)
        except UnicodeDecodeError:
            continue
        except csv.Error as exc:
            raise TableError(
                gettext("{path} is not a readable CSV file: {error}", path=path, error=exc)
            ) from exc
        return header, rows, encoding.replace("-sig", "")
    raise TableError(gettext("{path} is neither UTF-8 nor GB18030/GBK text.", path=path))


def _csv_rows(path: Path, encoding: str, sample: int) -> tuple[list[str], list[list[str]]]:
    with path.open("r", encoding=encoding, errors="strict", newline="") as fh:
        start = fh.read(_SNIFF_CHARS)
        if "\x00" in start:
            raise csv.Error(gettext("binary content"))
        dialect = _dialect(start)
        fh.seek(0)
        reader = csv.reader(fh, dialect)
        header = next(reader, None)
        if not header or not any(h.strip() for h in header):
            raise TableError(gettext("{path} has no header row.", path=path))
        rows: list[list[str]] = []
        for row in reader:
            if len(rows) >= sample:
                break
            rows.append(row)
    return [h.strip() for h in header], rows


def _dialect(start: str) -> type[csv.Dialect] | csv.Dialect:
    lines = start.splitlines()[:50]
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|")
    except csv.Error:
        return csv.excel


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _read_xlsx(path: Path, sample: int) -> tuple[list[str], list[list[str]]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    # a file object, so that openpyxl does not judge the file by its name
    with path.open("rb") as fh:
        try:
            book = load_workbook(fh, read_only=True, data_only=True)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:
            raise TableError(gettext("{path} is not a readable XLSX file.", path=path)) from exc
        try:
            return _xlsx_rows(book, path, sample)
        finally:
            book.close()


def _xlsx_rows(book: Any, path: Path, sample: int) -> tuple[list[str], list[list[str]]]:
    if not book.worksheets:
        raise TableError(gettext("{path} has no worksheet.", path=path))
    values = book.worksheets[0].iter_rows(values_only=True)
    first = next(values, None)
    if first is None or not any(v is not None and str(v).strip() for v in first):
        raise TableError(gettext("{path} has no header row.", path=path))
    header = [_cell(v).strip() for v in first]
    rows: list[list[str]] = []
    for row in values:
        if len(rows) >= sample:
            break
        rows.append([_cell(v) for v in row])
    return header, rows
