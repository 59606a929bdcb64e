"""Display labels of sharing's code values (English ids, translated when shown)."""

from __future__ import annotations

from cityos.core.i18n import gettext, lazy

REQUEST_STATUS = {
    "pending": lazy("Awaiting answer"),
    "approved": lazy("Approved"),
    "partially_approved": lazy("Partly approved"),
    "refused": lazy("Refused"),
    "withdrawn": lazy("Withdrawn by the requester"),
}
GRANT_STATUS = {
    "active": lazy("Active"),
    "suspended": lazy("Suspended"),
    "revoked": lazy("Revoked"),
}
GRANT_KIND = {
    "subscribe": lazy("Subscription (unconditional sharing)"),
    "request": lazy("Request (conditional sharing)"),
}
CALENDAR_KIND = {
    "holiday": lazy("Holiday"),
    "workday": lazy("Make-up working day"),
}
WEEKDAYS = (
    lazy("Monday"),
    lazy("Tuesday"),
    lazy("Wednesday"),
    lazy("Thursday"),
    lazy("Friday"),
    lazy("Saturday"),
    lazy("Sunday"),
)
TABLES = {
    "request_status": REQUEST_STATUS,
    "grant_status": GRANT_STATUS,
    "grant_kind": GRANT_KIND,
    "calendar_kind": CALENDAR_KIND,
}


def label(table: str, value: str) -> str:
    return gettext(TABLES[table].get(value, value))


def weekday(index: int) -> str:
    """0 = Monday."""
    return gettext(WEEKDAYS[index])
