"""Bulk writers of converted rows, one per backend, inside the load's transaction.

- SQLite: ``executemany`` on the raw DB-API cursor (upsert: ``ON CONFLICT … DO UPDATE``).
- PostgreSQL: ``COPY`` (psycopg ``cursor.copy`` / ``write_row``); straight into the table when
  the resource has no key, else into a temporary table and then ``INSERT … SELECT`` (upsert:
  ``ON CONFLICT … DO UPDATE``, the last row of a key in the file wins).

With a key, append and replace refuse a row whose key is already stored (or appears earlier in
the same load): ``write`` returns the positions of those rows in the chunk.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from itertools import chain
from typing import Any, Protocol

from psycopg.errors import UniqueViolation
from sqlalchemy import Connection

from cityos.datastore.tables import quote, sql_type

SQLITE_LOAD_CACHE_KIB = 64 * 1024  # page cache while loading (index maintenance)
SQLITE_ROWS_PER_INSERT = 50
SQLITE_MAX_PARAMS = 30_000  # SQLite allows 32,766 bound parameters per statement


class Writer(Protocol):
    def start(self) -> None: ...

    def write(self, rows: list[Sequence[Any]]) -> list[int]: ...

    def finish(self) -> None: ...


class SqliteWriter:
    def __init__(
        self, conn: Connection, table: str, columns: list[str], keys: tuple[str, ...], mode: str
    ) -> None:
        self.cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        self.table = quote(conn, table)
        self.mode = mode
        self.keys = keys
        cols = ", ".join(quote(conn, c) for c in columns)
        marks = "(" + ", ".join("?" for _ in columns) + ")"
        # several rows per statement: half the CPU of one-row executemany (fewer VM steps)
        self.width = len(columns)
        self.per = max(1, min(SQLITE_ROWS_PER_INSERT, SQLITE_MAX_PARAMS // max(1, self.width)))
        self.insert = f"INSERT INTO {self.table} ({cols}) VALUES {marks}"
        many = f"INSERT INTO {self.table} ({cols}) VALUES " + ", ".join([marks] * self.per)
        conflict = ""
        if mode == "upsert":
            target = ", ".join(quote(conn, k) for k in keys)
            updates = ", ".join(
                f"{quote(conn, c)} = excluded.{quote(conn, c)}" for c in columns if c not in keys
            )
            action = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
            conflict = f" ON CONFLICT ({target}) {action}"
        self.sql = self.insert + conflict
        self.many = many + conflict

    def start(self) -> None:
        self.cache = self.cursor.execute("PRAGMA cache_size").fetchone()[0]
        self.cursor.execute(f"PRAGMA cache_size = -{SQLITE_LOAD_CACHE_KIB}")
        if self.mode == "replace":
            self.cursor.execute(f"DELETE FROM {self.table}")

    def finish(self) -> None:
        """Give the pooled connection its page cache size back."""
        if getattr(self, "cache", None) is not None:
            self.cursor.execute(f"PRAGMA cache_size = {int(self.cache)}")

    def _insert(self, rows: list[Sequence[Any]]) -> None:
        """Rows in order, ``per`` rows per statement (upsert: a later row of a key wins)."""
        per = self.per
        whole = len(rows) - len(rows) % per
        if whole and per > 1:
            flat = list(chain.from_iterable(rows[:whole] if whole < len(rows) else rows))
            step = per * self.width
            self.cursor.executemany(
                self.many, [flat[i : i + step] for i in range(0, len(flat), step)]
            )
        else:
            whole = 0
        if whole < len(rows):
            self.cursor.executemany(self.sql, rows[whole:])

    def write(self, rows: list[Sequence[Any]]) -> list[int]:
        if self.mode == "upsert" or not self.keys:
            self._insert(rows)
            return []
        self.cursor.execute("SAVEPOINT ds_chunk")
        try:
            self._insert(rows)
        except sqlite3.IntegrityError:
            # a key is taken: insert row by row to find which ones
            self.cursor.execute("ROLLBACK TO SAVEPOINT ds_chunk")
            taken = []
            sql = f"{self.insert} ON CONFLICT DO NOTHING"
            for position, row in enumerate(rows):
                self.cursor.execute(sql, row)
                if self.cursor.rowcount == 0:
                    taken.append(position)
            self.cursor.execute("RELEASE SAVEPOINT ds_chunk")
            return taken
        self.cursor.execute("RELEASE SAVEPOINT ds_chunk")
        return []


class PostgresWriter:
    def __init__(
        self,
        conn: Connection,
        table: str,
        columns: list[str],
        types: list[str],
        keys: tuple[str, ...],
        mode: str,
    ) -> None:
        raw: Any = conn.connection.driver_connection
        self.cursor = raw.cursor()
        self.table = quote(conn, table)
        self.mode = mode
        self.keys = keys
        self.cols = ", ".join(quote(conn, c) for c in columns)
        self.temp = quote(conn, f"{table}_load")
        self.temp_ddl = (
            f"CREATE TEMP TABLE IF NOT EXISTS {self.temp} (_seq bigint, "
            + ", ".join(
                f"{quote(conn, c)} {sql_type(t).compile(dialect=conn.dialect)}"
                for c, t in zip(columns, types, strict=True)
            )
            + ") ON COMMIT DROP"
        )
        self.has_temp = False
        key_cols = ", ".join(quote(conn, k) for k in keys)
        if mode == "upsert":
            updates = ", ".join(
                f"{quote(conn, c)} = EXCLUDED.{quote(conn, c)}" for c in columns if c not in keys
            )
            action = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
            self.merge = (
                f"INSERT INTO {self.table} ({self.cols}) "
                f"SELECT DISTINCT ON ({key_cols}) {self.cols} FROM {self.temp} "
                f"ORDER BY {key_cols}, _seq DESC ON CONFLICT ({key_cols}) {action}"
            )
        elif keys:
            same = " AND ".join(f"d.{quote(conn, k)} = s.{quote(conn, k)}" for k in keys)
            self.taken = (
                f"SELECT _seq FROM (SELECT _seq, row_number() OVER (PARTITION BY {key_cols} "
                f"ORDER BY _seq) AS n, EXISTS (SELECT 1 FROM {self.table} d WHERE {same}) AS e "
                f"FROM {self.temp} s) x WHERE n > 1 OR e ORDER BY _seq"
            )
            self.merge = (
                f"INSERT INTO {self.table} ({self.cols}) SELECT {self.cols} FROM {self.temp} "
                "WHERE NOT (_seq = ANY(%s)) ORDER BY _seq"
            )

    def start(self) -> None:
        if self.mode == "replace":
            # DELETE, not TRUNCATE: readers keep seeing the old rows until the load commits
            self.cursor.execute(f"DELETE FROM {self.table}")

    def finish(self) -> None:
        pass

    def _copy(self, rows: list[Sequence[Any]]) -> None:
        with self.cursor.copy(f"COPY {self.table} ({self.cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def write(self, rows: list[Sequence[Any]]) -> list[int]:
        if not self.keys:
            self._copy(rows)
            return []
        if self.mode != "upsert":
            # the usual case, no key taken: straight COPY; else find the taken keys row by row
            self.cursor.execute("SAVEPOINT ds_chunk")
            try:
                self._copy(rows)
            except UniqueViolation:
                self.cursor.execute("ROLLBACK TO SAVEPOINT ds_chunk")
            else:
                self.cursor.execute("RELEASE SAVEPOINT ds_chunk")
                return []
        if not self.has_temp:
            self.cursor.execute(self.temp_ddl)
            self.has_temp = True
        with self.cursor.copy(f"COPY {self.temp} (_seq, {self.cols}) FROM STDIN") as copy:
            for position, row in enumerate(rows):
                copy.write_row((position, *row))
        taken: list[int] = []
        if self.mode == "upsert":
            self.cursor.execute(self.merge)
        else:
            self.cursor.execute(self.taken)
            taken = [int(r[0]) for r in self.cursor.fetchall()]
            self.cursor.execute(self.merge, (taken,))
        self.cursor.execute(f"TRUNCATE {self.temp}")
        return taken

    def analyze(self) -> None:
        """Fresh planner statistics after a large load (else a range on the key may scan)."""
        self.cursor.execute(f"ANALYZE {self.table}")


def make_writer(
    conn: Connection,
    table: str,
    columns: list[str],
    types: list[str],
    keys: tuple[str, ...],
    mode: str,
) -> Writer:
    if conn.dialect.name == "sqlite":
        return SqliteWriter(conn, table, columns, keys, mode)
    return PostgresWriter(conn, table, columns, types, keys, mode)
