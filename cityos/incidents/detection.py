"""The detector: reads the audit log after the last scanned leaf, runs the rules, and opens or
updates incidents (one not-closed incident per rule + code/ip).

A run works in chunks of ``CHUNK`` leaves. Each chunk is evaluated read-only (new records, the
records around them within the rules' windows, the codes' baselines), then written in one short
transaction that first takes the scan state row (an upsert: a row lock on PostgreSQL, the write
lock on SQLite) and checks that nobody scanned the chunk meanwhile — so detector runs from the
background task, the CLI and the page can overlap without double counting.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from cityos.audit.models import AuditRecord
from cityos.audit.services import log_size
from cityos.audit.services import record as audit
from cityos.core.db import Database, utcnow
from cityos.core.i18n import DISPLAY_TZ, _current_locale, gettext, lazy, set_locale
from cityos.incidents import rules
from cityos.incidents.models import (
    Incident,
    IncidentEvent,
    IncidentEvidence,
    IncidentScanState,
    IncidentUsage,
)
from cityos.incidents.rules import Access, Config, Finding

log = logging.getLogger(__name__)

CHUNK = 5_000
IN_BATCH = 500

TITLES = {
    "volume_spike": lazy("Volume spike on authorization code {code}"),
    "offhours_export": lazy("Off-hours export with authorization code {code}"),
    "revoked_code_use": lazy("Revoked authorization code {code} still in use"),
    "expired_code_use": lazy("Expired authorization code {code} still in use"),
    "failed_codes": lazy("Repeated failed authorization codes from {ip}"),
}

_LOCK = text(
    "INSERT INTO incident_scan_state (id, last_leaf_index, runs) VALUES (1, -1, 1) "
    "ON CONFLICT (id) DO UPDATE SET runs = incident_scan_state.runs + 1 "
    "RETURNING last_leaf_index"
)


@dataclass
class DetectReport:
    scanned: int = 0  # audit leaves read
    opened: list[str] = field(default_factory=list)  # incident numbers
    updated: list[str] = field(default_factory=list)
    last_leaf_index: int = -1


def zh(message: str, **params: Any) -> str:
    """A message in zh-Hans whatever the caller's locale (titles are stored in Chinese)."""
    token = set_locale("zh_Hans")
    try:
        return gettext(message, **params)
    finally:
        _current_locale.reset(token)


def detect(db: Database, now: datetime | None = None, config: Config | None = None) -> DetectReport:
    """Scan every audit record after the last scanned one; returns what was opened/updated."""
    now = now or utcnow()
    config = config or Config()
    report = DetectReport()
    for _attempt in range(100_000):
        if _run_chunk(db, now, config, report):
            break
    if report.opened or report.updated:
        log.info("incident detector: opened %s, updated %s", report.opened, report.updated)
    return report


def _run_chunk(db: Database, now: datetime, config: Config, report: DetectReport) -> bool:
    """One chunk; True when the log is fully scanned."""
    with db.session() as session:
        state = session.get(IncidentScanState, 1)
        start = state.last_leaf_index if state is not None else -1
        size = log_size(session)
        end = min(size - 1, start + CHUNK)
        report.last_leaf_index = start
        if end <= start:
            return True
        new = _accesses(session, start, end)
        findings = _evaluate(session, new, start, config)
    with db.session() as session:
        locked = int(session.execute(_LOCK).scalar_one())
        if locked != start:
            return False  # another run scanned this chunk: go on from where it stopped
        for finding in findings:
            _apply(session, finding, now, report)
        _add_usage(session, new)
        _prune_usage(session, now, config)
        session.execute(
            update(IncidentScanState)
            .where(IncidentScanState.id == 1)
            .values(last_leaf_index=end, last_run_at=now)
        )
    report.scanned += end - start
    report.last_leaf_index = end
    return end >= size - 1


# ----------------------------------------------------------------------------- reading


def _columns() -> tuple[Any, ...]:
    r = AuditRecord
    return (r.id, r.leaf_index, r.at, r.action, r.target_type, r.target_id, r.detail_json, r.ip)


def _accesses(session: Session, start: int, end: int) -> list[Access]:
    rows = session.execute(
        select(*_columns())
        .where(AuditRecord.leaf_index > start, AuditRecord.leaf_index <= end)
        .where(AuditRecord.action.like("exchange.%"))
        .order_by(AuditRecord.leaf_index)
    )
    return [rules.parse(*row) for row in rows]


