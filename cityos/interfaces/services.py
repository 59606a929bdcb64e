"""Registering, confirming and listing interface services (the registry).

- register / revise: the provider's data officers (``policy.can_edit`` on the resource); inputs and
  outputs must be items of the resource; a verify service answers only ``{"match": bool}``;
- confirm / reject / resume: the bureau (``policy.can_review``); suspend: the bureau or the
  provider's officers;
- who sees what: the bureau and security reviewers every service, a provider's members their own
  in every status, sharing participants the confirmed ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, false, func, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cityos.audit.services import record as audit
from cityos.auth.principal import Principal
from cityos.catalog import policy
from cityos.catalog import services as catalog
from cityos.catalog.models import Resource, ResourceItem
from cityos.core.db import utcnow
from cityos.core.errors import ProblemError, conflict, forbidden, invalid, not_found
from cityos.interfaces.models import InterfaceService
from cityos.interfaces.schemas import DETECTORS, InputIn, OutputIn, ProxyIn, ServiceIn

INPUT_TYPE_OF = {"string": "string", "text": "string", "integer": "integer", "date": "date"}
MATCH_OUTPUT = {"name": "match", "label": "是否一致", "type": "boolean"}
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
REGISTRABLE = ("confirmed", "published")  # resource statuses a service may be built on
# hints for an input's detector when the item has no confirmed personal-information type
HINTS = (("身份证", "id_card"), ("统一社会信用代码", "uscc"), ("手机", "mobile"), ("邮箱", "email"))


# --------------------------------------------------------------------------- reading


def visible_clause(principal: Principal) -> ColumnElement[bool]:
    if principal.sees_everything:
        return true()
    clauses: list[ColumnElement[bool]] = []
    if principal.is_sharing_participant:
        clauses.append(InterfaceService.status == "confirmed")
    if principal.org_ids:
        clauses.append(InterfaceService.provider_org_id.in_(principal.org_ids))
    return or_(*clauses) if clauses else false()


def can_view(principal: Principal, service: InterfaceService) -> bool:
    if principal.sees_everything or service.provider_org_id in principal.org_ids:
        return True
    return principal.is_sharing_participant and service.status == "confirmed"


def can_manage(principal: Principal, service: InterfaceService) -> bool:
    """The provider's officers and the bureau (see the upstream, suspend, revise)."""
    return principal.is_admin or principal.is_officer_of(service.provider_org_id)


def get_internal(session: Session, code: str) -> InterfaceService | None:
    """By code or id, without a visibility check (the call path checks the grant instead)."""
    return session.scalar(
        select(InterfaceService).where(
            (InterfaceService.code == code) | (InterfaceService.id == code)
        )
    )


def get_service(session: Session, code: str, principal: Principal) -> InterfaceService:
    """By code or id; 404 (never 403) when the principal may not see it."""
    service = get_internal(session, code)
    if service is None or not can_view(principal, service):
        raise not_found("service", code)
    return service


def list_services(
    session: Session,
    principal: Principal,
    *,
    q: str = "",
    provider: str = "",
    kind: str = "",
    status: str = "",
    names: dict[str, str] | None = None,
) -> list[InterfaceService]:
    """Visible services, newest first; ``q`` matches name, code, description or provider name."""
    stmt = select(InterfaceService).where(visible_clause(principal))
    if provider:
        stmt = stmt.where(InterfaceService.provider_org_id == provider)
    if kind:
        stmt = stmt.where(InterfaceService.kind == kind)
    if status:
        stmt = stmt.where(InterfaceService.status == status)
    found = list(session.scalars(stmt.order_by(InterfaceService.code.desc())))
    words = q.lower().split()
    if not words:
        return found
    if names is None:
        from cityos.directory.services import organisation_names

        names = organisation_names(session)
    out = []
    for s in found:
        text = " ".join((s.name, s.code, s.description, names.get(s.provider_org_id, ""))).lower()
        if all(w in text for w in words):
            out.append(s)
    return out


def review_queue(session: Session) -> list[InterfaceService]:
    """Submitted services, oldest first (the bureau's confirmation queue)."""
    stmt = select(InterfaceService).where(InterfaceService.status == "submitted")
    return list(session.scalars(stmt.order_by(InterfaceService.updated_at, InterfaceService.code)))


def registrable_resources(session: Session, principal: Principal) -> list[Resource]:
    """Resources the principal may build a service on (its organisations', confirmed or later)."""
    stmt = select(Resource).where(Resource.status.in_(REGISTRABLE))
    if not principal.is_admin:
        if not principal.officer_org_ids:
            return []
        stmt = stmt.where(Resource.provider_id.in_(principal.officer_org_ids))
    return list(session.scalars(stmt.order_by(Resource.code)))


# --------------------------------------------------------------------------- definitions


