import { describe, expect, it } from "vitest";

import type { Manager, Message } from "./api/types";
import { mayDelete, mayEdit } from "./permissions";
import rules from "./test/change-rule-cases.json";

interface Case {
  name: string;
  message: { direction: "in" | "out"; sender_manager_id: number | null; channel: string; kind: string; deleted: boolean };
  viewer_role: "admin" | "manager";
  edit: boolean;
  delete: boolean;
}

function message(c: Case["message"]): Message {
  const sender =
    c.direction === "in" ? { type: "contact" as const, id: 9, name: "Ana" } : { type: "manager" as const, id: c.sender_manager_id, name: null };
  return {
    direction: c.direction,
    sender,
    channel: c.channel,
    kind: c.kind,
    deleted_at: c.deleted ? "2026-01-01T00:00:00Z" : null,
  } as unknown as Message;
}

describe("who may change a message", () => {
  it.each((rules.cases as Case[]).map((c) => [c.name, c] as const))("%s", (_, c) => {
    const me = { id: 1, role: c.viewer_role } as Manager;
    expect(mayEdit(message(c.message), me)).toBe(c.edit);
    expect(mayDelete(message(c.message), me)).toBe(c.delete);
  });
});