def _span(
    session: Session,
    chunk: Sequence[Access],
    new: Sequence[Access],
    start: int,
    window: timedelta,
    actions: Sequence[str],
    grant_ids: Sequence[str] | None = None,
) -> list[Access]:
    """Records of ``actions`` from ``window`` before the first of ``new`` to the last one: the
    chunk's own (already read) and the earlier ones still inside the window."""
    if not new:
        return []
    low = min(a.at for a in new) - window
    high = max(a.at for a in new)
    grants = None if grant_ids is None else set(grant_ids)
    out = [
        a
        for a in chunk
        if a.action in actions and low < a.at <= high and (grants is None or a.grant_id in grants)
    ]
    query = (
        select(*_columns())
        .where(AuditRecord.at > low, AuditRecord.at <= high, AuditRecord.leaf_index <= start)
        .where(AuditRecord.action.in_(list(actions)))
    )
    if grants is None:
        out.extend(rules.parse(*row) for row in session.execute(query))
        return out
    ids = sorted(grants)
    for i in range(0, len(ids), IN_BATCH):
        chunk_query = query.where(
            AuditRecord.target_type == "grant", AuditRecord.target_id.in_(ids[i : i + IN_BATCH])
        )
        out.extend(rules.parse(*row) for row in session.execute(chunk_query))
    return out


def _evaluate(session: Session, new: list[Access], start: int, config: Config) -> list[Finding]:
    if not new:
        return []
    uses = [a for a in new if a.ok_use and a.code]
    span_uses = _span(
        session,
        new,
        uses,
        start,
        config.spike_window,
        rules.USE_ACTIONS,
        [a.grant_id for a in uses if a.grant_id],
    )
    failed = [a for a in new if a.action == rules.DENIED and a.result in rules.FAILED_RESULTS]
    span_failed = _span(session, new, failed, start, config.failed_window, [rules.DENIED])
    baseline = _baseline(session, uses, config)
    working_day = _working_days(session)
    findings = rules.volume_spike(uses, span_uses, baseline, config)
    findings += rules.offhours_export(new, config, working_day)
    findings += rules.code_denials(new)
    findings += rules.failed_codes(failed, span_failed, config)
    return findings


