"""The `cityos` command. With no sub-command it serves the platform."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from cityos.config import Settings


def settings_from(data_dir: str | None, **overrides: Any) -> Settings:
    values: dict[str, Any] = {k: v for k, v in overrides.items() if v is not None}
    if data_dir:
        values["data_dir"] = Path(data_dir)
    return Settings(**values)


data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    envvar="CITYOS_DATA_DIR",
    default=None,
    help="Data directory (default ./data or CITYOS_DATA_DIR).",
)


@click.group(invoke_without_command=True)
@click.pass_context
def main(ctx: click.Context) -> None:
    """CityOS (城市操作系统): run `cityos` to serve the platform."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(serve)


@main.command()
@data_dir_option
@click.option("--demo", is_flag=True, help="Load the Haikou demo into an empty data dir.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="Web worker processes.")
def serve(data_dir: str | None, demo: bool, host: str, port: int, workers: int) -> None:
    """Serve pages, APIs and standard interfaces in one process."""
    import uvicorn

    from cityos.app import create_app
    from cityos.core.migrate import upgrade

    settings = settings_from(data_dir, demo=demo or None)
    settings.ensure_data_dir()
    upgrade(settings.resolved_database_url)
    if demo:
        from cityos.demo.loader import load_demo_if_empty

        loaded = load_demo_if_empty(settings)
        click.echo(
            "Haikou demo loaded." if loaded else "Data dir not empty: demo not reloaded.", err=True
        )
    click.echo(f"CityOS serving on http://{host}:{port}", err=True)
    if workers > 1:
        import os

        os.environ["CITYOS_DATA_DIR"] = str(settings.data_dir)
        if demo:
            os.environ["CITYOS_DEMO"] = "true"
        uvicorn.run("cityos.asgi:app", host=host, port=port, workers=workers, log_level="warning")
    else:
        uvicorn.run(create_app(settings, migrate=False), host=host, port=port, log_level="info")


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@data_dir_option
@click.option("--revision", default="head", show_default=True)
def db_upgrade(data_dir: str | None, revision: str) -> None:
    """Apply Alembic migrations to the configured database."""
    from cityos.core.migrate import upgrade

    settings = settings_from(data_dir)
    settings.ensure_data_dir()
    upgrade(settings.resolved_database_url, revision)
    click.echo("Database is up to date.", err=True)


@main.group()
def user() -> None:
    """Users."""


@user.command("create")
@data_dir_option
@click.argument("username")
@click.option("--name", "display_name", default=None, help="Display name.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--role", "roles", multiple=True, help="Role, e.g. admin or data_officer.")
@click.option("--org", default=None, help="Organisation id, short name or USCC for the roles.")
@click.option("--email", default=None)
def user_create(
    data_dir: str | None,
    username: str,
    display_name: str | None,
    password: str,
    roles: tuple[str, ...],
    org: str | None,
    email: str | None,
) -> None:
    """Create a user (prompts for the password)."""
    from cityos.auth import services as auth
    from cityos.directory.services import get_organisation

    db = _database(data_dir)
    with _cli_errors(), db.session() as session:
        org_id = get_organisation(session, org).id if org else None
        new = auth.create_user(
            session,
            username=username,
            display_name=display_name or username,
            password=password,
            email=email,
        )
        for role in roles or ("public",):
            auth.add_membership(session, new, role, org_id if role != "admin" or org_id else None)
    click.echo(f"Created user {username}.", err=True)


@main.group()
def token() -> None:
    """API tokens."""


@token.command("create")
@data_dir_option
@click.option("--user", "username", required=True)
@click.option("--name", default="cli", show_default=True)
@click.option("--days", default=90, show_default=True, type=int)
def token_create(data_dir: str | None, username: str, name: str, days: int) -> None:
    """Print a new API token for USER, once, on stdout."""
    from cityos.auth import services as auth

    db = _database(data_dir)
    with _cli_errors(), db.session() as session:
        found = auth.get_user_by_name(session, username)
        if found is None:
            raise click.ClickException(f"no such user: {username}")
        issued = auth.create_token(session, found, name=name, days=days)
    click.echo(issued.plaintext)


@main.group()
def audit() -> None:
    """Tamper-evident audit log (SM3 Merkle tree, SM2-signed tree heads)."""


@audit.command("verify")
@data_dir_option
@click.option(
    "--public-key",
    "public_keys",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True),
    help="Trusted SM2 public key (PEM) of tree heads; repeat for retired keys. "
    "Default: the configured signing key.",
)
def audit_verify(data_dir: str | None, public_keys: tuple[str, ...]) -> None:
    """Recompute every leaf hash and the tree; check every signed tree head.

    Exits 0 when the log is intact, 1 naming the first record that does not match.
    """
    from pathlib import Path

    from cityos.audit.signing import signer_from_settings
    from cityos.audit.verify import verify_log
    from cityos.core.db import make_engine
    from cityos.core.i18n import set_locale
    from cityos.crypto import CryptoError

    settings = settings_from(data_dir)
    set_locale(settings.default_locale)
    keys = [Path(p).read_bytes() for p in public_keys]
    if not keys:
        try:
            signer = signer_from_settings(settings, create=False)
        except (OSError, CryptoError) as exc:
            raise click.ClickException(f"cannot read the audit signing key: {exc}") from exc
        keys = [signer.public_pem] if signer else []
    engine = make_engine(settings.resolved_database_url)
    try:
        report = verify_log(engine, keys)
    finally:
        engine.dispose()
    rate = report.records / report.seconds if report.seconds else 0.0
    summary = (
        f"{report.records} records, {report.heads} signed tree heads "
        f"(latest covers {report.latest_head_size}), {report.seconds:.2f} s, {rate:,.0f} records/s"
    )
    if report.ok:
        click.echo(f"audit log intact: {summary}")
        return
    first = report.first
    assert first is not None
    click.echo(f"AUDIT LOG TAMPERED: {first.line()}")
    for problem in report.problems[1:20]:
        click.echo(f"  also: {problem.line()}")
    hidden = len(report.problems) - 20 + report.more_problems
    if hidden > 0:
        click.echo(f"  … and {hidden} more problems")
    click.echo(f"checked: {summary}", err=True)
    sys.exit(1)


