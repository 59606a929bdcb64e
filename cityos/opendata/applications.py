"""有条件开放: applications to use a conditionally open dataset, reviewed by its provider.

submitted → approved (optionally for a shorter period) | rejected (with a reason);
approved → revoked (by the provider or the bureau; the key is revoked too) | expired (past its
period). On approval the applicant generates a key scoped to the dataset (shown once), valid
until the end of the approved period (Asia/Shanghai).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cityos.audit.services import record as audit
from cityos.auth.principal import Principal
from cityos.catalog import labels as catalog_labels
from cityos.catalog import services as catalog
from cityos.catalog.models import Resource
from cityos.core.db import utcnow
from cityos.core.errors import ProblemError, conflict, forbidden, invalid, not_found
from cityos.core.i18n import DISPLAY_TZ, gettext, lazy
from cityos.opendata.models import LIVE_STATUSES, OpenApplication

AGREEMENT_VERSION = "2025-1"
PURPOSE_MIN_LENGTH = 20
MAX_START_DELAY = timedelta(days=90)
STATUS_LABELS = {
    "submitted": lazy("Waiting for review"),
    "approved": lazy("Approved"),
    "rejected": lazy("Rejected"),
    "revoked": lazy("Revoked"),
    "expired": lazy("Expired"),
}


def status_label(status: str) -> str:
    return gettext(STATUS_LABELS[status]) if status in STATUS_LABELS else status


class ApplicationIn(BaseModel):
    """What an applicant submits (the dataset comes from the URL or ``resource``)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    resource: str = Field(default="", description="Dataset id or code (API only).")
    organisation: str = Field(min_length=2, max_length=200, description="申请单位.")
    contact: str = Field(min_length=3, max_length=200, description="Contact person and phone.")
    purpose: str = Field(max_length=4000, description="用途: what the data is used for.")
    scenario: str = Field(default="", max_length=4000, description="Usage scenario.")
    valid_from: date
    valid_until: date
    agree: bool = Field(default=False, description="The applicant accepts the agreement.")
    agreement_version: str = Field(default=AGREEMENT_VERSION, max_length=20)


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    valid_from: date | None = None
    valid_until: date | None = None
    comment: str = Field(default="", max_length=2000)


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(default="", max_length=2000)


def today() -> date:
    return datetime.now(DISPLAY_TZ).date()


def one_year_from(start: date) -> date:
    """The last day of a one-year period starting on ``start``."""
    try:
        return start.replace(year=start.year + 1) - timedelta(days=1)
    except ValueError:  # 29 February
        return start.replace(year=start.year + 1, day=28)


def end_of_day(day: date) -> datetime:
    """23:59:59 Asia/Shanghai of ``day``, in UTC."""
    return datetime.combine(day, time(23, 59, 59), DISPLAY_TZ).astimezone(UTC)


# --------------------------------------------------------------------------- checks


def _check_period(valid_from: date, valid_until: date) -> None:
    start = today()
    if valid_from < start:
        raise invalid("period_start_past", "The period cannot start before today.")
    if valid_from > start + MAX_START_DELAY:
        raise invalid("period_start_far", "The period must start within 90 days.")
    if valid_until < valid_from:
        raise invalid("period_reversed", "The period must end on or after its first day.")
    if valid_until > one_year_from(valid_from):
        raise invalid("period_too_long", "The period is at most one year.")


def _check_agreement(data: ApplicationIn) -> None:
    if not data.agree:
        raise invalid(
            "agreement_required", "Accept the open data use agreement to send the application."
        )
    if data.agreement_version != AGREEMENT_VERSION:
        raise invalid(
            "agreement_outdated",
            "The agreement has changed (version {version}); read it again and accept it.",
            version=AGREEMENT_VERSION,
        )


def _check_purpose(purpose: str) -> None:
    if len(purpose.strip()) < PURPOSE_MIN_LENGTH:
        raise invalid(
            "purpose_too_short",
            "Describe the purpose in at least {n} characters.",
            n=PURPOSE_MIN_LENGTH,
        )