def minute_of(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def _baseline(
    session: Session, chunk: Sequence[Access], config: Config
) -> Callable[[str, datetime], tuple[float, float]]:
    """Average (rows, calls) per window of a code over the baseline days before a time: the
    per-minute usage already counted, plus this chunk's own uses (not counted yet)."""

    def baseline(code: str, until: datetime) -> tuple[float, float]:
        since = until - timedelta(days=config.baseline_days)
        rows, calls = session.execute(
            select(
                func.coalesce(func.sum(IncidentUsage.rows), 0),
                func.coalesce(func.sum(IncidentUsage.calls), 0),
            ).where(
                IncidentUsage.code_key_id == code,
                IncidentUsage.minute >= minute_of(since),
                IncidentUsage.minute < minute_of(until),
            )
        ).one()
        mine = [a for a in chunk if a.code == code and since <= a.at < until]
        total_rows = int(rows) + sum(a.rows for a in mine)
        total_calls = int(calls) + len(mine)
        n = config.windows_in_baseline
        return total_rows / n, total_calls / n

    return baseline


def _working_days(session: Session) -> Callable[[date], bool]:
    """The sharing calendar's working days (Monday–Friday, holidays and make-up days)."""
    from cityos.sharing.calendar import load_calendar

    return load_calendar(session).is_workday


# ----------------------------------------------------------------------------- writing


def _next_number(session: Session, at: datetime) -> str:
    stem = f"SJ-{at.astimezone(DISPLAY_TZ):%Y%m%d}-"
    count = session.scalar(select(func.count()).where(Incident.number.like(stem + "%"))) or 0
    return f"{stem}{count + 1:04d}"


def _facts(session: Session, finding: Finding) -> dict[str, str | None]:
    facts = {
        "grant_id": finding.first("grant_id"),
        "consumer_org_id": finding.first("consumer_org_id"),
        "provider_org_id": finding.first("provider_org_id"),
        "resource_id": finding.first("resource_id"),
    }
    if finding.code and not all(facts.values()):
        _fill_from_code(session, finding.code, facts)
    return facts


def _fill_from_code(session: Session, key_id: str, facts: dict[str, str | None]) -> None:
    """A denied call may not name the grant: ask the exchange for the code's grant."""
    from cityos.core.errors import ProblemError
    from cityos.exchange import services as exchange
    from cityos.sharing.grants import get_grant

    try:
        code = exchange.get_code(session, key_id)
        grant = get_grant(session, code.grant_id) if code.grant_id else None
    except ProblemError:
        return
    if grant is None:
        return
    facts["grant_id"] = facts["grant_id"] or grant.id
    facts["consumer_org_id"] = facts["consumer_org_id"] or grant.consumer_org_id
    facts["provider_org_id"] = facts["provider_org_id"] or grant.provider_org_id
    facts["resource_id"] = facts["resource_id"] or grant.resource_id


def _open_incident(session: Session, key: str) -> Incident | None:
    return session.scalars(
        select(Incident)
        .where(Incident.dedupe_key == key, Incident.status != "closed")
        .order_by(Incident.detected_at.desc())
        .limit(1)
    ).first()


def _known_evidence(session: Session, incident_id: str, ids: list[int]) -> set[int]:
    known: set[int] = set()
    for i in range(0, len(ids), IN_BATCH):
        known.update(
            session.scalars(
                select(IncidentEvidence.audit_id).where(
                    IncidentEvidence.incident_id == incident_id,
                    IncidentEvidence.audit_id.in_(ids[i : i + IN_BATCH]),
                )
            )
        )
    return known


def _add_evidence(session: Session, incident: Incident, evidence: list[Access]) -> list[Access]:
    unique = {a.id: a for a in evidence}
    known = _known_evidence(session, incident.id, sorted(unique))
    added = [a for i, a in sorted(unique.items()) if i not in known]
    for a in added:
        session.add(
            IncidentEvidence(
                incident_id=incident.id, audit_id=a.id, leaf_index=a.leaf_index, at=a.at
            )
        )
    if added:
        incident.evidence_count += len(added)
        incident.rows_total += sum(a.rows for a in added)
        first, last = min(a.at for a in added), max(a.at for a in added)
        incident.first_seen_at = min(incident.first_seen_at, first)
        incident.last_seen_at = max(incident.last_seen_at, last)
    return added


def _merge_metrics(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    merged = dict(old)
    for key, value in new.items():
        if key.startswith("peak_") and isinstance(value, int | float):
            merged[key] = max(value, merged.get(key, value))
        elif key in ("attempts", "exports", "rows") and isinstance(value, int):
            merged[key] = int(merged.get(key, 0)) + value
        else:
            merged[key] = value
    return merged


def _apply(session: Session, finding: Finding, now: datetime, report: DetectReport) -> None:
    incident = _open_incident(session, finding.key)
    if incident is not None:
        added = _add_evidence(session, incident, finding.evidence)
        if not added:
            return
        incident.metrics = _merge_metrics(incident.metrics or {}, finding.metrics)
        incident.updated_at = now
        session.add(
            IncidentEvent(
                incident_id=incident.id,
                at=now,
                kind="evidence",
                detail={"records": len(added), "rows": sum(a.rows for a in added)},
            )
        )
        report.updated.append(incident.number)
        return
    facts = _facts(session, finding)
    first = min(a.at for a in finding.evidence)
    last = max(a.at for a in finding.evidence)
    incident = Incident(
        number=_next_number(session, now),
        rule=finding.rule,
        severity=finding.severity,
        status="open",
        title=zh(TITLES[finding.rule], code=finding.code or "?", ip=finding.ip or "?")[:200],
        dedupe_key=finding.key[:120],
        code_key_id=finding.code,
        ip=finding.ip,
        metrics=dict(finding.metrics),
        evidence_count=0,
        rows_total=0,
        first_seen_at=first,
        last_seen_at=last,
        detected_at=now,
        updated_at=now,
        **facts,
    )
    session.add(incident)
    session.flush()
    added = _add_evidence(session, incident, finding.evidence)
    session.add(
        IncidentEvent(
            incident_id=incident.id,
            at=now,
            kind="detected",
            detail={"rule": finding.rule, "records": len(added), "metrics": finding.metrics},
        )
    )
    audit(
        session,
        None,
        "incident.open",
        "incident",
        incident.id,
        number=incident.number,
        rule=incident.rule,
        severity=incident.severity,
        code=incident.code_key_id,
        ip=incident.ip,
        evidence=len(added),
    )
    report.opened.append(incident.number)


def _add_usage(session: Session, accesses: Sequence[Access]) -> None:
    """Add the chunk's successful uses to the per-minute usage: one read, bulk writes."""
    buckets: dict[tuple[str, datetime], list[int]] = defaultdict(lambda: [0, 0])
    for a in accesses:
        if a.ok_use and a.code:
            bucket = buckets[(a.code, minute_of(a.at))]
            bucket[0] += a.rows
            bucket[1] += 1
    if not buckets:
        return
    codes = sorted({code for code, _minute in buckets})
    minutes = [minute for _code, minute in buckets]
    existing: dict[tuple[str, datetime], tuple[int, int]] = {}
    for i in range(0, len(codes), IN_BATCH):
        rows = session.execute(
            select(
                IncidentUsage.code_key_id,
                IncidentUsage.minute,
                IncidentUsage.rows,
                IncidentUsage.calls,
            ).where(
                IncidentUsage.code_key_id.in_(codes[i : i + IN_BATCH]),
                IncidentUsage.minute >= min(minutes),
                IncidentUsage.minute <= max(minutes),
            )
        )
        for code, minute, n_rows, n_calls in rows:
            existing[(code, minute)] = (int(n_rows), int(n_calls))
    updates, inserts = [], []
    for (code, minute), (n_rows, n_calls) in buckets.items():
        old = existing.get((code, minute))
        values = {"code_key_id": code, "minute": minute, "rows": n_rows, "calls": n_calls}
        if old is None:
            inserts.append(values)
        else:
            updates.append(values | {"rows": old[0] + n_rows, "calls": old[1] + n_calls})
    if inserts:
        session.execute(insert(IncidentUsage), inserts)
    if updates:
        session.execute(update(IncidentUsage), updates)


def _prune_usage(session: Session, now: datetime, config: Config) -> None:
    keep = timedelta(days=config.baseline_days + 1) + config.spike_window
    session.execute(delete(IncidentUsage).where(IncidentUsage.minute < minute_of(now - keep)))
