"""The Alembic migrations build exactly the schema the models declare, on both backends."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi import FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DatabaseError

from cityos.audit.services import record
from cityos.models import metadata


def test_models_match_migrations(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diffs = [
                d
                for d in compare_metadata(context, metadata)
                if not (isinstance(d, tuple) and str(getattr(d[1], "name", "")).startswith("ds_"))
            ]
    finally:
        engine.dispose()
    assert diffs == [], f"models and migrations differ; run scripts/regen_migration.sh: {diffs}"


def test_audit_records_are_append_only(app: FastAPI) -> None:
    with app.state.db.session() as session:
        record(session, None, "test.write", "thing", "1", note="x")
    for statement in ("UPDATE audit_records SET action = 'forged'", "DELETE FROM audit_records"):
        with pytest.raises(DatabaseError), app.state.db.session() as session:
            session.execute(text(statement))
    with app.state.db.session() as session:
        assert (
            session.execute(text("SELECT action FROM audit_records")).scalar_one() == "test.write"
        )
