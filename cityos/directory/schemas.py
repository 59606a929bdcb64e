from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from cityos.directory.models import ORG_KINDS


class OrganisationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=200)
    short_name: str | None = Field(default=None, max_length=50)
    uscc: str = Field(min_length=18, max_length=18, description="统一社会信用代码")
    kind: str = Field(default="government", description=" | ".join(ORG_KINDS))
    district_code: str = Field(default="460100", description="GB/T 2260 code")
    parent_id: str | None = None
    slug: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_-]{1,99}$")
    description: str = ""
    contact: str = ""


class OrganisationPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=2, max_length=200)
    short_name: str | None = None
    kind: str | None = None
    district_code: str | None = None
    parent_id: str | None = None
    description: str | None = None
    contact: str | None = None


class OrganisationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    short_name: str | None
    uscc: str
    kind: str
    district_code: str
    parent_id: str | None
    slug: str
    description: str
    contact: str
    is_bureau: bool
    created_at: datetime


class MembershipIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: str
    org_id: str | None = None


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=2, max_length=64)
    display_name: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=8, max_length=200)
    email: str | None = None
    memberships: list[MembershipIn] = Field(default_factory=list)


class MembershipOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    role: str
    org_id: str | None


class UserOut(BaseModel):
    id: str
    username: str
    display_name: str
    email: str | None
    is_active: bool
    memberships: list[MembershipOut]
