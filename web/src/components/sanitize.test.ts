// @vitest-environment jsdom
import { describe, expect, it } from "vitest";

import { safeHtml } from "./MessageBubble";

describe("safeHtml", () => {
  it("keeps only formatting of a contact's HTML", () => {
    const dirty = '<b>hi</b> <a href="javascript:alert(1)" onclick="x()">link</a><img src=x onerror="alert(1)"><script>alert(2)</script>';
    expect(safeHtml(dirty)).toBe("<b>hi</b> <a>link</a>");
  });
});
