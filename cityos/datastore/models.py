"""Bookkeeping of the datastore (归集): one record per data table, load batches, rejected rows.

The data itself lives in one physical table per resource, ``ds_<resource id>``, created and
altered at run time by :mod:`cityos.datastore.tables` (data, not application schema).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, id_column, utcnow
from cityos.core.i18n import lazy

MODES = ("append", "upsert", "replace")
ON_ERROR = ("reject_rows", "all_or_nothing")
BATCH_STATUSES = ("succeeded", "partial", "failed")
FORMATS = ("csv", "xlsx", "json", "ndjson", "api")

MODE_LABELS = {
    "append": lazy("Append"),
    "upsert": lazy("Update or insert by key"),
    "replace": lazy("Replace all data"),
}
ON_ERROR_LABELS = {
    "reject_rows": lazy("Load the valid rows, list the rejected ones"),
    "all_or_nothing": lazy("All or nothing"),
}
STATUS_LABELS = {
    "succeeded": lazy("Succeeded"),
    "partial": lazy("Partly loaded"),
    "failed": lazy("Failed"),
}


class DatastoreTable(Base):
    """The physical table of a resource and what is known about its data."""

    __tablename__ = "datastore_tables"

    resource_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    table_name: Mapped[str] = mapped_column(String(64), unique=True)
    # field → data type of the physical columns (a column outlives its item: data is never dropped)
    columns: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # the fields of the unique index currently on the table (empty: none)
    key_fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    # encryption at rest (cityos.datastore.crypt): {"fields": [...], "index_key": key id}; an
    # encrypted field's ciphertext is in ``<field>__ct`` and its blind index in ``<field>__bi``
    encrypted: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
    row_count: Mapped[int] = mapped_column(BigInteger, default=0)
    data_updated_at: Mapped[datetime | None] = mapped_column()
    last_batch_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LoadBatch(Base):
    """One load (upload or API call) and its outcome; committed together with its data."""

    __tablename__ = "datastore_batches"
    __table_args__ = (Index("ix_datastore_batches_resource_started", "resource_id", "started_at"),)

    id: Mapped[str] = id_column()
    resource_id: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[str | None] = mapped_column(String(32))
    actor_name: Mapped[str | None] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    source: Mapped[str] = mapped_column(String(255))  # upload file name, or "api"
    format: Mapped[str] = mapped_column(String(10))
    encoding: Mapped[str | None] = mapped_column(String(20))
    mode: Mapped[str] = mapped_column(String(10))
    on_error: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10))
    rows_total: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_accepted: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_rejected: Mapped[int] = mapped_column(BigInteger, default=0)
    # rejected rows beyond the stored limit are counted, not listed
    rejected_listed: Mapped[int] = mapped_column(Integer, default=0)


class RejectedRow(Base):
    """A row that was not loaded: where it is in the source and why (an English msgid + params)."""

    __tablename__ = "datastore_rejected_rows"

    batch_id: Mapped[str] = mapped_column(
        ForeignKey("datastore_batches.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # as the user counts: CSV line number (header = line 1), spreadsheet row, JSON record (1-based)
    row_number: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    raw: Mapped[Any] = mapped_column(JSON, default=dict)
