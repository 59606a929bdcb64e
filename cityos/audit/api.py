"""Audit trail API for the bureau and security reviewers: search, signed heads, proofs."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Query, Request

from cityos.audit import log as audit_log
from cityos.audit import services
from cityos.audit.merkle import TreeHead
from cityos.audit.schemas import (
    AuditRecordOut,
    AuditRecordPage,
    ConsistencyProofOut,
    InclusionProofOut,
    TreeHeadOut,
)
from cityos.auth.access import roles
from cityos.auth.principal import Principal
from cityos.core.errors import ProblemError

router = APIRouter(prefix="/audit", tags=["audit"])

AUDITORS = ("admin", "reviewer")


@router.get("/records", response_model=AuditRecordPage)
def search_records(
    request: Request,
    actor: str | None = Query(None, description="Actor user id or user name."),
    action: str | None = Query(None, description="Action; `catalog.*` matches a prefix."),
    target_type: str | None = None,
    target_id: str | None = None,
    since: datetime | None = Query(None, description="From this time (inclusive, ISO 8601)."),
    until: datetime | None = Query(None, description="Before this time (ISO 8601)."),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
    _: Principal = Depends(roles(*AUDITORS)),
) -> AuditRecordPage:
    """Search the audit trail, newest first (by actor, action, target and time range)."""
    since, until = _aware(since), _aware(until)
    with request.app.state.db.session() as session:
        total, rows = services.search(
            session,
            actor=actor,
            action=action,
            target_type=target_type,
            target_id=target_id,
            since=since,
            until=until,
            limit=limit,
            offset=offset,
        )
        items = [
            AuditRecordOut(
                id=r.id,
                leaf_index=r.leaf_index,
                at=r.at,
                actor_id=r.actor_id,
                actor_name=r.actor_name,
                org_id=r.org_id,
                action=r.action,
                target_type=r.target_type,
                target_id=r.target_id,
                detail=r.detail,
                ip=r.ip,
                leaf_hash=r.leaf_hash.hex(),
            )
            for r in rows
        ]
    return AuditRecordPage(total=total, limit=limit, offset=offset, items=items)


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)  # a time without offset is taken as UTC
    return value


@router.get("/tree-head", response_model=TreeHeadOut)
def tree_head(request: Request, _: Principal = Depends(roles(*AUDITORS))) -> TreeHeadOut:
    """The latest signed tree head of the audit log, with the SM2 public key that signed it."""
    with request.app.state.db.session() as session:
        head = audit_log.latest_head(session)
        if head is None:
            raise ProblemError(
                404, "no_tree_head", "No tree head has been signed yet; try again shortly."
            )
        pem = audit_log.public_key_pem(session, head.key_id)
        signed = TreeHead(head.tree_size, head.root_hash, head.timestamp_ms).signed_data()
        return TreeHeadOut(
            tree_size=head.tree_size,
            root_hash=head.root_hash.hex(),
            timestamp=datetime.fromtimestamp(head.timestamp_ms / 1000, UTC),
            timestamp_ms=head.timestamp_ms,
            signature=head.signature.hex(),
            signed_data=signed.hex(),
            key_id=head.key_id,
            public_key=pem,
        )


@router.get("/proof/inclusion", response_model=InclusionProofOut)
def inclusion_proof(
    request: Request,
    leaf_index: int = Query(..., ge=0),
    tree_size: int = Query(..., ge=1),
    _: Principal = Depends(roles(*AUDITORS)),
) -> InclusionProofOut:
    """Audit path (RFC 6962 §2.1.1) of a record's leaf in the tree of the first tree_size leaves."""
    with request.app.state.db.session() as session:
        leaf, path = audit_log.inclusion_proof(session, leaf_index, tree_size)
    return InclusionProofOut(
        leaf_index=leaf_index,
        tree_size=tree_size,
        leaf_hash=leaf.hex(),
        audit_path=[p.hex() for p in path],
    )


@router.get("/proof/consistency", response_model=ConsistencyProofOut)
def consistency_proof(
    request: Request,
    first: int = Query(..., ge=1),
    second: int = Query(..., ge=1),
    _: Principal = Depends(roles(*AUDITORS)),
) -> ConsistencyProofOut:
    """Consistency proof (RFC 6962 §2.1.2) that the tree of size second extends that of first."""
    with request.app.state.db.session() as session:
        proof = audit_log.consistency_proof(session, first, second)
    return ConsistencyProofOut(first=first, second=second, consistency=[p.hex() for p in proof])
