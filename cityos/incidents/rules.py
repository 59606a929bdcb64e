"""Detection rules over the access audit (``exchange.*`` records, docs/incidents.md).

Pure functions: they get parsed audit records (``Access``) and return ``Finding``s; reading the
log, baselines and writing incidents is :mod:`cityos.incidents.detection`'s job.

1. ``volume_spike``: a code's rows (or calls) within a sliding window far above its own baseline:
   more than max(factor × its trailing average per window, a floor).
2. ``offhours_export``: an ``exchange.export`` — or a records pull of at least N rows — between
   22:00 and 06:00 Asia/Shanghai or on a non-working day.
3. ``revoked_code_use`` / ``expired_code_use``: an ``exchange.denied`` with result
   ``code_revoked`` / ``code_expired``.
4. ``failed_codes``: at least N ``exchange.denied`` with ``code_unknown``/``code_invalid`` from
   one ip within a window.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from cityos.core.i18n import DISPLAY_TZ

USE_ACTIONS = ("exchange.records", "exchange.export", "exchange.service")
DENIED = "exchange.denied"
FAILED_RESULTS = ("code_unknown", "code_invalid")
CODE_DENIALS = {"code_revoked": "revoked_code_use", "code_expired": "expired_code_use"}
SEVERITY = {
    "volume_spike": "high",
    "offhours_export": "medium",
    "revoked_code_use": "high",
    "expired_code_use": "low",
    "failed_codes": "medium",
}


@dataclass(frozen=True)
class Access:
    """One ``exchange.*`` audit record, as the rules need it (see brief contract.md)."""

    id: int
    leaf_index: int
    at: datetime
    action: str
    code: str | None
    grant_id: str | None
    consumer_org_id: str | None
    provider_org_id: str | None
    resource_id: str | None
    rows: int
    result: str
    ip: str | None
    items: tuple[str, ...] = ()

    @property
    def ok_use(self) -> bool:
        return self.action in USE_ACTIONS and self.result == "ok"


def parse(
    record_id: int,
    leaf_index: int,
    at: datetime,
    action: str,
    target_type: str,
    target_id: str | None,
    detail_json: str,
    ip: str | None = None,
) -> Access:
    try:
        detail: dict[str, Any] = json.loads(detail_json or "{}")
    except ValueError:
        detail = {}
    if not isinstance(detail, dict):
        detail = {}

    def text(key: str) -> str | None:
        value = detail.get(key)
        return None if value in (None, "") else str(value)

    try:
        rows = max(0, int(detail.get("rows") or 0))
    except (TypeError, ValueError):
        rows = 0
    items = detail.get("items") or []
    return Access(
        id=record_id,
        leaf_index=leaf_index,
        at=at,
        action=action,
        code=text("code") or (target_id if target_type == "code" else None),
        grant_id=text("grant_id") or (target_id if target_type == "grant" else None),
        consumer_org_id=text("consumer_org_id"),
        provider_org_id=text("provider_org_id"),
        resource_id=text("resource_id"),
        rows=rows,
        result=text("result") or "ok",
        ip=text("ip") or ip,
        items=tuple(str(i) for i in items) if isinstance(items, list) else (),
    )


@dataclass(frozen=True)
class Config:
    spike_window: timedelta = timedelta(minutes=10)
    spike_factor: float = 10.0
    spike_min_rows: int = 1000
    spike_min_calls: int = 300
    baseline_days: int = 7
    offhours_start: time = time(22, 0)
    offhours_end: time = time(6, 0)
    offhours_min_rows: int = 1000
    failed_threshold: int = 20
    failed_window: timedelta = timedelta(minutes=5)

    @classmethod
    def from_settings(cls, settings: Any) -> Config:
        return cls(
            spike_window=timedelta(minutes=max(1, int(settings.incident_spike_window_minutes))),
            spike_factor=float(settings.incident_spike_factor),
            spike_min_rows=int(settings.incident_spike_min_rows),
            spike_min_calls=int(settings.incident_spike_min_calls),
            baseline_days=max(1, int(settings.incident_baseline_days)),
            offhours_start=_hhmm(settings.incident_offhours_start),
            offhours_end=_hhmm(settings.incident_offhours_end),
            offhours_min_rows=int(settings.incident_offhours_min_rows),
            failed_threshold=max(1, int(settings.incident_failed_codes_threshold)),
            failed_window=timedelta(
                minutes=max(1, int(settings.incident_failed_codes_window_minutes))
            ),
        )

    @property
    def windows_in_baseline(self) -> float:
        return timedelta(days=self.baseline_days) / self.spike_window


def _hhmm(value: str) -> time:
    hours, _, minutes = str(value).strip().partition(":")
    return time(int(hours) % 24, int(minutes or 0) % 60)


@dataclass
class Finding:
    rule: str
    key: str  # dedupe key: one open incident per key
    evidence: list[Access]
    metrics: dict[str, Any] = field(default_factory=dict)
    code: str | None = None
    ip: str | None = None

    @property
    def severity(self) -> str:
        return SEVERITY[self.rule]

    def first(self, attr: str) -> str | None:
        """The first non-empty value of an attribute over the evidence (orgs, resource, grant)."""
        for access in self.evidence:
            value = getattr(access, attr)
            if value:
                return str(value)
        return None


# ----------------------------------------------------------------------------- helpers


def is_off_hours(at: datetime, config: Config, working_day: Callable[[date], bool]) -> bool:
    local = at.astimezone(DISPLAY_TZ)
    if not working_day(local.date()):
        return True
    t = local.time()
    start, end = config.offhours_start, config.offhours_end
    if start == end:
        return False
    if start > end:  # across midnight: 22:00–06:00
        return t >= start or t < end
    return start <= t < end


def default_working_day(day: date) -> bool:
    return day.weekday() < 5


Measure = Callable[[Access], tuple[int, int]]


def windows_over(
    accesses: Sequence[Access],
    window: timedelta,
    measure: Measure,
    exceeds: Callable[[tuple[int, int]], bool],
    evaluate: Callable[[Access], bool],
) -> tuple[list[Access], tuple[int, int]]:
    """Slide a (t − window, t] window over ``accesses`` (sorted by time), evaluated at the ones
    ``evaluate`` accepts: the accesses inside any window that ``exceeds`` (in order), and the
    peak (by the first measure) of those windows."""
    marked: list[Access] = []
    marked_upto = -1
    peak = (0, 0)
    a = b = 0
    start = 0
    for end, access in enumerate(accesses):
        da, db = measure(access)
        a, b = a + da, b + db
        while accesses[start].at <= access.at - window:
            sa, sb = measure(accesses[start])
            a, b = a - sa, b - sb
            start += 1
        if evaluate(access) and exceeds((a, b)):
            if (a, b) > peak:
                peak = (a, b)
            for i in range(max(start, marked_upto + 1), end + 1):
                marked.append(accesses[i])
            marked_upto = end
    return marked, peak


def _by(accesses: Iterable[Access], key: Callable[[Access], str | None]) -> dict[str, list[Access]]:
    groups: dict[str, list[Access]] = defaultdict(list)
    for access in accesses:
        k = key(access)
        if k:
            groups[k].append(access)
    return groups


def _sorted(accesses: Iterable[Access]) -> list[Access]:
    return sorted(accesses, key=lambda x: (x.at, x.leaf_index))


# ----------------------------------------------------------------------------- the rules


def _rows_and_calls(access: Access) -> tuple[int, int]:
    return access.rows, 1


def _above(max_rows: float, max_calls: float) -> Callable[[tuple[int, int]], bool]:
    def above(sums: tuple[int, int]) -> bool:
        return sums[0] > max_rows or sums[1] > max_calls

    return above


def volume_spike(
    new: Sequence[Access],
    span: Sequence[Access],
    baseline: Callable[[str, datetime], tuple[float, float]],
    config: Config,
) -> list[Finding]:
    """``span``: the successful uses of the codes around ``new`` (from window before the first
    new one to the last); ``baseline(code, window_start)`` → average (rows, calls) per window."""
    findings = []
    fresh = {a.id for a in new}
    by_code = _by((a for a in span if a.ok_use), lambda a: a.code)
    for code, group in sorted(_by((a for a in new if a.ok_use), lambda a: a.code).items()):
        first = min(a.at for a in group)
        avg_rows, avg_calls = baseline(code, first - config.spike_window)
        max_rows = max(config.spike_factor * avg_rows, float(config.spike_min_rows))
        max_calls = max(config.spike_factor * avg_calls, float(config.spike_min_calls))
        evidence, peak = windows_over(
            _sorted(by_code.get(code, group)),
            config.spike_window,
            _rows_and_calls,
            _above(max_rows, max_calls),
            lambda a: a.id in fresh,
        )
        if evidence:
            findings.append(
                Finding(
                    "volume_spike",
                    f"volume_spike:code:{code}",
                    evidence,
                    {
                        "window_minutes": int(config.spike_window.total_seconds() // 60),
                        "peak_rows": peak[0],
                        "peak_calls": peak[1],
                        "baseline_rows": round(avg_rows, 1),
                        "baseline_calls": round(avg_calls, 2),
                        "threshold_rows": round(max_rows),
                        "threshold_calls": round(max_calls),
                        "baseline_days": config.baseline_days,
                    },
                    code=code,
                )
            )
    return findings


def offhours_export(
    new: Sequence[Access], config: Config, working_day: Callable[[date], bool]
) -> list[Finding]:
    def suspicious(a: Access) -> bool:
        if not a.ok_use or a.action == "exchange.service":
            return False
        big = a.action == "exchange.export" or a.rows >= config.offhours_min_rows
        return big and is_off_hours(a.at, config, working_day)

    findings = []
    for code, group in sorted(_by(filter(suspicious, new), lambda a: a.code or "?").items()):
        findings.append(
            Finding(
                "offhours_export",
                f"offhours_export:code:{code}",
                _sorted(group),
                {
                    "exports": sum(a.action == "exchange.export" for a in group),
                    "rows": sum(a.rows for a in group),
                    "offhours": f"{config.offhours_start:%H:%M}–{config.offhours_end:%H:%M}",
                },
                code=None if code == "?" else code,
            )
        )
    return findings


def code_denials(new: Sequence[Access]) -> list[Finding]:
    findings = []
    for result, rule in CODE_DENIALS.items():
        hits = [a for a in new if a.action == DENIED and a.result == result]
        for code, group in sorted(_by(hits, lambda a: a.code or "?").items()):
            findings.append(
                Finding(
                    rule,
                    f"{rule}:code:{code}",
                    _sorted(group),
                    {"attempts": len(group), "ips": sorted({a.ip for a in group if a.ip})},
                    code=None if code == "?" else code,
                )
            )
    return findings


def failed_codes(new: Sequence[Access], span: Sequence[Access], config: Config) -> list[Finding]:
    """``span``: the denied calls around ``new`` (window before the first new one to the last)."""

    def failed(a: Access) -> bool:
        return a.action == DENIED and a.result in FAILED_RESULTS

    fresh = {a.id for a in new}
    by_ip = _by(filter(failed, span), lambda a: a.ip)
    findings = []
    for ip in sorted(_by(filter(failed, new), lambda a: a.ip)):
        evidence, peak = windows_over(
            _sorted(by_ip.get(ip, [])),
            config.failed_window,
            lambda a: (1, 0),
            lambda s: s[0] >= config.failed_threshold,
            lambda a: a.id in fresh,
        )
        if evidence:
            findings.append(
                Finding(
                    "failed_codes",
                    f"failed_codes:ip:{ip}",
                    evidence,
                    {
                        "peak_attempts": peak[0],
                        "window_minutes": int(config.failed_window.total_seconds() // 60),
                        "threshold": config.failed_threshold,
                        "codes": sorted({a.code for a in evidence if a.code})[:20],
                    },
                    ip=ip,
                )
            )
    return findings
