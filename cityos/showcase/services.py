"""The showcase (应用展示, Art. 16): submit, edit, withdraw, review and list entries.

- anyone signed in submits an entry linked to the OPEN datasets it uses (what the anonymous
  public may see in the catalogue: published, 无条件/有条件开放); it waits for the bureau;
- the submitter edits or withdraws it while it waits; the bureau (admin) approves it or rejects
  it with a reason, and the submitter is notified on the site;
- approved entries are public; the others only their submitter and the bureau see (404 for
  anyone else, never 403).
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.orm import Session

from cityos.audit.services import record as audit
from cityos.auth.principal import ANONYMOUS, Principal
from cityos.catalog import policy
from cityos.catalog import services as catalog
from cityos.catalog.models import Resource
from cityos.core.db import utcnow
from cityos.core.errors import ProblemError, conflict, forbidden, invalid, not_found
from cityos.core.i18n import lazy
from cityos.notify.services import notify
from cityos.showcase.models import KINDS, ShowcaseApp, ShowcaseDataset
from cityos.showcase.schemas import MAX_DATASETS, ShowcaseIn

APPROVED_MESSAGE = lazy("Your showcase entry “{title}” was approved and is now public.")
REJECTED_MESSAGE = lazy("Your showcase entry “{title}” was not approved: {reason}")
MAX_CHOICES = 1000


# --------------------------------------------------------------------------- who sees what


def can_view(principal: Principal, app: ShowcaseApp) -> bool:
    if app.status == "approved" or principal.is_admin:
        return True
    return principal.user_id is not None and principal.user_id == app.submitter_id


def is_own(principal: Principal, app: ShowcaseApp) -> bool:
    return principal.user_id is not None and principal.user_id == app.submitter_id


def get_app(session: Session, app_id: str, principal: Principal) -> ShowcaseApp:
    """One entry; 404 (never 403) when the principal may not see it."""
    app = session.get(ShowcaseApp, app_id)
    if app is None or not can_view(principal, app):
        raise not_found("showcase entry", app_id)
    return app


# --------------------------------------------------------------------------- validation


def check_url(url: str) -> str:
    """An absolute http(s) address with a host and no credentials."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        host = None
        parts = None
    bad = (
        parts is None
        or parts.scheme.lower() not in ("http", "https")
        or not host
        or parts.username is not None
        or any(ch.isspace() for ch in url)
    )
    if bad:
        raise invalid(
            "bad_url", "The address must be a web address starting with http:// or https://."
        )
    return url


def _open_resource(session: Session, value: str) -> Resource | None:
    """By code or id (the first word: "code name" from the picker), else by exact name."""
    try:
        return catalog.get_resource(session, value.split()[0], ANONYMOUS)
    except ProblemError:
        pass
    named = [r for r in dataset_choices(session) if r.name == value]
    return named[0] if len(named) == 1 else None


def open_datasets(session: Session, idents: Iterable[str]) -> list[Resource]:
    """The OPEN resources named by code, id or exact name; 422 naming the first one that is
    not an open dataset."""
    values = list(dict.fromkeys(" ".join(v.split()) for v in idents if v.strip()))
    if not values:
        raise invalid("datasets_required", "Name at least one open dataset the entry uses.")
    if len(values) > MAX_DATASETS:
        raise invalid("too_many_datasets", "Name at most {n} datasets.", n=MAX_DATASETS)
    found: list[Resource] = []
    for token in values:
        resource = _open_resource(session, token)
        if resource is None:
            raise invalid(
                "dataset_not_open",
                "{dataset} is not an open dataset (published, 无条件开放 or 有条件开放).",
                dataset=token,
            )
        found.append(resource)
    return list({r.id: r for r in found}.values())


def _clean(data: ShowcaseIn) -> dict[str, str]:
    title = " ".join(data.title.split())
    if not title:
        raise invalid("title_required", "Give the entry a title.")
    if data.kind not in KINDS:
        raise invalid("bad_kind", "Unknown kind: {kind}", kind=data.kind)
    return {
        "title": title,
        "kind": data.kind,
        "summary": " ".join(data.summary.split()),
        "description": data.description.strip(),
        "url": check_url(data.url),
        "author": " ".join(data.author.split()),
    }


