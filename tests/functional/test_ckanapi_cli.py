"""The real ``ckanapi`` client (CLI and Python) against CityOS served by uvicorn.

The catalogue (tests/unit/ckan/world.py) is made through the services in the test's database
(SQLite file or PostgreSQL), then a uvicorn subprocess serves that database on a free port.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from cityos.config import Settings
from tests.conftest import Actors
from tests.unit.ckan.world import AIR_RECORDS, World, build_world

BIN = Path(sys.executable).parent
CKANAPI = BIN / "ckanapi"
pytestmark = pytest.mark.skipif(not CKANAPI.exists(), reason="ckanapi is not installed")


@dataclass
class Server:
    url: str
    world: World
    token: str  # a data officer of 市水务局 (a government department)
    env: dict[str, str]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(app: FastAPI, settings: Settings, actors: Actors) -> Iterator[Server]:
    world = build_world(app, actors)
    token = actors.token("waterman")
    app.state.db.dispose()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # ckanapi dump runs `ckanapi`
        "CITYOS_DATA_DIR": str(settings.data_dir),
        "CITYOS_DATABASE_URL": settings.resolved_database_url,
        "CITYOS_SECRET_KEY": "functional-test-secret-key",
        "CITYOS_BASE_URL": url,
        "CITYOS_SQLITE_SYNCHRONOUS": "NORMAL",
        "PYTHONUNBUFFERED": "1",
    }
    log = (settings.data_dir / "uvicorn.log").open("wb")
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "uvicorn", "cityos.asgi:app"),
            *("--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                output = (settings.data_dir / "uvicorn.log").read_text(errors="replace")
                pytest.fail(f"uvicorn did not start:\n{output}")
            time.sleep(0.2)
        yield Server(url, world, token, env)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def ckanapi(server: Server, *args: str) -> str:
    done = subprocess.run(
        [str(CKANAPI), *args, "-r", server.url],
        env=server.env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    out = done.stdout.decode("utf-8")
    assert done.returncode == 0, f"ckanapi {args} failed:\n{out}\n{done.stderr.decode()}"
    return out


def lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_ckanapi_cli_and_python_client(server: Server) -> None:
    world = server.world
    public = {world.name("air"), world.name("sources")}

    # ckanapi action package_list (POST, and GET with -g)
    assert set(json.loads(ckanapi(server, "action", "package_list"))) == public
    assert set(json.loads(ckanapi(server, "action", "package_list", "-g"))) == public

    # ckanapi search datasets q=空气 → one JSON line per dataset
    found = lines(ckanapi(server, "search", "datasets", "q=空气"))
    assert [d["name"] for d in found] == [world.name("air")]
    assert found[0]["organization"]["title"] == "市生态环境局"

    # ckanapi dump datasets --all → JSON lines, one per public dataset, as package_show gives
    dumped = lines(ckanapi(server, "dump", "datasets", "--all", "-q"))
    assert {d["name"] for d in dumped} == public
    assert all(d["resources"][0]["datastore_active"] for d in dumped)
    # … with a department's token, private datasets, datastore fields and resource views
    private = lines(
        ckanapi(
            server,
            *("dump", "datasets", "--all", "-q", "--include-private", "-d", "-R"),
            *("-a", server.token),
        )
    )
    by_name = {d["name"]: d for d in private}
    assert set(by_name) == public | {world.name("water"), world.name("ledger")}
    air_resource = by_name[world.name("air")]["resources"][0]
    assert {f["id"] for f in air_resource["datastore_fields"]} >= {"station", "aqi"}
    assert air_resource["resource_views"][0]["view_type"]

    # ckanapi action package_show id=…
    shown = json.loads(ckanapi(server, "action", "package_show", f"id={world.name('air')}"))
    assert shown["id"] == world.ids["air"] and shown["title"] == "空气质量监测数据"
    assert shown["resources"][0]["url"] == f"{server.url}/api/v1/datastore/{shown['id']}/export.csv"

    # the Python client: RemoteCKAN(...).action.datastore_search(resource_id=…)
    from ckanapi import NotAuthorized, NotFound, RemoteCKAN, ValidationError

    with RemoteCKAN(server.url) as ckan:
        rid = ckan.action.package_show(id=world.name("air"))["resources"][0]["id"]
        data = ckan.action.datastore_search(resource_id=rid, sort="aqi desc")
        assert data["total"] == len(AIR_RECORDS)
        assert [r["aqi"] for r in data["records"]] == [52, 48, 35]
        one = ckan.action.datastore_search(resource_id=rid, filters={"station": "海口龙华"})
        assert [r["aqi"] for r in one["records"]] == [52]
        # errors arrive as ckanapi's exceptions
        with pytest.raises(NotFound):
            ckan.action.package_show(id=world.ids["water"])
        with pytest.raises(NotAuthorized):
            ckan.action.datastore_search(resource_id=world.ids["sources"])
        with pytest.raises(NotAuthorized):
            ckan.action.user_list()
        with pytest.raises(ValidationError):
            ckan.action.package_show()
        status = ckan.action.status_show()
        assert status["ckan_version"].startswith("2.")
    with RemoteCKAN(server.url, apikey=server.token) as dept:
        sources = dept.action.datastore_search(resource_id=world.ids["sources"])
        assert sources["total"] == 2
        assert dept.action.package_show(id=world.name("water"))["private"] is True
