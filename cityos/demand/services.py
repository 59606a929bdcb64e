"""Demands: propose, list, read, vote, comment; who may answer; reads other modules call.

Answers, assignment and fulfilment live in :mod:`cityos.demand.answers`, statistics in
:mod:`cityos.demand.stats` (``public_stats`` is re-exported here).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from cityos.audit.services import record as audit
from cityos.auth.principal import Principal
from cityos.core.errors import ProblemError, conflict, forbidden, invalid, not_found
from cityos.core.i18n import lazy
from cityos.demand.models import ANSWERED, STATUSES, Demand, DemandComment, DemandVote
from cityos.demand.schemas import DemandIn
from cityos.demand.stats import DemandStats, public_stats
from cityos.directory import services as directory
from cityos.notify import services as notify

__all__ = ["DemandStats", "public_stats"]

TITLE_MIN, TITLE_MAX = 5, 120
DESCRIPTION_MIN = 20
COMMENT_MIN = 2
SORTS = ("votes", "newest")
REPLIED = lazy("The department replied to your demand “{title}”.")


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    org_id: str | None = None
    q: str | None = None
    sort: str = "newest"


# ----------------------------------------------------------------------------- rights


def can_answer(principal: Principal, demand: Demand) -> bool:
    """The bureau (admin) and data officers of the demand's department."""
    return principal.is_admin or principal.is_officer_of(demand.org_id)


def is_officer(principal: Principal) -> bool:
    return principal.is_admin or bool(principal.officer_org_ids)


# ----------------------------------------------------------------------------- create


def _clean(text: str) -> str:
    return " ".join(text.split()) if "\n" not in text else text.strip()


def validate(data: DemandIn) -> None:
    """Lengths and the honeypot; messages say what to fix (422)."""
    if data.website.strip():
        raise invalid("spam_suspected", "The form was filled in automatically; it was not sent.")
    title, description = data.title.strip(), data.description.strip()
    if len(title) < TITLE_MIN:
        raise invalid("title_too_short", "The title needs at least {n} characters.", n=TITLE_MIN)
    if len(title) > TITLE_MAX:
        raise invalid("title_too_long", "The title has at most {n} characters.", n=TITLE_MAX)
    if len(description) < DESCRIPTION_MIN:
        raise invalid(
            "description_too_short",
            "Describe the data you need in at least {n} characters.",
            n=DESCRIPTION_MIN,
        )


def _department(session: Session, org_id: str | None) -> str | None:
    if not org_id:
        return None
    try:
        return directory.get_organisation(session, org_id).id
    except ProblemError as exc:
        raise invalid("unknown_department", "Unknown department: {org}", org=org_id) from exc


def create(session: Session, actor: Principal, data: DemandIn) -> Demand:
    """A signed-in user proposes a demand; it is open for support at once."""
    if actor.user_id is None:
        raise forbidden()
    validate(data)
    demand = Demand(
        title=_clean(data.title),
        description=data.description.strip(),
        fields_wanted=data.fields_wanted.strip(),
        data_format=data.data_format.strip()[:100],
        update_frequency=data.update_frequency.strip()[:100],
        scenario=data.scenario.strip(),
        contact=data.contact.strip()[:200],
        requester_id=actor.user_id,
        org_id=_department(session, data.org_id),
        status="open",
    )
    session.add(demand)
    session.flush()
    audit(session, actor, "demand.create", "demand", demand.id, org_id=demand.org_id)
    return demand


# ----------------------------------------------------------------------------- read


def get(session: Session, demand_id: str) -> Demand:
    demand = session.get(Demand, demand_id)
    if demand is None:
        raise not_found("demand", demand_id)
    return demand


def _where(filters: Filters) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if filters.status:
        if filters.status not in STATUSES:
            raise ProblemError(
                400,
                "invalid_filter",
                "Unknown status {value}; use one of: {allowed}.",
                value=filters.status,
                allowed=", ".join(STATUSES),
            )
        clauses.append(Demand.status == filters.status)
    if filters.org_id:
        clauses.append(Demand.org_id == filters.org_id)
    if filters.q:
        like = f"%{filters.q.strip()}%"
        clauses.append(or_(Demand.title.ilike(like), Demand.description.ilike(like)))
    return clauses


def list_demands(
    session: Session, filters: Filters, *, limit: int = 50, offset: int = 0
) -> tuple[int, list[Demand]]:
    """Public list: total and one page, by votes or newest first."""
    if filters.sort not in SORTS:
        raise ProblemError(
            400,
            "invalid_filter",
            "Unknown sort {value}; use one of: {allowed}.",
            value=filters.sort,
            allowed=", ".join(SORTS),
        )
    where = _where(filters)
    total = int(session.scalar(select(func.count()).select_from(Demand).where(*where)) or 0)
    order = (
        (Demand.votes.desc(), Demand.created_at.desc())
        if filters.sort == "votes"
        else (Demand.created_at.desc(), Demand.id)
    )
    rows = session.scalars(
        select(Demand).where(*where).order_by(*order).limit(limit).offset(offset)
    )
    return total, list(rows)


def status_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(Demand.status, func.count()).group_by(Demand.status)).tuples()
    counts = dict.fromkeys(STATUSES, 0)
    counts.update({status: int(n) for status, n in rows})
    return counts