@audit.command("sign")
@data_dir_option
def audit_sign(data_dir: str | None) -> None:
    """Sign a tree head now over every committed record (e.g. after a bulk load)."""
    from cityos.audit.log import sign_tree_head
    from cityos.audit.signing import signer_from_settings

    settings = settings_from(data_dir)
    db = _database(data_dir)
    try:
        head = sign_tree_head(db, signer_from_settings(settings))
    finally:
        db.dispose()
    if head is None:
        click.echo("No new records since the last signed tree head.", err=True)
    else:
        click.echo(f"Signed tree head: size {head.tree_size}, root {head.root_hash.hex()}")


@main.group()
def incidents() -> None:
    """Security incidents found in the access audit (docs/incidents.md)."""


@incidents.command("detect")
@data_dir_option
def incidents_detect(data_dir: str | None) -> None:
    """Run the incident detector now over the audit records it has not read yet."""
    from cityos.incidents.detection import detect
    from cityos.incidents.rules import Config

    settings = settings_from(data_dir)
    db = _database(data_dir)
    try:
        report = detect(db, config=Config.from_settings(settings))
    finally:
        db.dispose()
    click.echo(
        f"scanned {report.scanned} audit records (up to leaf {report.last_leaf_index}); "
        f"opened {len(report.opened)}: {' '.join(report.opened) or '-'}; "
        f"updated {len(report.updated)}: {' '.join(report.updated) or '-'}"
    )


@main.group()
def demo() -> None:
    """The Haikou demo city."""