@dataclass
class Definition:
    inputs: list[dict[str, Any]]
    outputs: list[dict[str, Any]]
    spec: dict[str, Any]


def detector_hint(item: ResourceItem) -> str | None:
    if item.pi_type in DETECTORS:
        return item.pi_type
    for word, kind in HINTS:
        if word in (item.name or ""):
            return kind
    return None


def _input(spec: InputIn, item: ResourceItem | None, operation: str | None) -> dict[str, Any]:
    if item is None:
        raise invalid("unknown_item", "{field} is not an item of the resource.", field=spec.name)
    derived = INPUT_TYPE_OF.get(item.data_type)
    if derived is None:
        raise invalid(
            "input_type",
            "Item {field} of type {type} cannot be an input (string, integer or date).",
            field=spec.name,
            type=item.data_type,
        )
    if spec.type is not None and spec.type != derived:
        raise invalid(
            "input_type",
            "Input {field} is of type {type} (as its item).",
            field=spec.name,
            type=derived,
        )
    detector = spec.detector
    if detector is not None and detector not in DETECTORS:
        raise invalid("unknown_detector", "Unknown detector type: {detector}", detector=detector)
    if detector is not None and derived != "string":
        raise invalid("detector_type", "A detector applies to text inputs only.")
    if spec.pattern:
        try:
            re.compile(spec.pattern)
        except re.error:
            raise invalid(
                "bad_pattern",
                "The pattern of {field} is not a regular expression.",
                field=spec.name,
            ) from None
    return {
        "name": spec.name,
        "label": spec.label.strip() or item.name,
        "type": derived,
        # a verification compares every input: all are required
        "required": True if operation == "verify" else spec.required,
        "detector": detector,
        "pattern": spec.pattern or None,
    }


def _output(spec: OutputIn, item: ResourceItem | None) -> dict[str, Any]:
    if item is None:
        raise invalid("unknown_item", "{field} is not an item of the resource.", field=spec.name)
    if spec.type is not None and spec.type != item.data_type:
        raise invalid(
            "output_type",
            "Output {field} is of type {type} (as its item).",
            field=spec.name,
            type=item.data_type,
        )
    data_type = "string" if item.data_type == "text" else item.data_type
    return {"name": spec.name, "label": spec.label.strip() or item.name, "type": data_type}


def _unique(names: list[str]) -> None:
    if len(set(names)) != len(names):
        raise invalid("duplicate_field", "Each item may be named once.")


