"""Turn demands into API bodies (department names, response days)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cityos.demand.models import Demand, DemandComment
from cityos.demand.schemas import CommentOut, DemandOut
from cityos.demand.stats import response_days
from cityos.directory import services as directory
from cityos.sharing.calendar import WorkCalendar, load_calendar


class Presenter:
    """Loads the department names and the working-day calendar once per request."""

    def __init__(self, session: Session) -> None:
        self.names = directory.organisation_names(session)
        self._session = session
        self._calendar: WorkCalendar | None = None

    @property
    def calendar(self) -> WorkCalendar:
        if self._calendar is None:
            self._calendar = load_calendar(self._session)
        return self._calendar

    def days(self, demand: Demand) -> int | None:
        if demand.answered_at is None:
            return None
        return response_days(self.calendar, demand.created_at, demand.answered_at)

    def department(self, demand: Demand) -> str:
        return self.names.get(demand.org_id or "", "")

    def out(self, demand: Demand) -> DemandOut:
        body = DemandOut.model_validate(demand, from_attributes=True)
        body.department = self.department(demand)
        body.response_days = self.days(demand)
        return body


def comment_out(row: DemandComment) -> CommentOut:
    body = CommentOut.model_validate(row, from_attributes=True)
    body.author = row.author_name
    return body
