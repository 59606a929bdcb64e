"""政务信息资源目录: cataloguing, the confirmation workflow, versions and search.

Other modules call these functions (never the tables). Writes audit in the caller's transaction
and, when given a ``bus``, publish ``catalog.resource.changed`` once that transaction commits.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cityos.audit.services import record as audit
from cityos.auth.principal import Principal
from cityos.catalog import policy
from cityos.catalog.cache import bump
from cityos.catalog.classes import class_names, ensure_default_classes, list_classes
from cityos.catalog.finder import (
    FILTER_KEYS,
    SORTS,
    SearchResult,
    newest_published,
    portal_stats,
    provider_resources,
    review_queue,
    search,
    visible_codes,
)
from cityos.catalog.models import Resource, ResourceItem, ResourceVersion
from cityos.catalog.schemas import ResourceIn, ResourcePatch
from cityos.catalog.search import index_resource
from cityos.catalog.validation import field_error, item_dict, normalise, validate
from cityos.core.bus import Bus
from cityos.core.db import utcnow
from cityos.core.errors import ProblemError, conflict, forbidden, not_found
from cityos.core.i18n import DISPLAY_TZ, gettext, lazy

__all__ = [
    "ACTIONS",
    "FILTER_KEYS",
    "SORTS",
    "SearchResult",
    "allowed_actions",
    "class_names",
    "create_resource",
    "ensure_default_classes",
    "get_items",
    "get_resource",
    "get_resource_internal",
    "items_for",
    "list_classes",
    "newest_published",
    "portal_stats",
    "provider_resources",
    "review_queue",
    "search",
    "transition",
    "update_resource",
    "versions",
    "visible_codes",
]

TOPIC = "catalog.resource.changed"
SEQUENCE_DIGITS = 6
SNAPSHOT_FIELDS = (
    "name",
    "class_code",
    "provider_id",
    "summary",
    "format",
    "share_type",
    "share_condition",
    "share_method",
    "share_basis",
    "open_type",
    "open_condition",
    "update_cycle",
    "published_on",
    "keywords",
    "districts",
    "related_codes",
    "key_fields",
)
# action → (statuses it leaves, status it reaches)
ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "submit": (("draft", "rejected"), "submitted"),
    "confirm": (("submitted",), "confirmed"),
    "reject": (("submitted",), "rejected"),
    "publish": (("confirmed",), "published"),
    "withdraw": (("published",), "confirmed"),
}
BUREAU_ACTIONS = frozenset({"confirm", "reject", "withdraw"})

# --------------------------------------------------------------------------- events

_PENDING = "cityos_catalog_events"


@event.listens_for(Session, "after_commit")
def _publish_pending(session: Session) -> None:
    if session.in_nested_transaction():
        return
    for bus, topic, payload in session.info.pop(_PENDING, []):
        bus.publish(topic, payload)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)


def _emit(session: Session, bus: Bus | None, resource: Resource, action: str) -> None:
    """Publish after the transaction commits, so that handlers see the change."""
    if bus is None:
        return
    payload = {
        "resource_id": resource.id,
        "action": action,
        "code": resource.code,
        "status": resource.status,
    }
    session.info.setdefault(_PENDING, []).append((bus, TOPIC, payload))


# --------------------------------------------------------------------------- helpers


def _jsonable(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _snapshot(resource: Resource, items: list[dict[str, Any]]) -> dict[str, Any]:
    snap = {key: _jsonable(getattr(resource, key)) for key in SNAPSHOT_FIELDS}
    snap.update(code=resource.code, status=resource.status, items=items)
    return snap


def _record_version(
    session: Session,
    resource: Resource,
    action: str,
    actor: Principal | None,
    changes: dict[str, Any],
    comment: str = "",
) -> ResourceVersion:
    version = ResourceVersion(
        resource_id=resource.id,
        version=resource.version,
        action=action,
        actor_id=actor.user_id if actor else None,
        actor_name=(actor.display_name or actor.username) if actor else None,
        at=utcnow(),
        changes=changes,
        comment=comment,
    )
    session.add(version)
    return version


def _next_code(session: Session, class_code: str) -> str:
    prefix = f"{class_code}-"
    last = session.scalar(
        select(func.max(Resource.code)).where(
            Resource.class_code == class_code, Resource.code.like(f"{prefix}%")
        )
    )
    number = 0
    if last and last[len(prefix) :].isdigit():
        number = int(last[len(prefix) :])
    return f"{prefix}{number + 1:0{SEQUENCE_DIGITS}d}"


def _insert_with_code(session: Session, resource: Resource) -> None:
    """Give the resource the next free code of its class; retries when a concurrent create won."""
    for _attempt in range(20):
        resource.code = _next_code(session, resource.class_code)
        try:
            with session.begin_nested():
                session.add(resource)
                session.flush()
            return
        except IntegrityError:
            continue
    raise conflict("code_conflict", "Could not allocate a resource code; try again.")


def _write_items(session: Session, resource: Resource, items: list[dict[str, Any]]) -> None:
    """Replace the items, keeping the rows (and ids) of fields that stay."""
    existing = {i.field: i for i in get_items(session, resource.id)}
    wanted = {i["field"] for i in items}
    for name, old in existing.items():
        if name not in wanted:
            session.delete(old)
    session.flush()
    for position, item in enumerate(items):
        row = existing.get(item["field"])
        if row is None:
            row = ResourceItem(resource_id=resource.id, field=item["field"])
            session.add(row)
        row.position = position
        for key, value in item.items():
            if key != "field":
                setattr(row, key, value)
    session.flush()


def _today() -> date:
    return datetime.now(DISPLAY_TZ).date()


# --------------------------------------------------------------------------- reads


def get_resource_internal(session: Session, resource_id: str) -> Resource | None:
    """By id, without a visibility check (for other modules' internal use)."""
    return session.get(Resource, resource_id)


def get_resources_internal(session: Session, resource_ids: list[str]) -> dict[str, Resource]:
    """By ids, in one query, without a visibility check (for other modules' internal use)."""
    if not resource_ids:
        return {}
    found = session.scalars(select(Resource).where(Resource.id.in_(resource_ids)))
    return {r.id: r for r in found}


def get_resource(session: Session, ident: str, principal: Principal) -> Resource:
    """By id or code; 404 (never 403) when the principal may not see it."""
    resource = session.get(Resource, ident) or session.scalar(
        select(Resource).where(Resource.code == ident)
    )
    if resource is None or not policy.can_view_metadata(principal, resource):
        raise not_found("resource", ident)
    return resource


def get_items(session: Session, resource_id: str) -> list[ResourceItem]:
    """The 信息项 of a resource by position (no visibility check: internal use)."""
    return list(
        session.scalars(
            select(ResourceItem)
            .where(ResourceItem.resource_id == resource_id)
            .order_by(ResourceItem.position, ResourceItem.field)
        )
    )


def items_for(session: Session, resource_ids: list[str]) -> dict[str, list[ResourceItem]]:
    out: dict[str, list[ResourceItem]] = {rid: [] for rid in resource_ids}
    if resource_ids:
        rows = session.scalars(
            select(ResourceItem)
            .where(ResourceItem.resource_id.in_(resource_ids))
            .order_by(ResourceItem.resource_id, ResourceItem.position)
        )
        for item in rows:
            out[item.resource_id].append(item)
    return out


def versions(session: Session, resource_id: str) -> list[ResourceVersion]:
    """Newest first."""
    return list(
        session.scalars(
            select(ResourceVersion)
            .where(ResourceVersion.resource_id == resource_id)
            .order_by(ResourceVersion.at.desc(), ResourceVersion.version.desc())
        )
    )


def _editable(session: Session, resource_id: str, actor: Principal) -> Resource:
    resource = get_resource(session, resource_id, actor)
    if not policy.can_edit(actor, resource):
        raise forbidden("Only the provider's data officers may change this resource.")
    return resource


# --------------------------------------------------------------------------- writes


def create_resource(
    session: Session, data: ResourceIn, actor: Principal, *, bus: Bus | None = None
) -> Resource:
    """Catalogue a new resource (status draft, version 1) with the next code of its class."""
    values = normalise(data.model_dump())
    validate(session, values, actor)
    items = values.pop("items")
    now = utcnow()
    resource = Resource(
        **values,
        status="draft",
        version=1,
        created_by=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    _insert_with_code(session, resource)
    _write_items(session, resource, items)
    index_resource(session, resource, get_items(session, resource.id))
    _record_version(session, resource, "create", actor, _snapshot(resource, items))
    audit(session, actor, "catalog.resource.create", "resource", resource.id, code=resource.code)
    bump(session)
    _emit(session, bus, resource, "create")
    return resource


def update_resource(
    session: Session,
    resource_id: str,
    patch: ResourcePatch,
    actor: Principal,
    *,
    bus: Bus | None = None,
) -> Resource:
    """Change metadata; records ``{field: [old, new]}`` for the fields that really changed."""
    resource = _editable(session, resource_id, actor)
    given = patch.model_dump(exclude_unset=True)
    given = {k: v for k, v in given.items() if v is not None or k == "published_on"}
    if patch.items is not None:  # exclude_unset also dropped the items' defaults
        given["items"] = [item.model_dump() for item in patch.items]
    old_items = [item_dict(i) for i in get_items(session, resource.id)]
    current = {key: getattr(resource, key) for key in SNAPSHOT_FIELDS}
    current["items"] = old_items
    values = normalise({**current, **given})
    validate(session, values, actor)
    changes: dict[str, list[Any]] = {}
    for key in given:
        old, new = current[key], values[key]
        if _jsonable(old) != _jsonable(new):
            changes[key] = [_jsonable(old), _jsonable(new)]
    if not changes:
        return resource
    if "class_code" in changes and resource.status not in ("draft", "rejected"):
        raise conflict(
            "class_locked",
            "The class of a resource can change only while it is a draft or rejected.",
        )
    new_items = values.pop("items")
    for key in SNAPSHOT_FIELDS:
        if key in changes:
            setattr(resource, key, values[key])
    if "class_code" in changes:
        old_code = resource.code
        _insert_with_code(session, resource)
        changes["code"] = [old_code, resource.code]
    if "items" in changes:
        _write_items(session, resource, new_items)
    resource.version += 1
    resource.updated_at = utcnow()
    session.flush()
    index_resource(session, resource, get_items(session, resource.id))
    _record_version(session, resource, "update", actor, changes)
    audit(
        session,
        actor,
        "catalog.resource.update",
        "resource",
        resource.id,
        code=resource.code,
        fields=sorted(changes),
    )
    bump(session)
    _emit(session, bus, resource, "update")
    return resource


def allowed_actions(principal: Principal, resource: Resource) -> list[str]:
    """The workflow actions this principal may take on the resource now."""
    out = []
    for action, (sources, _target) in ACTIONS.items():
        if resource.status not in sources:
            continue
        if action in BUREAU_ACTIONS:
            if policy.can_review(principal):
                out.append(action)
        elif policy.can_edit(principal, resource):
            out.append(action)
    return out


def transition(
    session: Session,
    resource_id: str,
    action: str,
    actor: Principal,
    comment: str = "",
    *,
    bus: Bus | None = None,
) -> Resource:
    """submit / confirm / reject / publish / withdraw; 409 ``illegal_transition`` otherwise."""
    if action not in ACTIONS:
        raise ProblemError(
            404, "unknown_action", "Unknown workflow action: {action}", action=action
        )
    resource = get_resource(session, resource_id, actor)
    if action in BUREAU_ACTIONS:
        if not policy.can_review(actor):
            raise forbidden("Only the big-data bureau confirms, rejects or withdraws resources.")
    elif not policy.can_edit(actor, resource):
        raise forbidden("Only the provider's data officers may change this resource.")
    sources, target = ACTIONS[action]
    current = resource.status
    if current not in sources:
        from cityos.catalog.labels import ACTION_BUTTON, label

        problem = conflict(
            "illegal_transition",
            "Cannot {action}: the resource is {current} ({current_code}) and {action} moves "
            "it from {sources} to {target} ({target_code}).",
            action=gettext(ACTION_BUTTON[action]),
            current=label("status", current),
            current_code=current,
            sources=", ".join(label("status", s) for s in sources),
            target=label("status", target),
            target_code=target,
        )
        problem.errors = [
            {
                "field": "status",
                "code": "illegal_transition",
                "message": problem.detail,
                "from": current,
                "to": target,
            }
        ]
        raise problem
    comment = (comment or "").strip()
    if action == "reject" and not comment:
        raise field_error(
            "comment_required", "comment", lazy("Say why the resource is rejected (a comment).")
        )
    changes: dict[str, Any] = {"status": [current, target]}
    resource.status = target
    if action in ("confirm", "reject"):
        resource.review_comment = comment
    if action == "publish" and resource.published_on is None:
        resource.published_on = _today()
        changes["published_on"] = [None, resource.published_on.isoformat()]
    resource.updated_at = utcnow()
    _record_version(session, resource, action, actor, changes, comment)
    audit(
        session,
        actor,
        f"catalog.resource.{action}",
        "resource",
        resource.id,
        code=resource.code,
        status=[current, target],
        comment=comment,
    )
    bump(session)
    _emit(session, bus, resource, action)
    return resource


# --------------------------------------------------------------------------- grades (分级)


def record_grade_proposals(
    session: Session,
    resource_id: str,
    proposals: dict[str, dict[str, Any]],
    resource_proposal: Callable[[list[ResourceItem]], str],
) -> list[str]:
    """Store a classification scan's proposal per item (``detected``, ``proposed_grade``,
    ``pi_type``); returns the fields now awaiting confirmation. ``resource_proposal`` gives
    the resource's suggestion from its (updated) items.

    A confirmed item keeps its grade and type: it goes back to ``proposed`` only when the scan
    proposes another grade. An unconfirmed item also takes the detected type. The resource goes
    back to ``proposed`` when an item does or the resource proposal is above its grade."""
    from cityos.protection.grades import grade_rank

    resource = session.get(Resource, resource_id)
    if resource is None:
        raise not_found("resource", resource_id)
    pending = []
    items = get_items(session, resource_id)
    for item in items:
        proposal = proposals.get(item.field)
        if proposal is None:
            continue
        item.detected = list(proposal.get("detected") or [])
        item.proposed_grade = proposal["proposed_grade"]
        if item.grade_status != "confirmed":
            item.pi_type = proposal.get("pi_type")
        elif item.proposed_grade != item.grade:
            item.grade_status = "proposed"
        if item.grade_status == "proposed":
            pending.append(item.field)
    above = grade_rank(resource_proposal(items)) > grade_rank(resource.grade)
    if resource.grade_status == "confirmed" and (pending or above):
        resource.grade_status = "proposed"
    session.flush()
    bump(session)
    return pending


def set_grades(
    session: Session,
    resource: Resource,
    items: dict[str, dict[str, Any]],
    grade: str,
    actor: Principal,
    comment: str = "",
) -> dict[str, list[Any]]:
    """Confirm the grades of a resource and its items (a reviewer's decision, validated by
    ``cityos.protection.review``): ``items`` maps field → {grade, pi_type, sensitivity}; every
    item and the resource become ``confirmed``. Records a version; returns the changes."""
    changes: dict[str, list[Any]] = {}
    if resource.grade != grade:
        changes["grade"] = [resource.grade, grade]
    for item in get_items(session, resource.id):
        wanted = items.get(item.field, {})
        old = (item.grade, item.pi_type, item.sensitivity)
        item.grade = wanted.get("grade", item.grade)
        item.pi_type = wanted.get("pi_type", item.pi_type)
        item.sensitivity = wanted.get("sensitivity", item.sensitivity)
        item.grade_status = "confirmed"
        new = (item.grade, item.pi_type, item.sensitivity)
        if old != new:
            changes[f"{item.name}（{item.field}）"] = [
                " / ".join(str(v or "—") for v in old),
                " / ".join(str(v or "—") for v in new),
            ]
    resource.grade = grade
    resource.grade_status = "confirmed"
    resource.version += 1
    resource.updated_at = utcnow()
    session.flush()
    _record_version(session, resource, "grade", actor, changes, comment)
    bump(session)
    return changes
