"""The `cityos` command as a user runs it, on a temporary data dir."""

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import create_engine, text

from cityos.cli import main


def test_db_upgrade_user_and_token(tmp_path: Path) -> None:
    runner = CliRunner()
    data = str(tmp_path / "d")
    assert runner.invoke(main, ["db", "upgrade", "--data-dir", data]).exit_code == 0
    created = runner.invoke(
        main,
        [
            "user",
            "create",
            "ops",
            "--data-dir",
            data,
            "--password",
            "long-enough-1",
            "--role",
            "operator",
        ],
    )
    assert created.exit_code == 0, created.output
    issued = runner.invoke(main, ["token", "create", "--user", "ops", "--data-dir", data])
    assert issued.exit_code == 0
    token = issued.stdout.strip()
    assert token.startswith("cot_") and len(issued.stdout.strip().splitlines()) == 1
    engine = create_engine(f"sqlite:///{tmp_path / 'd' / 'cityos.db'}")
    with engine.connect() as conn:
        hashes = [r[0] for r in conn.execute(text("SELECT secret_hash FROM api_tokens"))]
    engine.dispose()
    assert hashes and token.split("_", 2)[2] not in hashes[0]


def test_unknown_user_and_weak_password_give_clean_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    data = str(tmp_path / "d")
    missing = runner.invoke(main, ["token", "create", "--user", "ghost", "--data-dir", data])
    assert missing.exit_code != 0 and "ghost" in missing.output
    weak = runner.invoke(main, ["user", "create", "x1", "--data-dir", data, "--password", "short"])
    assert weak.exit_code == 2 and "weak_password" in weak.output


def test_help_lists_every_command() -> None:
    output = CliRunner().invoke(main, ["--help"]).output
    for command in ("serve", "db", "user", "token", "demo"):
        assert command in output
