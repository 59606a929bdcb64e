"""Pages of 有条件开放 applications: the form with the agreement, the applicant's list and
detail (key generation), and the provider's review queue on the workbench."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from cityos.auth.access import authenticated, roles
from cityos.auth.principal import Principal
from cityos.core.errors import ProblemError, invalid
from cityos.core.web import check_csrf, render
from cityos.opendata import applications as service
from cityos.opendata.application_api import describe
from cityos.opendata.applications import ApplicationIn, ApproveIn

router = APIRouter()
OFFICER = roles("data_officer", "admin")
DONE_MESSAGES = ("sent", "approved", "rejected", "revoked")


def _problem_of(exc: ValidationError) -> ProblemError:
    errors = [
        {"field": ".".join(str(p) for p in e.get("loc", ())), "code": str(e.get("type", ""))}
        for e in exc.errors()
    ]
    return ProblemError(422, "validation_error", "Check the highlighted fields.", errors=errors)


def _form_values(start: date | None = None) -> dict[str, Any]:
    first = start or service.today()
    return {
        "organisation": "",
        "contact": "",
        "purpose": "",
        "scenario": "",
        "valid_from": first.isoformat(),
        "valid_until": service.one_year_from(first).isoformat(),
        "agree": False,
    }


def _apply_page(
    request: Request,
    principal: Principal,
    code: str,
    values: dict[str, Any],
    problem: ProblemError | None = None,
) -> Response:
    with request.app.state.db.session() as session:
        resource = service.conditional_dataset(session, code, principal)
        latest = service.latest_for(session, principal.user_id, resource.id)
        latest_out = describe(session, [latest])[0] if latest else None
    context = {
        "resource": resource,
        "values": values,
        "problem": problem,
        "latest": latest_out,
        "agreement_version": service.AGREEMENT_VERSION,
        "purpose_min": service.PURPOSE_MIN_LENGTH,
    }
    status = problem.status if problem else 200
    return render(request, "opendata/apply.html", context, status_code=status)


@router.get("/open/datasets/{code}/apply", response_class=HTMLResponse)
def apply_form(
    code: str, request: Request, principal: Principal = Depends(authenticated)
) -> Response:
    """The application form of a 有条件开放 dataset, with the agreement to accept."""
    return _apply_page(request, principal, code, _form_values())


@router.post("/open/datasets/{code}/apply", response_class=HTMLResponse)
def apply_submit(
    code: str,
    request: Request,
    csrf: str = Form(""),
    organisation: str = Form(""),
    contact: str = Form(""),
    purpose: str = Form(""),
    scenario: str = Form(""),
    valid_from: str = Form(""),
    valid_until: str = Form(""),
    agree: str = Form(""),
    principal: Principal = Depends(authenticated),
) -> Response:
    """Send the application; the form comes back with the problem when something is wrong."""
    check_csrf(request, csrf)
    values = {
        "organisation": organisation,
        "contact": contact,
        "purpose": purpose,
        "scenario": scenario,
        "valid_from": valid_from,
        "valid_until": valid_until,
        "agree": bool(agree),
    }
    try:
        data = ApplicationIn(
            organisation=organisation,
            contact=contact,
            purpose=purpose,
            scenario=scenario,
            valid_from=valid_from,
            valid_until=valid_until,
            agree=bool(agree),
        )
        with request.app.state.db.session() as session:
            created = service.submit(session, principal, code, data)
            created_id = created.id
    except ValidationError as exc:
        return _apply_page(request, principal, code, values, _problem_of(exc))
    except ProblemError as problem:
        if problem.status not in (409, 422) or problem.code == "not_conditional_open":
            raise
        return _apply_page(request, principal, code, values, problem)
    return RedirectResponse(f"/developer/applications/{created_id}?done=sent", status_code=303)


@router.get("/developer/applications", response_class=HTMLResponse)
def my_applications(request: Request, principal: Principal = Depends(authenticated)) -> Response:
    """My 有条件开放 applications and their status."""
    with request.app.state.db.session() as session:
        rows = describe(session, service.list_for_user(session, principal.user_id or ""))
    return render(request, "opendata/applications.html", {"rows": rows})


def _detail(
    request: Request,
    principal: Principal,
    application_id: str,
    extra: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    from cityos.exchange import open_keys

    with request.app.state.db.session() as session:
        row = service.get_application(session, application_id, principal)
        key_status = None
        if row.key_id:
            key_status = open_keys.key_status(open_keys.get_open_key(session, row.key_id))
        app_out = describe(session, [row])[0]
    mine = principal.user_id == row.user_id
    context = {
        "a": app_out,
        "mine": mine,
        "key_status": key_status,
        "can_generate": mine
        and row.status == "approved"
        and key_status != "active"
        and row.valid_from <= service.today(),
        "done": request.query_params.get("done", ""),
        "key": None,
        "problem": None,
    }
    context.update(extra or {})
    return render(request, "opendata/application.html", context, status_code=status_code)


@router.get("/developer/applications/{application_id}", response_class=HTMLResponse)
def application_detail(
    application_id: str, request: Request, principal: Principal = Depends(authenticated)
) -> Response:
    """One application: what was asked, the decision, and (approved) the key generation."""
    return _detail(request, principal, application_id)


@router.post("/developer/applications/{application_id}/key", response_class=HTMLResponse)
def application_key(
    application_id: str,
    request: Request,
    csrf: str = Form(""),
    principal: Principal = Depends(authenticated),
) -> Response:
    """生成密钥: the key is shown on this response only (never stored in clear)."""
    check_csrf(request, csrf)
    try:
        with request.app.state.db.session() as session:
            key_id, plaintext = service.generate_key(session, application_id, principal)
    except ProblemError as problem:
        if problem.status != 409:
            raise
        return _detail(request, principal, application_id, {"problem": problem}, status_code=409)
    response = _detail(
        request, principal, application_id, {"key": plaintext, "key_id": key_id, "done": "key"}
    )
    response.headers["Cache-Control"] = "no-store"
    return response


# --------------------------------------------------------------------------- review


@router.get("/workbench/open-applications", response_class=HTMLResponse)
def review_queue(request: Request, principal: Principal = Depends(OFFICER)) -> Response:
    """Applications to my departments' 有条件开放 datasets: pending ones to decide, and decided."""
    with request.app.state.db.session() as session:
        pending = describe(session, service.for_review(session, principal, pending=True))
        decided = describe(session, service.for_review(session, principal, pending=False))
    context = {
        "pending": pending,
        "decided": decided,
        "done": request.query_params.get("done", ""),
        "problem": None,
        "today": service.today().isoformat(),
    }
    return render(request, "opendata/applications_review.html", context)


