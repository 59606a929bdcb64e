"""Showcase JSON API under /api/v1/showcase (tag ``showcase``).

Reading approved entries is public; submitting, editing and withdrawing need a signed-in user
(their own entries); reviewing is the bureau's (admin).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from cityos.auth.access import authenticated, public, roles
from cityos.auth.principal import Principal
from cityos.core.errors import unauthenticated
from cityos.showcase import services
from cityos.showcase.models import ShowcaseApp
from cityos.showcase.schemas import (
    DatasetRef,
    ReviewIn,
    ShowcaseIn,
    ShowcaseList,
    ShowcaseOut,
    showcase_out,
)

router = APIRouter(prefix="/showcase", tags=["showcase"])


def outs(session: Session, apps: list[ShowcaseApp]) -> list[ShowcaseOut]:
    used = services.datasets_of(session, [a.id for a in apps])
    return [
        showcase_out(
            a,
            [
                DatasetRef(code=r.code, name=r.name, url=f"/open/datasets/{r.code}")
                for r in used[a.id]
            ],
        )
        for a in apps
    ]


@router.get("", response_model=ShowcaseList)
def list_showcase(
    request: Request,
    kind: str = Query("", max_length=16, description="app, analysis, visualisation, research"),
    dataset: str = Query("", max_length=64, description="Code of an open dataset used"),
    q: str = Query("", max_length=200, description="Words in title, summary or author"),
    mine: bool = Query(False, description="Your own entries in every status (signed in)"),
    limit: int = Query(24, ge=1, le=100),
    offset: int = Query(0, ge=0),
    principal: Principal = Depends(public),
) -> ShowcaseList:
    """Approved showcase entries, newest first, filtered by kind, dataset and words; with
    ``mine=true`` the caller's own entries in every status instead."""
    with request.app.state.db.session() as session:
        if mine:
            if principal.user_id is None:
                raise unauthenticated()
            apps = services.mine(session, principal.user_id)
            return ShowcaseList(total=len(apps), apps=outs(session, apps))
        services.resolve_kind(kind)
        resource = services.resolve_dataset(session, dataset)
        total, apps = services.list_public(
            session,
            kind=kind,
            resource_id=resource.id if resource else None,
            q=q,
            limit=limit,
            offset=offset,
        )
        return ShowcaseList(total=total, apps=outs(session, apps))


@router.post("", response_model=ShowcaseOut, status_code=201)
def submit_showcase(
    data: ShowcaseIn, request: Request, principal: Principal = Depends(authenticated)
) -> ShowcaseOut:
    """Submit an app, analysis, visualisation or research built on open datasets; it waits for
    the bureau's review. Datasets that are not open → 422 naming the code."""
    with request.app.state.db.session() as session:
        app = services.submit(session, data, principal)
        return outs(session, [app])[0]


@router.get("/{app_id}", response_model=ShowcaseOut)
def get_showcase(
    app_id: str, request: Request, principal: Principal = Depends(public)
) -> ShowcaseOut:
    """One entry: approved ones for everyone, the others for their submitter and the bureau."""
    with request.app.state.db.session() as session:
        return outs(session, [services.get_app(session, app_id, principal)])[0]


@router.put("/{app_id}", response_model=ShowcaseOut)
def edit_showcase(
    app_id: str, data: ShowcaseIn, request: Request, principal: Principal = Depends(authenticated)
) -> ShowcaseOut:
    """Change your own entry while it waits for review."""
    with request.app.state.db.session() as session:
        return outs(session, [services.edit(session, app_id, data, principal)])[0]


@router.post("/{app_id}/withdraw", response_model=ShowcaseOut)
def withdraw_showcase(
    app_id: str, request: Request, principal: Principal = Depends(authenticated)
) -> ShowcaseOut:
    """Withdraw your own entry while it waits for review."""
    with request.app.state.db.session() as session:
        return outs(session, [services.withdraw(session, app_id, principal)])[0]


@router.post("/{app_id}/review", response_model=ShowcaseOut)
def review_showcase(
    app_id: str, data: ReviewIn, request: Request, principal: Principal = Depends(roles("admin"))
) -> ShowcaseOut:
    """The bureau approves or rejects (reason required) a waiting entry; the submitter is
    notified."""
    with request.app.state.db.session() as session:
        app = services.review(session, app_id, data.action, principal, data.reason)
        return outs(session, [app])[0]
