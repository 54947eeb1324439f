import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { Bundle, Conversation, Manager, Message, Note } from "../api/types";
import { chronological, keys, type Pages, type ThreadPages } from "../state/cache";
import { conversation, message, preview } from "../test/fixtures";
import { forgetLocalDrafts } from "../state/drafts";
import { Composer } from "./Composer";
import { authorOf, Row } from "./ConversationRow";
import { buildRows } from "../state/threadRows";
import { MediaView } from "./MediaView";
import { itemLines, parseItems } from "./Orders";

const me: Manager = { id: 9, email: "me@example.com", name: "Me", role: "manager" };
const ana: Conversation = conversation(1, 0, { title: "Ana", last_message_at: null });

function wrap(qc: QueryClient, node: ReactNode) {
  return render(<QueryClientProvider client={qc}>{node}</QueryClientProvider>);
}

function media(kind: Message["kind"], extra: Partial<Message["media"]> = {}): Message {
  return message(4, {
    kind,
    body: null,
    sender: { type: "contact", id: 2, name: "Ana" },
    created_at: "2026-01-01T10:00:00Z",
    media: {
      url: "/api/v1/media/4",
      thumbnail_url: "/api/v1/media/4/thumbnail",
      mimetype: "image/png",
      size: 2048,
      width: 1600,
      height: 1200,
      duration_ms: 4000,
      filename: "photo.png",
      ...extra,
    },
  });
}

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
  localStorage.clear();
});

describe("Composer", () => {
  let sent: { url: string; body: Record<string, unknown> }[];
  beforeEach(() => {
    sent = [];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string, init: RequestInit) => {
        const body = JSON.parse(String(init.body)) as Record<string, unknown>;
        sent.push({ url, body });
        const answer = {
          ...media("text"),
          id: 50,
          media: null,
          direction: "out",
          client_txn_id: body.client_txn_id,
          body: body.body,
          status: "pending",
        };
        return new Response(JSON.stringify(answer), { status: 202, headers: { "Content-Type": "application/json" } });
      }),
    );
  });

  it("sends on Enter with one optimistic bubble, breaks the line on Shift+Enter", async () => {
    const qc = new QueryClient();
    qc.setQueryData<ThreadPages>(keys.thread(1), { pages: [{ items: [], history: [], next_cursor: null }], pageParams: [null] });
    wrap(qc, <Composer conversation={ana} me={me} replyTo={null} clearReply={() => {}} />);
    const box = screen.getByRole("textbox");
    fireEvent.change(box, { target: { value: "Hello" } });
    fireEvent.keyDown(box, { key: "Enter", shiftKey: true });
    expect(sent).toHaveLength(0);
    await act(async () => {
      fireEvent.keyDown(box, { key: "Enter" });
    });
    expect(sent).toHaveLength(1);
    expect(sent[0]?.url).toBe("/api/v1/conversations/1/messages");
    expect(sent[0]?.body.body).toBe("Hello");
    const messages = chronological(qc.getQueryData<Pages<Message>>(keys.thread(1)));
    expect(messages).toHaveLength(1);
    expect(messages[0]?.id).toBe(50); // the answer replaced the optimistic bubble
    expect((box as HTMLTextAreaElement).value).toBe("");
  });

  it("keeps the manager's draft on the server, not in the browser", async () => {
    const qc = new QueryClient();
    const bundle = {
      conversation: ana,
      contact: null,
      orders: [],
      deals: [],
      notes: [],
      draft: "from my phone",
      messages: { items: [], history: [], next_cursor: null },
    };
    qc.setQueryData<Bundle>(keys.bundle(1), bundle);
    localStorage.setItem("crm.draft.1", "a colleague's words");
    const first = wrap(qc, <Composer conversation={ana} me={me} replyTo={null} clearReply={() => {}} />);
    const box = screen.getByRole("textbox") as HTMLTextAreaElement;
    expect(box.value).toBe("from my phone"); // the manager's own, from the bundle
    fireEvent.change(box, { target: { value: "half a thought" } });
    expect(sent).toHaveLength(0); // a moment after typing stops
    first.unmount(); // leaving the conversation saves it at once
    expect(sent).toEqual([{ url: "/api/v1/conversations/1/draft", body: { body: "half a thought" } }]);
    expect(qc.getQueryData<Bundle>(keys.bundle(1))?.draft).toBe("half a thought");
    wrap(qc, <Composer conversation={ana} me={me} replyTo={null} clearReply={() => {}} />);
    expect((screen.getByRole("textbox") as HTMLTextAreaElement).value).toBe("half a thought");
    forgetLocalDrafts();
    expect(localStorage.getItem("crm.draft.1")).toBeNull();
  });
});

