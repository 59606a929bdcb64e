"""Requests and grants as the API and pages show them: names, the clock, usage."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from cityos.catalog import services as catalog
from cityos.core.db import utcnow
from cityos.directory.services import organisation_names
from cityos.sharing import calendar, grant_services
from cityos.sharing.models import Grant, ShareRequest
from cityos.sharing.schemas import ClockOut, GrantOut, RequestOut, UsageOut
from cityos.sharing.usage import usage_for


def clock_of(cal: calendar.WorkCalendar, request: ShareRequest, now: datetime) -> ClockOut | None:
    if request.status != "pending":
        return None
    state = calendar.clock(cal, request.submitted_at, request.due_at, now)
    return ClockOut(
        overdue=state.overdue,
        remaining_working_days=state.remaining,
        overdue_working_days=state.overdue_days,
    )


def requests_out(
    session: Session, requests: list[ShareRequest], now: datetime | None = None
) -> list[RequestOut]:
    moment = now or utcnow()
    names = organisation_names(session)
    resources = catalog.get_resources_internal(session, sorted({r.resource_id for r in requests}))
    cal = calendar.load_calendar(session)
    out = []
    for request in requests:
        item = RequestOut.model_validate(request)
        resource = resources.get(request.resource_id)
        item.resource_code = resource.code if resource else ""
        item.resource_name = resource.name if resource else ""
        item.provider_name = names.get(request.provider_org_id, "")
        item.requester_name = names.get(request.requester_org_id, "")
        item.clock = clock_of(cal, request, moment)
        out.append(item)
    return out


def grants_out(
    session: Session, grants: list[Grant], *, with_usage: bool = False
) -> list[GrantOut]:
    names = organisation_names(session)
    resources = catalog.get_resources_internal(session, sorted({g.resource_id for g in grants}))
    usage = usage_for(session, [g.id for g in grants]) if with_usage else {}
    out = []
    for grant in grants:
        item = GrantOut.model_validate(grant)
        resource = resources.get(grant.resource_id)
        item.resource_code = resource.code if resource else ""
        item.resource_name = resource.name if resource else ""
        item.provider_name = names.get(grant.provider_org_id, "")
        item.consumer_name = names.get(grant.consumer_org_id, "")
        item.usable = grant_services.is_usable(grant)
        if grant.id in usage:
            item.usage = UsageOut.model_validate(usage[grant.id], from_attributes=True)
        out.append(item)
    return out
