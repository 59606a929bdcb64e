"""Bureau console: organisations and users."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cityos.auth import services as auth_services
from cityos.auth.access import roles
from cityos.auth.models import ROLES
from cityos.auth.principal import Principal
from cityos.core.errors import ProblemError
from cityos.core.web import check_csrf, render
from cityos.directory import services
from cityos.directory.codes import DISTRICTS
from cityos.directory.models import ORG_KIND_LABELS, ORG_KINDS
from cityos.directory.schemas import OrganisationIn

router = APIRouter(prefix="/console")


@router.get("")
def console(_: Principal = Depends(roles("admin", "reviewer"))) -> Response:
    """Bureau console entry (redirects to the confirmation queue)."""
    return RedirectResponse("/console/queue", status_code=303)


def _org_page(request: Request, status_code: int = 200, **extra: object) -> Response:
    with request.app.state.db.session() as session:
        orgs = services.list_organisations(session)
        members = services.counts_by_org(session)
    context = {
        "orgs": orgs,
        "members": members,
        "kinds": ORG_KINDS,
        "kind_labels": ORG_KIND_LABELS,
        "districts": DISTRICTS,
        "tab": "organisations",
        **extra,
    }
    return render(request, "directory/organisations.html", context, status_code=status_code)


@router.get("/organisations", response_class=HTMLResponse)
def organisations(request: Request, _: Principal = Depends(roles("admin", "reviewer"))) -> Response:
    """Bureau console: organisations."""
    return _org_page(request)


@router.post("/organisations", response_class=HTMLResponse)
def create_organisation(
    request: Request,
    name: str = Form(...),
    uscc: str = Form(...),
    kind: str = Form("government"),
    district_code: str = Form("460100"),
    parent_id: str = Form(""),
    contact: str = Form(""),
    csrf: str = Form(""),
    actor: Principal = Depends(roles("admin")),
) -> Response:
    """Bureau console: register an organisation."""
    check_csrf(request, csrf)
    form = {
        "name": name,
        "uscc": uscc.strip().upper(),
        "kind": kind,
        "district_code": district_code,
    }
    try:
        data = OrganisationIn(**form, parent_id=parent_id or None, contact=contact)
        with request.app.state.db.session() as session:
            services.create_organisation(session, data, actor)
    except ProblemError as problem:
        return _org_page(request, status_code=problem.status, error=problem.detail, form=form)
    except ValueError as exc:
        return _org_page(request, status_code=422, error=str(exc), form=form)
    return RedirectResponse("/console/organisations", status_code=303)


def _user_page(request: Request, status_code: int = 200, **extra: object) -> Response:
    with request.app.state.db.session() as session:
        users = services.list_users(session)
        org_names = services.organisation_names(session)
    context = {"users": users, "org_names": org_names, "roles": ROLES, "tab": "users", **extra}
    return render(request, "directory/users.html", context, status_code=status_code)


@router.get("/users", response_class=HTMLResponse)
def users(request: Request, _: Principal = Depends(roles("admin", "reviewer"))) -> Response:
    """Bureau console: users and roles."""
    return _user_page(request)


@router.post("/users", response_class=HTMLResponse)
def create_user(
    request: Request,
    username: str = Form(...),
    display_name: str = Form(...),
    password: str = Form(...),
    role: str = Form("data_officer"),
    org_id: str = Form(""),
    csrf: str = Form(""),
    actor: Principal = Depends(roles("admin")),
) -> Response:
    """Bureau console: create a user with a role."""
    check_csrf(request, csrf)
    try:
        with request.app.state.db.session() as session:
            user = auth_services.create_user(
                session,
                username=username.strip(),
                display_name=display_name,
                password=password,
                actor=actor,
            )
            auth_services.add_membership(session, user, role, org_id or None, actor)
    except ProblemError as problem:
        return _user_page(request, status_code=problem.status, error=problem.detail)
    return RedirectResponse("/console/users", status_code=303)


@router.post("/users/{user_id}/active")
def set_active(
    user_id: str,
    request: Request,
    active: bool = Form(...),
    csrf: str = Form(""),
    actor: Principal = Depends(roles("admin")),
) -> Response:
    """Bureau console: enable or disable a user."""
    check_csrf(request, csrf)
    with request.app.state.db.session() as session:
        services.set_user_active(session, user_id, active, actor)
    return RedirectResponse("/console/users", status_code=303)
