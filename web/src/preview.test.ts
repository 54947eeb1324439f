import { describe, expect, it } from "vitest";

import type { MessagePreview } from "./api/types";
import { previewText } from "./preview";
import cases from "./test/preview-cases.json";
import fileKinds from "./test/file-kind-cases.json";
import { preview } from "./test/fixtures";

describe("the list's words for a message", () => {
  it("word the server's parts as the shared table of cases says", () => {
    expect(cases.cases.length).toBeGreaterThan(10);
    for (const c of cases.cases) {
      const parts = preview(1, "in", c.parts.text, {
        kind: c.parts.kind as MessagePreview["kind"],
        filename: c.parts.filename,
        duration_ms: c.parts.duration_ms,
        deleted: Boolean(c.deleted),
      });
      expect(previewText(parts), JSON.stringify(c.content)).toBe(c.shown);
    }
  });
});

describe("a file's kind before the server has it", () => {
  it("follows the server's rule (x-rules.file_kinds), on the shared table of cases", async () => {
    const { kindOf } = await import("./state/send");
    for (const [type, kind] of fileKinds.cases) expect(kindOf(new File(["x"], "f", { type })), type).toBe(kind);
  });
});
