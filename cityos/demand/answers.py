"""The department's answer, the bureau's assignment, and fulfilment when the data is open.

Answer (only from ``open``; officers of the demand's department or the bureau):
- ``accepted`` with a planned date (today or later, Asia/Shanghai) and optionally the dataset
  that will fulfil it;
- ``available`` with the code of a dataset of the open catalogue;
- ``refused`` with a reason.
An accepted demand whose dataset is (or becomes) published as open data is ``fulfilled``; the
catalogue's ``catalog.resource.changed`` event triggers it (:func:`install`). The requester and
every voter are notified of the answer and of the fulfilment.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.audit.services import record as audit
from cityos.auth.principal import ANONYMOUS, Principal
from cityos.catalog import services as catalog
from cityos.catalog.models import Resource
from cityos.core.bus import Event
from cityos.core.db import utcnow
from cityos.core.errors import ProblemError, conflict, forbidden, invalid
from cityos.core.i18n import DISPLAY_TZ, lazy
from cityos.demand import services
from cityos.demand.models import Demand
from cityos.demand.schemas import AnswerIn
from cityos.directory import services as directory
from cityos.notify import services as notify

log = logging.getLogger(__name__)
CATALOG_TOPIC = "catalog.resource.changed"
REASON_MIN = 5

MESSAGES = {
    "accepted": lazy(
        "The department accepted the demand “{title}”; the data is planned for {planned_on}."
    ),
    "available": lazy(
        "The department answered the demand “{title}”: the data is already open as “{dataset}”."
    ),
    "refused": lazy("The department did not accept the demand “{title}”: {reason}"),
    "fulfilled": lazy(
        "The data you asked for is open: the demand “{title}” is fulfilled by “{dataset}”."
    ),
}


def _today() -> date:
    return datetime.now(DISPLAY_TZ).date()


def _open_dataset(session: Session, ident: str) -> Resource | None:
    """The dataset when the open catalogue (what anonymous visitors see) has it."""
    try:
        return catalog.get_resource(session, ident, ANONYMOUS)
    except ProblemError:
        return None


def _visible_dataset(session: Session, ident: str, actor: Principal) -> Resource:
    try:
        return catalog.get_resource(session, ident, actor)
    except ProblemError as exc:
        raise invalid("unknown_dataset", "Unknown dataset: {dataset}", dataset=ident) from exc


def _recipients(session: Session, demand: Demand) -> list[str]:
    return [demand.requester_id, *services.voter_ids(session, demand.id)]


def _notify(session: Session, demand: Demand, kind: str, **params: str) -> int:
    return notify.notify(
        session,
        _recipients(session, demand),
        kind=f"demand.{kind}",
        message=MESSAGES[kind],
        params={"title": demand.title, **params},
        link=f"/demands/{demand.id}",
    )


def _check_open(demand: Demand) -> None:
    if demand.status != "open":
        raise conflict(
            "already_answered",
            "This demand was already answered; only a demand open for support can be answered "
            "or assigned.",
        )


def answer(session: Session, actor: Principal, demand_id: str, data: AnswerIn) -> Demand:
    """Record the department's answer; 403 for others, 409 when not open, 422 when incomplete."""
    demand = services.get(session, demand_id)
    if not services.can_answer(actor, demand):
        raise forbidden(
            "Only the data officers of the department in charge, or the bureau, may answer."
        )
    _check_open(demand)
    text = data.text.strip()
    if data.kind == "accepted":
        resource = _accept(session, actor, demand, data)
    elif data.kind == "available":
        resource = _available(session, data)
    else:
        if len(text) < REASON_MIN:
            raise invalid(
                "reason_required",
                "Give the reason for not accepting the demand (at least {n} characters).",
                n=REASON_MIN,
            )
        resource = None
    demand.status = data.kind
    demand.answer = text
    demand.answered_at = utcnow()
    demand.answered_by = actor.user_id
    demand.planned_on = data.planned_on if data.kind == "accepted" else None
    _link(demand, resource)
    session.flush()
    audit(session, actor, "demand.answer", "demand", demand.id, answer=data.kind)
    _notify_answer(session, demand, resource)
    if data.kind == "accepted" and resource is not None and _open_dataset(session, resource.id):
        fulfil(session, demand, resource)
    return demand


