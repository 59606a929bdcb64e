"""`cityos audit verify [--data-dir DIR]` on both backends: exit 0 when intact, 1 naming the first
record that does not match after an edit, a deletion or a reordering."""

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from fastapi import FastAPI
from sqlalchemy import text

from cityos.audit.log import sign_tree_head
from cityos.audit.services import record
from cityos.cli import main
from cityos.config import Settings

from .tamper import attacker


def _log(app: FastAPI, n: int = 12) -> dict[int, int]:
    db = app.state.db
    for i in range(n):
        with db.session() as session:
            record(session, None, "cli.test", "thing", str(i), 序号=i)
        if i == 7:
            assert sign_tree_head(db) is not None
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT leaf_index, id FROM audit_records")).all()
    return {int(leaf): int(rid) for leaf, rid in rows}


def _cli(settings: Settings, database_url: str) -> Result:
    data_dir = str(Path(settings.data_dir))
    return CliRunner().invoke(
        main,
        ["audit", "verify", "--data-dir", data_dir],
        env={"CITYOS_DATABASE_URL": database_url, "CITYOS_AUDIT_SIGNING_KEY_FILE": None},
    )


def test_intact_log_exits_zero(app: FastAPI, settings: Settings, database_url: str) -> None:
    _log(app)
    result = _cli(settings, database_url)
    assert result.exit_code == 0, result.output
    assert "audit log intact: 12 records, 1 signed tree heads (latest covers 8)" in result.output


@pytest.mark.parametrize(
    ("tamper", "first_line"),
    [
        (
            "UPDATE audit_records SET target_id = 'forged' WHERE leaf_index = 3",
            "edited leaf_index=3 id={3}:",
        ),
        ("DELETE FROM audit_records WHERE leaf_index = 6", "missing leaf_index=6:"),
        ("DELETE FROM audit_records WHERE leaf_index >= 10", "truncated_counter leaf_index=10:"),
        (
            "UPDATE audit_records SET leaf_index = -1 WHERE leaf_index = 9;"
            "UPDATE audit_records SET leaf_index = 9 WHERE leaf_index = 10;"
            "UPDATE audit_records SET leaf_index = 10 WHERE leaf_index = -1",
            "edited leaf_index=9 id={10}:",
        ),
    ],
    ids=["edit", "delete", "delete-tail", "reorder"],
)
def test_tampered_log_exits_one_naming_the_first_record(
    app: FastAPI, settings: Settings, database_url: str, tamper: str, first_line: str
) -> None:
    ids = _log(app)
    with attacker(app.state.db.engine) as conn:
        for statement in tamper.split(";"):
            conn.execute(text(statement))
    app.state.db.dispose()
    result = _cli(settings, database_url)
    assert result.exit_code == 1, result.output
    expected = "AUDIT LOG TAMPERED: " + first_line.format(*[ids[i] for i in range(len(ids))])
    assert result.output.splitlines()[0].startswith(expected), result.output
