"""Check the whole audit log: every row against its leaf hash, the tree against every signed head.

What it finds, by leaf index:

* ``edited``: a row whose contents (or leaf index) no longer give its stored leaf hash;
* ``missing`` / ``duplicate``: a hole or a repeat in the dense leaf indexes (a deleted row);
* ``out_of_order``: ids that do not grow with the leaf index (rows reordered);
* ``head_mismatch``: a signed head whose root the rows no longer give (rows and hashes both
  rewritten): the change lies between the previous matching head and it;
* ``head_signature`` / ``head_unknown_key``: a head not signed by a trusted key;
* ``truncated_head`` / ``truncated_counter``: signed heads or the log counter cover records that
  are gone (the tail was deleted).

Speed: the database builds each row's canonical JSON itself (``json_object`` on SQLite,
``to_json`` on PostgreSQL escape strings exactly as Python's ``json`` does), so Python gets four
values per row and does two SM3 calls (the leaf and, on average, one tree node), in place, with
hashlib's OpenSSL SM3 when it has one; PostgreSQL sends them over a binary cursor. A row whose
SQL-built text does not match is rebuilt in Python from its raw columns before it is reported,
so an escaping difference can cost time but never raise a false alarm. Soundness: every string
is a JSON-escaped token, integers are digits and ``detail`` is the only raw slot, so two
different rows can never produce the same text. Large logs are split into chunks of ``CHUNK``
leaves — perfect subtrees of the RFC 6962 tree — scanned by one process per CPU; the parent
combines their subtree roots to check every signed head.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine

from cityos.audit.leaf import leaf_text
from cityos.audit.merkle import SM3_HASHER, CompactRange, TreeHasher, TreeHead
from cityos.core.i18n import gettext, lazy
from cityos.crypto.sm2 import key_id as key_id_of
from cityos.crypto.sm2 import sm2_verify

BATCH = 20_000
CHUNK = 1 << 16  # leaves per parallel task: a perfect subtree
PARALLEL_FROM = 4 * CHUNK  # smaller logs are checked in-process
MAX_PROBLEMS = 100

MESSAGES = {
    "edited": lazy(
        "Record {record_id} (leaf {leaf_index}) does not match its leaf hash: the row was edited "
        "or moved."
    ),
    "unreadable": lazy("Record {record_id} (leaf {leaf_index}) cannot be read: {error}."),
    "missing": lazy(
        "Leaves {leaf_index} to {last} are missing (after record {after_id}): rows were deleted."
    ),
    "missing_start": lazy(
        "Leaves {leaf_index} to {last} are missing at the start of the log: rows were deleted."
    ),
    "duplicate": lazy(
        "Leaf {leaf_index} appears again in record {record_id}: leaf indexes were rewritten."
    ),
    "out_of_order": lazy(
        "Record {record_id} (leaf {leaf_index}) comes after record {after_id}: ids must grow with "
        "the leaf index, so rows were reordered."
    ),
    "head_mismatch": lazy(
        "The tree head signed at size {tree_size} does not match the records: a record among "
        "leaves {first} to {last} was changed together with its leaf hash, or rows were moved."
    ),
    "head_signature": lazy("The signature of the tree head at size {tree_size} is not valid."),
    "head_unknown_key": lazy(
        "The tree head at size {tree_size} is signed by key {key_id}, which is not trusted."
    ),
    "truncated_head": lazy(
        "Leaves {leaf_index} to {last} are missing at the end of the log (a signed tree head "
        "covers {covered} records): rows were deleted."
    ),
    "truncated_counter": lazy(
        "Leaves {leaf_index} to {last} are missing at the end of the log (the log counter says "
        "{covered} records were written): rows were deleted."
    ),
}


@dataclass(frozen=True)
class Problem:
    kind: str
    leaf_index: int | None = None
    record_id: int | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        params = {"leaf_index": self.leaf_index, "record_id": self.record_id, **self.params}
        kind = self.kind
        if kind == "missing" and params.get("after_id") is None:
            kind = "missing_start"
        return gettext(str(MESSAGES[kind]), **params)

    def line(self) -> str:
        where = [self.kind]
        if self.leaf_index is not None:
            where.append(f"leaf_index={self.leaf_index}")
        if self.record_id is not None:
            where.append(f"id={self.record_id}")
        return f"{' '.join(where)}: {self.message}"


@dataclass
class Report:
    records: int = 0
    heads: int = 0
    latest_head_size: int = 0
    counter: int | None = None
    seconds: float = 0.0
    workers: int = 1
    problems: list[Problem] = field(default_factory=list)
    more_problems: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems and not self.more_problems

    @property
    def first(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    def add(self, problem: Problem) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)
        else:
            self.more_problems += 1


@dataclass(frozen=True)
class Head:
    tree_size: int
    root_hash: bytes
    timestamp_ms: int
    signature: bytes
    key_id: str


# ----------------------------------------------------------------------------- SQL


def _q(dialect: str, column: str) -> str:
    if dialect == "postgresql":
        return f"coalesce(to_json({column})::text, 'null')"
    return f"json_quote({column})"


def _at(dialect: str) -> str:
    if dialect == "postgresql":
        return "to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') || '+00:00'"
    return "replace(at, ' ', 'T') || '+00:00'"


def _quoted_at(dialect: str) -> str:
    """``at`` as a JSON string. On PostgreSQL it is a timestamptz: ``to_char`` gives digits and
    separators only, nothing to escape (on SQLite it is text, escaped like the rest)."""
    if dialect == "postgresql":
        return f"""'"' || {_at(dialect)} || '"'"""
    return _q(dialect, _at(dialect))


def _sqlite_text() -> str:
    """The leaf text on SQLite: two ``json_object`` calls around the raw ``detail``.

    ``json_object`` writes ``{"k":v,...}`` with no spaces, keys in the order given, strings
    escaped as ``json_quote`` does, integers as digits and NULL as ``null``: the canonical text
    of those fields, in one call instead of two concatenations and a ``json_quote`` per field.
    The first object ends with the quoted ``at`` (or ``null``), so ``rtrim`` drops exactly its
    closing brace; the second starts with ``{"id":``, so ``ltrim`` drops exactly its opening one.
    """
    head = (
        "json_object('action', action, 'actor_id', actor_id, 'actor_name', actor_name, "
        f"'at', {_at('sqlite')})"
    )
    tail = (
        "json_object('id', id, 'ip', ip, 'leaf_index', leaf_index, 'org_id', org_id, "
        "'target_id', target_id, 'target_type', target_type)"
    )
    return f"""rtrim({head}, '}}') || ',"detail":' || detail || ',' || ltrim({tail}, '{{')"""


def _postgresql_text() -> str:
    q = lambda c: _q("postgresql", c)  # noqa: E731
    return (
        f"""'{{"action":' || {q("action")} || ',"actor_id":' || {q("actor_id")}"""
        f""" || ',"actor_name":' || {q("actor_name")} || ',"at":' || {_quoted_at("postgresql")}"""
        f""" || ',"detail":' || detail || ',"id":' || id || ',"ip":' || {q("ip")}"""
        f""" || ',"leaf_index":' || leaf_index || ',"org_id":' || {q("org_id")}"""
        f""" || ',"target_id":' || {q("target_id")} || ',"target_type":' || {q("target_type")}"""
        """ || '}'"""
    )


def leaf_sql(dialect: str, *, build_text: bool = True) -> str:
    """(leaf_index, id, canonical leaf text (UTF-8) built by the database, leaf_hash).

    ``build_text=False`` gives NULL texts: every row is then rebuilt in Python (the slow path
    for a chunk the database cannot turn into text, e.g. a BLOB stored in a text column).
    """
    mark = "%s" if dialect == "postgresql" else "?"
    # as UTF-8 bytes, ready to hash (no decode into str and encode back per row)
    if not build_text:
        data = "NULL"
    elif dialect == "postgresql":
        data = f"convert_to({_postgresql_text()}, 'UTF8')"
    else:
        data = f"CAST({_sqlite_text()} AS BLOB)"
    return (
        f"SELECT leaf_index, id, {data}, leaf_hash FROM audit_records "
        f"WHERE leaf_index >= {mark} AND leaf_index < {mark} ORDER BY leaf_index"
    )


def raw_sql(dialect: str) -> str:
    """The raw columns of one leaf (``at`` canonical), for rebuilding its text in Python."""
    mark = "%s" if dialect == "postgresql" else "?"
    return (
        f"SELECT id, {_at(dialect)}, actor_id, actor_name, org_id, action, target_type, "
        f"target_id, detail, ip, leaf_index FROM audit_records WHERE leaf_index = {mark}"
    )


def _raw(connection: Connection) -> Any:
    raw = connection.connection.driver_connection
    assert raw is not None
    return raw


def stream_leaves(
    raw: Any,
    dialect: str,
    start: int = 0,
    end: int = 2**62,
    batch: int = BATCH,
    *,
    build_text: bool = True,
) -> Iterator[Sequence[tuple[Any, ...]]]:
    """Batches of (leaf_index, id, leaf text, leaf_hash) for leaves [start, end)."""
    if dialect == "postgresql":
        # binary: the leaf text and hash arrive as raw bytes (text format would send them as
        # hex, twice the size, decoded on both sides)
        name = f"cityos_audit_{os.getpid()}_{time.monotonic_ns()}"
        cursor = raw.cursor(name=name, binary=True)
        cursor.itersize = batch
    else:
        cursor = raw.cursor()
    try:
        cursor.execute(leaf_sql(dialect, build_text=build_text), (start, end))
        while rows := cursor.fetchmany(batch):
            yield rows
    finally:
        cursor.close()


def python_leaf_text(raw: Any, dialect: str, leaf_index: int) -> str | None:
    """The canonical text of a leaf rebuilt in Python (None when the row is unreadable)."""
    cursor = raw.cursor()
    try:
        cursor.execute(raw_sql(dialect), (leaf_index,))
        row = cursor.fetchone()
    except Exception:  # e.g. SQLite text that is not UTF-8: the driver cannot decode it
        return None
    finally:
        cursor.close()
    if row is None:
        return None
    try:
        return leaf_text(*row)
    except (TypeError, ValueError):
        return None


def read_heads(connection: Connection) -> list[Head]:
    cursor = _raw(connection).cursor()
    try:
        cursor.execute(
            "SELECT tree_size, root_hash, timestamp_ms, signature, key_id "
            "FROM audit_tree_heads ORDER BY tree_size"
        )
        return [Head(int(r[0]), bytes(r[1]), int(r[2]), bytes(r[3]), r[4]) for r in cursor]
    finally:
        cursor.close()


def _scalar(connection: Connection, sql: str) -> Any:
    cursor = _raw(connection).cursor()
    try:
        cursor.execute(sql)
        row = cursor.fetchone()
        return None if row is None else row[0]
    finally:
        cursor.close()


# ----------------------------------------------------------------------------- scanning


class Scanner:
    """Checks rows fed in leaf order and grows the tree of their stored leaf hashes.

    ``compact`` is the tree so far (a previous head's frontier, or empty for a chunk whose
    start is a multiple of its power-of-two length); ``stacks`` keeps the compact range at each
    size in ``sizes``.
    """

    def __init__(
        self,
        compact: CompactRange,
        start: int,
        *,
        sizes: Sequence[int] = (),
        prev_id: int | None = None,
        fallback: Callable[[int], str | None] | None = None,
        hasher: TreeHasher = SM3_HASHER,
    ) -> None:
        self.compact = compact
        self.expected = start
        self.prev_id = prev_id
        self.first_id: int | None = None
        self.first_index: int | None = None
        self.sizes = set(sizes)
        self.stacks: dict[int, list[bytes]] = {}
        self.tree_ok = True
        self.problems: list[Problem] = []
        self.fallback = fallback
        self._hasher = hasher

    def _add(self, problem: Problem) -> None:
        if len(self.problems) <= MAX_PROBLEMS:
            self.problems.append(problem)

    def feed(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Check a batch of (leaf_index, id, leaf text bytes, stored leaf hash) rows.

        The hot loop: per row one leaf hash and, on average, one node hash, computed in place
        (no helper calls); anything unusual leaves the fast path for ``_irregular``/``_recheck``.
        """
        if not rows:
            return
        if self.first_id is None:  # the first row of a chunk is never a duplicate
            self.first_index, self.first_id = rows[0][0], rows[0][1]
        stack = self.compact._stack
        pop, push = stack.pop, stack.append
        new_leaf, new_node = self._hasher.new_leaf, self._hasher.new_node
        sizes, stacks = self.sizes, self.stacks
        expected, prev_id, tree_ok = self.expected, self.prev_id, self.tree_ok
        # ids must grow with the leaf index; before the first row anything goes
        last_id = -(2**63) if prev_id is None else prev_id
        local = self.compact.size  # leaves in ``compact`` (local to a chunk)
        for index, rid, text, stored in rows:
            if index != expected or rid <= last_id:
                if not self._irregular(index, rid, expected, prev_id):
                    continue  # a duplicate leaf index: the row is skipped
                if index != expected:
                    tree_ok = False  # no root can be rebuilt past a hole
                    expected = index
            h = new_leaf()
            h.update(text if text is not None else b"")
            if h.digest() != stored:
                stored = self._recheck(index, rid, stored)
            if tree_ok:
                # CompactRange.append inlined: one node hash per leaf on average
                n = local
                while n & 1:
                    node = new_node()
                    node.update(pop() + stored)
                    stored = node.digest()
                    n >>= 1
                push(stored)
                local += 1
                if expected + 1 in sizes:
                    stacks[expected + 1] = list(stack)
            expected += 1
            prev_id = last_id = rid
        self.compact.size = local
        self.expected, self.prev_id, self.tree_ok = expected, prev_id, tree_ok

    def _irregular(self, index: int, rid: int, expected: int, prev_id: int | None) -> bool:
        """Report a hole, a repeated leaf index or a decreasing id; False: skip the row."""
        if index < expected:
            self._add(Problem("duplicate", index, rid))
            return False
        if index > expected:
            self._add(Problem("missing", expected, None, {"last": index - 1, "after_id": prev_id}))
        if prev_id is not None and rid <= prev_id:
            self._add(Problem("out_of_order", index, rid, {"after_id": prev_id}))
        return True

    def _recheck(self, index: int, rid: int, stored: Any) -> bytes:
        """A row whose SQL-built text missed its hash: rebuild the text in Python to be sure.

        Returns the leaf hash to build the tree with (the stored one, as a head signed it).
        """
        stored = bytes(stored) if isinstance(stored, bytes | bytearray | memoryview) else b""
        text = self.fallback(index) if self.fallback else None
        if text is not None and self._hasher.leaf(text.encode("utf-8")) == stored:
            return stored  # the database escaped a string differently; the row is intact
        if text is None and self.fallback is not None:
            self._add(Problem("unreadable", index, rid, {"error": "bad column values"}))
        else:
            self._add(Problem("edited", index, rid))
        return stored


@dataclass
class ChunkResult:
    start: int
    end: int  # the next leaf index expected after the chunk's last row
    first_index: int | None  # None: the chunk has no row
    first_id: int | None
    last_id: int | None
    problems: list[Problem]
    stacks: dict[int, list[bytes]]  # head size -> the chunk's compact range at that size
    stack: list[bytes]
    tree_ok: bool


def scan_chunk(url: str, start: int, end: int, sizes: Sequence[int]) -> ChunkResult:
    """Scan leaves [start, end) with a connection of its own (runs in a worker process)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return _scan_chunk(connection, start, end, sizes)
    finally:
        engine.dispose()


def _scan_chunk(connection: Connection, start: int, end: int, sizes: Sequence[int]) -> ChunkResult:
    dialect = connection.dialect.name
    raw = _raw(connection)
    try:
        scanner = _scan(raw, dialect, start, end, sizes, build_text=True)
    except Exception:
        # the database could not build some row's text (SQLite: a BLOB in a text column makes
        # json_object fail): scan the chunk again with every text rebuilt in Python, so the
        # culprit is named (``unreadable``) instead of the check failing
        connection.rollback()
        scanner = _scan(raw, dialect, start, end, sizes, build_text=False)
    return ChunkResult(
        start=start,
        end=scanner.expected,
        first_index=scanner.first_index,
        first_id=scanner.first_id,
        last_id=scanner.prev_id,
        problems=scanner.problems,
        stacks=scanner.stacks,
        stack=list(scanner.compact._stack),
        tree_ok=scanner.tree_ok,
    )


def _scan(
    raw: Any, dialect: str, start: int, end: int, sizes: Sequence[int], *, build_text: bool
) -> Scanner:
    scanner = Scanner(
        CompactRange(), start, sizes=sizes, fallback=lambda i: python_leaf_text(raw, dialect, i)
    )
    for rows in stream_leaves(raw, dialect, start, end, build_text=build_text):
        scanner.feed(rows)
    return scanner


# ----------------------------------------------------------------------------- whole log


def check_heads(heads: Sequence[Head], trusted: dict[str, bytes]) -> list[Problem]:
    problems = []
    for head in heads:
        public = trusted.get(head.key_id)
        if public is None:
            params = {"tree_size": head.tree_size, "key_id": head.key_id}
            problems.append(Problem("head_unknown_key", None, None, params))
            continue
        data = TreeHead(head.tree_size, head.root_hash, head.timestamp_ms).signed_data()
        if not sm2_verify(public, data, head.signature):
            problems.append(Problem("head_signature", None, None, {"tree_size": head.tree_size}))
    return problems


def trusted_keys(public_pems: Sequence[bytes]) -> dict[str, bytes]:
    return {key_id_of(pem): pem for pem in public_pems}


def _plan(rows: int) -> list[tuple[int, int]]:
    """Chunks [k*CHUNK, (k+1)*CHUNK) over the rows; the last one is open-ended."""
    chunks = [(k * CHUNK, (k + 1) * CHUNK) for k in range(max(1, -(-rows // CHUNK)))]
    last_start = chunks[-1][0]
    chunks[-1] = (last_start, 2**62)
    return chunks


def verify_log(
    engine: Engine, public_keys: Sequence[bytes], *, workers: int | None = None
) -> Report:
    """Check every record and signed tree head of the log in ``engine``."""
    started = time.perf_counter()
    report = Report()
    with engine.connect() as connection:
        heads = read_heads(connection)
        counter = _scalar(connection, "SELECT next_leaf_index FROM audit_log_state WHERE id = 1")
        rows = int(_scalar(connection, "SELECT count(*) FROM audit_records") or 0)
        chunks = _plan(rows)
        sizes = [h.tree_size for h in heads]
        if workers is None:
            workers = min(os.cpu_count() or 1, len(chunks)) if rows >= PARALLEL_FROM else 1
        report.workers = max(1, workers)
        if report.workers == 1:
            results = [_scan_chunk(connection, a, b, _within(sizes, a, b)) for a, b in chunks]
        else:
            results = _parallel(engine, chunks, sizes, report.workers)
        connection.rollback()
    report.heads = len(heads)
    report.latest_head_size = sizes[-1] if sizes else 0
    report.counter = None if counter is None else int(counter)
    _combine(report, results, {h.tree_size: h for h in heads})
    for problem in check_heads(heads, trusted_keys(public_keys)):
        report.add(problem)
    report.seconds = time.perf_counter() - started
    return report


def _within(sizes: Sequence[int], start: int, end: int) -> list[int]:
    return [s for s in sizes if start < s <= end]


def _parallel(
    engine: Engine, chunks: list[tuple[int, int]], sizes: list[int], workers: int
) -> list[ChunkResult]:
    url = engine.url.render_as_string(hide_password=False)
    # fork is cheap and safe in a single-threaded process (the CLI): the children never touch
    # the parent's connections and leave with os._exit; elsewhere spawn a clean interpreter
    single = threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if single else "spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(scan_chunk, url, a, b, _within(sizes, a, b)) for a, b in chunks]
        return [f.result() for f in futures]


def _combine(report: Report, results: list[ChunkResult], heads: dict[int, Head]) -> None:
    """Join the chunks in order: their boundaries, then each head's root from the chunk roots."""
    top = CompactRange()  # over the roots of the full chunks (perfect subtrees of CHUNK leaves)
    expected, prev_id, tree_ok, matched, failed = 0, None, True, 0, False
    for result in results:
        if result.first_index is None:
            continue  # no row in this chunk: a hole, reported when rows resume (or truncation)
        if expected < result.start:  # the previous chunks ended early: their tail is missing
            last = result.first_index - 1
            report.add(Problem("missing", expected, None, {"last": last, "after_id": prev_id}))
            tree_ok = False
        for problem in result.problems:
            if problem.kind == "missing" and problem.params.get("after_id") is None:
                if expected < result.start:
                    continue  # the same hole, already reported across the boundary
                params = {**problem.params, "after_id": prev_id}
                problem = Problem("missing", problem.leaf_index, None, params)
            report.add(problem)
        if prev_id is not None and result.first_id is not None and result.first_id <= prev_id:
            params = {"after_id": prev_id}
            report.add(Problem("out_of_order", result.first_index, result.first_id, params))
        tree_ok = tree_ok and result.tree_ok
        for size in sorted(s for s in heads if result.start < s <= result.end):
            if failed:
                break
            local = result.stacks.get(size)
            root = _fold(top._stack + local) if tree_ok and local is not None else None
            if root == heads[size].root_hash:
                matched = size
                continue
            failed = True
            if tree_ok:  # after a hole, the hole is the report
                params = {"tree_size": size, "first": matched, "last": size - 1}
                report.add(Problem("head_mismatch", None, None, params))
        if tree_ok and result.end - result.start == CHUNK and len(result.stack) == 1:
            top.append(result.stack[0])
        expected, prev_id = result.end, result.last_id
    report.records = expected
    latest = max(heads, default=0)
    if latest > expected:
        params = {"last": latest - 1, "covered": latest}
        report.add(Problem("truncated_head", expected, None, params))
    elif report.counter is not None and report.counter > expected:
        params = {"last": report.counter - 1, "covered": report.counter}
        report.add(Problem("truncated_counter", expected, None, params))


def _fold(stack: list[bytes]) -> bytes:
    if not stack:
        return SM3_HASHER.empty()
    node = SM3_HASHER.node
    h = stack[-1]
    for left in reversed(stack[:-1]):
        h = node(left, h)
    return h