def _accept(session: Session, actor: Principal, demand: Demand, data: AnswerIn) -> Resource | None:
    if data.planned_on is None:
        raise invalid("planned_date_required", "An accepted demand needs a planned date.")
    if data.planned_on < _today():
        raise invalid("planned_date_past", "The planned date must be today or later.")
    ident = data.resource.strip()
    return _visible_dataset(session, ident, actor) if ident else None


def _available(session: Session, data: AnswerIn) -> Resource:
    ident = data.resource.strip()
    if not ident:
        raise invalid(
            "dataset_required", "Give the code of the open dataset that already has this data."
        )
    resource = _open_dataset(session, ident)
    if resource is None:
        raise invalid(
            "not_open_dataset", "{dataset} is not a dataset of the open catalogue.", dataset=ident
        )
    return resource


def _link(demand: Demand, resource: Resource | None) -> None:
    demand.resource_id = resource.id if resource else None
    demand.resource_code = resource.code if resource else ""


def _notify_answer(session: Session, demand: Demand, resource: Resource | None) -> None:
    if demand.status == "accepted":
        planned = demand.planned_on.isoformat() if demand.planned_on else ""
        _notify(session, demand, "accepted", planned_on=planned)
    elif demand.status == "available" and resource is not None:
        _notify(session, demand, "available", dataset=resource.name)
    elif demand.status == "refused":
        _notify(session, demand, "refused", reason=demand.answer)


def link_dataset(session: Session, actor: Principal, demand_id: str, ident: str) -> Demand:
    """Link the dataset that will fulfil an accepted demand (fulfilled at once when it is open)."""
    demand = services.get(session, demand_id)
    if not services.can_answer(actor, demand):
        raise forbidden(
            "Only the data officers of the department in charge, or the bureau, may answer."
        )
    if demand.status != "accepted":
        raise conflict("not_accepted", "Only an accepted demand waits for a dataset to be linked.")
    resource = _visible_dataset(session, ident.strip(), actor)
    _link(demand, resource)
    session.flush()
    audit(session, actor, "demand.link", "demand", demand.id, resource_id=resource.id)
    if _open_dataset(session, resource.id):
        fulfil(session, demand, resource)
    return demand


def assign(session: Session, actor: Principal, demand_id: str, org_id: str) -> Demand:
    """The bureau (re)assigns the department in charge of an open demand."""
    if not actor.is_admin:
        raise forbidden("Only the bureau assigns demands to departments.")
    demand = services.get(session, demand_id)
    _check_open(demand)
    try:
        org = directory.get_organisation(session, org_id)
    except ProblemError as exc:
        raise invalid("unknown_department", "Unknown department: {org}", org=org_id) from exc
    demand.org_id = org.id
    session.flush()
    audit(session, actor, "demand.assign", "demand", demand.id, org_id=org.id)
    return demand


# ----------------------------------------------------------------------------- fulfilment


def fulfil(session: Session, demand: Demand, resource: Resource) -> None:
    demand.status = "fulfilled"
    demand.fulfilled_at = utcnow()
    session.flush()
    audit(session, None, "demand.fulfil", "demand", demand.id, resource_id=resource.id)
    _notify(session, demand, "fulfilled", dataset=resource.name)


def fulfil_for_resource(session: Session, resource_id: str) -> list[Demand]:
    """Every accepted demand linked to the dataset becomes fulfilled once it is open data."""
    resource = _open_dataset(session, resource_id)
    if resource is None:
        return []
    query = select(Demand).where(Demand.resource_id == resource.id, Demand.status == "accepted")
    demands = list(session.scalars(query))
    for demand in demands:
        fulfil(session, demand, resource)
    return demands


def install(app: FastAPI) -> None:
    """Listen to the catalogue: a dataset published as open data fulfils its demands."""
    db = app.state.db

    def on_change(event: Event) -> None:
        resource_id = str(event.payload.get("resource_id") or "")
        if not resource_id or event.payload.get("status") != "published":
            return
        with db.session() as session:
            done = fulfil_for_resource(session, resource_id)
        if done:
            log.info("dataset %s fulfils %d demand(s)", resource_id, len(done))

    app.state.bus.subscribe(CATALOG_TOPIC, on_change)
