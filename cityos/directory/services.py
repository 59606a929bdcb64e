from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.audit.services import record as audit
from cityos.auth.models import Membership, User
from cityos.auth.principal import Principal
from cityos.core.errors import conflict, invalid, not_found
from cityos.directory.codes import DISTRICTS, uscc_problem
from cityos.directory.models import ORG_KINDS, Organisation
from cityos.directory.schemas import OrganisationIn, OrganisationPatch


def _check_fields(session: Session, data: dict[str, Any], org_id: str | None = None) -> None:
    if "uscc" in data:
        problem = uscc_problem(data["uscc"])
        if problem:
            raise invalid(
                "invalid_uscc",
                "Invalid 统一社会信用代码 {value}: {reason}",
                value=data["uscc"],
                reason=problem,
            )
    if data.get("kind") is not None and data["kind"] not in ORG_KINDS:
        raise invalid("invalid_org_kind", "Unknown organisation kind: {kind}", kind=data["kind"])
    if data.get("district_code") is not None and data["district_code"] not in DISTRICTS:
        raise invalid(
            "invalid_district",
            "Unknown district code (GB/T 2260): {district}",
            district=data["district_code"],
        )
    parent_id = data.get("parent_id")
    if parent_id:
        if parent_id == org_id:
            raise invalid("invalid_parent", "An organisation cannot be its own parent.")
        if session.get(Organisation, parent_id) is None:
            raise invalid("invalid_parent", "Unknown parent organisation: {id}", id=parent_id)


def create_organisation(
    session: Session, data: OrganisationIn, actor: Principal | None, *, is_bureau: bool = False
) -> Organisation:
    values = data.model_dump()
    _check_fields(session, values)
    if session.scalar(select(Organisation.id).where(Organisation.uscc == data.uscc)):
        raise conflict("uscc_taken", "An organisation with USCC {uscc} exists.", uscc=data.uscc)
    if session.scalar(select(Organisation.id).where(Organisation.name == data.name)):
        raise conflict("org_name_taken", "An organisation named {name} exists.", name=data.name)
    values["slug"] = data.slug or data.uscc.lower()  # a valid USCC is alphanumeric
    if session.scalar(select(Organisation.id).where(Organisation.slug == values["slug"])):
        raise conflict("slug_taken", "The short name {slug} is taken.", slug=values["slug"])
    org = Organisation(**values, is_bureau=is_bureau)
    session.add(org)
    session.flush()
    audit(session, actor, "organisation.create", "organisation", org.id, name=org.name)
    return org


def update_organisation(
    session: Session, org_id: str, patch: OrganisationPatch, actor: Principal
) -> Organisation:
    org = get_organisation(session, org_id)
    changes = patch.model_dump(exclude_unset=True)
    _check_fields(session, changes, org_id=org.id)
    for key, value in changes.items():
        setattr(org, key, value)
    audit(session, actor, "organisation.update", "organisation", org.id, changes=changes)
    return org


def get_organisation(session: Session, ident: str) -> Organisation:
    org = session.get(Organisation, ident) or session.scalar(
        select(Organisation).where((Organisation.slug == ident) | (Organisation.uscc == ident))
    )
    if org is None:
        raise not_found("organisation", ident)
    return org


def list_organisations(session: Session, kind: str | None = None) -> list[Organisation]:
    query = select(Organisation).order_by(Organisation.is_bureau.desc(), Organisation.uscc)
    if kind:
        query = query.where(Organisation.kind == kind)
    return list(session.scalars(query))


def organisation_names(session: Session) -> dict[str, str]:
    return dict(session.execute(select(Organisation.id, Organisation.name)).tuples().all())


def bureau(session: Session) -> Organisation | None:
    return session.scalar(select(Organisation).where(Organisation.is_bureau.is_(True)))


def list_users(session: Session, org_id: str | None = None) -> list[dict[str, Any]]:
    query = select(User).order_by(User.username)
    if org_id:
        query = query.where(
            User.id.in_(select(Membership.user_id).where(Membership.org_id == org_id))
        )
    users = list(session.scalars(query))
    memberships: dict[str, list[Membership]] = {}
    for m in session.scalars(
        select(Membership).where(Membership.user_id.in_([u.id for u in users]))
    ):
        memberships.setdefault(m.user_id, []).append(m)
    return [
        {
            "id": u.id,
            "username": u.username,
            "display_name": u.display_name,
            "email": u.email,
            "is_active": u.is_active,
            "memberships": memberships.get(u.id, []),
        }
        for u in users
    ]


def set_user_active(session: Session, user_id: str, active: bool, actor: Principal) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise not_found("user", user_id)
    if user.id == actor.user_id and not active:
        raise invalid("cannot_disable_self", "You cannot disable your own account.")
    user.is_active = active
    audit(session, actor, "user.activate" if active else "user.deactivate", "user", user.id)
    return user


def counts_by_org(session: Session) -> dict[str, int]:
    rows = session.execute(select(Membership.org_id, func.count()).group_by(Membership.org_id))
    return {org_id: count for org_id, count in rows.tuples() if org_id}
