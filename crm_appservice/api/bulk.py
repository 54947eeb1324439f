"""Changing many conversations at once: assign, set a status, snooze, archive, or put on or take
off a label, for up to BULK_LIMIT conversations in one request and one transaction. Each changed
conversation is pushed live (`conversation.updated`) and records its history as a change made
one at a time does; one already as asked is left as it is."""

from __future__ import annotations

from aiohttp import web
from pydantic import Field, model_validator

from ..keys import POOL
from ..store import conversations as store, feed, labels as label_store
from . import responses
from .conversations import ConversationPatch
from .label_models import LabelId
from .middleware import current, restricted_to
from .models import Body, ConversationOut, Id, Out
from .resources import conversation_out

routes = web.RouteTableDef()
# A screenful of selected rows, a few times over: more is a script's job, page by page.
BULK_LIMIT = 200
ConversationId = Id


class BulkBody(Body):
    ids: list[ConversationId] = Field(min_length=1, max_length=BULK_LIMIT)
    patch: ConversationPatch | None = Field(
        default=None, description="Assign, set a status, snooze or archive, as PATCH does"
    )
    add_label: LabelId | None = Field(default=None, description="Put this label on them")
    remove_label: LabelId | None = Field(default=None, description="Take this label off them")

    @model_validator(mode="after")
    def _one(self) -> BulkBody:
        given = [self.patch, self.add_label, self.remove_label]
        if sum(x is not None for x in given) != 1:
            raise ValueError("give exactly one of patch, add_label and remove_label")
        return self


class BulkOut(Out):
    items: list[ConversationOut] = Field(description="The conversations changed, as they are now")
    unchanged: list[int] = Field(description="Those already as asked")
    skipped: list[int] = Field(description="Those not there, or not yours to see")


@routes.post("/api/v1/conversations/bulk")
async def bulk(request: web.Request) -> web.Response:
    body = BulkBody.model_validate_json(await request.read())
    ids = sorted(set(body.ids))
    me = current(request).manager.id
    async with request.app[POOL].acquire() as conn, conn.transaction():
        # The label before the rows, as removing a label takes them: never a deadlock.
        if body.add_label is not None and not await label_store.hold(conn, body.add_label):
            raise responses.invalid("add_label", "No label with that id")
        held = await store.hold_many(conn, ids, restricted_to(request))
        if body.patch is not None:
            changes = body.patch.model_dump(exclude_unset=True)
            if not changes:
                raise responses.invalid("patch", "Nothing to change")
            if "status" in changes and changes["status"] != "snoozed":
                changes["snoozed_until"] = None
            assignee = changes.get("assignee_id")
            if assignee is not None and not await store.manager_is_active(conn, assignee):
                raise responses.invalid("patch.assignee_id", "No active manager with that id")
            changed = await store.update_many(conn, held, changes, me)
        elif body.add_label is not None:
            try:
                changed = await label_store.add(conn, "conversation", held, body.add_label)
            except label_store.TooMany:
                raise responses.invalid(
                    "add_label", f"One of them has {label_store.PER_ROW} labels already"
                ) from None
        else:
            assert body.remove_label is not None
            changed = await label_store.remove(conn, "conversation", held, body.remove_label)
        changed = sorted(changed)
        await feed.record(conn, [("conversation.updated", i) for i in changed])
        rows = await store.by_ids(conn, changed)
    done = set(changed)
    out = BulkOut(
        items=[conversation_out(r) for r in sorted(rows, key=lambda r: r["id"])],
        unchanged=[i for i in held if i not in done],
        skipped=[i for i in ids if i not in set(held)],
    )
    return responses.json_response(out)
