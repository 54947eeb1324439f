"""`GET /api/v1/openapi.json`: the API's contract, generated from the pydantic models."""

from __future__ import annotations

import functools
import json
import sys
from typing import Any

from aiohttp import web
import orjson
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from .. import __version__
from ..ingest import html
from . import (
    attribute_models as a,
    bridge_models as b,
    contact_models as c,
    deal_models as d,
    file_kinds,
    import_models as i,
    label_models as lb,
    models as m,
    order_models as o,
    quick_reply_models as q,
    token_models as t,
    view_models as v,
)
from .bulk import BulkBody, BulkOut
from .conversations import BundleOut, ConversationPatch, ListQuery, PageQuery
from .drafts import DraftBody
from .live_models import LiveFrameOut

# An answer's model for 200, or the model of each status it answers with (201, 202, …).
Answer = type[BaseModel] | dict[str, type[BaseModel]] | None
Operation = tuple[str, str, str, type[BaseModel] | None, Answer]
# Sent to a worker: 202 while it goes out; the same request again answers 200.
_QUEUED: dict[str, type[BaseModel]] = {"202": m.MessageOut, "200": m.MessageOut}

# (method, path, summary, request body, answer)
OPERATIONS: list[Operation] = [
    ("post", "/api/v1/auth/login", "Log in (sets the session cookie)", m.LoginBody, m.LoginOut),
    ("post", "/api/v1/auth/logout", "Log out", None, None),
    ("get", "/api/v1/me", "The current manager", None, m.LoginOut),
    ("patch", "/api/v1/me", "Change your name, or your password (with the current one)",
     m.MePatch, m.LoginOut),
    ("get", "/api/v1/tokens", "This manager's API tokens", None, t.TokenList),
    ("post", "/api/v1/tokens", "Create an API token (shown once)", t.TokenBody,
     {"201": t.NewTokenOut}),
    ("delete", "/api/v1/tokens/{token_id}", "Revoke an API token", None, None),
    ("get", "/api/v1/conversations", "The inbox, newest activity first", None,
     m.ConversationPage),
    ("get", "/api/v1/conversations/counts", "Counts for the inbox tabs", None, m.CountsOut),
    ("get", "/api/v1/conversations/{conversation_id}", "Everything the conversation screen needs",
     None, BundleOut),
    ("patch", "/api/v1/conversations/{conversation_id}", "Status, snooze, assignee, archive",
     ConversationPatch, m.ConversationOut),
    ("post", "/api/v1/conversations/{conversation_id}/read", "Mark read", None,
     m.ConversationOut),
    ("get", "/api/v1/conversations/{conversation_id}/messages", "Older messages", None,
     m.MessagePage),
    ("post", "/api/v1/conversations/{conversation_id}/messages",
     "Send a reply (202, status pending; the same client_txn_id again: 200, the same message)",
     m.ReplyBody, _QUEUED),
    ("post", "/api/v1/messages/{message_id}/retry", "Send a failed reply again", None,
     {"202": m.MessageOut}),
    ("patch", "/api/v1/messages/{message_id}", "Edit an own reply's text", m.EditBody, _QUEUED),
    ("delete", "/api/v1/messages/{message_id}", "Delete an own reply", None, _QUEUED),
    ("post", "/api/v1/messages/{message_id}/reactions", "React to a message", m.ReactionBody,
     _QUEUED),
    ("delete", "/api/v1/messages/{message_id}/reactions/{key}", "Take a reaction back", None,
     {"202": m.MessageOut}),
    ("post", "/api/v1/conversations/{conversation_id}/notes", "Add a note", m.NoteBody,
     {"201": m.NoteOut}),
    ("patch", "/api/v1/notes/{note_id}", "Change your note's text", m.NoteBody, m.NoteOut),
    ("delete", "/api/v1/notes/{note_id}", "Delete your note", None, m.NoteOut),
    ("delete", "/api/v1/orders/{order_id}", "Delete an order", None, None),
    ("put", "/api/v1/conversations/{conversation_id}/draft",
     "Keep your unsent reply in a conversation (an empty body: none)", DraftBody, None),
    ("get", "/api/v1/contacts", "Every contact, by name or newest first; search and filters",
     None, c.ContactPage),
    ("get", "/api/v1/contacts/{contact_id}",
     "A contact with its numbers and all its conversations (a merged one: the contact it "
     "became)", None, c.ContactDetailOut),
    ("patch", "/api/v1/contacts/{contact_id}", "Edit a contact", c.ContactPatch,
     c.ContactDetailOut),
    ("get", "/api/v1/contacts/{contact_id}/orders", "A contact's orders", None, o.OrderList),
    ("get", "/api/v1/contacts/export.csv",
     "The list as filtered (q, sort, owner, number), every page, as CSV", None, None),
    ("post", "/api/v1/contacts/import/preview",
     "Read a CSV file of contacts: the suggested mapping, problems per row, matches (admin)",
     i.ImportBody, i.ImportPreviewOut),
    ("post", "/api/v1/contacts/import",
     "Import every good row in one transaction; the bad ones reported, none kept (admin)",
     i.ImportBody, i.ImportOut),
    ("get", "/api/v1/contacts/{contact_id}/duplicates",
     "Contacts that look like the same person, and why", None, c.DuplicateList),
    ("post", "/api/v1/contacts/{contact_id}/merge",
     "Merge another contact into this one (kept): conversations, orders, numbers, attributes",
     c.MergeBody, c.MergeOut),
    ("post", "/api/v1/contact-merges/{merge_id}/undo",
     "Undo a merge (its merger or an admin): the merged contact is back with what it brought",
     None, c.MergeOut),
    ("get", "/api/v1/contact-attributes", "The attributes kept about contacts, in order", None,
     a.AttributeList),
    ("post", "/api/v1/contact-attributes",
     "Define an attribute (admin); values contacts have under its key are converted to it",
     a.AttributeBody, {"201": a.AttributeOut}),
    ("patch", "/api/v1/contact-attributes/{attribute_id}",
     "Rename, reorder, or change a choice's options (admin)", a.AttributePatch, a.AttributeOut),
    ("delete", "/api/v1/contact-attributes/{attribute_id}",
     "Remove an attribute (admin): contacts keep their values, shown as other details", None,
     None),
    ("get", "/api/v1/quick-replies", "The team's quick replies and the manager's own", None,
     q.QuickReplyList),
    ("post", "/api/v1/quick-replies",
     "Add a quick reply: the team's (admin) or, `personal`, the manager's own", q.QuickReplyBody,
     {"201": q.QuickReplyOut}),
    ("patch", "/api/v1/quick-replies/{quick_reply_id}",
     "Change a quick reply (admins the team's, a manager their own)", q.QuickReplyPatch,
     q.QuickReplyOut),
    ("delete", "/api/v1/quick-replies/{quick_reply_id}", "Remove a quick reply", None, None),
    ("post", "/api/v1/quick-replies/{quick_reply_id}/files",
     "Add a file (multipart/form-data: `file`, and `width`, `height` of an image)", None,
     {"201": q.QuickReplyOut}),
    ("get", "/api/v1/quick-replies/{quick_reply_id}/files/{file_id}", "A quick reply's file",
     None, None),
    ("delete", "/api/v1/quick-replies/{quick_reply_id}/files/{file_id}",
     "Remove a file of a quick reply", None, q.QuickReplyOut),
    ("get", "/api/v1/conversations/{conversation_id}/quick-replies/{quick_reply_id}",
     "A quick reply filled in for the conversation, and its variables with no value there",
     None, q.RenderedOut),
    ("get", "/api/v1/labels", "The team's labels, by name", None, lb.LabelList),
    ("post", "/api/v1/labels", "Add a label (admin)", lb.LabelBody, {"201": lb.LabelOut}),
    ("patch", "/api/v1/labels/{label_id}", "Rename or recolour a label (admin)", lb.LabelPatch,
     lb.LabelOut),
    ("delete", "/api/v1/labels/{label_id}",
     "Remove a label, also from every conversation and contact (admin)", None, None),
    ("post", "/api/v1/conversations/{conversation_id}/labels", "Put a label on a conversation",
     lb.LabelRef, m.ConversationOut),
    ("delete", "/api/v1/conversations/{conversation_id}/labels/{label_id}",
     "Take a label off a conversation", None, m.ConversationOut),
    ("post", "/api/v1/contacts/{contact_id}/labels", "Put a label on a contact", lb.LabelRef,
     lb.LabelIdsOut),
    ("delete", "/api/v1/contacts/{contact_id}/labels/{label_id}", "Take a label off a contact",
     None, lb.LabelIdsOut),
    ("post", "/api/v1/conversations/bulk",
     "Change many conversations in one transaction: assign, status, snooze, archive, a label",
     BulkBody, BulkOut),
    ("get", "/api/v1/views",
     "The team's saved views and your own, with how many conversations each holds", None,
     v.ViewList),
    ("post", "/api/v1/views", "Save a view (shared: the team's, admin)", v.ViewBody,
     {"201": v.ViewCounted}),
    ("patch", "/api/v1/views/{view_id}",
     "Rename a view or change its filters (your own; the team's: admin)", v.ViewPatch,
     v.ViewCounted),
    ("delete", "/api/v1/views/{view_id}", "Remove a view (your own; the team's: admin)", None,
     None),
    ("get", "/api/v1/pipelines", "The pipelines with their stages and lost reasons", None,
     d.PipelineList),
    ("post", "/api/v1/pipelines", "Add a pipeline (admin)", d.PipelineBody,
     {"201": d.PipelineOut}),
    ("patch", "/api/v1/pipelines/{pipeline_id}",
     "Rename a pipeline or change its stages or lost reasons, each as the whole ordered list"
     " (admin)", d.PipelinePatch, d.PipelineOut),
    ("delete", "/api/v1/pipelines/{pipeline_id}", "Remove a pipeline without deals (admin)",
     None, None),
    ("get", "/api/v1/pipelines/{pipeline_id}/board",
     "A pipeline's board: each stage's count and totals with its first deals", None,
     d.BoardOut),
    ("get", "/api/v1/deals", "A board column's next page of deals", None, d.DealPage),
    ("post", "/api/v1/deals", "Add a deal (at the top of its stage)", d.DealBody,
     {"201": d.DealOut}),
    ("get", "/api/v1/deals/{deal_id}", "A deal with its moves between stages", None,
     d.DealDetailOut),
    ("patch", "/api/v1/deals/{deal_id}", "Change a deal's title, value, contact, owner, close"
     " date or labels", d.DealPatch, d.DealOut),
    ("post", "/api/v1/deals/{deal_id}/move",
     "Move a deal to a place in a stage (won or lost closes it)", d.DealMove, d.DealOut),
    ("delete", "/api/v1/deals/{deal_id}", "Remove a deal (its owner or an admin)", None, None),
    ("get", "/api/v1/contacts/{contact_id}/deals", "A contact's deals, open ones first", None,
     d.DealList),
    ("post", "/api/v1/contacts/{contact_id}/orders", "Add an order", o.OrderBody,
     {"201": o.OrderOut}),
    ("patch", "/api/v1/orders/{order_id}", "Edit an order", o.OrderPatch, o.OrderOut),
    ("get", "/api/v1/team", "The active managers' names (for everyone)", None, m.TeamList),
    ("get", "/api/v1/managers", "All managers (admin)", None, m.ManagerList),
    ("post", "/api/v1/managers", "Add a manager (admin)", m.ManagerBody,
     {"201": m.ManagerAdminOut}),
    ("patch", "/api/v1/managers/{manager_id}", "Change or deactivate a manager (admin)",
     m.ManagerPatch, m.ManagerAdminOut),
    ("get", "/api/v1/media/{message_id}",
     "A message's file (also HEAD; Range and If-None-Match honoured)", None, None),
    ("get", "/api/v1/media/{message_id}/thumbnail", "A message's thumbnail", None, None),
    ("get", "/api/v1/whatsapp", "The bridge's WhatsApp logins (admin)", None, b.WhatsAppOut),
    ("post", "/api/v1/whatsapp/login/{flow}", "Start logging in: qr or phone (admin)", None,
     b.LoginStepOut),
    ("post", "/api/v1/whatsapp/login/{login_id}/{step_id}/wait",
     "The next step of a login: a new QR code, or complete; 204 when there is nothing new"
     " after bridge.login_wait seconds: ask again with the same txn_id (admin)", None,
     b.LoginStepOut),
    ("post", "/api/v1/whatsapp/login/{login_id}/{step_id}/input",
     "Answer a login step's fields, e.g. the phone number (admin)", None, b.LoginStepOut),
    ("post", "/api/v1/whatsapp/login/{login_id}/cancel", "Cancel a login (admin)", None, None),
    ("get", "/api/v1/numbers", "The business's numbers and their names", None, m.NumberList),
    ("put", "/api/v1/whatsapp/logins/{login_id}/name", "Name one of the numbers (admin)",
     b.NumberNameBody, m.NumberOut),
    ("post", "/api/v1/whatsapp/logout/{login_id}", "Log a WhatsApp account out (admin)", None,
     None),
    ("post", "/api/v1/conversations/new",
     "Open a chat with a phone number (202: the bridge is still making it, it arrives live)",
     b.NewConversationBody, {"201": m.ConversationOut, "202": b.NewChatPendingOut}),
    ("get", "/api/v1/ws", "Live updates (WebSocket; ?since=<seq>): each frame a LiveFrameOut",
     None, {"101": LiveFrameOut}),
    ("get", "/api/v1/openapi.json", "This document", None, None),
]  # fmt: skip


