from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class AuditRecordOut(BaseModel):
    id: int
    leaf_index: int
    at: datetime
    actor_id: str | None
    actor_name: str | None
    org_id: str | None
    action: str
    target_type: str
    target_id: str | None
    detail: dict[str, Any]
    ip: str | None
    leaf_hash: str = Field(description="SM3(0x00 || canonical JSON of the record), hex.")


class AuditRecordPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[AuditRecordOut]


class TreeHeadOut(BaseModel):
    tree_size: int
    root_hash: str = Field(description="RFC 6962 Merkle tree hash (SM3) of the first leaves, hex.")
    timestamp: datetime
    timestamp_ms: int
    signature: str = Field(
        description="SM2 signature (DER, hex; ID 1234567812345678) over signed_data."
    )
    signed_data: str = Field(
        description="RFC 6962 TreeHeadSignature bytes: 0x00 0x01, timestamp_ms and tree_size "
        "(uint64 big-endian), root_hash; hex."
    )
    key_id: str = Field(description="SM3 of the signing key's SubjectPublicKeyInfo DER, hex.")
    public_key: str | None = Field(description="The signing key, PEM (SubjectPublicKeyInfo).")


class InclusionProofOut(BaseModel):
    leaf_index: int
    tree_size: int
    leaf_hash: str
    audit_path: list[str]


class ConsistencyProofOut(BaseModel):
    first: int
    second: int
    consistency: list[str]
