"""The review console's session and its CSRF check, as FastAPI dependencies.

* The session lives in a signed cookie (itsdangerous, under a key derived from
  ``FRAUDGUARD_HMAC_KEY``; ``HttpOnly``, ``SameSite=Strict``, ``Secure`` over HTTPS, for
  :data:`SESSION_MAX_AGE_S`): the language, and once signed in the role and the audit id of
  the key, never the key itself. Every session carries a CSRF token.
* Handlers declare what they need: :data:`SessionDep` (any visitor), :data:`SignedIn` (the
  signed-in actor, else a redirect to the login page), :data:`CsrfChecked` (a POST carrying
  the session's token in its ``csrf`` form field) and :data:`CsrfSignedIn` (both, sign-in
  first). A refused request raises a :class:`ConsoleRefusal`, which the console answers
  (:func:`fraudguard.api.console.answer_refusal`) before the handler runs, so it changes
  nothing.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import Depends, Form, Request
from fastapi.responses import Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from fraudguard.api.deps import ServicesDep
from fraudguard.cases import Actor
from fraudguard.privacy import hash_key

__all__ = [
    "SESSION_COOKIE",
    "SESSION_MAX_AGE_S",
    "ConsoleRefusal",
    "ConsoleSession",
    "CsrfChecked",
    "CsrfRefusedError",
    "CsrfSignedIn",
    "SessionDep",
    "SignInRequiredError",
    "SignedIn",
    "forget_session",
    "read_session",
    "require_csrf",
    "require_csrf_signed_in",
    "require_sign_in",
]

SESSION_COOKIE = "fg_console"
SESSION_MAX_AGE_S = 8 * 3600
_PATH = "/console"


class ConsoleSession:
    """The console session as read from (and written back to) the signed cookie; ``fresh``
    when the request brought none (or a bad one) and this one is new."""

    def __init__(
        self, data: dict[str, Any], fresh: bool, serializer: URLSafeTimedSerializer
    ) -> None:
        self.data = data
        self.fresh = fresh
        self._serializer = serializer

    @property
    def csrf(self) -> str:
        return str(self.data["csrf"])

    @property
    def lang(self) -> str:
        return str(self.data.get("lang", "zh"))

    @property
    def actor(self) -> Actor | None:
        if "actor" not in self.data:
            return None
        return Actor(id=self.data["actor"], role=self.data["role"])

    def signed_in(self, actor: str, role: str) -> ConsoleSession:
        """A new session for ``actor`` with a new CSRF token, in the same language: a token
        planted before login is useless after it."""
        data = {"csrf": secrets.token_urlsafe(32), "lang": self.lang, "actor": actor, "role": role}
        return ConsoleSession(data, fresh=True, serializer=self._serializer)

    def store(self, response: Response, request: Request) -> Response:
        """``response`` setting the session cookie."""
        response.set_cookie(
            SESSION_COOKIE,
            self._serializer.dumps(self.data),
            max_age=SESSION_MAX_AGE_S,
            path=_PATH,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response


def forget_session(response: Response) -> Response:
    """``response`` deleting the session cookie (logout)."""
    response.delete_cookie(SESSION_COOKIE, path=_PATH)
    return response


def session_serializer(services: ServicesDep) -> URLSafeTimedSerializer:
    secret = hash_key("console-session", services.scorer.settings.hmac_key)
    return URLSafeTimedSerializer(secret, salt="fraudguard-console")


def read_session(
    request: Request,
    serializer: Annotated[URLSafeTimedSerializer, Depends(session_serializer)],
) -> ConsoleSession:
    """The request's session, or a fresh one (language from ``Accept-Language``)."""
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        try:
            data = serializer.loads(raw, max_age=SESSION_MAX_AGE_S)
            if isinstance(data, dict) and isinstance(data.get("csrf"), str):
                return ConsoleSession(data, fresh=False, serializer=serializer)
        except BadSignature:
            pass
    accept = request.headers.get("accept-language", "").lower()
    lang = "en" if accept.startswith("en") else "zh"
    data = {"csrf": secrets.token_urlsafe(32), "lang": lang}
    return ConsoleSession(data, fresh=True, serializer=serializer)


SessionDep = Annotated[ConsoleSession, Depends(read_session)]


class ConsoleRefusal(Exception):  # noqa: N818 - a refusal, answered as a page, not an error
    """A console request refused by a dependency, before its handler runs."""

    def __init__(self, session: ConsoleSession) -> None:
        super().__init__(type(self).__name__)
        self.session = session


class SignInRequiredError(ConsoleRefusal):
    """Not signed in: answered with a redirect to the login page."""


class CsrfRefusedError(ConsoleRefusal):
    """A POST without the session's CSRF token: answered 403, nothing changed."""


# async: nothing here blocks, so no hop to a worker thread.
async def require_sign_in(session: SessionDep) -> Actor:
    """The signed-in actor; :class:`SignInRequiredError` otherwise."""
    actor = session.actor
    if actor is None:
        raise SignInRequiredError(session)
    return actor


async def require_csrf(
    session: SessionDep, csrf: Annotated[str, Form(max_length=256)] = ""
) -> ConsoleSession:
    """The session, if the form's ``csrf`` field is its token (never for a session this
    request just made); :class:`CsrfRefusedError` otherwise."""
    if session.fresh or not secrets.compare_digest(session.csrf, csrf):
        raise CsrfRefusedError(session)
    return session


SignedIn = Annotated[Actor, Depends(require_sign_in)]
CsrfChecked = Annotated[ConsoleSession, Depends(require_csrf)]


async def require_csrf_signed_in(actor: SignedIn, _session: CsrfChecked) -> Actor:
    """The signed-in actor of a POST carrying the session's token; sign-in is checked
    first, so a visitor without a session is sent to the login page."""
    return actor


CsrfSignedIn = Annotated[Actor, Depends(require_csrf_signed_in)]
