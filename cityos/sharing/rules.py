"""Who may see and act on share requests and grants: the one place these rules live.

- the bureau (admin, reviewer) sees every request and grant; only admin acts on them;
- the provider's members see the requests to it (its inbox) and the grants of its data; its
  data officers decide, and revoke, suspend, resume and renew those grants;
- the requesting department's members see its requests (its outbox) and its grants; its data
  officers (and the person who asked) withdraw a pending request;
- anyone else gets 404 for a request or grant, never 403 (its existence is not disclosed).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_, true

from cityos.auth.principal import Principal
from cityos.sharing.models import Grant, ShareRequest

BOXES = ("inbox", "outbox", "all")
GRANT_VIEWS = ("consumer", "provider", "all")


def can_see_request(principal: Principal, request: ShareRequest) -> bool:
    return (
        principal.sees_everything
        or request.provider_org_id in principal.org_ids
        or request.requester_org_id in principal.org_ids
    )


def can_decide(principal: Principal, request: ShareRequest) -> bool:
    return principal.is_admin or principal.is_officer_of(request.provider_org_id)


def can_withdraw(principal: Principal, request: ShareRequest) -> bool:
    return principal.is_officer_of(request.requester_org_id) or (
        principal.user_id is not None and principal.user_id == request.requester_user_id
    )


def request_clause(principal: Principal, box: str) -> ColumnElement[bool]:
    """The requests listed in ``box``: inbox (to my organisations), outbox (from them), all."""
    orgs = principal.org_ids
    inbox = ShareRequest.provider_org_id.in_(orgs) if orgs else false()
    outbox = ShareRequest.requester_org_id.in_(orgs) if orgs else false()
    if box == "inbox":
        return inbox
    if box == "outbox":
        return outbox
    return true() if principal.sees_everything else or_(inbox, outbox)


def can_see_grant(principal: Principal, grant: Grant) -> bool:
    return (
        principal.sees_everything
        or grant.provider_org_id in principal.org_ids
        or grant.consumer_org_id in principal.org_ids
    )


def can_manage_grant(principal: Principal, grant: Grant) -> bool:
    """Revoke, suspend, resume, renew: the provider's data officers and the bureau (admin)."""
    return principal.is_admin or principal.is_officer_of(grant.provider_org_id)


def grant_clause(principal: Principal, view: str) -> ColumnElement[bool]:
    orgs = principal.org_ids
    consumer = Grant.consumer_org_id.in_(orgs) if orgs else false()
    provider = Grant.provider_org_id.in_(orgs) if orgs else false()
    if view == "consumer":
        return consumer
    if view == "provider":
        return provider
    return true() if principal.sees_everything else or_(consumer, provider)


def is_participant_user(principal: Principal) -> bool:
    """Shown the sharing pages: members of sharing-participant organisations and the bureau."""
    return principal.is_sharing_participant or principal.sees_everything
