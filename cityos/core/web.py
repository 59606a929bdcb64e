"""The web shell: templates with i18n, locale negotiation, page helpers."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.types import ASGIApp, Receive, Scope, Send

from cityos.auth.models import ROLE_LABELS
from cityos.core import i18n
from cityos.core.errors import ProblemError
from cityos.directory.codes import district_name

PACKAGE_DIR = Path(__file__).resolve().parent.parent
TEMPLATE_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"
LOCALE_COOKIE = "cityos_lang"
ELDER_COOKIE = "cityos_elder"  # 长辈版: large text, large targets, high contrast


def make_templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=jinja2.select_autoescape(),
        extensions=["jinja2.ext.i18n"],
    )
    templates = Jinja2Templates(env=env)
    env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda s: i18n.gettext(s), lambda s, p, n: i18n.gettext(s if n == 1 else p), newstyle=False
    )
    env.globals["_"] = i18n.gettext
    env.globals["role_labels"] = ROLE_LABELS
    env.globals["district_name"] = lambda code: district_name(code, i18n.get_locale())
    env.filters["dt"] = i18n.format_datetime
    env.filters["tojson_attr"] = lambda value: json.dumps(value, ensure_ascii=False)
    return templates


class LocaleMiddleware:
    """Sets the request locale: ?lang= (remembered in a cookie) > cookie > Accept-Language."""

    def __init__(self, app: ASGIApp, default: str = i18n.DEFAULT_LOCALE) -> None:
        self.app = app
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from urllib.parse import parse_qs

        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        chosen = i18n.normalize_locale((query.get("lang") or [None])[0])
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        cookie_locale = None
        for part in headers.get("cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == LOCALE_COOKIE:
                cookie_locale = i18n.normalize_locale(value)
        locale = (
            chosen
            or cookie_locale
            or i18n.negotiate(headers.get("accept-language"))
            or self.default
        )
        scope["cityos_locale"] = locale
        token = i18n.set_locale(locale)

        async def send_with_cookie(message: Any) -> None:
            if chosen and message["type"] == "http.response.start":
                cookie = f"{LOCALE_COOKIE}={chosen}; Path=/; Max-Age=31536000; SameSite=Lax"
                message.setdefault("headers", []).append((b"set-cookie", cookie.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_cookie)
        finally:
            i18n._current_locale.reset(token)


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to return to after a form or a switch; anything else (another site, a
    scheme, ``//host``, backslashes, control characters) → ``default``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in target):
        return default
    return target


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return str(token)


def check_csrf(request: Request, given: str | None) -> None:
    import hmac

    expected = request.session.get("csrf", "")
    if not expected or not given or not hmac.compare_digest(expected, given):
        raise ProblemError(403, "csrf_failed", "The form expired; reload the page and try again.")


def mark_page(request: Request) -> None:
    """Router dependency for HTML pages: errors render as pages, not JSON."""
    request.scope["cityos_page"] = True


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    from cityos.auth.access import resolve_principal

    try:
        principal = resolve_principal(request)
    except ProblemError:
        from cityos.auth.principal import ANONYMOUS

        principal = ANONYMOUS
    ctx: dict[str, Any] = {
        "request": request,
        "principal": principal,
        "elder": request.cookies.get(ELDER_COOKIE) == "1",
        "unread_notifications": _unread_notifications(request, principal),
        "locale": i18n.get_locale(),
        "html_lang": "zh-Hans" if i18n.get_locale() == "zh_Hans" else "en",
        "csrf": csrf_token(request),
        "settings": request.app.state.settings,
    }
    ctx.update(context or {})
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, template, ctx, status_code=status_code)


def _unread_notifications(request: Request, principal: Any) -> int:
    """The signed-in user's unread notifications for the header (one query; none if anonymous)."""
    if principal.user_id is None:
        return 0
    from cityos.notify.services import unread_count

    with request.app.state.db.session() as session:
        return unread_count(session, principal.user_id)


def render_problem_page(request: Request, problem: ProblemError) -> Response:
    if problem.status == 401:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    return render(request, "error.html", {"problem": problem}, status_code=problem.status)
