from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from cityos.auth import services
from cityos.auth.access import authenticated, public
from cityos.auth.models import User
from cityos.auth.principal import Principal
from cityos.auth.schemas import IssuedTokenOut, MeOut, TokenIn, TokenOut

router = APIRouter(tags=["auth"])


@router.get("/me", response_model=MeOut)
def me(principal: Principal = Depends(public)) -> MeOut:
    """Who is calling: user, roles and organisations (anonymous when no credentials)."""
    return MeOut(
        id=principal.user_id,
        username=principal.username,
        display_name=principal.display_name,
        roles=sorted(principal.roles),
        organisations={k: sorted(v) for k, v in principal.org_roles.items()},
    )


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(request: Request, principal: Principal = Depends(authenticated)) -> list[TokenOut]:
    """List the caller's API tokens (never their secrets)."""
    with request.app.state.db.session() as session:
        return [
            TokenOut.model_validate(t)
            for t in services.list_tokens(session, principal.user_id or "")
        ]


@router.post("/tokens", response_model=IssuedTokenOut, status_code=201)
def create_token(
    body: TokenIn, request: Request, principal: Principal = Depends(authenticated)
) -> IssuedTokenOut:
    """Create an API token; the response carries the token once."""
    with request.app.state.db.session() as session:
        user = session.get(User, principal.user_id)
        issued = services.create_token(
            session, user, name=body.name, days=body.days, actor=principal
        )
        out = TokenOut.model_validate(issued.token).model_dump()
        return IssuedTokenOut(**out, token=issued.plaintext)


@router.delete("/tokens/{token_id}", response_model=TokenOut)
def revoke_token(
    token_id: str, request: Request, principal: Principal = Depends(authenticated)
) -> TokenOut:
    """Revoke one of your tokens (admins: any token); effective at once."""
    with request.app.state.db.session() as session:
        return TokenOut.model_validate(services.revoke_token(session, token_id, principal))