def _link(session: Session, app_id: str, resources: list[Resource]) -> None:
    session.execute(delete(ShowcaseDataset).where(ShowcaseDataset.app_id == app_id))
    for resource in resources:
        session.add(ShowcaseDataset(app_id=app_id, resource_id=resource.id))
    session.flush()


# --------------------------------------------------------------------------- writing


def submit(session: Session, data: ShowcaseIn, actor: Principal) -> ShowcaseApp:
    """A new entry of the signed-in actor, status ``submitted`` (waits for the bureau)."""
    if actor.user_id is None:
        raise ProblemError(401, "unauthenticated", "Sign in to submit to the showcase.")
    fields = _clean(data)
    resources = open_datasets(session, data.datasets)
    now = utcnow()
    app = ShowcaseApp(
        **fields,
        submitter_id=actor.user_id,
        submitter_name=actor.display_name or actor.username or "",
        status="submitted",
        created_at=now,
        updated_at=now,
    )
    if not app.author:
        app.author = app.submitter_name
    session.add(app)
    session.flush()
    _link(session, app.id, resources)
    audit(
        session,
        actor,
        "showcase.submit",
        "showcase_app",
        app.id,
        title=app.title,
        url=app.url,
        datasets=[r.code for r in resources],
    )
    return app


def own_waiting(session: Session, app_id: str, actor: Principal) -> ShowcaseApp:
    """The actor's own entry that still waits for review (404 unseen, 403 not own, 409 late)."""
    app = get_app(session, app_id, actor)
    if not is_own(actor, app):
        raise forbidden("Only the submitter may change this entry.")
    if app.status != "submitted":
        raise conflict(
            "showcase_state", "Only entries waiting for review can be changed or withdrawn."
        )
    return app


def edit(session: Session, app_id: str, data: ShowcaseIn, actor: Principal) -> ShowcaseApp:
    """The submitter changes an entry that still waits for review."""
    app = own_waiting(session, app_id, actor)
    fields = _clean(data)
    resources = open_datasets(session, data.datasets)
    for name, value in fields.items():
        setattr(app, name, value)
    if not app.author:
        app.author = app.submitter_name
    app.updated_at = utcnow()
    _link(session, app.id, resources)
    audit(
        session,
        actor,
        "showcase.edit",
        "showcase_app",
        app.id,
        title=app.title,
        url=app.url,
        datasets=[r.code for r in resources],
    )
    return app


def withdraw(session: Session, app_id: str, actor: Principal) -> ShowcaseApp:
    """The submitter takes back an entry that still waits for review."""
    app = own_waiting(session, app_id, actor)
    app.status = "withdrawn"
    app.updated_at = utcnow()
    session.flush()
    audit(session, actor, "showcase.withdraw", "showcase_app", app.id, title=app.title)
    return app


def review(
    session: Session, app_id: str, action: str, actor: Principal, reason: str = ""
) -> ShowcaseApp:
    """The bureau approves or rejects (reason required) a waiting entry; the submitter is told."""
    if action not in ("approve", "reject"):
        raise ProblemError(
            404, "unknown_action", "Unknown workflow action: {action}", action=action
        )
    if not policy.can_review(actor):
        raise forbidden("Reviewing showcase entries is the bureau's job.")
    app = get_app(session, app_id, actor)
    if app.status != "submitted":
        raise conflict("showcase_state", "Only entries waiting for review can be reviewed.")
    reason = reason.strip()
    if action == "reject" and not reason:
        raise invalid("reason_required", "Give a reason.")
    now = utcnow()
    app.status = "approved" if action == "approve" else "rejected"
    app.review_reason = reason
    app.reviewed_by = actor.user_id
    app.reviewed_at = now
    app.updated_at = now
    session.flush()
    audit(
        session, actor, f"showcase.{action}", "showcase_app", app.id, title=app.title, reason=reason
    )
    message = APPROVED_MESSAGE if action == "approve" else REJECTED_MESSAGE
    notify(
        session,
        [app.submitter_id],
        kind=f"showcase.{app.status}",
        message=message,
        params={"title": app.title, "reason": reason},
        link=f"/showcase/{app.id}",
    )
    return app


# --------------------------------------------------------------------------- reading


