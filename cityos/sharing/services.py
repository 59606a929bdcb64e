"""Share requests (有条件共享) and subscriptions (无条件共享), Art. 13 and 国发〔2016〕51号.

A department's data officer subscribes to a 无条件共享 resource (granted at once) or asks for a
有条件共享 one: items, purpose, legal basis, scenario, period, rows, export. The provider's data
officers answer within the working-day limit (cityos.sharing.calendar): approve all, approve part
(fewer items, fewer rows, a shorter period, no export; with a reason) or refuse (with a reason).
A 不予共享 resource cannot be asked for: the answer cites its legal basis. Every write is audited
and announced on the bus once committed (cityos.sharing.events).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cityos.audit.services import record as audit
from cityos.auth.principal import Principal
from cityos.catalog import services as catalog
from cityos.catalog.models import Resource
from cityos.core.bus import Bus
from cityos.core.db import utcnow
from cityos.core.errors import ProblemError, conflict, forbidden, invalid, not_found
from cityos.core.i18n import DISPLAY_TZ
from cityos.directory.codes import DISTRICTS
from cityos.sharing import calendar, rules
from cityos.sharing.events import emit
from cityos.sharing.grants import create_grant
from cityos.sharing.labels import label
from cityos.sharing.models import REQUEST_STATUSES, Grant, ShareRequest
from cityos.sharing.schemas import ApproveIn, RequestIn, SubscribeIn

MAX_PERIOD_DAYS = 5 * 366  # a grant lasts at most five years
DISTRICT_FIELD = "district"
MAX_SCOPE_KEYS, MAX_SCOPE_VALUES = 10, 200


def today(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(DISPLAY_TZ).date()


def one_year_from(day: date) -> date:
    """The last day of a one-year period starting on ``day``."""
    try:
        return day.replace(year=day.year + 1) - timedelta(days=1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


# --------------------------------------------------------------------------- checks


def _requester_org(
    session: Session, principal: Principal, org_id: str | None, provider_id: str
) -> str:
    """The department asking: one the principal is a data officer of, a sharing participant."""
    from cityos.directory.services import get_organisation

    if org_id is None:
        mine = sorted(
            o for o in principal.officer_org_ids & principal.sharing_org_ids if o != provider_id
        )
        if not mine:
            raise forbidden(
                "Only data officers of a government department or public-service enterprise "
                "other than the provider may ask for shared data."
            )
        if len(mine) > 1:
            raise invalid(
                "requester_org_required",
                "You are a data officer of several departments: say which one asks "
                "(requester_org_id).",
            )
        return mine[0]
    if not (principal.is_officer_of(org_id) or principal.is_admin):
        raise forbidden("You are not a data officer of that department.")
    org = get_organisation(session, org_id)
    if org.kind not in ("government", "enterprise"):
        raise forbidden(
            "Only government departments and public-service enterprises take part in sharing."
        )
    if org.id == provider_id:
        raise invalid("own_resource", "A department does not need a grant for its own data.")
    return org.id


def shareable_resource(session: Session, principal: Principal, ident: str) -> Resource:
    """A published resource the principal may see; 不予共享 ones are refused with their basis."""
    resource = catalog.get_resource(session, ident, principal)
    if resource.status != "published":
        raise conflict("resource_not_published", "Only published resources can be shared.")
    if resource.share_type == "none":
        raise conflict(
            "not_shareable",
            "This resource is not shared (不予共享). Legal basis: {basis}",
            basis=resource.share_basis or "—",
        )
    return resource


def _catalogue_fields(session: Session, resource_id: str) -> list[str]:
    return [i.field for i in catalog.get_items(session, resource_id)]


def _check_items(items: list[str], allowed: list[str]) -> list[str]:
    """The items in catalogue order; 422 for an unknown or repeated one, or none at all."""
    if not items:
        raise invalid("items_required", "Choose at least one information item.")
    unknown = [i for i in items if i not in allowed]
    if unknown:
        raise invalid(
            "unknown_item",
            "Not an information item of this resource: {items}",
            items=", ".join(unknown),
        )
    if len(set(items)) != len(items):
        raise invalid("duplicate_item", "An information item is listed twice.")
    return [f for f in allowed if f in items]


def check_row_scope(scope: dict[str, list[str]], fields: list[str]) -> dict[str, list[str]]:
    """field → allowed values; fields of the resource, districts from GB/T 2260."""
    if len(scope) > MAX_SCOPE_KEYS:
        raise invalid("row_scope_too_large", "The row scope has too many fields.")
    out: dict[str, list[str]] = {}
    for key, values in scope.items():
        if key not in fields:
            raise invalid(
                "unknown_scope_field",
                "The row scope names a field the resource does not have: {field}",
                field=key,
            )
        cleaned = sorted({str(v).strip() for v in values if str(v).strip()})
        if not cleaned:
            raise invalid("empty_scope", "Give at least one value for {field}.", field=key)
        if len(cleaned) > MAX_SCOPE_VALUES:
            raise invalid("row_scope_too_large", "The row scope has too many values.")
        if key == DISTRICT_FIELD:
            bad = [v for v in cleaned if v not in DISTRICTS]
            if bad:
                raise invalid(
                    "invalid_district",
                    "Unknown district code (GB/T 2260): {district}",
                    district=", ".join(bad),
                )
        out[key] = cleaned
    return out


def _check_period(start: date, end: date, first_allowed: date) -> None:
    if start < first_allowed:
        raise invalid("period_in_past", "The period cannot start before today.")
    if end < start:
        raise invalid("bad_period", "The period ends before it starts.")
    if (end - start).days > MAX_PERIOD_DAYS:
        raise invalid("period_too_long", "A period lasts at most five years.")


def is_narrower(granted: dict[str, list[str]], asked: dict[str, list[str]]) -> bool:
    """Whether ``granted`` rows are a subset of ``asked`` rows (no scope = all rows)."""
    return all(key in granted and set(granted[key]) <= set(values) for key, values in asked.items())


# --------------------------------------------------------------------------- subscriptions


def subscribe(
    session: Session,
    principal: Principal,
    data: SubscribeIn,
    *,
    bus: Bus | None = None,
    now: datetime | None = None,
) -> Grant:
    """无条件共享: a grant of every item, at once (kind ``subscribe``, one year by default)."""
    resource = shareable_resource(session, principal, data.resource)
    if resource.share_type != "unconditional":
        raise conflict(
            "request_required",
            "This resource is shared on conditions (有条件共享): send a share request.",
        )
    consumer = _requester_org(session, principal, data.requester_org_id, resource.provider_id)
    start = today(now)
    until = data.valid_until or one_year_from(start)
    _check_period(start, until, start)
    existing = session.scalar(
        select(Grant.number).where(
            Grant.resource_id == resource.id,
            Grant.consumer_org_id == consumer,
            Grant.kind == "subscribe",
            Grant.status.in_(("active", "suspended")),
            Grant.valid_until >= start,
        )
    )
    if existing:
        raise conflict(
            "already_subscribed",
            "Your department already subscribes to this resource ({number}).",
            number=existing,
        )
    grant = create_grant(
        session,
        resource=resource,
        consumer_org_id=consumer,
        items=_catalogue_fields(session, resource.id),
        valid_from=start,
        valid_until=until,
        actor=principal,
        kind="subscribe",
        purpose=data.purpose,
        allow_export=True,  # 无条件共享 data is readable and exportable by every participant
    )
    emit(session, bus, "sharing.grant.created", grant_id=grant.id, kind="subscribe")
    return grant


# --------------------------------------------------------------------------- requests


def _number(session: Session, at: datetime) -> str:
    stem = f"GX-{at.astimezone(DISPLAY_TZ):%Y%m%d}-"
    top = session.scalar(
        select(func.max(ShareRequest.number)).where(ShareRequest.number.like(stem + "%"))
    )
    return f"{stem}{int(top[len(stem) :]) + 1 if top else 1:04d}"


def _pending_key(resource_id: str, org_id: str, service_id: str | None) -> str:
    return f"{resource_id}:{org_id}:{service_id or ''}"


def _duplicate(session: Session, key: str) -> ProblemError | None:
    number = session.scalar(select(ShareRequest.number).where(ShareRequest.pending_key == key))
    if number is None:
        return None
    return conflict(
        "duplicate_request",
        "Your department already has a pending request for this resource ({number}).",
        number=number,
    )


def _insert(session: Session, request: ShareRequest) -> None:
    """INSERT with the next number; a concurrent duplicate ends as 409, not a crash."""
    for _attempt in range(20):
        request.number = _number(session, request.submitted_at)
        try:
            with session.begin_nested():
                session.add(request)
                session.flush()
            return
        except IntegrityError:
            problem = _duplicate(session, request.pending_key or "")
            if problem is not None:
                raise problem from None
    raise conflict("number_conflict", "Could not number the request; try again.")


def create_request(
    session: Session,
    principal: Principal,
    data: RequestIn,
    *,
    bus: Bus | None = None,
    now: datetime | None = None,
    limit_days: int = 10,
) -> ShareRequest:
    """Send a share request; due at the end of the ``limit_days``-th working day after today."""
    resource = shareable_resource(session, principal, data.resource)
    requester = _requester_org(session, principal, data.requester_org_id, resource.provider_id)
    fields = _catalogue_fields(session, resource.id)
    items = _check_items(data.items, fields)
    scope = check_row_scope(data.row_scope, fields)
    if not data.purpose.strip():
        raise invalid("purpose_required", "Say what the data is for (purpose).")
    if not data.legal_basis.strip():
        raise invalid("legal_basis_required", "Cite the legal basis of the request.")
    moment = now or utcnow()
    start = data.period_start or today(moment)
    end = data.period_end or one_year_from(start)
    _check_period(start, end, today(moment))
    key = _pending_key(resource.id, requester, None)
    problem = _duplicate(session, key)
    if problem is not None:
        raise problem
    cal = calendar.load_calendar(session)
    request = ShareRequest(
        kind="request",
        resource_id=resource.id,
        provider_org_id=resource.provider_id,
        requester_org_id=requester,
        requester_user_id=principal.user_id,
        items=items,
        purpose=data.purpose.strip(),
        legal_basis=data.legal_basis.strip(),
        scenario=data.scenario.strip(),
        period_start=start,
        period_end=end,
        row_scope=scope,
        wants_export=data.wants_export,
        status="pending",
        submitted_at=moment,
        due_at=calendar.due_at(cal, moment, limit_days),
        limit_days=limit_days,
        pending_key=key,
    )
    _insert(session, request)
    audit(
        session,
        principal,
        "sharing.request.create",
        "share_request",
        request.id,
        number=request.number,
        resource_id=resource.id,
        requester_org_id=requester,
        items=items,
        row_scope=scope,
        due_at=request.due_at.isoformat(),
    )
    emit(
        session,
        bus,
        "sharing.request.created",
        request_id=request.id,
        provider_org_id=request.provider_org_id,
        requester_org_id=requester,
        due_at=request.due_at.isoformat(),
    )
    return request


def get_request(session: Session, principal: Principal, request_id: str) -> ShareRequest:
    """By id or number; 404 when the principal may not see it."""
    request = session.get(ShareRequest, request_id) or session.scalar(
        select(ShareRequest).where(ShareRequest.number == request_id)
    )
    if request is None or not rules.can_see_request(principal, request):
        raise not_found("share request", request_id)
    return request


def list_requests(
    session: Session,
    principal: Principal,
    *,
    box: str = "all",
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[ShareRequest]]:
    """Pending first by due time, then the newest; ``box``: inbox | outbox | all."""
    if box not in rules.BOXES:
        raise invalid("invalid_box", "Unknown box: {box} (inbox, outbox or all).", box=box)
    query = select(ShareRequest).where(rules.request_clause(principal, box))
    if status:
        if status not in REQUEST_STATUSES:
            raise invalid("invalid_status", "Unknown status: {value}", value=status)
        query = query.where(ShareRequest.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(
            (ShareRequest.status != "pending"),
            ShareRequest.due_at.asc(),
            ShareRequest.submitted_at.desc(),
        )
        .limit(limit)
        .offset(offset)
    )
    return total, list(rows)


def _decidable(session: Session, principal: Principal, request_id: str) -> ShareRequest:
    request = get_request(session, principal, request_id)
    if not rules.can_decide(principal, request):
        raise forbidden("Only the provider's data officers decide on a share request.")
    _still_pending(request)
    return request


def _still_pending(request: ShareRequest) -> None:
    if request.status != "pending":
        raise conflict(
            "request_decided",
            "The request is no longer pending (it is {state}).",
            state=label("request_status", request.status),
        )


def _close(
    session: Session, request: ShareRequest, status: str, principal: Principal, reason: str
) -> None:
    """Leave ``pending`` with one conditional UPDATE: of two concurrent decisions, one wins."""
    now = utcnow()
    result = session.execute(
        update(ShareRequest)
        .where(ShareRequest.id == request.id, ShareRequest.status == "pending")
        .values(
            status=status,
            decided_at=now,
            decided_by=principal.user_id,
            decision_reason=reason,
            pending_key=None,
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        session.refresh(request)
        _still_pending(request)
    session.refresh(request)


def approve(
    session: Session,
    principal: Principal,
    request_id: str,
    data: ApproveIn,
    *,
    bus: Bus | None = None,
    now: datetime | None = None,
) -> ShareRequest:
    """Approve all (no fields) or part of a request; creates the grant (kind ``request``)."""
    request = _decidable(session, principal, request_id)
    resource = session.get(Resource, request.resource_id)
    if resource is None or resource.share_type == "none":
        raise conflict(
            "not_shareable",
            "This resource is not shared (不予共享). Legal basis: {basis}",
            basis=(resource.share_basis if resource else "") or "—",
        )
    fields = _catalogue_fields(session, resource.id)
    items = _check_items(data.items if data.items is not None else request.items, fields)
    if not set(items) <= set(request.items):
        raise invalid("items_not_requested", "Grant only items that were asked for.")
    asked_scope: dict[str, list[str]] = dict(request.row_scope or {})
    scope = check_row_scope(data.row_scope, fields) if data.row_scope is not None else asked_scope
    if not is_narrower(scope, asked_scope):
        raise invalid("scope_wider", "Grant only rows that were asked for.")
    start = data.valid_from or request.period_start
    until = data.valid_until or request.period_end
    if start < request.period_start or until > request.period_end or until < start:
        raise invalid("period_not_requested", "Grant a period within the one asked for.")
    if until < today(now):
        raise invalid("period_over", "The period is over: grant a period that includes today.")
    export = request.wants_export if data.allow_export is None else data.allow_export
    if export and not request.wants_export:
        raise invalid("export_not_requested", "Export was not asked for.")
    full = (
        items == [f for f in fields if f in request.items]
        and scope == asked_scope
        and (start, until) == (request.period_start, request.period_end)
        and export == request.wants_export
    )
    reason = data.reason.strip()
    if not full and not reason:
        raise invalid("reason_required", "Say why part of the request is not granted (a reason).")
    status = "approved" if full else "partially_approved"
    _close(session, request, status, principal, reason)
    grant = create_grant(
        session,
        resource=resource,
        consumer_org_id=request.requester_org_id,
        items=items,
        valid_from=start,
        valid_until=until,
        actor=principal,
        kind="request",
        purpose=request.purpose,
        row_scope=scope,
        allow_export=export,
        request_id=request.id,
        service_id=request.service_id,
    )
    request.grant_id = grant.id
    session.flush()
    _decided(session, principal, request, bus, reason, grant_id=grant.id, items=items)
    emit(session, bus, "sharing.grant.created", grant_id=grant.id, kind="request")
    return request


def refuse(
    session: Session,
    principal: Principal,
    request_id: str,
    reason: str,
    *,
    bus: Bus | None = None,
) -> ShareRequest:
    """Refuse a request; the reason is mandatory (国发〔2016〕51号)."""
    request = _decidable(session, principal, request_id)
    reason = reason.strip()
    if not reason:
        raise invalid("reason_required", "Say why the request is refused (a reason).")
    _close(session, request, "refused", principal, reason)
    _decided(session, principal, request, bus, reason)
    return request


def _decided(
    session: Session,
    principal: Principal,
    request: ShareRequest,
    bus: Bus | None,
    reason: str,
    **detail: Any,
) -> None:
    audit(
        session,
        principal,
        f"sharing.request.{'refuse' if request.status == 'refused' else 'approve'}",
        "share_request",
        request.id,
        number=request.number,
        status=request.status,
        reason=reason,
        **detail,
    )
    emit(
        session,
        bus,
        "sharing.request.decided",
        request_id=request.id,
        status=request.status,
        requester_org_id=request.requester_org_id,
        grant_id=request.grant_id,
    )


def withdraw(
    session: Session, principal: Principal, request_id: str, *, bus: Bus | None = None
) -> ShareRequest:
    """The requesting department takes back a pending request."""
    request = get_request(session, principal, request_id)
    if not rules.can_withdraw(principal, request):
        raise forbidden("Only the requesting department withdraws its request.")
    _still_pending(request)
    _close(session, request, "withdrawn", principal, "")
    audit(
        session,
        principal,
        "sharing.request.withdraw",
        "share_request",
        request.id,
        number=request.number,
    )
    emit(session, bus, "sharing.request.withdrawn", request_id=request.id)
    return request
