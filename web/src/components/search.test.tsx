// The inbox marks a search hit's words by the server's words (sent with the list), on the table
// of cases the server's reading and finding of them follows (tests/test_search_words.py).

import { render } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import cases from "../test/search-cases.json";
import { Highlighted } from "./ConversationRow";

describe("a search hit's marked words", () => {
  it.each(cases.cases.map((c) => [c.query, c] as const))("%s", (_, c) => {
    const { container } = render(<Highlighted text={c.text} words={c.words} />);
    expect([...container.querySelectorAll("mark")].map((m) => m.textContent)).toEqual(c.marked);
    expect(container.textContent).toBe(c.text);
  });
});
