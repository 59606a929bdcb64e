"""Affected data subjects of an incident: the people in the records its evidence returned.

The evidence audit records carry ``resource_id`` and ``row_ids`` (the ``_id`` of every record
returned). Those rows are read back from the resource's data table
(``cityos.datastore.lookup.rows_by_ids``) and each person is listed with their name and a
masked ID number and mobile number (``cityos.protection.masking``). Which item holds the name,
the ID number or the phone comes from the catalogue (the item's personal-information type, else
the type a scan detected, else its Chinese name).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.audit.models import AuditRecord
from cityos.core.db import Database
from cityos.core.i18n import gettext
from cityos.incidents.models import Incident, IncidentEvidence
from cityos.protection.masking import mask

ROLES = ("name", "id_number", "phone")
ID_TYPES = ("id_card", "passport", "permit")
NAME_CUES = ("姓名", "名字", "联系人", "户主", "申请人", "当事人")
ID_CUES = ("身份证", "证件号", "公民身份号码")
PHONE_CUES = ("手机", "电话", "联系方式")
EVIDENCE_BATCH = 1_000


@dataclass
class Subject:
    name: str
    id_number: str  # masked
    phone: str  # masked
    resource_id: str
    row_id: int


@dataclass
class SubjectList:
    subjects: list[Subject] = field(default_factory=list)
    records: int = 0  # records returned by the evidence calls
    rows_listed: int = 0  # of those, found by their _id
    rows_unknown: int = 0  # returned without row ids, or no longer stored
    resources: list[str] = field(default_factory=list)
    person_fields: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.subjects)


@dataclass
class EvidenceSummary:
    rows_by_resource: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    items_by_resource: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    records: int = 0  # records returned by the evidence calls
    without_ids: int = 0  # of those, returned without their row ids


def summarize_evidence(session: Session, incident: Incident) -> EvidenceSummary:
    """Walk the evidence records' details once: row ids and items per resource, records."""
    out = EvidenceSummary()
    last = -1
    while True:
        batch = session.execute(
            select(AuditRecord.leaf_index, AuditRecord.detail_json)
            .join(IncidentEvidence, IncidentEvidence.audit_id == AuditRecord.id)
            .where(IncidentEvidence.incident_id == incident.id, AuditRecord.leaf_index > last)
            .order_by(AuditRecord.leaf_index)
            .limit(EVIDENCE_BATCH)
        ).all()
        if not batch:
            break
        for leaf_index, detail_json in batch:
            last = int(leaf_index)
            detail = _detail(detail_json)
            rows = _int(detail.get("rows"))
            ids = [i for i in (detail.get("row_ids") or []) if isinstance(i, int)]
            out.records += rows
            out.without_ids += max(0, rows - len(ids))
            resource_id = str(detail.get("resource_id") or incident.resource_id or "")
            if not resource_id:
                continue
            if ids:
                out.rows_by_resource[resource_id].update(ids)
            items = detail.get("items") or []
            if rows and isinstance(items, list):
                out.items_by_resource[resource_id].update(str(i) for i in items)
    return out


def _detail(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int:
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        return 0


def person_fields(session: Session, resource_id: str) -> dict[str, str]:
    """role (name / id_number / phone) → field of the resource holding it."""
    from cityos.catalog.services import get_items

    found: dict[str, str] = {}
    for item in get_items(session, resource_id):
        types = [item.pi_type] if item.pi_type else []
        types += [str(d.get("type")) for d in (item.detected or []) if isinstance(d, dict)]
        label = item.name or ""
        role = None
        if "name" in types[:1] or (not types and any(c in label for c in NAME_CUES)):
            role = "name"
        elif (types and types[0] in ID_TYPES) or (not types and any(c in label for c in ID_CUES)):
            role = "id_number"
        elif "mobile" in types[:1] or (not types and any(c in label for c in PHONE_CUES)):
            role = "phone"
        if role and role not in found:
            found[role] = item.field
    return found


def affected_subjects(db: Database, session: Session, incident: Incident) -> SubjectList:
    """Everyone in the records the incident's evidence calls returned (distinct by ID number,
    else by row)."""
    from cityos.datastore.lookup import rows_by_ids

    summary = summarize_evidence(session, incident)
    by_resource = summary.rows_by_resource
    out = SubjectList(
        records=summary.records, rows_unknown=summary.without_ids, resources=sorted(by_resource)
    )
    seen: set[tuple[str, ...]] = set()
    for resource_id in sorted(by_resource):
        fields = person_fields(session, resource_id)
        out.person_fields[resource_id] = fields
        ids = by_resource[resource_id]
        rows = rows_by_ids(db, resource_id, ids, list(fields.values())) if fields else []
        out.rows_listed += len(rows)
        out.rows_unknown += len(ids) - len(rows) if fields else 0
        for row in rows:
            subject = _subject(resource_id, row, fields)
            raw_id = str(row.get(fields.get("id_number", ""), "") or "").strip().upper()
            key = ("id", raw_id) if raw_id else ("row", resource_id, str(subject.row_id))
            if key not in seen:
                seen.add(key)
                out.subjects.append(subject)
    return out


def _subject(resource_id: str, row: dict[str, Any], fields: dict[str, str]) -> Subject:
    def value(role: str) -> str:
        name = fields.get(role)
        v = row.get(name) if name else None
        return "" if v is None else str(v).strip()

    id_number, phone = value("id_number"), value("phone")
    return Subject(
        name=value("name"),
        id_number=mask("id_card", id_number) if id_number else "",
        phone=mask("mobile", phone) if phone else "",
        resource_id=resource_id,
        row_id=int(row.get("_id") or 0),
    )


def csv_lines(subjects: SubjectList, resource_codes: dict[str, str]) -> Iterator[bytes]:
    """The list as CSV (UTF-8 with BOM for Excel): masked values and where each row is."""
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(
        [
            gettext("Full name"),
            gettext("ID number (masked)"),
            gettext("Mobile number (masked)"),
            gettext("Resource code"),
            gettext("Row id"),
        ]
    )
    yield b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8")
    for s in subjects.subjects:
        buf.seek(0)
        buf.truncate()
        writer.writerow(
            [
                s.name,
                s.id_number,
                s.phone,
                resource_codes.get(s.resource_id, s.resource_id),
                s.row_id,
            ]
        )
        yield buf.getvalue().encode("utf-8")