def _after_decision(request: Request, principal: Principal, action: Any, done: str) -> Response:
    try:
        with request.app.state.db.session() as session:
            action(session)
    except ProblemError as problem:
        if problem.status not in (409, 422):
            raise
        with request.app.state.db.session() as session:
            pending = describe(session, service.for_review(session, principal, pending=True))
            decided = describe(session, service.for_review(session, principal, pending=False))
        context = {
            "pending": pending,
            "decided": decided,
            "done": "",
            "problem": problem,
            "today": service.today().isoformat(),
        }
        return render(
            request, "opendata/applications_review.html", context, status_code=problem.status
        )
    return RedirectResponse(f"/workbench/open-applications?done={done}", status_code=303)


def _parse_day(value: str, field: str) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise invalid("bad_date", "Not a date: {field}", field=field) from None


@router.post("/workbench/open-applications/{application_id}/approve", response_class=HTMLResponse)
def review_approve(
    application_id: str,
    request: Request,
    csrf: str = Form(""),
    valid_from: str = Form(""),
    valid_until: str = Form(""),
    comment: str = Form(""),
    principal: Principal = Depends(OFFICER),
) -> Response:
    """Approve an application (optionally for a shorter period)."""
    check_csrf(request, csrf)

    def act(session: Any) -> None:
        data = ApproveIn(
            valid_from=_parse_day(valid_from, "valid_from"),
            valid_until=_parse_day(valid_until, "valid_until"),
            comment=comment[:2000],
        )
        service.approve(session, application_id, principal, data)

    return _after_decision(request, principal, act, "approved")


@router.post("/workbench/open-applications/{application_id}/reject", response_class=HTMLResponse)
def review_reject(
    application_id: str,
    request: Request,
    csrf: str = Form(""),
    reason: str = Form(""),
    principal: Principal = Depends(OFFICER),
) -> Response:
    """Reject an application with a reason."""
    check_csrf(request, csrf)
    return _after_decision(
        request,
        principal,
        lambda session: service.reject(session, application_id, principal, reason[:2000]),
        "rejected",
    )


@router.post("/workbench/open-applications/{application_id}/revoke", response_class=HTMLResponse)
def review_revoke(
    application_id: str,
    request: Request,
    csrf: str = Form(""),
    reason: str = Form(""),
    principal: Principal = Depends(OFFICER),
) -> Response:
    """Revoke an approval (and its key) with a reason."""
    check_csrf(request, csrf)
    return _after_decision(
        request,
        principal,
        lambda session: service.revoke(session, application_id, principal, reason[:2000]),
        "revoked",
    )
