"""One call of an interface service through an authorization code, and its audit record.

The caller is the code's context (``cityos.exchange.access.code_context``): the code's grant
must name this service. Every call writes one audit record (contract of issue 3):
``exchange.service`` on the grant, or ``exchange.denied`` on the code when the grant is for
something else or the service is unknown. The record carries the inputs' field names, never
their values, and is committed before the answer is sent.
"""

from __future__ import annotations

from typing import Any, Protocol

from cityos.audit.services import record as audit
from cityos.core.db import Database
from cityos.core.errors import ProblemError
from cityos.interfaces import engine, proxy
from cityos.interfaces.models import InterfaceService
from cityos.interfaces.services import get_internal


class Caller(Protocol):
    """What the call needs of ``cityos.exchange.access.CodeContext``."""

    @property
    def code_key_id(self) -> str: ...
    @property
    def grant_id(self) -> str: ...
    @property
    def resource_id(self) -> str: ...
    @property
    def service_id(self) -> str | None: ...
    @property
    def consumer_org_id(self) -> str: ...
    @property
    def provider_org_id(self) -> str: ...
    @property
    def row_scope(self) -> dict[str, Any]: ...
    @property
    def purpose(self) -> str: ...


def _detail(
    caller: Caller,
    service: InterfaceService | None,
    *,
    result: str,
    ip: str | None,
    inputs: list[str],
    outcome: engine.Outcome | None = None,
) -> dict[str, Any]:
    return {
        "code": caller.code_key_id,
        "consumer_org_id": caller.consumer_org_id,
        "provider_org_id": service.provider_org_id if service else caller.provider_org_id,
        "resource_id": service.resource_id if service else caller.resource_id,
        "service_id": service.id if service else None,
        "service_code": service.code if service else None,
        "items": list(outcome.items) if outcome else [],
        "rows": outcome.rows if outcome else 0,
        "row_ids": list(outcome.row_ids) if outcome else [],
        "purpose": caller.purpose,
        "result": result,
        "ip": ip,
        "filters": {},  # the inputs' values are personal: only their names are kept
        "inputs": inputs,
    }


def _record(db: Database, action: str, caller: Caller, detail: dict[str, Any]) -> None:
    with db.session() as session:
        if action == "exchange.denied":
            audit(session, None, action, "code", caller.code_key_id, **detail)
        else:
            audit(session, None, action, "grant", caller.grant_id, **detail)


def _input_names(service: InterfaceService, raw: Any) -> list[str]:
    declared = [spec["name"] for spec in service.inputs]
    return [n for n in declared if isinstance(raw, dict) and n in raw]


def _authorised(db: Database, code: str, caller: Caller, ip: str | None) -> InterfaceService:
    with db.session() as session:
        service = get_internal(session, code)
    if service is None or caller.service_id != service.id:
        result = "service_unknown" if service is None else "service_not_granted"
        detail = _detail(caller, service, result=result, ip=ip, inputs=[])
        _record(db, "exchange.denied", caller, detail)
        if service is None:
            raise ProblemError(404, "service_unknown", "No interface service has this code.")
        raise ProblemError(
            403,
            "service_not_granted",
            "The authorization code's grant does not cover this service.",
        )
    return service


def call(
    db: Database,
    runtime: proxy.ProxyRuntime,
    code: str,
    raw: Any,
    caller: Caller,
    ip: str | None,
) -> dict[str, Any]:
    """The answer of the service (its declared outputs only); problems are audited, then raised."""
    service = _authorised(db, code, caller, ip)
    names = _input_names(service, raw)
    try:
        if service.status != "confirmed" or caller.resource_id != service.resource_id:
            raise ProblemError(
                403,
                "service_not_callable",
                "The service is not in service (status: {state}).",
                state=service.status,
            )
        values = engine.check_inputs(service, raw)
        if service.kind == "proxy":
            outcome = proxy.run_proxy(runtime, service, values)
        else:
            outcome = engine.run_query(db, service, values, caller.row_scope)
    except ProblemError as problem:
        _record(
            db,
            "exchange.service",
            caller,
            _detail(caller, service, result=problem.code, ip=ip, inputs=names),
        )
        raise
    detail = _detail(caller, service, result="ok", ip=ip, inputs=names, outcome=outcome)
    _record(db, "exchange.service", caller, detail)
    return outcome.body