def conditional_dataset(session: Session, ident: str, principal: Principal) -> Resource:
    """A published 有条件开放 dataset: 404 if unknown or not visible, 409 if it takes no
    applications (the message names its open type)."""
    try:
        resource = catalog.get_resource(session, ident, principal)
    except ProblemError as unknown:
        raise not_found("dataset", ident) from unknown
    if resource.status != "published" or resource.open_type != "conditional":
        open_type = catalog_labels.label("open_type", resource.open_type)
        if resource.status != "published":
            open_type = catalog_labels.label("status", resource.status)
        raise ProblemError(
            409,
            "not_conditional_open",
            "Only published datasets open on conditions (有条件开放) take applications; "
            "this one is: {open_type}.",
            open_type=open_type,
        )
    return resource


def _may_decide(principal: Principal, application: OpenApplication) -> bool:
    return principal.is_admin or principal.is_officer_of(application.provider_id)


def may_see(principal: Principal, application: OpenApplication) -> bool:
    return (
        principal.user_id == application.user_id
        or principal.sees_everything
        or application.provider_id in principal.org_ids
    )


# --------------------------------------------------------------------------- reads


def expire_due(session: Session) -> int:
    """Mark live applications whose period has passed as expired (their keys expire alone)."""
    result = session.execute(
        update(OpenApplication)
        .where(OpenApplication.status.in_(LIVE_STATUSES))
        .where(OpenApplication.valid_until < today())
        .values(status="expired")
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def get_application(session: Session, application_id: str, principal: Principal) -> OpenApplication:
    """404 for anyone but the applicant, the provider's members and the bureau."""
    application = session.get(OpenApplication, application_id)
    if application is None or not may_see(principal, application):
        raise not_found("application", application_id)
    if application.status in LIVE_STATUSES and application.valid_until < today():
        expire_due(session)
        session.refresh(application)
    return application


def list_for_user(session: Session, user_id: str) -> list[OpenApplication]:
    """The user's applications, newest first."""
    expire_due(session)
    query = (
        select(OpenApplication)
        .where(OpenApplication.user_id == user_id)
        .order_by(OpenApplication.submitted_at.desc(), OpenApplication.id)
    )
    return list(session.scalars(query))


def latest_for(session: Session, user_id: str | None, resource_id: str) -> OpenApplication | None:
    """The user's newest application for a dataset (None when anonymous or none)."""
    if not user_id:
        return None
    query = (
        select(OpenApplication)
        .where(OpenApplication.user_id == user_id, OpenApplication.resource_id == resource_id)
        .order_by(OpenApplication.submitted_at.desc(), OpenApplication.id)
        .limit(1)
    )
    return session.scalar(query)


def for_review(
    session: Session, principal: Principal, *, pending: bool, limit: int = 200
) -> list[OpenApplication]:
    """Applications to the principal's organisations (the bureau: all): pending or decided."""
    expire_due(session)
    query = select(OpenApplication)
    if not principal.sees_everything:
        officer_orgs = sorted(principal.officer_org_ids) or [""]
        query = query.where(OpenApplication.provider_id.in_(officer_orgs))
    if pending:
        query = query.where(OpenApplication.status == "submitted").order_by(
            OpenApplication.submitted_at, OpenApplication.id
        )
    else:
        query = query.where(OpenApplication.status != "submitted").order_by(
            OpenApplication.decided_at.desc(), OpenApplication.submitted_at.desc()
        )
    return list(session.scalars(query.limit(limit)))


def _live_exists(session: Session, user_id: str, resource_id: str) -> bool:
    query = select(OpenApplication.id).where(
        OpenApplication.user_id == user_id,
        OpenApplication.resource_id == resource_id,
        OpenApplication.status.in_(LIVE_STATUSES),
        OpenApplication.valid_until >= today(),
    )
    return session.scalar(query.limit(1)) is not None


# --------------------------------------------------------------------------- writes


def _notify(
    session: Session, user_ids: list[str], kind: str, message: str, link: str, **params: str
) -> None:
    from cityos.notify.services import notify

    notify(session, user_ids, kind=kind, message=message, params=params, link=link)


def _provider_officers(session: Session, provider_id: str) -> list[str]:
    from cityos.directory.services import list_users

    return [
        u["id"]
        for u in list_users(session, provider_id)
        if u["is_active"]
        and any(m.role == "data_officer" and m.org_id == provider_id for m in u["memberships"])
    ]


def submit(
    session: Session, principal: Principal, ident: str, data: ApplicationIn
) -> OpenApplication:
    """A new application by the signed-in user for a 有条件开放 dataset."""
    if principal.user_id is None:
        raise ProblemError(401, "unauthenticated", "Sign in to apply for a dataset.")
    resource = conditional_dataset(session, ident or data.resource, principal)
    _check_agreement(data)
    _check_purpose(data.purpose)
    _check_period(data.valid_from, data.valid_until)
    expire_due(session)
    if _live_exists(session, principal.user_id, resource.id):
        raise conflict(
            "application_exists",
            "You already have an application for this dataset that is pending or approved.",
        )
    application = OpenApplication(
        resource_id=resource.id,
        provider_id=resource.provider_id,
        user_id=principal.user_id,
        organisation=data.organisation,
        contact=data.contact,
        purpose=data.purpose.strip(),
        scenario=data.scenario,
        valid_from=data.valid_from,
        valid_until=data.valid_until,
        agreement_version=AGREEMENT_VERSION,
        accepted_at=utcnow(),
        status="submitted",
        submitted_at=utcnow(),
    )
    session.add(application)
    session.flush()
    audit(
        session,
        principal,
        "opendata.application.submit",
        "open_application",
        application.id,
        resource_id=resource.id,
        code=resource.code,
        organisation=data.organisation,
        valid_from=data.valid_from.isoformat(),
        valid_until=data.valid_until.isoformat(),
        agreement_version=AGREEMENT_VERSION,
    )
    _notify(
        session,
        _provider_officers(session, resource.provider_id),
        "opendata.application.submitted",
        lazy("New application to use {dataset} from {organisation}."),
        "/workbench/open-applications",
        dataset=resource.name,
        organisation=data.organisation,
    )
    return application


def _decidable(session: Session, application_id: str, principal: Principal) -> OpenApplication:
    application = session.get(OpenApplication, application_id)
    if application is None:
        raise not_found("application", application_id)
    if not _may_decide(principal, application):
        raise forbidden("Only data officers of the dataset's provider may decide applications.")
    if application.status in LIVE_STATUSES and application.valid_until < today():
        expire_due(session)
        session.refresh(application)
    return application


def _require_status(application: OpenApplication, *statuses: str) -> None:
    if application.status not in statuses:
        raise conflict(
            "application_state",
            "The application is {state}; this is not possible now.",
            state=status_label(application.status),
        )


def _dataset_name(session: Session, resource_id: str) -> str:
    resource = catalog.get_resource_internal(session, resource_id)
    return resource.name if resource else resource_id


def approve(
    session: Session, application_id: str, principal: Principal, data: ApproveIn
) -> OpenApplication:
    """Approve, for the asked period or a shorter one inside it."""
    application = _decidable(session, application_id, principal)
    _require_status(application, "submitted")
    valid_from = data.valid_from or application.valid_from
    valid_until = data.valid_until or application.valid_until
    if valid_from < application.valid_from or valid_until > application.valid_until:
        raise invalid("period_widened", "The approved period must lie within the period asked.")
    if valid_until < valid_from:
        raise invalid("period_reversed", "The period must end on or after its first day.")
    if valid_until < today():
        raise invalid("period_over", "The approved period must not be over already.")
    application.valid_from, application.valid_until = valid_from, valid_until
    _decide(session, application, principal, "approved", data.comment)
    _notify(
        session,
        [application.user_id],
        "opendata.application.approved",
        lazy("Your application for {dataset} was approved: generate your key."),
        f"/developer/applications/{application.id}",
        dataset=_dataset_name(session, application.resource_id),
    )
    return application


def reject(
    session: Session, application_id: str, principal: Principal, reason: str
) -> OpenApplication:
    """Reject with a reason (required), shown to the applicant."""
    application = _decidable(session, application_id, principal)
    _require_status(application, "submitted")
    if not reason.strip():
        raise invalid("reason_required", "Give the reason for the rejection.")
    _decide(session, application, principal, "rejected", reason)
    _notify(
        session,
        [application.user_id],
        "opendata.application.rejected",
        lazy("Your application for {dataset} was rejected: {reason}"),
        f"/developer/applications/{application.id}",
        dataset=_dataset_name(session, application.resource_id),
        reason=reason.strip(),
    )
    return application


def _decide(
    session: Session, application: OpenApplication, principal: Principal, status: str, text: str
) -> None:
    application.status = status
    application.decided_by = principal.user_id
    application.decided_at = utcnow()
    application.decision_comment = text.strip()
    session.flush()
    audit(
        session,
        principal,
        f"opendata.application.{'approve' if status == 'approved' else 'reject'}",
        "open_application",
        application.id,
        resource_id=application.resource_id,
        valid_from=application.valid_from.isoformat(),
        valid_until=application.valid_until.isoformat(),
        comment=application.decision_comment,
    )


def revoke(
    session: Session, application_id: str, principal: Principal, reason: str
) -> OpenApplication:
    """Withdraw an approval (the key stops working on its next call); a reason is required."""
    from cityos.exchange import open_keys

    application = _decidable(session, application_id, principal)
    _require_status(application, "approved")
    if not reason.strip():
        raise invalid("reason_required", "Give the reason for the revocation.")
    application.status = "revoked"
    application.revoked_by = principal.user_id
    application.revoked_at = utcnow()
    application.decision_comment = reason.strip()
    if application.key_id:
        key = open_keys.get_open_key(session, application.key_id)
        if key.status != "revoked":
            open_keys.revoke_open_key(session, application.key_id, None, reason)
    session.flush()
    audit(
        session,
        principal,
        "opendata.application.revoke",
        "open_application",
        application.id,
        resource_id=application.resource_id,
        key_id=application.key_id,
        reason=application.decision_comment,
    )
    _notify(
        session,
        [application.user_id],
        "opendata.application.revoked",
        lazy("Your approval for {dataset} was revoked: {reason}"),
        f"/developer/applications/{application.id}",
        dataset=_dataset_name(session, application.resource_id),
        reason=application.decision_comment,
    )
    return application


def generate_key(session: Session, application_id: str, principal: Principal) -> tuple[str, str]:
    """The applicant's key for an approved application: (key id, plaintext, shown once)."""
    from cityos.exchange import open_keys

    application = get_application(session, application_id, principal)
    if principal.user_id != application.user_id:
        raise forbidden("Only the applicant may generate the key of an application.")
    _require_status(application, "approved")
    if application.valid_from > today():
        raise conflict(
            "period_not_started",
            "The approved period starts on {day}; generate the key from then on.",
            day=application.valid_from.isoformat(),
        )
    if application.key_id:
        key = open_keys.get_open_key(session, application.key_id)
        if open_keys.key_status(key) == "active":
            raise conflict(
                "key_exists",
                "A key was already generated for this application; revoke it in the developer "
                "centre to generate a new one.",
            )
    resource = catalog.get_resource_internal(session, application.resource_id)
    code = resource.code if resource else application.resource_id
    row, plaintext = open_keys.issue_open_key(
        session,
        user_id=application.user_id,
        label=f"{code} 有条件开放",
        actor=principal,
        scope_resource_id=application.resource_id,
        expires_at=end_of_day(application.valid_until),
    )
    application.key_id = row.key_id
    session.flush()
    audit(
        session,
        principal,
        "opendata.application.key",
        "open_application",
        application.id,
        key_id=row.key_id,
        resource_id=application.resource_id,
    )
    return row.key_id, plaintext


def pending_count(session: Session, principal: Principal) -> int:
    """Applications waiting for the principal's organisations (the bureau: all)."""
    query = select(func.count()).where(OpenApplication.status == "submitted")
    if not principal.sees_everything:
        officer_orgs = sorted(principal.officer_org_ids) or [""]
        query = query.where(OpenApplication.provider_id.in_(officer_orgs))
    return int(session.scalar(query) or 0)
