from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, id_column, utcnow

SHARE_TYPES = ("unconditional", "conditional", "none")  # 无条件共享 / 有条件共享 / 不予共享
OPEN_TYPES = ("unconditional", "conditional", "none")  # 无条件开放 / 有条件开放 / 不予开放
UPDATE_CYCLES = ("realtime", "daily", "weekly", "monthly", "quarterly", "yearly", "irregular")
FORMATS = ("database", "spreadsheet", "file", "image", "stream", "api", "other")
STATUSES = ("draft", "submitted", "rejected", "confirmed", "published")
ITEM_TYPES = ("string", "text", "integer", "number", "boolean", "date", "datetime")
SENSITIVITIES = ("public", "internal", "sensitive", "personal", "sensitive_personal")
SHARE_METHODS = ("interface", "download", "query", "other")


class ResourceClass(Base):
    """信息资源分类: 类 (1 digit) / 项 (2) / 目 (3) / 细目; code is the full path, e.g. 102003."""

    __tablename__ = "catalog_classes"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("catalog_classes.code"))
    level: Mapped[int] = mapped_column(Integer)


class Resource(Base):
    __tablename__ = "catalog_resources"
    __table_args__ = (
        # covering index for the facet GROUP BYs under the visibility clause
        Index(
            "ix_catalog_resources_facets",
            "status",
            "open_type",
            "provider_id",
            "class_code",
            "share_type",
            "format",
            "update_cycle",
            "district_key",
            "updated_at",
            "code",
            "id",
        ),
        Index("ix_catalog_resources_updated_at", "updated_at"),
    )

    id: Mapped[str] = id_column()
    code: Mapped[str] = mapped_column(String(40), unique=True)  # 信息资源代码: class code/sequence
    name: Mapped[str] = mapped_column(String(200))
    class_code: Mapped[str] = mapped_column(ForeignKey("catalog_classes.code"), index=True)
    provider_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    format: Mapped[str] = mapped_column(String(20), default="database")
    share_type: Mapped[str] = mapped_column(String(20), default="unconditional")
    share_condition: Mapped[str] = mapped_column(Text, default="")
    share_method: Mapped[str] = mapped_column(String(20), default="interface")
    share_basis: Mapped[str] = mapped_column(Text, default="")  # legal basis when 不予共享
    open_type: Mapped[str] = mapped_column(String(20), default="none")
    open_condition: Mapped[str] = mapped_column(Text, default="")
    update_cycle: Mapped[str] = mapped_column(String(20), default="irregular")
    published_on: Mapped[date | None] = mapped_column(Date)  # 发布日期
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    districts: Mapped[list[str]] = mapped_column(JSON, default=list)  # GB/T 2260 codes covered
    # the same codes as "|460105|460106|": indexable on both backends, for district facets
    district_key: Mapped[str] = mapped_column(String(120), default="")
    related_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    key_fields: Mapped[list[str]] = mapped_column(JSON, default=list)  # for upsert loads
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    review_comment: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    search_text: Mapped[str] = mapped_column(Text, default="")  # segmented text, for fallbacks
    # 分级 (GB/T 43697: 核心 / 重要 / 一般-n, cityos.protection.grades); the highest item grade
    # unless a reviewer set it higher; grade_status: proposed (by a scan) | confirmed
    grade: Mapped[str] = mapped_column(String(10), default="一般-1", server_default="一般-1")
    grade_status: Mapped[str] = mapped_column(
        String(10), default="proposed", server_default="proposed"
    )


class ResourceItem(Base):
    """信息项: one field of a resource; ``field`` is the machine name used by the datastore."""

    __tablename__ = "catalog_items"
    __table_args__ = (UniqueConstraint("resource_id", "field"),)

    id: Mapped[str] = id_column()
    resource_id: Mapped[str] = mapped_column(
        ForeignKey("catalog_resources.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    field: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))  # 信息项名称 (Chinese display name)
    data_type: Mapped[str] = mapped_column(String(20), default="string")
    length: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, default="")
    sensitivity: Mapped[str] = mapped_column(String(20), default="public")
    unit: Mapped[str] = mapped_column(String(20), default="")
    required: Mapped[bool] = mapped_column(default=False)
    # 分级: grade of the item and the personal-information type found in it (a detector type of
    # cityos.protection: id_card, mobile, name …), proposed by a scan, confirmed by a reviewer
    grade: Mapped[str] = mapped_column(String(10), default="一般-1", server_default="一般-1")
    pi_type: Mapped[str | None] = mapped_column(String(16), default=None)
    proposed_grade: Mapped[str | None] = mapped_column(String(10), default=None)
    detected: Mapped[list[dict[str, Any]]] = mapped_column(  # [{type, ratio}]
        JSON, default=list, server_default="[]"
    )
    grade_status: Mapped[str] = mapped_column(
        String(10), default="proposed", server_default="proposed"
    )


class ResourceVersion(Base):
    """Every metadata change, with who, when and what changed (old → new)."""

    __tablename__ = "catalog_versions"

    id: Mapped[str] = id_column()
    resource_id: Mapped[str] = mapped_column(
        ForeignKey("catalog_resources.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[str | None] = mapped_column(String(32))
    actor_name: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    comment: Mapped[str] = mapped_column(Text, default="")


class SearchTerm(Base):
    """Inverted index of jieba-segmented terms; identical on SQLite and PostgreSQL."""

    __tablename__ = "catalog_search_terms"
    # covering index: a prefix range on term yields resource ids and weights from the index
    __table_args__ = (Index("ix_catalog_search_terms_cover", "term", "resource_id", "weight"),)

    resource_id: Mapped[str] = mapped_column(
        ForeignKey("catalog_resources.id", ondelete="CASCADE"), primary_key=True
    )
    # bytewise ("C") collation on PostgreSQL so that prefix ranges use the index and match
    # SQLite's BINARY order whatever the database's default collation is
    term: Mapped[str] = mapped_column(
        String(64).with_variant(String(64, collation="C"), "postgresql"),
        primary_key=True,
    )
    weight: Mapped[int] = mapped_column(Integer, default=1)


class ResourceTag(Base):
    """Open-ended multi-valued facets of a resource (keywords) as rows, for GROUP BY counts."""

    __tablename__ = "catalog_resource_tags"
    # covering: counts per value, and the resources having a value
    __table_args__ = (
        Index("ix_catalog_resource_tags_facet_value", "facet", "value", "resource_id"),
    )

    resource_id: Mapped[str] = mapped_column(
        ForeignKey("catalog_resources.id", ondelete="CASCADE"), primary_key=True
    )
    facet: Mapped[str] = mapped_column(String(20), primary_key=True)  # keyword
    value: Mapped[str] = mapped_column(String(100), primary_key=True)


class CatalogState(Base):
    """One row: a generation number bumped by every catalogue write (validates search caches)."""

    __tablename__ = "catalog_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column(Integer, default=0)
