"""Fixtures: the whole app in process, on SQLite and on PostgreSQL.

Every test that takes ``app``/``client`` runs twice: ``[sqlite]`` and ``[postgresql]``.
PostgreSQL tests skip when the server is absent, unless CITYOS_REQUIRE_SERVICES=1 (CI), where
they fail. Each test gets an empty, migrated database; ``demo_app`` is the Haikou demo, loaded
once per backend and worker, for read-only tests.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from cityos.app import create_app
from cityos.auth import services as auth
from cityos.config import Settings
from cityos.core.migrate import upgrade

PG_URL = os.environ.get(
    "CITYOS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_SERVICES = os.environ.get("CITYOS_REQUIRE_SERVICES") == "1"
BACKENDS = ["sqlite", "postgresql"]
PASSWORD = "correct-horse-42"


RUN_ID = (os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"{os.getpid():x}")[:8]
_CREATED_DATABASES: list[str] = []


def _worker() -> str:
    """Unique per test run and worker, so concurrent runs never share a database."""
    return f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{RUN_ID}"


def _pg_available() -> bool:
    try:
        engine = create_engine(PG_URL)
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


def _need_pg() -> None:
    if not _pg_available():
        if REQUIRE_SERVICES:
            pytest.fail(f"PostgreSQL is required (CITYOS_REQUIRE_SERVICES=1) but {PG_URL} is down")
        pytest.skip("PostgreSQL not available")


def _pg_database(name: str) -> str:
    """Create (once) and return the URL of a dedicated PostgreSQL database."""
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))
    admin.dispose()
    _CREATED_DATABASES.append(name)
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session", autouse=True)
def _drop_pg_databases() -> Iterator[None]:
    yield
    if not _CREATED_DATABASES:
        return
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in _CREATED_DATABASES:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def reset_database(url: str) -> None:
    """Empty every table and drop the per-resource datastore tables."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            names = inspect(conn).get_table_names()
            data_tables = [n for n in names if n.startswith("ds_")]
            app_tables = [n for n in names if not n.startswith("ds_") and n != "alembic_version"]
            for name in data_tables:
                conn.execute(text(f'DROP TABLE IF EXISTS "{name}"'))
            if conn.dialect.name == "postgresql":
                if app_tables:
                    quoted = ", ".join(f'"{n}"' for n in app_tables)
                    conn.execute(text("SET session_replication_role = replica"))
                    conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
                    conn.execute(text("SET session_replication_role = DEFAULT"))
            else:
                conn.execute(text("PRAGMA foreign_keys=OFF"))
                for name in app_tables:
                    conn.execute(text(f'DELETE FROM "{name}"'))
                conn.execute(text("PRAGMA foreign_keys=ON"))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "cityos.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_test_url() -> str:
    _need_pg()
    url = _pg_database(f"cityos_t_{_worker()}")
    upgrade(url)
    return url


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "data" / "cityos.db"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(template, target)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("pg_test_url")
    reset_database(url)
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="test-secret-key-not-for-production",  # type: ignore[arg-type]
        sqlite_synchronous="NORMAL",
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings, migrate=False)
    yield application
    application.state.db.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


class Actors:
    """Creates organisations and users in the test database and signs them in."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._n = 0

    def org(self, name: str = "市测试局", kind: str = "government", **extra: Any) -> str:
        from cityos.directory.codes import make_uscc
        from cityos.directory.schemas import OrganisationIn
        from cityos.directory.services import create_organisation

        self._n += 1
        body = f"11460100MB{self._n:07d}"
        data = OrganisationIn(name=name, uscc=make_uscc(body), kind=kind, **extra)
        with self.app.state.db.session() as session:
            return create_organisation(session, data, None).id

    def user(self, username: str, role: str = "public", org_id: str | None = None) -> str:
        with self.app.state.db.session() as session:
            user = auth.create_user(
                session, username=username, display_name=username, password=PASSWORD
            )
            auth.add_membership(session, user, role, org_id)
            return user.id

    def token(self, username: str) -> str:
        with self.app.state.db.session() as session:
            user = auth.get_user_by_name(session, username)
            assert user is not None
            return auth.create_token(session, user, name="test").plaintext

    def headers(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(username)}"}


@pytest.fixture
def actors(app: FastAPI) -> Actors:
    return Actors(app)


def login(client: TestClient, username: str, password: str = PASSWORD) -> None:
    """Sign in through the login form, as a browser would."""
    page = client.get("/login")
    csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf": csrf, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def csrf_of(client: TestClient, path: str = "/") -> str:
    page = client.get(path)
    return page.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]


# --------------------------------------------------------------------------- the Haikou demo


@pytest.fixture(scope="session", params=BACKENDS)
def demo_app(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FastAPI]:
    """The Haikou demo (docs/demo.md), loaded once per backend and test worker. READ-ONLY:
    every test of the session shares it, so a test that writes must use ``app`` instead."""
    from cityos.demo.loader import load_demo

    data_dir = tmp_path_factory.mktemp("demo") / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    if request.param == "sqlite":
        url = f"sqlite:///{data_dir / 'cityos.db'}"
    else:
        _need_pg()
        url = _pg_database(f"cityos_demo_{_worker()}")
    upgrade(url)
    demo_settings = Settings(
        data_dir=data_dir,
        database_url=url,
        secret_key="test-secret-key-not-for-production",  # type: ignore[arg-type]
        sqlite_synchronous="NORMAL",
        demo=True,
    )
    load_demo(demo_settings)
    application = create_app(demo_settings, migrate=False)
    yield application
    application.state.db.dispose()


@pytest.fixture
def demo_client(demo_app: FastAPI) -> Iterator[TestClient]:
    """A client (fresh cookies) on the read-only demo; sign in with
    ``login(demo_client, "officer_water", DEMO_PASSWORD)``."""
    with TestClient(demo_app) as c:
        yield c
