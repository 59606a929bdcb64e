"""Load the Haikou demo through the modules' services (never their tables).

Steps, each safe to repeat: organisations → catalogue classes → accounts → resources (through
the confirmation workflow) → records (only into resources whose datastore is still empty).
Everything is seeded; the live series end at the current hour.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from cityos.auth import services as auth
from cityos.auth.principal import Principal
from cityos.auth.views import DEMO_PASSWORD
from cityos.catalog import search
from cityos.catalog import services as catalog
from cityos.catalog.classes import DEPARTMENT_ROOT
from cityos.catalog.schemas import ItemIn, ResourceIn
from cityos.config import Settings
from cityos.core.db import Database
from cityos.crypto.envelope import configure as configure_keyring
from cityos.datastore import services as datastore
from cityos.demo.catalogue import RESOURCES
from cityos.demo.demands import ensure_demands
from cityos.demo.grading import ensure_grades
from cityos.demo.opendata import ensure_opendata
from cityos.demo.orgs import ORG_BY_KEY, ORGS, AccountSpec, OrgSpec, all_accounts
from cityos.demo.records import generate
from cityos.demo.records_series import TAP_WATER_LAG_DAYS, hour_now
from cityos.demo.services_registry import ensure_services
from cityos.demo.sharing import ensure_sharing
from cityos.demo.showcase import ensure_showcase
from cityos.demo.spec import ResourceSpec
from cityos.directory import services as directory
from cityos.directory.schemas import OrganisationIn

log = logging.getLogger(__name__)

# the one resource whose provider "stopped uploading" (see records_series.tap_water)
OVERDUE_RESOURCE = "tap_water"


@dataclass
class DemoSummary:
    organisations: int = 0
    users: int = 0
    resources: int = 0
    records: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def _database(settings: Settings) -> Database:
    db = Database(settings.resolved_database_url, sqlite_synchronous=settings.sqlite_synchronous)
    configure_keyring(db.engine, settings)  # the data dir's master key encrypts graded columns
    return db


def load_demo_if_empty(settings: Settings) -> bool:
    """Load the demo when the directory has no organisation yet; returns whether it loaded."""
    db = _database(settings)
    try:
        with db.session() as session:
            if directory.list_organisations(session):
                return False
        load_into(db)
        return True
    finally:
        db.dispose()


def load_demo(settings: Settings, *, now: datetime | None = None) -> DemoSummary:
    """Load (or complete) the demo, whatever the database already holds."""
    db = _database(settings)
    try:
        return load_into(db, now=now)
    finally:
        db.dispose()


def load_into(db: Database, *, now: datetime | None = None) -> DemoSummary:
    started = time.perf_counter()
    moment = hour_now(now)
    summary = DemoSummary()
    with db.session() as session:
        orgs = ensure_organisations(session)
        catalog.ensure_default_classes(session)
        # load the word segmenter (a second of Python) while scrypt hashes the accounts'
        # passwords outside the GIL; the catalogue's first create waits for it
        threading.Thread(target=search.tokenizer, name="demo-jieba", daemon=True).start()
        principals = ensure_accounts(session, orgs)
        summary.organisations = len(orgs)
        summary.users = len(principals)
    with db.session() as session:
        resources = ensure_resources(session, orgs, principals)
        summary.resources = len(resources)
    for spec in RESOURCES:
        resource_id, _status = resources[spec.key]
        if spec.records and spec.status == "published":
            summary.records += _load_records(db, spec, resource_id, principals, moment, summary)
    ensure_services(db, resources, principals)  # interface services (Art. 13 ¶2)
    ensure_grades(db, resources, principals)  # 分级: the population resource confirmed
    ensure_sharing(db, resources, principals)  # a request in 市公安局's inbox, a subscription
    ensure_showcase(db, resources, principals)  # 应用展示: 4 approved apps, 1 pending
    ensure_opendata(db, resources, principals)  # 有条件开放 records + application, usage
    ensure_demands(db, resources, principals)  # 数据需求: 8 demands, every status
    summary.seconds = round(time.perf_counter() - started, 2)
    log.info(
        "Haikou demo: %s organisations, %s users, %s resources, %s records in %.1f s",
        summary.organisations,
        summary.users,
        summary.resources,
        summary.records,
        summary.seconds,
    )
    return summary


# --------------------------------------------------------------------------- directory


def ensure_organisations(session: Session) -> dict[str, str]:
    """OrgSpec key → organisation id, creating the missing ones."""
    existing = {o.uscc: o.id for o in directory.list_organisations(session)}
    other_bureau = directory.bureau(session)
    ids: dict[str, str] = {}
    for spec in ORGS:
        if spec.uscc in existing:
            ids[spec.key] = existing[spec.uscc]
            continue
        data = OrganisationIn(
            name=spec.name,
            short_name=spec.short_name,
            uscc=spec.uscc,
            kind=spec.kind,
            district_code=spec.district,
            description=spec.description,
            contact=_contact(spec),
        )
        is_bureau = spec.is_bureau and other_bureau is None  # never a second bureau
        ids[spec.key] = directory.create_organisation(session, data, None, is_bureau=is_bureau).id
    return ids


def _contact(spec: OrgSpec) -> str:
    rng = random.Random(f"cityos-demo:contact:{spec.key}")
    return f"0898-6{rng.randrange(5000000, 9999999)}"


def ensure_accounts(session: Session, orgs: dict[str, str]) -> dict[str, Principal]:
    """username → Principal of every demo account, creating the missing ones."""
    principals: dict[str, Principal] = {}
    for account in all_accounts():
        user = auth.get_user_by_name(session, account.username)
        if user is None:
            user = auth.create_user(
                session,
                username=account.username,
                display_name=account.display_name,
                password=DEMO_PASSWORD,
                email=f"{account.username}@demo.haikou.example",
            )
            auth.add_membership(session, user, account.role, _org_of(account, orgs))
        principals[account.username] = auth.principal_for(session, user)
    return principals


def _org_of(account: AccountSpec, orgs: dict[str, str]) -> str | None:
    return orgs[account.org] if account.org else None


# --------------------------------------------------------------------------- catalogue


def ensure_resources(
    session: Session, orgs: dict[str, str], principals: dict[str, Principal]
) -> dict[str, tuple[str, str]]:
    """ResourceSpec key → (resource id, status), creating and moving the missing ones."""
    existing = {
        (r.provider_id, r.name): r for r in catalog.provider_resources(session, list(orgs.values()))
    }
    department_classes = _department_classes(session)
    admin = principals["admin"]
    done: dict[str, tuple[str, str]] = {}
    codes: dict[str, str] = {}
    for spec in RESOURCES:
        provider_id = orgs[spec.provider]
        found = existing.get((provider_id, spec.name))
        if found is not None:
            done[spec.key] = (found.id, found.status)
            codes[spec.key] = found.code
            continue
        officer = principals[ORG_BY_KEY[spec.provider].officer]
        data = _resource_in(spec, provider_id, department_classes, codes)
        resource = catalog.create_resource(session, data, officer)
        _move(session, resource.id, spec, officer, admin)
        done[spec.key] = (resource.id, spec.status)
        codes[spec.key] = resource.code
    return done


def _department_classes(session: Session) -> dict[str, str]:
    """Organisation name → its 部门信息资源 class code (3xx)."""
    return {
        c.name: c.code for c in catalog.list_classes(session) if c.parent_code == DEPARTMENT_ROOT
    }


def _published_on(spec: ResourceSpec) -> date | None:
    if spec.status != "published":
        return None
    if spec.published_on is not None:
        return spec.published_on
    rng = random.Random(f"cityos-demo:published:{spec.key}")
    return date(2023, 3, 1) + timedelta(days=rng.randrange(850))


def _related_codes(spec: ResourceSpec, codes: dict[str, str]) -> list[str]:
    """Relations are symmetric: name those created before (and those that named this one)."""
    related = set(spec.related) | {r.key for r in RESOURCES if spec.key in r.related}
    return sorted(codes[key] for key in related if key in codes)


def _resource_in(
    spec: ResourceSpec,
    provider_id: str,
    department_classes: dict[str, str],
    codes: dict[str, str],
) -> ResourceIn:
    class_code = spec.class_code
    if class_code == "dept":
        class_code = department_classes[ORG_BY_KEY[spec.provider].name]
    return ResourceIn(
        name=spec.name,
        class_code=class_code,
        provider_id=provider_id,
        summary=spec.summary,
        format=spec.format,
        share_type=spec.share_type,
        share_condition=spec.share_condition,
        share_method=spec.share_method,
        share_basis=spec.share_basis,
        open_type=spec.open_type,
        open_condition=spec.open_condition,
        update_cycle=spec.update_cycle,
        published_on=_published_on(spec),
        keywords=list(spec.keywords),
        districts=list(spec.districts),
        related_codes=_related_codes(spec, codes),
        key_fields=list(spec.key_fields),
        items=[
            ItemIn(
                field=i.field,
                name=i.name,
                data_type=i.data_type,
                length=i.length,
                description=i.description,
                sensitivity=i.sensitivity,
                unit=i.unit,
                required=i.required,
            )
            for i in spec.items
        ],
    )


# status → the workflow that reaches it: (action, by the bureau?)
WORKFLOWS: dict[str, tuple[tuple[str, bool], ...]] = {
    "draft": (),
    "submitted": (("submit", False),),
    "rejected": (("submit", False), ("reject", True)),
    "confirmed": (("submit", False), ("confirm", True)),
    "published": (("submit", False), ("confirm", True), ("publish", False)),
}


def _move(
    session: Session, resource_id: str, spec: ResourceSpec, officer: Principal, admin: Principal
) -> None:
    for action, by_bureau in WORKFLOWS[spec.status]:
        comment = ""
        if action == "reject":
            comment = spec.review_comment
        elif action == "confirm":
            comment = "目录要素齐全，同意。"
        catalog.transition(session, resource_id, action, admin if by_bureau else officer, comment)


# --------------------------------------------------------------------------- records


def _load_records(
    db: Database,
    spec: ResourceSpec,
    resource_id: str,
    principals: dict[str, Principal],
    now: datetime,
    summary: DemoSummary,
) -> int:
    table = datastore.table_info(db, resource_id)
    if table is not None and table.row_count:
        return 0  # loaded before: leave the data (and its history) alone
    assert spec.records is not None
    rows = generate(spec.records, now)
    officer = principals[ORG_BY_KEY[spec.provider].officer]
    batch = datastore.load_records(db, resource_id, rows, actor=officer, mode="append")
    if batch.rows_rejected:
        summary.notes.append(f"{spec.key}: {batch.rows_rejected} rows rejected")
        log.warning("demo resource %s: %s rows rejected", spec.key, batch.rows_rejected)
    if spec.key == OVERDUE_RESOURCE:
        _backdate(db, resource_id, now - timedelta(days=TAP_WATER_LAG_DAYS), officer)
    return int(batch.rows_accepted)


def _backdate(db: Database, resource_id: str, at: datetime, actor: Principal) -> None:
    """Date the last load of the overdue resource in the past, through the datastore service."""
    datastore.set_data_updated_at(db, resource_id, at.astimezone(UTC), actor=actor)