@demo.command("load")
@data_dir_option
@click.option("--force", is_flag=True, help="Load even if the data dir already has data.")
def demo_load(data_dir: str | None, force: bool) -> None:
    """Load the Haikou demo (organisations, users, resources, records)."""
    from cityos.core.migrate import upgrade
    from cityos.demo.loader import load_demo, load_demo_if_empty

    settings = settings_from(data_dir)
    settings.ensure_data_dir()
    upgrade(settings.resolved_database_url)
    if force:
        load_demo(settings)
    elif not load_demo_if_empty(settings):
        raise click.ClickException("the database is not empty; use --force to load anyway")
    click.echo("Haikou demo loaded.", err=True)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["json", "text"]), default="text", show_default=True
)
@click.option(
    "--sample", default=10_000, show_default=True, type=click.IntRange(min=1), help="Rows to scan."
)
@click.option(
    "--min-ratio",
    default=0.1,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Share of values needed to report a type.",
)
def classify(file: Path, fmt: str, sample: int, min_ratio: float) -> None:
    """Detect personal information per column of a CSV/XLSX file and suggest grades (分级)."""
    from cityos.protection.report import classify_file

    sys.exit(classify_file(file, fmt, sample, min_ratio))


@main.group()
def crypto() -> None:
    """Keys of the encryption at rest (SM4 data keys wrapped by the master key)."""


@crypto.command("rotate")
@data_dir_option
@click.option("--purpose", "only", multiple=True, help="Key purpose (default: all but indexes).")
@click.option("--no-reencrypt", is_flag=True, help="Only rotate; leave old rows on old keys.")
def crypto_rotate(data_dir: str | None, only: tuple[str, ...], no_reencrypt: bool) -> None:
    """New data keys (old ones still decrypt), then re-encrypt stored columns in batches."""
    from cityos.crypto.rotation import rotate

    db = _database(data_dir)
    try:
        report = rotate(db, list(only) or None, reencrypt=not no_reencrypt)
    finally:
        db.dispose()
    for purpose, key_id in sorted(report.rotated.items()):
        click.echo(f"rotated {purpose}: new key {key_id}")
    for resource_id, rows in sorted(report.reencrypted.items()):
        click.echo(f"re-encrypted ds_{resource_id}: {rows} rows")
    if not report.rotated:
        click.echo("No data key to rotate.", err=True)


@crypto.command("rewrap")
@data_dir_option
def crypto_rewrap(data_dir: str | None) -> None:
    """Re-wrap data keys with the first CITYOS_MASTER_KEY (new,old: then drop the old one)."""
    from cityos.crypto.rotation import rewrap

    db = _database(data_dir)
    try:
        counts = rewrap(db)
    finally:
        db.dispose()
    for version, n in sorted(counts.items()):
        click.echo(f"master {version}: wraps {n} data keys")


@crypto.command("status")
@data_dir_option
def crypto_status(data_dir: str | None) -> None:
    """The current master key's fingerprint, data keys per master key, and key purposes."""
    from cityos.crypto.rotation import status

    db = _database(data_dir)
    try:
        info = status(db)
    finally:
        db.dispose()
    click.echo(f"current master key: {info.current_master}")
    for version, n in sorted(info.masters.items()):
        click.echo(f"master {version}: wraps {n} data keys")
    for purpose in info.purposes:
        click.echo(f"purpose {purpose}")


def _database(data_dir: str | None) -> Any:
    from cityos.core.db import Database
    from cityos.core.migrate import upgrade
    from cityos.crypto.envelope import configure as configure_keyring

    settings = settings_from(data_dir)
    settings.ensure_data_dir()
    upgrade(settings.resolved_database_url)
    db = Database(settings.resolved_database_url)
    configure_keyring(db.engine, settings)
    return db


class _cli_errors:
    """Turn our problem errors into a clean CLI message and exit code 2."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        from cityos.core.errors import ProblemError

        if isinstance(exc, ProblemError):
            click.echo(f"error: {exc.code}: {exc.detail}", err=True)
            sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
