"""A fresh CityOS instance for a benchmark: database, bureau, one department, their people.

Everything goes through the product's services, as an installation would.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from bench.common import WORK, pg_recreate
from cityos.auth import services as auth
from cityos.auth.principal import Principal
from cityos.config import Settings
from cityos.core.db import Database
from cityos.core.migrate import MIGRATIONS_DIR, upgrade
from cityos.crypto.envelope import configure as configure_keyring
from cityos.directory.codes import make_uscc
from cityos.directory.schemas import OrganisationIn
from cityos.directory.services import create_organisation

PASSWORD = "bench-password-1"


@dataclass
class Instance:
    backend: str
    data_dir: Path
    url: str
    db: Database
    dept_id: str
    admin: Principal
    officer: Principal  # data officer of the department
    member: Principal  # a plain member of another department (a sharing participant)

    @property
    def env(self) -> dict[str, str]:
        """Environment for `cityos serve` on this instance."""
        return {"CITYOS_DATA_DIR": str(self.data_dir), "CITYOS_DATABASE_URL": self.url}

    @property
    def sqlite_file(self) -> Path:
        return self.data_dir / "cityos.db"


def add_org(db: Database, n: int, name: str, *, bureau: bool = False) -> str:
    data = OrganisationIn(name=name, uscc=make_uscc(f"11460100MB{n:07d}"), kind="government")
    with db.session() as session:
        return create_organisation(session, data, None, is_bureau=bureau).id


def _person(db: Database, username: str, role: str, org_id: str | None) -> Principal:
    with db.session() as session:
        user = auth.create_user(
            session, username=username, display_name=username, password=PASSWORD
        )
        auth.add_membership(session, user, role, org_id)
        return auth.principal_for(session, user)


def analyze(inst: Instance) -> None:
    """PostgreSQL: refresh the planner statistics after a bulk change, as autovacuum would.

    The PostgreSQL on the bench machine runs with autovacuum off, so without this the planner
    knows nothing of the rows just created (see docs/benchmarks.md).
    """
    if inst.backend == "postgresql":
        with inst.db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()


def token(inst: Instance, username: str) -> str:
    with inst.db.session() as session:
        user = auth.get_user_by_name(session, username)
        assert user is not None
        return auth.create_token(session, user, name="bench").plaintext


def schema_fingerprint() -> str:
    """Changes whenever a migration does: a cached data dir of another schema is rebuilt."""
    digest = hashlib.sha256()
    for path in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cached(name: str) -> dict[str, str] | None:
    """What ``remember`` wrote for the cached SQLite instance ``name``, if its schema is current."""
    marker = WORK / name / "ready.json"
    if not marker.exists():
        return None
    info: dict[str, str] = json.loads(marker.read_text())
    return info if info.get("schema") == schema_fingerprint() else None


def remember(inst: Instance, **info: str) -> None:
    marker = inst.data_dir / "ready.json"
    marker.write_text(json.dumps({**info, "url": inst.url, "schema": schema_fingerprint()}))


def create(backend: str, name: str) -> Instance:
    """A new, empty, migrated instance (SQLite file in bench/.work/<name>, or a PG database)."""
    data_dir = WORK / name
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    if backend == "postgresql":
        url = pg_recreate("cityos_bench_" + name.replace("-", "_"))
    else:
        url = Settings(data_dir=data_dir).resolved_database_url
    upgrade(url)
    return attach(backend, data_dir, url, fresh=True)


def attach(backend: str, data_dir: Path, url: str, *, fresh: bool = False) -> Instance:
    """Open an instance; ``fresh``: create its organisations and people first."""
    db = Database(url)
    # the instance's own master key (in its data dir) for the encryption at rest
    configure_keyring(db.engine, Settings(data_dir=data_dir, database_url=url))
    if fresh:
        add_org(db, 1, "海口市大数据管理局", bureau=True)
        dept = add_org(db, 2, "海口市市场监督管理局")
        other = add_org(db, 3, "海口市交通运输局")
        _person(db, "bench_admin", "admin", None)
        _person(db, "bench_officer", "data_officer", dept)
        _person(db, "bench_member", "public", other)
    with db.session() as session:
        found = {
            u: auth.get_user_by_name(session, u)
            for u in ("bench_admin", "bench_officer", "bench_member")
        }
        people = {u: auth.principal_for(session, user) for u, user in found.items() if user}
    return Instance(
        backend=backend,
        data_dir=data_dir,
        url=url,
        db=db,
        dept_id=next(iter(people["bench_officer"].org_ids)),
        admin=people["bench_admin"],
        officer=people["bench_officer"],
        member=people["bench_member"],
    )
