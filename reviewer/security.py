"""Headers every answer carries, and which image hosts the proxy may reach."""

import time
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.middleware import PersistentRemoteUserMiddleware
from django.http import HttpRequest, HttpResponse

SESSION_STAMP = "_refreshed_at"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "object-src 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    """Allow scripts and styles from our own static files only."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response


def image_host_allowed(uri: str) -> bool:
    """Tell whether an absolute image link points at a host the operator allows."""
    host = (urlsplit(uri).hostname or "").lower()
    endpoint = urlsplit(settings.CUSTOMVISION_ENDPOINT).hostname
    for allowed in [endpoint or "", *settings.IMAGE_HOSTS]:
        allowed = allowed.lower()
        if allowed.startswith("*."):
            if host.endswith(allowed[1:]):
                return True
        elif host == allowed:
            return True
    return False


class TrustedProxyUserMiddleware(PersistentRemoteUserMiddleware):
    """Log in the user a trusted authenticating proxy names in a header.

    Off unless SSO_HEADER is set; the header is honoured only on requests from
    SSO_TRUSTED_PROXIES, and stripped from any other request.
    """

    @property
    def header(self) -> str:
        name = settings.SSO_HEADER.upper().replace("-", "_")
        return f"HTTP_{name}" if name else ""

    def __call__(self, request: HttpRequest) -> HttpResponse:
        trusted = request.META.get("REMOTE_ADDR") in settings.SSO_TRUSTED_PROXIES
        if not self.header or not trusted:
            if self.header:
                request.META.pop(self.header, None)
            return self.get_response(request)
        return super().__call__(request)


class IdleSessionMiddleware:
    """End sessions after SESSION_COOKIE_AGE without a request.

    Every request would otherwise have to rewrite the session; instead the expiry is
    pushed forward at most once every SESSION_REFRESH_SECONDS.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        now = int(time.time())
        stamp = session.get(SESSION_STAMP)
        if session.session_key and (
            stamp is None or now - stamp >= settings.SESSION_REFRESH_SECONDS
        ):
            session[SESSION_STAMP] = now
        return self.get_response(request)


def stamp_new_session(sender, request: HttpRequest, user, **kwargs) -> None:
    """Start a fresh session's idle clock at login, so its first page needn't."""
    request.session[SESSION_STAMP] = int(time.time())


def client_address(request: HttpRequest) -> str:
    """The address a request came from; behind a trusted proxy, the one it names."""
    address = request.META.get("REMOTE_ADDR", "")
    if address in settings.TRUSTED_PROXIES:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        # The proxy appends the address it saw; earlier hops could be forged.
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return address
