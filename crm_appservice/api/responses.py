"""Every error answer of the inbox API, in one place, with its machine-readable code.

Handlers raise :class:`APIError` (or call one of the helpers below); the error middleware turns it
into `{"error": {"code", "message", "field"?}}`. No handler builds error JSON itself, and nothing
about the server's internals (SQL, stack traces) ever reaches a client.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
import orjson
from pydantic import BaseModel


class APIError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers

    def response(self) -> web.Response:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field:
            error["field"] = self.field
        return json_response({"error": error}, status=self.status, headers=self.headers)


def json_response(
    data: BaseModel | dict[str, Any] | list[Any],
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> web.Response:
    # A model goes to JSON in pydantic's own serializer, without a dict of it in between.
    body = data.model_dump_json().encode() if isinstance(data, BaseModel) else orjson.dumps(data)
    return web.Response(
        body=body,
        status=status,
        content_type="application/json",
        headers=headers,
    )


def bad_request(message: str, field: str | None = None) -> APIError:
    return APIError(400, "bad_request", message, field)


def invalid(field: str, message: str) -> APIError:
    return APIError(422, "invalid", message, field)


def unauthorized() -> APIError:
    return APIError(401, "unauthorized", "Log in, or send a valid API token")


def invalid_credentials() -> APIError:
    return APIError(401, "invalid_credentials", "Wrong e-mail or password")


def forbidden(message: str = "You may not do that") -> APIError:
    return APIError(403, "forbidden", message)


def csrf_failed() -> APIError:
    return APIError(403, "csrf_failed", "Missing or wrong X-CSRF-Token header")


def not_found(what: str = "resource") -> APIError:
    return APIError(404, "not_found", f"No such {what}")


def method_not_allowed() -> APIError:
    return APIError(405, "method_not_allowed", "Method not allowed")


def conflict(message: str) -> APIError:
    return APIError(409, "conflict", message)


def too_large() -> APIError:
    return APIError(413, "too_large", "The request body is larger than this server accepts")


def json_only() -> APIError:
    return APIError(415, "unsupported_media_type", "Send the body as application/json")


def rate_limited(retry_after: int) -> APIError:
    return APIError(
        429,
        "rate_limited",
        f"Too many failed attempts, try again in {retry_after} s",
        headers={"Retry-After": str(retry_after)},
    )


def internal_error() -> APIError:
    return APIError(500, "internal_error", "Something went wrong on our side; it was logged")


def unavailable() -> APIError:
    return APIError(503, "unavailable", "The database is unreachable, try again shortly")
