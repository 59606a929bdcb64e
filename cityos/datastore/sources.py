"""Reading uploads row by row: CSV, XLSX, JSON and NDJSON, never the whole file in memory.

A :class:`Source` has the column headers as the file names them and an iterator of
``(row number, values)``; row numbers are as the user counts them: the CSV line (the header is
line 1), the spreadsheet row, the JSON record (1-based) or the NDJSON line.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import json
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, BinaryIO

from cityos.core.errors import ProblemError, invalid
from cityos.core.i18n import lazy

SCAN_CHUNK = 1 << 20
MAX_JSON_RECORD_CHARS = 64 << 20
SUFFIXES = {
    "csv": "csv",
    "txt": "csv",
    "tsv": "csv",
    "xlsx": "xlsx",
    "json": "json",
    "ndjson": "ndjson",
    "jsonl": "ndjson",
}
# text fields up to 16 MiB (the csv module's default limit is 128 KiB)
csv.field_size_limit(max(csv.field_size_limit(), 16 << 20))

MSG_BAD_JSON_LINE = lazy("Invalid JSON: {error}")
MSG_NOT_OBJECT = lazy("The record is not a JSON object.")

Row = tuple[int, Sequence[Any]]


@dataclass
class Source:
    format: str
    encoding: str | None
    columns: list[str]
    rows: Iterator[Row]
    typed: bool  # values are JSON/spreadsheet values (else CSV strings)
    close: Callable[[], None] = field(default=lambda: None)


def too_large(max_bytes: int) -> ProblemError:
    return ProblemError(
        413,
        "payload_too_large",
        "The file is larger than the limit of {limit} MiB.",
        limit=max_bytes // (1 << 20),
    )


def spool(stream: BinaryIO, max_bytes: int | None) -> tuple[BinaryIO, int]:
    """A seekable stream positioned at 0, and its size; 413 beyond ``max_bytes``."""
    seekable = False
    try:
        seekable = stream.seekable()
    except (AttributeError, ValueError):
        seekable = False
    if seekable:
        stream.seek(0, io.SEEK_END)
        size = stream.tell()
        stream.seek(0)
        if max_bytes is not None and size > max_bytes:
            raise too_large(max_bytes)
        return stream, size
    out: Any = tempfile.SpooledTemporaryFile(max_size=16 << 20)  # noqa: SIM115 - returned
    size = 0
    while chunk := stream.read(SCAN_CHUNK):
        size += len(chunk)
        if max_bytes is not None and size > max_bytes:
            out.close()
            raise too_large(max_bytes)
        out.write(chunk)
    out.seek(0)
    return out, size


def detect_format(filename: str, head: bytes, fmt: str | None) -> str:
    if fmt:
        fmt = fmt.lower().lstrip(".")
        if fmt in SUFFIXES:
            return SUFFIXES[fmt]
    else:
        if head.startswith(b"PK\x03\x04"):
            return "xlsx"
        suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        if suffix in SUFFIXES:
            return SUFFIXES[suffix]
    raise ProblemError(
        415,
        "unsupported_format",
        "Unsupported file format {format}: use CSV, XLSX, JSON or NDJSON.",
        format=fmt or filename,
    )


def _scan(stream: BinaryIO, encoding: str) -> int | None:
    """Decode the whole stream strictly; the byte offset of the first error, or None."""
    stream.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    offset = 0
    while True:
        chunk = stream.read(SCAN_CHUNK)
        final = not chunk
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(chunk, final=final)
        except UnicodeDecodeError as exc:
            return max(0, offset - pending + exc.start)
        if final:
            return None
        offset += len(chunk)


def detect_encoding(stream: BinaryIO) -> str:
    """UTF-8 (with or without BOM) first, then GB18030 (a superset of GBK); else 422."""
    stream.seek(0)
    head = stream.read(3)
    if head == codecs.BOM_UTF8:
        bad = _scan(stream, "utf-8")
        if bad is None:
            stream.seek(0)
            return "utf-8-sig"
    else:
        bad = _scan(stream, "utf-8")
        if bad is None:
            stream.seek(0)
            return "utf-8"
    bad_gb = _scan(stream, "gb18030")
    if bad_gb is None:
        stream.seek(0)
        return "gb18030"
    raise invalid(
        "bad_encoding",
        "The file is neither UTF-8 nor GBK/GB18030 text: invalid byte at offset {offset}. "
        "Save it as UTF-8 (CSV UTF-8) and upload it again.",
        offset=max(bad or 0, bad_gb),
    )


def _text(stream: BinaryIO, encoding: str) -> io.TextIOWrapper:
    stream.seek(0)
    return io.TextIOWrapper(stream, encoding=encoding, errors="strict", newline="")


def _detach(text: io.TextIOWrapper) -> None:
    with contextlib.suppress(ValueError):
        text.detach()


# --------------------------------------------------------------------------- CSV


def csv_source(stream: BinaryIO, encoding: str) -> Source:
    text = _text(stream, encoding)
    first = text.readline()
    delimiter = "\t" if "\t" in first and "," not in first else ","
    text.seek(0)
    reader = csv.reader(text, delimiter=delimiter)
    header: list[str] = []
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                header = [cell.strip() for cell in row]
                break
    except csv.Error as exc:
        _detach(text)
        raise _bad_csv(reader.line_num, exc) from None

    def rows() -> Iterator[Row]:
        prev = reader.line_num
        try:
            for row in reader:
                if row and (row[0] or any(row)):  # blank lines and ",,," are not rows
                    yield prev + 1, row
                prev = reader.line_num
        except csv.Error as exc:
            raise _bad_csv(reader.line_num, exc) from None

    return Source("csv", encoding, header, rows(), typed=False, close=lambda: _detach(text))


def _bad_csv(line: int, exc: Exception) -> ProblemError:
    return invalid(
        "bad_csv", "The CSV file cannot be read at line {line}: {error}", line=line, error=str(exc)
    )


# --------------------------------------------------------------------------- XLSX


def xlsx_source(stream: BinaryIO) -> Source:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # zip, XML or openpyxl errors: the file is not a readable workbook
        raise invalid(
            "bad_xlsx",
            "The spreadsheet cannot be read: {error}",
            error=str(exc) or type(exc).__name__,
        ) from None
    ws: Any = wb.worksheets[0]
    ws.reset_dimensions()  # do not trust the stored dimension: read every row
    it = enumerate(ws.iter_rows(values_only=True), start=1)
    header: list[str] = []
    for _n, values in it:
        if any(v is not None and str(v).strip() for v in values):
            cells = [("" if v is None else str(v).strip()) for v in values]
            while cells and not cells[-1]:
                cells.pop()
            for position, cell in enumerate(cells, start=1):
                if not cell:
                    wb.close()
                    raise invalid(
                        "empty_header",
                        "Column {position} of the header row has no name.",
                        position=position,
                    )
            header = cells
            break
    width = len(header)

    def rows() -> Iterator[Row]:
        for n, values in it:
            if len(values) != width:
                extra = values[width:]
                values = tuple(values[:width]) + (None,) * (width - len(values))
                if any(v is not None and v != "" for v in extra):
                    yield n, (*values, *extra)  # too wide: rejected by the loader
                    continue
            if any(v is not None and v != "" for v in values):
                yield n, values

    return Source("xlsx", None, header, rows(), typed=True, close=wb.close)


# --------------------------------------------------------------------------- JSON and NDJSON


class _JsonStream:
    """An incremental reader of a JSON array (or {"records": [...]}), one element at a time."""

    def __init__(self, text: IO[str]) -> None:
        self.text = text
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.read_size = 1 << 16
        self.decoder = json.JSONDecoder()

    def _fill(self) -> bool:
        if self.eof:
            return False
        chunk = self.text.read(self.read_size)
        if not chunk:
            self.eof = True
            return False
        self.buf = self.buf[self.pos :] + chunk
        self.pos = 0
        return True

    def peek(self) -> str:
        while True:
            buf, pos = self.buf, self.pos
            while pos < len(buf) and buf[pos] in " \t\r\n":
                pos += 1
            self.pos = pos
            if pos < len(buf):
                return buf[pos]
            if not self._fill():
                return ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise self.error(f"expected {char!r}")
        self.pos += 1

    def value(self) -> Any:
        self.peek()
        while True:
            try:
                obj, end = self.decoder.raw_decode(self.buf, self.pos)
                if end < len(self.buf) or self.eof:
                    self.pos = end
                    return obj
            except json.JSONDecodeError as exc:
                if self.eof:
                    raise self.error(exc.msg) from None
            if len(self.buf) - self.pos > MAX_JSON_RECORD_CHARS:
                raise self.error("a record is too large")
            self.read_size = min(self.read_size * 2, 1 << 24)
            if not self._fill():
                self.eof = True

    def error(self, message: str) -> ProblemError:
        return invalid("bad_json", "The JSON document is invalid: {error}", error=message)

    def records(self) -> Iterator[Any]:
        first = self.peek()
        if first == "[":
            yield from self._array()
        elif first == "{":
            self.pos += 1
            found = False
            while self.peek() != "}":
                key = self.value()
                if not isinstance(key, str):
                    raise self.error("expected a key")
                self.expect(":")
                if key == "records" and self.peek() == "[":
                    found = True
                    yield from self._array()
                else:
                    self.value()
                if self.peek() == ",":
                    self.pos += 1
                elif self.peek() != "}":
                    raise self.error("expected ',' or '}'")
            if not found:
                raise self.error('expected an array of objects or {"records": [...]}')
        else:
            raise self.error('expected an array of objects or {"records": [...]}')

    def _array(self) -> Iterator[Any]:
        self.expect("[")
        if self.peek() == "]":
            self.pos += 1
            return
        while True:
            yield self.value()
            c = self.peek()
            self.pos += 1
            if c == "]":
                return
            if c != ",":
                raise self.error("expected ',' or ']'")


def _json_records(stream: BinaryIO, encoding: str) -> Iterator[tuple[int, Any]]:
    text = _text(stream, encoding)
    try:
        yield from enumerate(_JsonStream(text).records(), start=1)
    finally:
        _detach(text)


class _BadLine:
    def __init__(self, error: str) -> None:
        self.error = error


def _ndjson_records(stream: BinaryIO, encoding: str) -> Iterator[tuple[int, Any]]:
    text = _text(stream, encoding)
    try:
        for n, line in enumerate(text, start=1):
            if line.strip():
                try:
                    yield n, json.loads(line)
                except json.JSONDecodeError as exc:
                    yield n, _BadLine(exc.msg)
    finally:
        _detach(text)


def json_source(stream: BinaryIO, encoding: str, fmt: str) -> Source:
    """Two passes: the first collects the keys (so unknown ones fail before anything loads)."""
    reader = _json_records if fmt == "json" else _ndjson_records
    keys: dict[str, None] = {}
    for _n, record in reader(stream, encoding):
        if isinstance(record, dict):
            for key in record:
                keys.setdefault(str(key).strip(), None)
    columns = list(keys)
    return Source(fmt, encoding, columns, _aligned(reader(stream, encoding), columns), typed=True)


def _aligned(records: Iterator[tuple[int, Any]], columns: list[str]) -> Iterator[Row]:
    """Records → value lists in column order; broken records become one-value rows."""
    for n, record in records:
        if isinstance(record, dict):
            if all(isinstance(k, str) and k == k.strip() for k in record):
                yield n, [record.get(c) for c in columns]
            else:
                clean = {str(k).strip(): v for k, v in record.items()}
                yield n, [clean.get(c) for c in columns]
        else:
            yield n, [BrokenRecord(record)]


class BrokenRecord:
    """Stands for a record that is not an object (or an unparsable NDJSON line)."""

    def __init__(self, record: Any) -> None:
        self.record = record

    @property
    def reason(self) -> tuple[str, dict[str, Any]]:
        if isinstance(self.record, _BadLine):
            return MSG_BAD_JSON_LINE, {"error": self.record.error}
        return MSG_NOT_OBJECT, {}

    @property
    def raw(self) -> Any:
        return self.record.error if isinstance(self.record, _BadLine) else self.record


def records_source(records: list[dict[str, Any]]) -> Source:
    keys: dict[str, None] = {}
    for record in records:
        if isinstance(record, dict):
            for key in record:
                keys.setdefault(str(key).strip(), None)
    columns = list(keys)
    return Source("api", None, columns, _aligned(enumerate(records, start=1), columns), typed=True)


def sniff_encoding(stream: BinaryIO) -> str:
    """From the first MiB: UTF-8 when it decodes (the caller restarts with
    :func:`detect_encoding` if a later byte does not), else the whole-file decision."""
    stream.seek(0)
    head = stream.read(SCAN_CHUNK)
    stream.seek(0)
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(head, final=len(head) < SCAN_CHUNK)
    except UnicodeDecodeError:
        return detect_encoding(stream)
    return "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"


def open_source(
    stream: BinaryIO, filename: str, fmt: str | None, *, encoding: str | None = None
) -> Source:
    """The file's rows. Without ``encoding``, a UTF-8 guess from the first MiB: reading may
    then raise ``UnicodeDecodeError``, and the caller starts again with
    ``detect_encoding(stream)`` (which scans the whole file once)."""
    head = stream.read(4)
    stream.seek(0)
    kind = detect_format(filename, head, fmt)
    if kind == "xlsx":
        return xlsx_source(stream)
    encoding = encoding or sniff_encoding(stream)
    if kind == "csv":
        return csv_source(stream, encoding)
    return json_source(stream, encoding, kind)
