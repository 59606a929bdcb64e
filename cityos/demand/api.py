"""Demand API (数据需求): list, propose, read, vote, comment, answer, assign, statistics.

List, detail and statistics are public; proposing, voting and commenting need a signed-in user;
answering needs a data officer of the demand's department or the bureau; assigning, the bureau.
"""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Depends, Query, Request

from cityos.auth.access import authenticated, public, roles
from cityos.auth.principal import Principal
from cityos.demand import answers, ratelimit, services
from cityos.demand.present import Presenter, comment_out
from cityos.demand.schemas import (
    AnswerIn,
    AssignIn,
    CommentIn,
    CommentOut,
    DemandDetail,
    DemandIn,
    DemandOut,
    DemandPage,
    LinkIn,
    StatsOut,
    VoteOut,
)

router = APIRouter(prefix="/demands", tags=["demands"])


@router.get("", response_model=DemandPage)
def list_demands(
    request: Request,
    status: str | None = Query(
        None, description="open | accepted | available | refused | fulfilled"
    ),
    department: str | None = Query(None, max_length=64, description="Organisation id."),
    q: str | None = Query(None, max_length=100, description="Text in the title or description."),
    sort: str = Query("newest", description="newest | votes"),
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0),
    _: Principal = Depends(public),
) -> DemandPage:
    """Demands, newest first or by votes; an unknown status or sort is a 400."""
    filters = services.Filters(status or None, department or None, q or None, sort)
    with request.app.state.db.session() as session:
        total, rows = services.list_demands(session, filters, limit=limit, offset=offset)
        presenter = Presenter(session)
        items = [presenter.out(d) for d in rows]
    return DemandPage(total=total, limit=limit, offset=offset, items=items)


@router.post("", response_model=DemandOut, status_code=201)
def create_demand(
    request: Request, body: DemandIn, principal: Principal = Depends(authenticated)
) -> DemandOut:
    """Propose a demand (rate-limited per IP address: CITYOS_DEMAND_PER_HOUR, then 429)."""
    ratelimit.check(request)
    with request.app.state.db.session() as session:
        demand = services.create(session, principal, body)
        out = Presenter(session).out(demand)
    ratelimit.record(request)
    return out


@router.get("/stats", response_model=StatsOut)
def demand_stats(request: Request, _: Principal = Depends(public)) -> StatsOut:
    """Public statistics: totals by status, response times in working days, per department."""
    with request.app.state.db.session() as session:
        stats = services.public_stats(session, request.app.state.settings.demand_answer_days)
    return StatsOut.model_validate(asdict(stats))


@router.get("/similar", response_model=list[DemandOut])
def similar_demands(
    request: Request,
    title: str = Query(..., max_length=200),
    _: Principal = Depends(public),
) -> list[DemandOut]:
    """Demands with a similar title (the duplicate hint of the form)."""
    with request.app.state.db.session() as session:
        presenter = Presenter(session)
        return [presenter.out(d) for d in services.similar(session, title)]


@router.get("/{demand_id}", response_model=DemandDetail)
def get_demand(
    request: Request, demand_id: str, principal: Principal = Depends(public)
) -> DemandDetail:
    """One demand with its comments, its answer and whether the caller supports it."""
    with request.app.state.db.session() as session:
        demand = services.get(session, demand_id)
        base = Presenter(session).out(demand)
        body = DemandDetail(**base.model_dump())
        body.voted = services.has_voted(session, demand.id, principal.user_id)
        body.comment_list = [comment_out(c) for c in services.comments_of(session, demand.id)]
    return body


@router.post("/{demand_id}/vote", response_model=VoteOut)
def vote(
    request: Request, demand_id: str, principal: Principal = Depends(authenticated)
) -> VoteOut:
    """Support a demand (once per user: 409 the second time)."""
    with request.app.state.db.session() as session:
        demand = services.vote(session, principal, demand_id)
        out = VoteOut(votes=demand.votes, voted=True)
    return out


@router.post("/{demand_id}/unvote", response_model=VoteOut)
def unvote(
    request: Request, demand_id: str, principal: Principal = Depends(authenticated)
) -> VoteOut:
    """Withdraw one's support (409 when there was none)."""
    with request.app.state.db.session() as session:
        demand = services.unvote(session, principal, demand_id)
        out = VoteOut(votes=demand.votes, voted=False)
    return out


@router.post("/{demand_id}/comments", response_model=CommentOut, status_code=201)
def comment(
    request: Request,
    demand_id: str,
    body: CommentIn,
    principal: Principal = Depends(authenticated),
) -> CommentOut:
    """Comment; the department's officers' (and the bureau's) comments are marked official."""
    with request.app.state.db.session() as session:
        row = services.comment(session, principal, demand_id, body.text)
        out = comment_out(row)
    return out


@router.post("/{demand_id}/answer", response_model=DemandOut)
def answer(
    request: Request,
    demand_id: str,
    body: AnswerIn,
    principal: Principal = Depends(authenticated),
) -> DemandOut:
    """The department answers: accepted (planned date), available (open dataset code) or refused
    (reason). 403 for other departments, 409 when already answered, 422 when incomplete."""
    with request.app.state.db.session() as session:
        demand = answers.answer(session, principal, demand_id, body)
        out = Presenter(session).out(demand)
    return out


@router.post("/{demand_id}/link", response_model=DemandOut)
def link_dataset(
    request: Request,
    demand_id: str,
    body: LinkIn,
    principal: Principal = Depends(authenticated),
) -> DemandOut:
    """Link the dataset that will fulfil an accepted demand (fulfilled at once if already open)."""
    with request.app.state.db.session() as session:
        demand = answers.link_dataset(session, principal, demand_id, body.resource)
        out = Presenter(session).out(demand)
    return out


@router.post("/{demand_id}/assign", response_model=DemandOut)
def assign(
    request: Request,
    demand_id: str,
    body: AssignIn,
    principal: Principal = Depends(roles("admin")),
) -> DemandOut:
    """The bureau (re)assigns the department in charge of an open demand."""
    with request.app.state.db.session() as session:
        demand = answers.assign(session, principal, demand_id, body.org_id)
        out = Presenter(session).out(demand)
    return out