def queue(session: Session, principal: Principal, *, open_only: bool = True) -> list[Demand]:
    """The demands an officer's departments answer (admin: all), oldest open first."""
    query = select(Demand)
    if not principal.is_admin:
        orgs = sorted(principal.officer_org_ids)
        if not orgs:
            return []
        query = query.where(Demand.org_id.in_(orgs))
    if open_only:
        query = query.where(Demand.status == "open")
    return list(session.scalars(query.order_by(Demand.created_at)))


def similar(session: Session, title: str, *, limit: int = 5) -> list[Demand]:
    """Demands whose titles share many character pairs with ``title`` (duplicate hint)."""
    wanted = _bigrams(title)
    if not wanted:
        return []
    scored = []
    for demand in session.scalars(select(Demand).order_by(Demand.created_at.desc()).limit(2000)):
        have = _bigrams(demand.title)
        overlap = len(wanted & have) / max(1, min(len(wanted), len(have)))
        if overlap >= 0.5:
            scored.append((overlap, demand.votes, demand))
    scored.sort(key=lambda row: (-row[0], -row[1]))
    return [row[2] for row in scored[:limit]]


def _bigrams(text: str) -> set[str]:
    compact = "".join(ch for ch in text.lower() if ch.isalnum())
    return {compact[i : i + 2] for i in range(len(compact) - 1)}


def for_resource(session: Session, resource_id: str) -> list[Demand]:
    """Demands answered by (already available) or fulfilled with this dataset."""
    query = (
        select(Demand)
        .where(Demand.resource_id == resource_id, Demand.status.in_(("available", "fulfilled")))
        .order_by(Demand.votes.desc(), Demand.created_at.desc())
    )
    return list(session.scalars(query))


def recent(session: Session, limit: int = 5) -> list[Demand]:
    """The newest demands (any status)."""
    query = select(Demand).order_by(Demand.created_at.desc(), Demand.id).limit(limit)
    return list(session.scalars(query))


def answered(demand: Demand) -> bool:
    return demand.status in ANSWERED


# ----------------------------------------------------------------------------- votes


def has_voted(session: Session, demand_id: str, user_id: str | None) -> bool:
    if user_id is None:
        return False
    query = select(DemandVote.id).where(
        DemandVote.demand_id == demand_id, DemandVote.user_id == user_id
    )
    return session.scalar(query) is not None


def voter_ids(session: Session, demand_id: str) -> list[str]:
    return list(
        session.scalars(select(DemandVote.user_id).where(DemandVote.demand_id == demand_id))
    )


def vote(session: Session, actor: Principal, demand_id: str) -> Demand:
    """Support a demand once per user (409 the second time)."""
    demand = get(session, demand_id)
    if actor.user_id is None:
        raise forbidden()
    if has_voted(session, demand.id, actor.user_id):
        raise conflict("already_voted", "You already support this demand.")
    session.add(DemandVote(demand_id=demand.id, user_id=actor.user_id))
    demand.votes += 1
    session.flush()
    audit(session, actor, "demand.vote", "demand", demand.id)
    return demand


def unvote(session: Session, actor: Principal, demand_id: str) -> Demand:
    """Withdraw one's support (409 when there was none)."""
    demand = get(session, demand_id)
    row = session.scalar(
        select(DemandVote).where(
            DemandVote.demand_id == demand.id, DemandVote.user_id == actor.user_id
        )
    )
    if row is None:
        raise conflict("not_voted", "You do not support this demand.")
    session.delete(row)
    demand.votes = max(0, demand.votes - 1)
    session.flush()
    audit(session, actor, "demand.unvote", "demand", demand.id)
    return demand


# ----------------------------------------------------------------------------- comments


def comment(session: Session, actor: Principal, demand_id: str, text: str) -> DemandComment:
    """Anyone signed in comments; a reply by the department's officers (or the bureau) is official."""
    demand = get(session, demand_id)
    if actor.user_id is None:
        raise forbidden()
    body = text.strip()
    if len(body) < COMMENT_MIN:
        raise invalid(
            "comment_too_short", "The comment needs at least {n} characters.", n=COMMENT_MIN
        )
    official = can_answer(actor, demand)
    row = DemandComment(
        demand_id=demand.id,
        user_id=actor.user_id,
        author_name=(actor.display_name or actor.username or "")[:100],
        text=body,
        official=official,
        org_id=(demand.org_id if official and actor.is_officer_of(demand.org_id) else None),
    )
    session.add(row)
    demand.comments += 1
    session.flush()
    audit(session, actor, "demand.comment", "demand", demand.id, official=official)
    if official and demand.requester_id != actor.user_id:
        notify.notify(
            session,
            [demand.requester_id],
            kind="demand.replied",
            message=REPLIED,
            params={"title": demand.title},
            link=f"/demands/{demand.id}",
        )
    return row


def comments_of(session: Session, demand_id: str) -> list[DemandComment]:
    query = (
        select(DemandComment)
        .where(DemandComment.demand_id == demand_id)
        .order_by(DemandComment.created_at, DemandComment.id)
    )
    return list(session.scalars(query))