def resolve_kind(kind: str) -> str:
    """A kind filter; 400 naming it when unknown."""
    if kind and kind not in KINDS:
        raise ProblemError(
            400,
            "invalid_filter",
            "Invalid value {value} for {field}; expected one of: {allowed}",
            value=kind,
            field="kind",
            allowed=", ".join(KINDS),
        )
    return kind


def resolve_dataset(session: Session, code: str) -> Resource | None:
    """A dataset filter (code or id of an open dataset); 400 naming it when it is not one."""
    if not code:
        return None
    try:
        return catalog.get_resource(session, code, ANONYMOUS)
    except ProblemError:
        raise ProblemError(
            400,
            "invalid_filter",
            "Invalid value {value} for {field}: not an open dataset.",
            value=code,
            field="dataset",
        ) from None


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _text_clause(word: str) -> ColumnElement[bool]:
    pattern = f"%{_escape_like(word)}%"
    columns = (ShowcaseApp.title, ShowcaseApp.summary, ShowcaseApp.description, ShowcaseApp.author)
    return or_(*(c.ilike(pattern, escape="\\") for c in columns))


def list_public(
    session: Session,
    *,
    kind: str = "",
    resource_id: str | None = None,
    q: str = "",
    limit: int = 24,
    offset: int = 0,
) -> tuple[int, list[ShowcaseApp]]:
    """Approved entries, newest approval first: (total, page). ``q`` matches every word in the
    title, summary, description or author; ``resource_id`` keeps entries using that dataset."""
    stmt = select(ShowcaseApp).where(ShowcaseApp.status == "approved")
    if kind:
        stmt = stmt.where(ShowcaseApp.kind == kind)
    if resource_id:
        used = select(ShowcaseDataset.app_id).where(ShowcaseDataset.resource_id == resource_id)
        stmt = stmt.where(ShowcaseApp.id.in_(used))
    for word in q.split()[:10]:
        stmt = stmt.where(_text_clause(word))
    total = int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    page = stmt.order_by(ShowcaseApp.reviewed_at.desc(), ShowcaseApp.id).limit(limit).offset(offset)
    return total, list(session.scalars(page))


def for_resource(session: Session, resource_id: str) -> list[ShowcaseApp]:
    """Approved entries that use this dataset, newest approval first (for dataset pages)."""
    return list_public(session, resource_id=resource_id, limit=100)[1]


def recent(session: Session, limit: int = 6) -> list[ShowcaseApp]:
    """The latest approved entries (for the open-data home page)."""
    return list_public(session, limit=limit)[1]


def mine(session: Session, user_id: str) -> list[ShowcaseApp]:
    """Every entry the user submitted, in every status, newest first."""
    stmt = select(ShowcaseApp).where(ShowcaseApp.submitter_id == user_id)
    return list(session.scalars(stmt.order_by(ShowcaseApp.created_at.desc(), ShowcaseApp.id)))


def review_queue(session: Session) -> list[ShowcaseApp]:
    """Entries waiting for the bureau, oldest first."""
    stmt = select(ShowcaseApp).where(ShowcaseApp.status == "submitted")
    return list(session.scalars(stmt.order_by(ShowcaseApp.updated_at, ShowcaseApp.id)))


def datasets_of(session: Session, app_ids: list[str]) -> dict[str, list[Resource]]:
    """app id → the datasets it uses that are still open to the public, by code."""
    out: dict[str, list[Resource]] = {a: [] for a in app_ids}
    if not app_ids:
        return out
    links = session.execute(
        select(ShowcaseDataset.app_id, ShowcaseDataset.resource_id).where(
            ShowcaseDataset.app_id.in_(app_ids)
        )
    ).all()
    resources = catalog.get_resources_internal(session, sorted({r for _, r in links}))
    for app_id, resource_id in links:
        resource = resources.get(resource_id)
        if resource is not None and policy.can_view_metadata(ANONYMOUS, resource):
            out[app_id].append(resource)
    for found in out.values():
        found.sort(key=lambda r: r.code)
    return out


def dataset_choices(session: Session) -> list[Resource]:
    """Every open dataset (what the anonymous public sees), by code: the form's picker."""
    return catalog.search(session, ANONYMOUS, sort="code", limit=MAX_CHOICES).results
