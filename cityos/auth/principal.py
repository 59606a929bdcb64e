"""Who is calling: the single object every authorization decision looks at."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Principal:
    user_id: str | None = None
    username: str | None = None
    display_name: str = ""
    roles: frozenset[str] = frozenset({"public"})
    # org id → roles held in that organisation
    org_roles: dict[str, frozenset[str]] = field(default_factory=dict)
    # org ids of government departments / public-service enterprises (sharing participants)
    sharing_org_ids: frozenset[str] = frozenset()
    via_token: bool = False
    ip: str | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    @property
    def org_ids(self) -> frozenset[str]:
        return frozenset(self.org_roles)

    @property
    def primary_org_id(self) -> str | None:
        return next(iter(sorted(self.org_roles)), None)

    @property
    def officer_org_ids(self) -> frozenset[str]:
        return frozenset(
            o for o, r in self.org_roles.items() if "data_officer" in r or "admin" in r
        )

    @property
    def is_sharing_participant(self) -> bool:
        """Member of a government department or public-service enterprise."""
        return bool(self.sharing_org_ids)

    @property
    def sees_everything(self) -> bool:
        """Platform roles that oversee the whole catalogue (bureau admin, security reviewer)."""
        return bool(self.roles & {"admin", "reviewer"})

    def has_any_role(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))

    def is_officer_of(self, org_id: str | None) -> bool:
        return org_id is not None and org_id in self.officer_org_ids


ANONYMOUS = Principal()
