from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.audit.services import record as audit
from cityos.auth.models import ROLES, ApiToken, Membership, User
from cityos.auth.principal import Principal
from cityos.core.db import utcnow
from cityos.core.errors import ProblemError, conflict, invalid, not_found
from cityos.directory.models import Organisation

TOKEN_PREFIX = "cot_"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    b64 = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str | None) -> bool:
    if not stored or not stored.startswith("scrypt$"):
        return False
    _, n, r, p, salt, digest = stored.split("$")
    candidate = hashlib.scrypt(
        password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p)
    )
    return hmac.compare_digest(candidate, base64.b64decode(digest))


def validate_password(password: str) -> None:
    if len(password) < 8:
        raise invalid("weak_password", "The password must have at least 8 characters.")


def create_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    password: str | None,
    email: str | None = None,
    actor: Principal | None = None,
) -> User:
    if not username.replace("_", "").replace("-", "").replace(".", "").isalnum():
        raise invalid("invalid_username", "A username uses letters, digits, '-', '_' or '.'.")
    if session.scalar(select(User.id).where(User.username == username)):
        raise conflict(
            "username_taken", "The username {username} is already taken.", username=username
        )
    if password is not None:
        validate_password(password)
    user = User(
        username=username,
        display_name=display_name,
        email=email,
        password_hash=hash_password(password) if password else None,
    )
    session.add(user)
    session.flush()
    audit(session, actor, "user.create", "user", user.id, username=username)
    return user


def add_membership(
    session: Session, user: User, role: str, org_id: str | None, actor: Principal | None = None
) -> Membership:
    if role not in ROLES:
        raise invalid("invalid_role", "Unknown role: {role}", role=role)
    if role == "data_officer" and not org_id:
        raise invalid("role_needs_org", "A data officer belongs to an organisation.")
    if org_id and session.get(Organisation, org_id) is None:
        raise not_found("organisation", org_id)
    membership = Membership(user_id=user.id, org_id=org_id, role=role)
    session.add(membership)
    session.flush()
    audit(session, actor, "user.membership.add", "user", user.id, role=role, org_id=org_id)
    return membership


def get_user_by_name(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = get_user_by_name(session, username)
    if user is None or not user.is_active:
        hash_password(password)  # same work either way: no user-enumeration timing
        return None
    if not verify_password(password, user.password_hash):
        return None
    user.last_login_at = utcnow()
    return user


def principal_for(
    session: Session, user: User, *, via_token: bool = False, ip: str | None = None
) -> Principal:
    rows = session.execute(
        select(Membership.org_id, Membership.role, Organisation.kind)
        .outerjoin(Organisation, Organisation.id == Membership.org_id)
        .where(Membership.user_id == user.id)
    ).all()
    roles = {"public"} | {role for _, role, _ in rows}
    org_roles: dict[str, set[str]] = {}
    sharing: set[str] = set()
    for org_id, role, kind in rows:
        if org_id:
            org_roles.setdefault(org_id, set()).add(role)
            if kind in ("government", "enterprise"):
                sharing.add(org_id)
    return Principal(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        roles=frozenset(roles),
        org_roles={k: frozenset(v) for k, v in org_roles.items()},
        sharing_org_ids=frozenset(sharing),
        via_token=via_token,
        ip=ip,
    )


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    plaintext: str


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    session: Session,
    user: User,
    *,
    name: str,
    days: int = 90,
    actor: Principal | None = None,
) -> IssuedToken:
    if not 1 <= days <= 3650:
        raise invalid("invalid_expiry", "A token expires within 1 to 3650 days.")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    token = ApiToken(
        key_id=key_id,
        secret_hash=_secret_hash(secret),
        user_id=user.id,
        name=name,
        expires_at=utcnow() + timedelta(days=days),
    )
    session.add(token)
    session.flush()
    audit(session, actor, "token.create", "api_token", token.id, name=name, user=user.username)
    return IssuedToken(token, f"{TOKEN_PREFIX}{key_id}_{secret}")


def resolve_token(session: Session, plaintext: str, now: datetime | None = None) -> User | None:
    """The active user a token belongs to, or None for any unknown, expired or revoked token."""
    if not plaintext.startswith(TOKEN_PREFIX):
        return None
    key_id, _, secret = plaintext[len(TOKEN_PREFIX) :].partition("_")
    token = session.scalar(select(ApiToken).where(ApiToken.key_id == key_id))
    if token is None or not hmac.compare_digest(token.secret_hash, _secret_hash(secret)):
        return None
    now = now or utcnow()
    if token.revoked_at is not None or token.expires_at <= now:
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        token.last_used_at = now
    user = session.get(User, token.user_id)
    return user if user is not None and user.is_active else None


def revoke_token(session: Session, token_id: str, actor: Principal) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise not_found("api_token", token_id)
    if token.user_id != actor.user_id and not actor.is_admin:
        raise ProblemError(403, "forbidden", "You can revoke only your own tokens.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit(session, actor, "token.revoke", "api_token", token.id)
    return token


def list_tokens(session: Session, user_id: str) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.created_at.desc())
        )
    )


def register(
    session: Session,
    *,
    username: str,
    display_name: str,
    password: str,
    email: str | None = None,
    ip: str | None = None,
) -> User:
    """Self-service account (/register): a user with the platform-wide role ``public``."""
    user = create_user(
        session,
        username=username.strip(),
        display_name=display_name.strip() or username.strip(),
        password=password,
        email=(email or "").strip() or None,
    )
    add_membership(session, user, "public", None)
    audit(session, None, "auth.register", "user", user.id, username=user.username, ip=ip)
    return user
