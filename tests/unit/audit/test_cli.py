"""`cityos audit verify` and `cityos audit sign` on a temporary SQLite data dir."""

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import text

from cityos.audit.services import record
from cityos.cli import main
from cityos.config import Settings
from cityos.core.db import Database
from cityos.core.migrate import upgrade

from .tamper import attacker


def _data_dir(tmp_path: Path, n: int = 12) -> tuple[Path, Database]:
    data_dir = tmp_path / "data"
    settings = Settings(data_dir=data_dir)
    settings.ensure_data_dir()
    upgrade(settings.resolved_database_url)
    db = Database(settings.resolved_database_url)
    for i in range(n):
        with db.session() as session:
            record(session, None, "cli.test", "thing", str(i), 序号=i)
    return data_dir, db


def test_verify_intact_and_tampered(tmp_path: Path) -> None:
    data_dir, db = _data_dir(tmp_path)
    runner = CliRunner()
    signed = runner.invoke(main, ["audit", "sign", "--data-dir", str(data_dir)])
    assert signed.exit_code == 0, signed.output
    assert "size 12" in signed.output
    assert (data_dir / "audit_signing_key.pem").stat().st_mode & 0o777 == 0o600
    assert (data_dir / "audit_signing_key.pub.pem").exists()
    again = runner.invoke(main, ["audit", "sign", "--data-dir", str(data_dir)])
    assert again.exit_code == 0 and "No new records" in again.output

    ok = runner.invoke(main, ["audit", "verify", "--data-dir", str(data_dir)])
    assert ok.exit_code == 0, ok.output
    assert "audit log intact: 12 records, 1 signed tree heads" in ok.output

    with attacker(db.engine) as conn:
        victim = conn.execute(text("SELECT id FROM audit_records WHERE leaf_index = 5")).scalar()
        conn.execute(text("UPDATE audit_records SET target_id = 'x' WHERE id = :i"), {"i": victim})
        conn.execute(text("DELETE FROM audit_records WHERE leaf_index = 9"))
    db.dispose()
    bad = runner.invoke(main, ["audit", "verify", "--data-dir", str(data_dir)])
    assert bad.exit_code == 1, bad.output
    first_line = bad.output.splitlines()[0]
    assert first_line.startswith(f"AUDIT LOG TAMPERED: edited leaf_index=5 id={victim}:")
    assert "missing leaf_index=9" in bad.output


def test_verify_with_explicit_and_wrong_public_key(tmp_path: Path) -> None:
    from cityos.crypto import sm2_generate_keypair

    data_dir, db = _data_dir(tmp_path, 3)
    db.dispose()
    runner = CliRunner()
    assert runner.invoke(main, ["audit", "sign", "--data-dir", str(data_dir)]).exit_code == 0
    good = data_dir / "audit_signing_key.pub.pem"
    result = runner.invoke(
        main, ["audit", "verify", "--data-dir", str(data_dir), "--public-key", str(good)]
    )
    assert result.exit_code == 0, result.output
    other = tmp_path / "other.pem"
    other.write_bytes(sm2_generate_keypair().public_pem)
    result = runner.invoke(
        main, ["audit", "verify", "--data-dir", str(data_dir), "--public-key", str(other)]
    )
    assert result.exit_code == 1 and "head_unknown_key" in result.output


def test_verify_reports_an_unreadable_signing_key(tmp_path: Path) -> None:
    data_dir, db = _data_dir(tmp_path, 1)
    db.dispose()
    result = CliRunner().invoke(
        main,
        ["audit", "verify", "--data-dir", str(data_dir)],
        env={"CITYOS_AUDIT_SIGNING_KEY_FILE": str(tmp_path / "absent.pem")},
    )
    assert result.exit_code == 1 and "cannot read the audit signing key" in result.output
