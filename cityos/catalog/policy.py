"""Who sees what in the catalogue: the one place these rules live.

- the bureau (admin) and security reviewers see every resource and its data;
- a provider's members see all of their own resources, in every status, and their data;
- government departments and public-service enterprises see every published resource's
  metadata (a 不予共享 page shows its legal basis) and the data of 无条件共享 resources
  (有条件共享 data needs a grant: the exchange issue);
- everyone, signed in or not, sees published resources that are open (无条件/有条件开放), and the
  data of 无条件开放 ones.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_, true

from cityos.auth.principal import Principal
from cityos.catalog.models import Resource


def metadata_clause(principal: Principal) -> ColumnElement[bool]:
    if principal.sees_everything:
        return true()
    published = Resource.status == "published"
    clauses: list[ColumnElement[bool]] = []
    if principal.is_sharing_participant:
        clauses.append(published)  # every published resource (open or not): one simple test
    else:
        clauses.append(and_(published, Resource.open_type.in_(("unconditional", "conditional"))))
    if principal.org_ids:
        clauses.append(Resource.provider_id.in_(principal.org_ids))
    return or_(*clauses)


def metadata_key(principal: Principal) -> tuple[object, ...]:
    """Everything ``metadata_clause`` depends on: equal keys, equal clauses (for caches)."""
    if principal.sees_everything:
        return ("all",)
    return (principal.is_sharing_participant, tuple(sorted(principal.org_ids)))


def data_clause(principal: Principal) -> ColumnElement[bool]:
    """Resources whose records this principal may read (without a grant)."""
    if principal.sees_everything:
        return true()
    published = Resource.status == "published"
    clauses: list[ColumnElement[bool]] = [and_(published, Resource.open_type == "unconditional")]
    if principal.is_sharing_participant:
        clauses.append(and_(published, Resource.share_type == "unconditional"))
    if principal.org_ids:
        clauses.append(Resource.provider_id.in_(principal.org_ids))
    return or_(*clauses) if clauses else false()


def can_view_metadata(principal: Principal, resource: Resource) -> bool:
    if principal.sees_everything or resource.provider_id in principal.org_ids:
        return True
    if resource.status != "published":
        return False
    return principal.is_sharing_participant or resource.open_type in ("unconditional", "conditional")


def can_read_data(principal: Principal, resource: Resource) -> bool:
    if principal.sees_everything or resource.provider_id in principal.org_ids:
        return True
    if resource.status != "published":
        return False
    if resource.open_type == "unconditional":
        return True
    return principal.is_sharing_participant and resource.share_type == "unconditional"


def can_edit(principal: Principal, resource: Resource) -> bool:
    """Metadata and data are maintained by the provider's data officers (and the bureau)."""
    return principal.is_admin or principal.is_officer_of(resource.provider_id)


def can_create_for(principal: Principal, provider_id: str) -> bool:
    return principal.is_admin or principal.is_officer_of(provider_id)


def can_review(principal: Principal) -> bool:
    """Confirming catalogues is the bureau's job (Art. 12)."""
    return principal.is_admin
