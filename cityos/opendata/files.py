"""Whole-dataset downloads kept as files, as open data portals serve them.

The first unfiltered download of a dataset in a format streams from the datastore as usual and
is written, as it streams, to ``<data dir>/open-downloads/<resource id>/<version>.<format>``;
the file becomes visible (atomic rename) only once the stream ended completely. Later downloads
of the same version are sent from that file (disk speed, flat memory). The version is a digest of
everything the export depends on: the table's last load, its row count and data time, its
physical columns and encryption, and the dataset's fields and metadata time — so a new load or
an edited item makes a new file, and the older files of that dataset are removed.

Filtered, sorted or field-selected downloads always stream from the datastore. Access checks,
quotas and usage counting run before either path (cityos/opendata/api.py).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from cityos.core.db import Database
from cityos.datastore import services as datastore

log = logging.getLogger(__name__)
DIRECTORY = "open-downloads"


def root(data_dir: Path) -> Path:
    return data_dir / DIRECTORY


def version_of(
    db: Database, resource_id: str, fields: tuple[str, ...], metadata_at: datetime | None
) -> str | None:
    """The digest of what a whole-dataset export depends on; None without stored data."""
    table = datastore.table_info(db, resource_id)
    if table is None:
        return None
    parts = [
        table.last_batch_id,
        table.row_count,
        table.data_updated_at,
        table.columns,
        table.encrypted,
        metadata_at,
        list(fields),
    ]
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def path_for(data_dir: Path, resource_id: str, version: str, fmt: str) -> Path:
    return root(data_dir) / resource_id / f"{version}.{fmt}"


def _remove_older(final: Path) -> None:
    for other in final.parent.glob(f"*{final.suffix}"):
        if other != final:
            other.unlink(missing_ok=True)


def tee(chunks: Iterator[bytes], final: Path) -> Iterator[bytes]:
    """Yield the chunks and keep them in ``final`` once all were sent (never a partial file)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=final.parent, prefix=".part-", suffix=final.suffix)
    done = False
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
                yield chunk
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp_name, final)
        done = True
        _remove_older(final)
    finally:
        if not done:
            Path(temp_name).unlink(missing_ok=True)