def _proxy_spec(proxy: ProxyIn, input_names: set[str]) -> dict[str, Any]:
    parts = urlsplit(proxy.base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise invalid("bad_upstream", "The upstream base URL must be an http(s) URL.")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise invalid(
            "bad_upstream", "The upstream base URL has no query, fragment or credentials."
        )
    path = proxy.path.strip() or "/"
    if not path.startswith("/"):
        raise invalid("bad_upstream", "The upstream path starts with /.")
    unknown = [p for p in PLACEHOLDER.findall(path) if p not in input_names]
    if unknown:
        raise invalid(
            "bad_upstream",
            "The path names {names}, which are not inputs.",
            names=", ".join(unknown),
        )
    spec = proxy.model_dump()
    spec.update(base_url=proxy.base_url.strip().rstrip("/"), path=path)
    return spec


def build_definition(data: ServiceIn, items: list[ResourceItem]) -> Definition:
    """Check the declaration against the resource's items; 422 problems name what is wrong."""
    by_field = {i.field: i for i in items}
    operation = data.operation if data.kind == "query" else None
    if data.kind == "query" and operation is None:
        raise invalid("operation_required", "A query service is a verify or a lookup.")
    if data.kind == "query" and data.proxy is not None:
        raise invalid("proxy_on_query", "Only proxy services have an upstream.")
    _unique([i.name for i in data.inputs])
    _unique([o.name for o in data.outputs])
    inputs = [_input(i, by_field.get(i.name), operation) for i in data.inputs]
    if not any(i["required"] for i in inputs):
        raise invalid("no_required_input", "At least one input is required.")
    if operation == "verify":
        if any(o.name != "match" for o in data.outputs):
            raise invalid(
                "verify_outputs",
                "A verify service answers only whether a record matches: its one output is match.",
            )
        return Definition(inputs, [dict(MATCH_OUTPUT)], {"operation": "verify"})
    if not data.outputs:
        raise invalid("outputs_required", "Declare at least one output.")
    outputs = [_output(o, by_field.get(o.name)) for o in data.outputs]
    if data.kind == "query":
        return Definition(inputs, outputs, {"operation": "lookup"})
    if data.proxy is None:
        raise invalid("upstream_required", "A proxy service needs its upstream.")
    return Definition(inputs, outputs, _proxy_spec(data.proxy, {i["name"] for i in inputs}))


# --------------------------------------------------------------------------- writing


def _next_code(session: Session) -> str:
    top = session.scalar(
        select(func.max(InterfaceService.code)).where(InterfaceService.code.like("FW-%"))
    )
    number = int(top[3:]) + 1 if top and top[3:].isdigit() else 1
    return f"FW-{number:06d}"


def _insert_with_code(session: Session, service: InterfaceService, attempts: int = 5) -> None:
    """Take the next FW- code; a concurrent registration that took it first makes us retry."""
    for attempt in range(attempts):
        service.code = _next_code(session)
        try:
            with session.begin_nested():
                session.add(service)
                session.flush()
            return
        except IntegrityError:
            if attempt == attempts - 1:
                raise conflict("busy", "Too many registrations at once; try again.") from None


def _resource_for(session: Session, ident: str, actor: Principal) -> Resource:
    resource = catalog.get_resource(session, ident, actor)
    if not policy.can_edit(actor, resource):
        raise forbidden("Only the provider's data officers may register services on this resource.")
    if resource.status not in REGISTRABLE:
        raise conflict(
            "resource_not_confirmed",
            "Register services on a resource the bureau has confirmed.",
        )
    return resource


def register(session: Session, data: ServiceIn, actor: Principal) -> InterfaceService:
    """A new service, status ``submitted`` (waits for the bureau)."""
    resource = _resource_for(session, data.resource_id, actor)
    definition = build_definition(data, catalog.get_items(session, resource.id))
    now = utcnow()
    service = InterfaceService(
        code="",
        name=data.name.strip(),
        description=data.description.strip(),
        provider_org_id=resource.provider_id,
        resource_id=resource.id,
        kind=data.kind,
        inputs=definition.inputs,
        outputs=definition.outputs,
        spec=definition.spec,
        status="submitted",
        version=1,
        created_by=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    _insert_with_code(session, service)
    audit(
        session,
        actor,
        "interfaces.register",
        "service",
        service.id,
        code=service.code,
        resource_id=resource.id,
        kind=service.kind,
        inputs=[i["name"] for i in service.inputs],
        outputs=[o["name"] for o in service.outputs],
    )
    return service


def revise(session: Session, code: str, data: ServiceIn, actor: Principal) -> InterfaceService:
    """A new version of the declaration: back to ``submitted`` until the bureau confirms it."""
    service = get_service(session, code, actor)
    if not can_manage(actor, service):
        raise forbidden("Only the provider's data officers may change this service.")
    resource = _resource_for(session, data.resource_id, actor)
    if resource.id != service.resource_id:
        raise conflict("resource_changed", "A service stays on its resource; register a new one.")
    definition = build_definition(data, catalog.get_items(session, resource.id))
    service.name = data.name.strip()
    service.description = data.description.strip()
    service.kind = data.kind
    service.inputs = definition.inputs
    service.outputs = definition.outputs
    service.spec = definition.spec
    service.status = "submitted"
    service.version += 1
    service.updated_at = utcnow()
    session.flush()
    audit(session, actor, "interfaces.revise", "service", service.id, version=service.version)
    return service


# action → (from statuses, to status, who: "bureau" | "manager", comment required)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str, str, bool]] = {
    "confirm": (("submitted",), "confirmed", "bureau", False),
    "reject": (("submitted",), "rejected", "bureau", True),
    "suspend": (("confirmed",), "suspended", "manager", True),
    "resume": (("suspended",), "confirmed", "bureau", False),
}


def transition(
    session: Session, code: str, action: str, actor: Principal, comment: str = ""
) -> InterfaceService:
    if action not in TRANSITIONS:
        raise ProblemError(
            404, "unknown_action", "Unknown workflow action: {action}", action=action
        )
    allowed, target, who, needs_comment = TRANSITIONS[action]
    service = get_service(session, code, actor)
    if who == "bureau" and not policy.can_review(actor):
        raise forbidden("Confirming interface services is the bureau's job.")
    if who == "manager" and not can_manage(actor, service):
        raise forbidden("Only the provider's data officers or the bureau may do this.")
    if service.status not in allowed:
        raise conflict(
            "service_state",
            "The service is {state}; it cannot be changed that way.",
            state=service.status,
        )
    if needs_comment and not comment.strip():
        raise invalid("reason_required", "Give a reason.")
    now = utcnow()
    service.status = target
    service.review_comment = (
        comment.strip() if action in ("confirm", "reject") else (service.review_comment)
    )
    service.status_changed_at = now
    service.status_changed_by = actor.user_id
    if action == "confirm":
        service.confirmed_at = now
        service.confirmed_by = actor.user_id
    session.flush()
    audit(
        session,
        actor,
        f"interfaces.{action}",
        "service",
        service.id,
        code=service.code,
        version=service.version,
        comment=comment.strip(),
    )
    return service
