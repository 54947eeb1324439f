import { QueryClient } from "@tanstack/react-query";
import { describe, expect, it } from "vitest";

import type { QuickReply } from "../api/types";
import { keys } from "./cache";
import { matching, putQuickReply, slashQuery } from "./quickReplies";

function reply(id: number, shortcut: string, name: string, body = "", personal = false): QuickReply {
  return {
    id,
    shortcut,
    name,
    body,
    personal,
    can_edit: true,
    variables: [],
    files: [],
    created_at: "2026-12-01T00:00:00Z",
    updated_at: "2026-12-01T00:00:00Z",
  };
}

describe("the composer's quick replies", () => {
  it("opens on / alone and closes at the first space", () => {
    expect(slashQuery("/")).toBe("");
    expect(slashQuery("/Pri")).toBe("pri");
    expect(slashQuery("/price list")).toBeNull();
    expect(slashQuery("hello /price")).toBeNull();
  });

  it("puts shortcuts that start with the query first", () => {
    const items = [reply(1, "hello", "Greeting"), reply(2, "prices", "Price list"), reply(3, "ship", "Shipped", "the price is paid")];
    expect(matching(items, "").map((r) => r.id)).toEqual([1, 2, 3]);
    expect(matching(items, "pri").map((r) => r.id)).toEqual([2, 3]);
    expect(matching(items, "GREET").map((r) => r.id)).toEqual([1]);
    expect(matching(items, "zzz")).toEqual([]);
  });

  it("keeps the cached list in the server's order after a change, and drops a removed one", () => {
    const qc = new QueryClient();
    qc.setQueryData(keys.quickReplies, { items: [reply(1, "b", "B"), reply(2, "d", "D")], variables: [] });
    putQuickReply(qc, reply(3, "a", "A", "", true));
    putQuickReply(qc, { ...reply(2, "c", "C") });
    putQuickReply(qc, reply(4, "a", "A team"));
    putQuickReply(qc, 1);
    const list = qc.getQueryData<{ items: QuickReply[] }>(keys.quickReplies);
    expect(list?.items.map((r) => [r.id, r.shortcut])).toEqual([
      [4, "a"],
      [3, "a"],
      [2, "c"],
    ]);
  });
});