describe("MediaView", () => {
  it("shows an image's thumbnail in a box sized before it loads", () => {
    render(<MediaView message={media("image")} />);
    const img = screen.getByRole("img");
    expect(img.getAttribute("src")).toBe("/api/v1/media/4/thumbnail");
    expect(img.getAttribute("width")).toBe("320");
    expect(img.getAttribute("height")).toBe("240");
    expect(img.getAttribute("loading")).toBe("lazy");
  });

  it("plays a video through the proxy, with its poster, and falls back to a download", () => {
    const { container } = render(<MediaView message={media("video", { mimetype: "video/mp4", filename: "tour.mp4" })} />);
    const video = container.querySelector("video");
    expect(video?.getAttribute("poster")).toBe("/api/v1/media/4/thumbnail");
    expect(container.querySelector("source")?.getAttribute("src")).toBe("/api/v1/media/4");
    fireEvent.error(video!);
    expect(screen.getByText(/cannot be played/)).toBeTruthy();
    expect(screen.getByRole("link").getAttribute("href")).toBe("/api/v1/media/4");
  });

  it("shows files as download cards with name and size", () => {
    render(<MediaView message={media("file", { mimetype: "application/pdf", filename: "prices.pdf", size: 2048 })} />);
    const link = screen.getByRole("link");
    expect(link.textContent).toContain("prices.pdf");
    expect(link.textContent).toContain("2 kB");
  });

  it("draws its symbols as SVG, never as emoji that a machine may have no font for", () => {
    for (const kind of ["voice", "audio", "file"] as const) {
      const { container } = render(<MediaView message={media(kind, { mimetype: "audio/ogg" })} />);
      expect(container.querySelector(`svg.icon-${kind}`)).toBeTruthy();
      expect(container.textContent).not.toMatch(/\p{Extended_Pictographic}/u);
      cleanup();
    }
  });
});

