"""Breach notice (告知书, to the affected people) and report (报告, to the authority).

PIPL Art. 57 and STANDARDS.md "Breach notice": a notice states the kinds of information
involved, the cause, the possible harm, the remedies taken, what people can do themselves and a
contact. The report to the 网信部门/主管部门 adds the timeline, the scale (subjects and records),
the code, grant and departments involved, the detection rule and the evidence.

Both are zh-Hans Markdown rendered from ``cityos/templates/incidents/notice.md`` and
``report.md`` (official texts, written in Chinese) with the incident's facts. The first reading
generates and keeps a draft (recorded in the timeline and audited); the bureau or a reviewer may
edit it, regenerate it from the current facts, and finalise it (then it no longer changes).
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

import jinja2
from sqlalchemy.orm import Session

from cityos.audit.services import record as audit
from cityos.auth.principal import Principal
from cityos.core.db import Database, utcnow
from cityos.core.errors import conflict, invalid
from cityos.core.i18n import DISPLAY_TZ
from cityos.incidents import services
from cityos.incidents.detection import zh
from cityos.incidents.models import (
    DOCUMENT_KINDS,
    EVENT_LABELS,
    RULE_LABELS,
    SEVERITY_LABELS,
    STATUS_LABELS,
    Incident,
)
from cityos.incidents.subjects import affected_subjects, summarize_evidence

EVIDENCE_SHOWN = 50
MAX_TEXT = 200_000


@cache
def _env() -> jinja2.Environment:
    from cityos.core.web import TEMPLATE_DIR

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR / "incidents")),
        autoescape=False,  # Markdown text; pages escape it when they show it
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["cn"] = _cn_time
    return env


def _cn_time(value: datetime | None) -> str:
    if value is None:
        return ""
    local = value.astimezone(DISPLAY_TZ)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def _names(session: Session, ids: list[str | None]) -> dict[str, str]:
    from cityos.directory.services import organisation_names

    names = organisation_names(session)
    return {i: names.get(i, i) for i in ids if i}


def _items(session: Session, items_by_resource: dict[str, set[str]]) -> list[dict[str, Any]]:
    """The items (信息项) the evidence calls returned, with their personal-information type."""
    from cityos.catalog.services import get_items

    out = []
    for resource_id in sorted(items_by_resource):
        returned = items_by_resource[resource_id]
        for item in get_items(session, resource_id):
            if item.field in returned:
                detected = [d.get("type") for d in (item.detected or []) if isinstance(d, dict)]
                out.append(
                    {
                        "name": item.name or item.field,
                        "pi_type": item.pi_type or (detected[0] if detected else None),
                    }
                )
    return out


def _resource(session: Session, resource_id: str | None) -> dict[str, str]:
    from cityos.catalog.services import get_resource_internal

    resource = get_resource_internal(session, resource_id) if resource_id else None
    if resource is None:
        return {"name": "", "code": ""}
    return {"name": resource.name, "code": resource.code}


def context(db: Database, session: Session, incident: Incident, settings: Any) -> dict[str, Any]:
    summary = summarize_evidence(session, incident)
    subjects = affected_subjects(db, session, incident)
    orgs = _names(session, [incident.provider_org_id, incident.consumer_org_id])
    events = services.timeline(session, incident.id)
    targets = services.remedy_targets(session, incident)
    items = _items(session, summary.items_by_resource)
    return {
        "i": incident,
        "rule_label": zh(RULE_LABELS[incident.rule]),
        "severity_label": zh(SEVERITY_LABELS[incident.severity]),
        "status_label": zh(STATUS_LABELS[incident.status]),
        "m": incident.metrics or {},
        "provider": orgs.get(incident.provider_org_id or "", ""),
        "consumer": orgs.get(incident.consumer_org_id or "", ""),
        "resource": _resource(session, incident.resource_id),
        "grant_number": targets.get("grant_number") or "",
        "items": items,
        "pi_types": sorted({str(i["pi_type"]) for i in items if i["pi_type"]}),
        "subjects": subjects.count,
        "records": summary.records,
        "remedies": [e for e in events if e.kind == "remedy"],
        "events": events,
        "event_label": lambda kind: zh(EVENT_LABELS.get(kind) or kind),
        "status_of": lambda status: zh(STATUS_LABELS.get(status) or status),
        "evidence": services.evidence(session, incident.id, limit=EVIDENCE_SHOWN),
        "evidence_shown": EVIDENCE_SHOWN,
        "contact": settings.incident_contact,
        "authority": settings.incident_authority,
        "reporter": settings.incident_reporter,
        "now": utcnow(),
    }


def render_document(kind: str, ctx: dict[str, Any]) -> str:
    if kind not in DOCUMENT_KINDS:
        raise invalid("bad_document", "Unknown document: {kind}", kind=str(kind)[:20])
    return _env().get_template(f"{kind}.md").render(**ctx)


def _stored(incident: Incident, kind: str) -> tuple[str, str]:
    if kind == "notice":
        return incident.notice_text, incident.notice_state
    return incident.report_text, incident.report_state


def _store(incident: Incident, kind: str, text: str, state: str) -> None:
    if kind == "notice":
        incident.notice_text, incident.notice_state = text, state
    else:
        incident.report_text, incident.report_state = text, state


def document(
    db: Database,
    session: Session,
    incident: Incident,
    kind: str,
    actor: Principal,
    settings: Any,
) -> tuple[str, str]:
    """(text, state) of the notice or report; the first reading generates and keeps a draft."""
    if kind not in DOCUMENT_KINDS:
        raise invalid("bad_document", "Unknown document: {kind}", kind=str(kind)[:20])
    text, state = _stored(incident, kind)
    if state:
        return text, state
    return generate(db, session, incident, kind, actor, settings), "draft"


def generate(
    db: Database,
    session: Session,
    incident: Incident,
    kind: str,
    actor: Principal,
    settings: Any,
) -> str:
    """(Re)generate the draft from the incident's current facts (not once it is final)."""
    if _stored(incident, kind)[1] == "final":
        raise conflict("document_final", "The document is final; it can no longer change.")
    text = render_document(kind, context(db, session, incident, settings))
    _store(incident, kind, text, "draft")
    services.add_event(session, incident, kind, actor, "", op="generated", state="draft")
    audit(
        session, actor, f"incident.{kind}.generate", "incident", incident.id, number=incident.number
    )
    return text