def _answers(answer: Answer) -> dict[str, type[BaseModel]]:
    if answer is None:
        return {}
    return answer if isinstance(answer, dict) else {"200": answer}


# A database id in a path (middleware.ids): a longer or negative number is a 404.
_ID = {"type": "integer", "minimum": 1, "maximum": 10**18 - 1}
QUERIES: dict[str, type[BaseModel]] = {
    "/api/v1/conversations": ListQuery,
    "/api/v1/contacts": c.ContactListQuery,
    "/api/v1/contacts/export.csv": c.ContactFilterQuery,
    "/api/v1/conversations/{conversation_id}/messages": PageQuery,
    "/api/v1/pipelines/{pipeline_id}/board": d.BoardQuery,
    "/api/v1/deals": d.ColumnQuery,
}


@functools.cache
def document() -> dict[str, Any]:
    """The document, built once (about 15 ms of pydantic's schema work, which would block the
    event loop at every request of an endpoint anyone may call). Nothing may change it."""
    # Bodies and queries as they are read, answers as they are written (every field there).
    read = {op[3] for op in OPERATIONS if op[3]} | set(QUERIES.values())
    written = {model for op in OPERATIONS for model in _answers(op[4]).values()}
    wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        *((model, "validation") for model in read),
        *((model, "serialization") for model in written),
    ]
    refs, schemas = models_json_schema(
        sorted(wanted, key=lambda x: (x[0].__name__, x[1])),
        ref_template="#/components/schemas/{model}",
    )

    def ref(model: type[BaseModel], mode: JsonSchemaMode) -> dict[str, Any]:
        return dict(refs[(model, mode)])

    error = {"$ref": "#/components/schemas/Error"}
    paths: dict[str, dict[str, Any]] = {}
    for method, path, summary, body, answer in OPERATIONS:
        answers: dict[str, Any] = {
            status: {"description": "OK", "content": {"application/json": {
                "schema": ref(model, "serialization")}}}
            for status, model in _answers(answer).items()
        } or {"200": {"description": "OK"}}  # fmt: skip
        if path.endswith(".csv"):
            answers["200"]["content"] = {"text/csv": {"schema": {"type": "string"}}}
        elif method == "get" and path.endswith("/files/{file_id}"):  # the file as it was sent
            answers["200"]["content"] = {"*/*": {"schema": {"type": "string",
                                                            "format": "binary"}}}  # fmt: skip
        answers["default"] = {"description": "Error", "content": {"application/json": {
            "schema": error}}}  # fmt: skip
        op: dict[str, Any] = {"summary": summary, "responses": answers}
        if body is not None:
            op["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": ref(body, "validation")}}}  # fmt: skip
        parameters = [
            {"name": part.strip("{}"), "in": "path", "required": True,
             "schema": _ID if part.endswith("_id}") and part not in ("{login_id}", "{step_id}")
             else {"type": "string"}}
            for part in path.split("/")
            if part.startswith("{")
        ]  # fmt: skip
        query = QUERIES.get(path) if method == "get" else None
        if query is not None:
            properties = query.model_json_schema()["properties"]
            for name, field in query.model_fields.items():
                schema = {k: v for k, v in properties[name].items() if k != "title"}
                parameters.append({
                    "name": name, "in": "query", "required": False, "schema": schema,
                    "description": field.description or "",
                })  # fmt: skip
        if parameters:
            op["parameters"] = parameters
        if path != "/api/v1/auth/login":
            op["security"] = [{"cookie": []}, {"bearer": []}]
        paths.setdefault(path, {})[method] = op
    components = dict(schemas.get("$defs", {}))
    components["Error"] = {
        "type": "object",
        "properties": {"error": {"type": "object", "properties": {
            "code": {"type": "string"}, "message": {"type": "string"},
            "field": {"type": "string"}}, "required": ["code", "message"]}},
    }  # fmt: skip
    return {
        "openapi": "3.1.0",
        "info": {"title": "crm-appservice inbox API", "version": __version__},
        # The rules a client applies as the server does (the web inbox's are built from these).
        "x-rules": {"html": html.rules(), "file_kinds": file_kinds.rules()},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "cookie": {"type": "apiKey", "in": "cookie", "name": "crm_session"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
        },
    }


routes = web.RouteTableDef()


@functools.cache
def _served() -> bytes:
    return orjson.dumps(document())


@routes.get("/api/v1/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    return web.Response(body=_served(), content_type="application/json")


def write(path: str | None) -> None:
    """`crm-appservice openapi [FILE]`: the document as text (the web inbox's types are
    generated from web/openapi.json, which a test keeps equal to it)."""
    text = json.dumps(document(), indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    if path is None:
        sys.stdout.write(text)
    else:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