describe("Conversation row", () => {
  it("says You only for the viewer's own reply, a colleague's name for theirs", () => {
    const out = (manager_id: number | null, manager_name: string | null = null) => preview(1, "out", "x", { manager_id, manager_name });
    expect(authorOf(out(9, "Eve"), 9)).toBe("You");
    expect(authorOf(out(4, "Olga"), 9)).toBe("Olga");
    expect(authorOf(out(5), 9)).toBe("Team"); // a manager since removed
    expect(authorOf(out(null), 9)).toBe("Phone"); // sent from the business phone
    expect(authorOf({ ...out(4), direction: "in" }, 9)).toBeNull();
  });

  const lastWord = (direction: "in" | "out") =>
    conversation(3, 5, { title: "Ben", unread_count: 2, last_message: preview(7, direction, "📷 Photo") });

  it("says whose word was last, names the network as it spells itself, and counts unread", () => {
    wrap(new QueryClient(), <Row conversation={lastWord("out")} active={false} onOpen={() => {}} assignee="Eve" author="You" />);
    const row = screen.getByRole("button");
    expect(row.querySelector(".preview")?.textContent).toBe("You: 📷 Photo");
    expect(row.querySelector(".platform")?.textContent).toBe("WhatsApp");
    expect(row.querySelector(".unread-count")?.textContent).toBe("2");
    expect(row.className).toContain("unread");
  });

  it("in a search, shows the message that matched with the words marked", () => {
    const found = conversation(3, 5, {
      title: "Ben",
      last_message: preview(9, "out", "Bye"),
      match: preview(7, "in", "…the Invoice for the sofas, invoiced"),
    });
    wrap(new QueryClient(), <Row conversation={found} active={false} onOpen={() => {}} assignee={undefined} words={["inv", "sofa"]} />);
    const shown = screen.getByRole("button").querySelector(".preview")!;
    expect(shown.textContent).toBe("…the Invoice for the sofas, invoiced");
    expect([...shown.querySelectorAll("mark")].map((m) => m.textContent)).toEqual(["Invoice", "sofas", "invoiced"]);
  });

  it("shows the customer's last message as it is", () => {
    wrap(new QueryClient(), <Row conversation={lastWord("in")} active={false} onOpen={() => {}} assignee={undefined} />);
    expect(screen.getByRole("button").querySelector(".preview")?.textContent).toBe("📷 Photo");
  });
});

describe("Thread rows", () => {
  const note = (id: number, second: number): Note => ({
    id,
    conversation_id: 1,
    author_id: 9,
    author_name: "Me",
    body: `note ${id}`,
    created_at: new Date(Date.UTC(2026, 0, 1, 10, 0, second)).toISOString(),
    edited_at: null,
    deleted_at: null,
  });
  const kinds = (rows: ReturnType<typeof buildRows>) =>
    rows.map((r) => (r.kind === "message" ? `m${r.message.id}` : r.kind === "note" ? `n${r.note.id}` : r.kind));

  it("puts private notes where they were written, and a note ends a sender's group", () => {
    const rows = buildRows([message(1), message(3), message(5)], null, [note(40, 4), note(20, 2)]);
    expect(kinds(rows)).toEqual(["day", "m1", "n20", "m3", "n40", "m5"]);
    const third = rows[5];
    expect(third?.kind === "message" && third.grouped).toBe(false);
  });

  it("holds back notes older than the loaded messages until those are loaded", () => {
    const notes = [note(10, 1), note(40, 4)];
    expect(kinds(buildRows([message(3), message(5)], null, notes, true))).toEqual(["day", "m3", "n40", "m5"]);
    expect(kinds(buildRows([message(3), message(5)], null, notes, false))).toEqual(["day", "n10", "m3", "n40", "m5"]);
  });

  it("keeps the unread marker's count from the opening: messages read as they arrive are not unread", () => {
    const rows = buildRows([message(1), message(3), message(5)], { from: 3, count: 1 });
    expect(kinds(rows)).toEqual(["day", "m1", "unread", "m3", "m5"]);
    const marker = rows[2];
    expect(marker?.kind === "unread" && marker.count).toBe(1);
  });
});

describe("order items as lines", () => {
  it("read as a person writes them and written back the same way", () => {
    const items = parseItems("Sofa\n  Cushion × 2 @ 19,90 \n\nLamp x 3");
    expect(items).toEqual([
      { name: "Sofa", quantity: 1 },
      { name: "Cushion", quantity: 2, price: "19,90" },
      { name: "Lamp", quantity: 3 },
    ]);
    expect(itemLines(items)).toBe("Sofa\nCushion × 2 @ 19,90\nLamp × 3");
  });
});

