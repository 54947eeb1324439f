"""How large a request body each route accepts: a body over its route's limit is refused with
413 before any of it is read, the unauthenticated login included.

JSON bodies are small (a reply's text is at most WhatsApp's 65,536 characters); only an
attachment's multipart reply may carry `media.max_upload_size` (the file itself is checked again
as it is spooled), a CSV import of contacts its file, and only the homeserver's transactions
`appservice.max_body_size` (checked again as they are read, see appservice/transactions.py).
Without a Content-Length (a chunked body) the limit applies as the body is read.
"""

from __future__ import annotations

from aiohttp import web

from ..appservice.transactions import matrix_error
from ..keys import SETTINGS
from . import responses
from .middleware import Handler

KiB = 1024
MiB = 1024 * KiB
JSON = 1 * MiB
LOGIN = 16 * KiB
# A multipart reply's fields and framing besides its file.
FORM_EXTRA = 1 * MiB
UPLOADS = frozenset({
    "/api/v1/conversations/{conversation_id}/messages",
    "/api/v1/quick-replies/{quick_reply_id}/files",
})  # fmt: skip
# A CSV file of contacts, as JSON text (api/import_models.py MAX_CSV, and its escapes).
IMPORTS = frozenset({"/api/v1/contacts/import", "/api/v1/contacts/import/preview"})
IMPORT = 12 * MiB
TRANSACTIONS = frozenset({"/_matrix/app/v1/transactions/{txn_id}", "/transactions/{txn_id}"})


def limit_for(request: web.Request) -> int:
    settings = request.app[SETTINGS]
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else ""
    if route in TRANSACTIONS:
        return settings.appservice.max_body_size
    if route in UPLOADS and request.content_type == "multipart/form-data":
        return settings.media.max_upload_size + FORM_EXTRA
    if route in IMPORTS:
        return IMPORT
    if route == "/api/v1/auth/login":
        return LOGIN
    return JSON


def _too_large(request: web.Request, limit: int) -> web.Response:
    if request.path.startswith("/api/"):
        return responses.too_large().response()
    if request.path.startswith("/_matrix/") or request.path.startswith("/transactions/"):
        return matrix_error(413, "M_TOO_LARGE", "Request body is too large")
    return web.Response(status=413, text=f"The body is larger than {limit} bytes")


@web.middleware
async def limit_bodies(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.can_read_body:
        return await handler(request)
    limit = limit_for(request)
    if request.content_length is not None and request.content_length > limit:
        # Nothing of it is read: the client learns at once, and the connection is not reused
        # (aiohttp would otherwise have to read the rest to find the next request).
        response = _too_large(request, limit)
        response.force_close()
        return response
    return await handler(request.clone(client_max_size=limit))
