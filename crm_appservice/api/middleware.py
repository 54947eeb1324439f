"""Authentication, CSRF protection and error answers for everything under /api/.

Every /api/ route needs a manager, by session cookie or by `Authorization: Bearer <api token>`,
except the ones listed in PUBLIC. A request authenticated by cookie that changes something must
carry the session's CSRF token in `X-CSRF-Token` (the browser cannot be tricked into sending a
custom header cross-site, and the token is bound to the session).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import logging
from typing import Any

from aiohttp import web
import asyncpg
from pydantic import ValidationError

from .. import secret
from ..keys import POOL, SESSIONS, SETTINGS
from ..store import sessions
from . import responses, wording

log = logging.getLogger("crm.api")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SESSION = web.RequestKey("session", sessions.Session)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC = frozenset({("POST", "/api/v1/auth/login")})
CSRF_HEADER = "X-CSRF-Token"


def ids(path: str) -> str:
    """A route's path whose `{name:id}` parts match a database id: at most 18 digits (an id
    never gets that long), so a longer number is no such thing (404), never an overflow."""
    return path.replace(":id}", r":\d{1,18}}")


def query_of(request: web.Request, *repeatable: str) -> dict[str, Any]:
    """The query string as a query model reads it: the `repeatable` parameters (`label`,
    `attribute`) as lists of every value given, the others as their first value."""
    return {**request.query, **{name: request.query.getall(name, []) for name in repeatable}}


def current(request: web.Request) -> sessions.Session:
    session: sessions.Session = request[SESSION]
    return session


def restricted_to(request: web.Request) -> int | None:
    """The manager's id if they see only their own and unassigned conversations, else None."""
    session = current(request)
    if session.manager.role == "admin" or request.app[SETTINGS].web.managers_see == "all":
        return None
    return session.manager.id


def ensure_visible(request: web.Request, assignee_id: int | None, what: str) -> None:
    """404 (not 403: nothing is told about what the manager may not see) for a conversation
    assigned to someone else, when managers see only their own."""
    me = restricted_to(request)
    if me is not None and assignee_id is not None and assignee_id != me:
        raise responses.not_found(what)


def require_admin(request: web.Request) -> sessions.Session:
    session = current(request)
    if session.manager.role != "admin":
        raise responses.forbidden("Only admins may do that")
    return session


def validation_error(error: ValidationError) -> responses.APIError:
    """The first thing wrong with a body or query, in plain words (api/wording.py)."""
    message, field = wording.explain(dict(error.errors()[0]))
    return responses.APIError(422, "invalid", message, field)


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith("/api/"):
        return await handler(request)
    try:
        return await handler(request)
    except responses.APIError as e:
        return e.response()
    except ValidationError as e:
        return validation_error(e).response()
    except web.HTTPNotFound:
        return responses.not_found("endpoint").response()
    except web.HTTPMethodNotAllowed:
        return responses.method_not_allowed().response()
    except web.HTTPRequestEntityTooLarge:
        return responses.too_large().response()
    except ConnectionResetError:
        raise  # the client went away while its request was read: nobody to answer
    except (asyncpg.DeadlockDetectedError, asyncpg.SerializationError):
        # Two changes of the same rows at once (a merge while the bridge merges the same
        # person): PostgreSQL undid this one whole, and doing it again will work.
        return responses.conflict(
            "Someone changed the same thing at the same moment: nothing was changed, try again"
        ).response()
    except (OSError, asyncpg.InterfaceError, asyncpg.CannotConnectNowError, TimeoutError):
        log.exception("Database unavailable for %s %s", request.method, request.path)
        return responses.unavailable().response()
    except web.HTTPException:
        raise
    except Exception:
        log.exception("Unhandled error in %s %s", request.method, request.path)
        return responses.internal_error().response()


async def find_session(request: web.Request) -> tuple[sessions.Session | None, bool]:
    """The session the request carries (None: none, or not a live one) and whether it came by
    cookie (False: by `Authorization: Bearer`)."""
    settings = request.app[SETTINGS]
    header = request.headers.get("Authorization", "")
    by_cookie = not header.startswith("Bearer ")
    token = request.cookies.get(settings.web.cookie_name, "") if by_cookie else header[7:]
    if not token:
        return None, by_cookie
    cache = request.app[SESSIONS]
    hashed = sessions.token_hash(token)
    session = cache.get(hashed)
    if session is None:
        lifetime = settings.web.session_lifetime
        async with request.app[POOL].acquire() as conn:
            session = await sessions.resolve(conn, token, lifetime)
        if session is None:
            return None, by_cookie
        cache.put(hashed, session)
    return session, by_cookie


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith("/api/") or (request.method, request.path) in PUBLIC:
        return await handler(request)
    session, by_cookie = await find_session(request)
    if session is None:
        raise responses.unauthorized()
    sent_csrf = request.headers.get(CSRF_HEADER, "")
    if (
        by_cookie
        and request.method not in SAFE_METHODS
        and not secret.matches(sent_csrf, session.csrf_token)
    ):
        raise responses.csrf_failed()
    request[SESSION] = session
    return await handler(request)