describe("Composer's quick replies", () => {
  const file = {
    id: 3,
    filename: "sofa.png",
    mimetype: "image/png",
    size: 10,
    width: 4,
    height: 3,
    kind: "image",
    url: "/api/v1/quick-replies/7/files/3",
  };
  const item = {
    id: 7,
    name: "Catalogue",
    shortcut: "catalogue",
    body: "Hi {{contact.first_name}}",
    personal: false,
    can_edit: false,
    variables: ["contact.first_name"],
    files: [file],
    created_at: "2026-12-01T00:00:00Z",
    updated_at: "2026-12-01T00:00:00Z",
  };
  let posted: Record<string, unknown>[];
  let filled: { text: string; missing: string[]; left: string[] };
  beforeEach(() => {
    posted = [];
    filled = { text: "Hi Ana", missing: [], left: [] };
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string, init: RequestInit) => {
        const json = (data: unknown, status = 200) => new Response(JSON.stringify(data), { status, headers: { "Content-Type": "application/json" } });
        if (url === "/api/v1/quick-replies") return json({ items: [item], variables: [] });
        if (url === "/api/v1/conversations/1/quick-replies/7") return json({ ...filled, files: [file] });
        const body = JSON.parse(String(init.body)) as Record<string, unknown>;
        posted.push(body);
        return json({ ...message(60 + posted.length, {}), client_txn_id: body.client_txn_id, direction: "out", status: "pending" }, 202);
      }),
    );
  });

  /** A composer on an empty thread, and its text box. */
  function openComposer(): HTMLTextAreaElement {
    const qc = new QueryClient();
    qc.setQueryData<ThreadPages>(keys.thread(1), { pages: [{ items: [], history: [], next_cursor: null }], pageParams: [null] });
    wrap(qc, <Composer conversation={ana} me={me} replyTo={null} clearReply={() => {}} />);
    return screen.getByRole("textbox") as HTMLTextAreaElement;
  }

  it("fills one in from the keyboard and sends its file with the text as the caption", async () => {
    const box = openComposer();
    fireEvent.change(box, { target: { value: "/cat" } });
    await screen.findByRole("option", { name: /catalogue/ });
    await act(async () => {
      fireEvent.keyDown(box, { key: "Enter" });
    });
    await vi.waitFor(() => expect(box.value).toBe("Hi Ana"));
    expect(screen.queryByRole("listbox")).toBeNull();
    expect(posted).toHaveLength(0); // filled in, not sent
    await act(async () => {
      fireEvent.keyDown(box, { key: "Enter" });
    });
    await vi.waitFor(() => expect(posted).toHaveLength(1));
    expect(posted[0]).toMatchObject({ body: "Hi Ana", quick_reply_file: 3 });
  });

  it("sends nothing on Enter while the list is open, even with nothing in it", async () => {
    const box = openComposer();
    fireEvent.change(box, { target: { value: "/zz" } });
    await act(async () => {
      fireEvent.keyDown(box, { key: "Enter" }); // the list is still loading: a search, not a reply
    });
    await screen.findByText(/No quick reply matches/);
    await act(async () => {
      fireEvent.keyDown(box, { key: "Enter" });
    });
    expect(posted).toHaveLength(0);
    expect(box.value).toBe("/zz");
  });

  it("does not send while a variable without a value is still in the text", async () => {
    filled = { text: "Order {{order.number}}", missing: ["order.number"], left: ["{{order.number}}"] };
    const box = openComposer();
    fireEvent.change(box, { target: { value: "/" } });
    await screen.findByRole("option", { name: /catalogue/ });
    await act(async () => {
      fireEvent.keyDown(box, { key: "Tab" });
    });
    await vi.waitFor(() => expect(box.value).toBe("Order {{order.number}}"));
    await act(async () => {
      fireEvent.keyDown(box, { key: "Enter" });
    });
    expect(posted).toHaveLength(0);
    expect(screen.getByRole("alert").textContent).toContain("{{order.number}}");
    fireEvent.change(box, { target: { value: "Order A-17" } });
    expect(screen.queryByRole("status")).toBeNull();
    await act(async () => {
      fireEvent.keyDown(box, { key: "Enter" });
    });
    await vi.waitFor(() => expect(posted).toHaveLength(1));
  });
});
