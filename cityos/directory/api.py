from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from cityos.auth import services as auth_services
from cityos.auth.access import public, roles
from cityos.auth.principal import Principal
from cityos.directory import services
from cityos.directory.schemas import (
    OrganisationIn,
    OrganisationOut,
    OrganisationPatch,
    UserIn,
    UserOut,
)

router = APIRouter(tags=["directory"])


@router.get("/organisations", response_model=list[OrganisationOut])
def list_organisations(
    request: Request, kind: str | None = None, _: Principal = Depends(public)
) -> list[OrganisationOut]:
    """List organisations, optionally by kind (government, enterprise, social)."""
    with request.app.state.db.session() as session:
        return [
            OrganisationOut.model_validate(o) for o in services.list_organisations(session, kind)
        ]


@router.get("/organisations/{ident}", response_model=OrganisationOut)
def get_organisation(
    ident: str, request: Request, _: Principal = Depends(public)
) -> OrganisationOut:
    """One organisation by id, short name or 统一社会信用代码."""
    with request.app.state.db.session() as session:
        return OrganisationOut.model_validate(services.get_organisation(session, ident))


@router.post("/organisations", response_model=OrganisationOut, status_code=201)
def create_organisation(
    body: OrganisationIn, request: Request, actor: Principal = Depends(roles("admin"))
) -> OrganisationOut:
    """Register an organisation; the USCC check character is verified (422 otherwise)."""
    with request.app.state.db.session() as session:
        return OrganisationOut.model_validate(services.create_organisation(session, body, actor))


@router.patch("/organisations/{org_id}", response_model=OrganisationOut)
def update_organisation(
    org_id: str,
    body: OrganisationPatch,
    request: Request,
    actor: Principal = Depends(roles("admin")),
) -> OrganisationOut:
    """Change an organisation (the bureau only)."""
    with request.app.state.db.session() as session:
        return OrganisationOut.model_validate(
            services.update_organisation(session, org_id, body, actor)
        )


@router.get("/users", response_model=list[UserOut])
def list_users(
    request: Request, org_id: str | None = None, _: Principal = Depends(roles("admin", "reviewer"))
) -> list[UserOut]:
    """List users with their memberships and roles."""
    with request.app.state.db.session() as session:
        return [
            UserOut.model_validate(u, from_attributes=True)
            for u in services.list_users(session, org_id)
        ]


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(
    body: UserIn, request: Request, actor: Principal = Depends(roles("admin"))
) -> UserOut:
    """Create a user with memberships (roles in organisations)."""
    with request.app.state.db.session() as session:
        user = auth_services.create_user(
            session,
            username=body.username,
            display_name=body.display_name,
            password=body.password,
            email=body.email,
            actor=actor,
        )
        for m in body.memberships:
            auth_services.add_membership(session, user, m.role, m.org_id, actor)
        (row,) = [u for u in services.list_users(session) if u["id"] == user.id]
        return UserOut.model_validate(row, from_attributes=True)
