// @vitest-environment jsdom
import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { Linkify } from "./Linkify";
import { safeHtml } from "../safeHtml";

describe("safeHtml", () => {
  it("keeps only formatting of a contact's HTML", () => {
    const dirty = '<b>hi</b> <a href="javascript:alert(1)" onclick="x()">link</a><img src=x onerror="alert(1)"><script>alert(2)</script>';
    expect(safeHtml(dirty)).toBe("<b>hi</b> <a>link</a>");
  });

  it("allows the server's tags, each attribute only on its own tag", () => {
    expect(safeHtml('<ol start="3" class="row"><li href="https://x.example">a</li></ol>')).toBe('<ol start="3"><li>a</li></ol>');
    expect(safeHtml('<p class="row active" style="position:fixed">Pay here</p>')).toBe("<p>Pay here</p>");
    expect(safeHtml("<table><tr><td>cell</td></tr></table><del>old</del>")).toBe("cell<del>old</del>");
    expect(safeHtml('<a href="tel:+4915112345678">call</a>')).toContain('href="tel:+4915112345678"');
    expect(safeHtml('<a href="data:text/html,x">x</a>')).toBe("<a>x</a>");
  });
});

describe("links", () => {
  it("open apart from the page, and only web addresses become links", () => {
    expect(safeHtml('<a href="https://shop.example/p/1">offer</a>')).toBe(
      '<a href="https://shop.example/p/1" target="_blank" rel="noopener noreferrer nofollow">offer</a>',
    );
    render(<Linkify text="See https://shop.example/sofa?id=2. Or www.example.org, not javascript:alert(1) or data:x" />);
    const links = screen.getAllByRole("link");
    expect(links.map((a) => a.getAttribute("href"))).toEqual(["https://shop.example/sofa?id=2", "https://www.example.org"]);
    for (const a of links) expect(a.getAttribute("rel")).toBe("noopener noreferrer nofollow");
    expect(screen.getByText(/javascript:alert/).tagName).not.toBe("A");
  });
});
