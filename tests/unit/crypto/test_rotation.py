"""`cityos crypto rotate | rewrap | status`: rotation without downtime, then a new master key."""

from __future__ import annotations

from click.testing import CliRunner

from cityos.cli import main
from cityos.config import Settings
from cityos.core.db import Database
from cityos.crypto import envelope
from cityos.crypto.keyring import MasterKeyring, master_key_version
from cityos.datastore import services as datastore
from tests.unit.datastore.conftest import World
from tests.unit.datastore.test_encryption import IDS, make_people, people_csv


def _run(settings: Settings, *args: str, master: str | None = None) -> str:
    env = {"CITYOS_DATABASE_URL": settings.resolved_database_url}
    if master:
        env["CITYOS_MASTER_KEY"] = master
    result = CliRunner().invoke(
        main, ["crypto", *args, "--data-dir", str(settings.data_dir)], env=env
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_rotate_then_rewrap_keeps_every_value_readable(world: World, settings: Settings) -> None:
    rid = make_people(world)
    world.upload(rid, people_csv())
    out = _run(settings, "rotate")
    assert f"rotated datastore:{rid}" in out
    assert f"re-encrypted ds_{rid}: 5 rows" in out
    assert f"datastore-index:{rid}" not in out  # blind-index keys are not rotated by default
    assert world.records(rid, "officer_eco", id_number=IDS[2]).json()["total"] == 1

    old = (settings.data_dir / "master_key").read_text().strip()
    new = "00112233445566778899aabbccddeeff"
    out = _run(settings, "rewrap", master=f"{new},{old}")
    new_version = master_key_version(bytes.fromhex(new))
    assert f"master {new_version}: wraps" in out
    assert master_key_version(bytes.fromhex(old)) not in out
    status = _run(settings, "status", master=new)
    assert f"current master key: {new_version}" in status and f"purpose datastore:{rid}" in status

    # only the new master key configured: everything still decrypts
    db = Database(settings.resolved_database_url)
    try:
        envelope.configure(db.engine, MasterKeyring([bytes.fromhex(new)]))
        envelope.clear_cache()
        result = datastore.query(db, rid, sort="seq")
        assert [r["id_number"] for r in result.records] == IDS[:5]
    finally:
        db.dispose()
        envelope.clear_cache()