def save(
    session: Session, incident: Incident, kind: str, actor: Principal, text: str, final: bool
) -> tuple[str, str]:
    """Keep an edited text (the current one when ``text`` is empty) and optionally finalise it."""
    if kind not in DOCUMENT_KINDS:
        raise invalid("bad_document", "Unknown document: {kind}", kind=str(kind)[:20])
    current, state = _stored(incident, kind)
    if state == "final":
        raise conflict("document_final", "The document is final; it can no longer change.")
    text = (text or current).replace("\r\n", "\n")
    if not text.strip():
        raise invalid("document_empty", "Generate the document first, or write its text.")
    if len(text) > MAX_TEXT:
        raise invalid("document_too_long", "The text is too long.")
    new_state = "final" if final else "draft"
    _store(incident, kind, text, new_state)
    services.add_event(
        session, incident, kind, actor, "", op="finalised" if final else "edited", state=new_state
    )
    audit(
        session,
        actor,
        f"incident.{kind}.{'finalise' if final else 'edit'}",
        "incident",
        incident.id,
        number=incident.number,
    )
    return text, new_state


def update(
    db: Database,
    session: Session,
    incident: Incident,
    kind: str,
    actor: Principal,
    settings: Any,
    *,
    text: str = "",
    final: bool = False,
    regenerate: bool = False,
) -> tuple[str, str]:
    """Regenerate and/or keep an edited text and/or finalise; (text, state) afterwards."""
    if regenerate:
        generate(db, session, incident, kind, actor, settings)
        text = ""
    else:
        document(db, session, incident, kind, actor, settings)  # a draft exists from here on
    if text.strip() or final:
        return save(session, incident, kind, actor, text, final)
    return _stored(incident, kind)
