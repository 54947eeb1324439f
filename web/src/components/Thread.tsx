import { useCallback, useEffect, useMemo, useRef, useState } from "react";

import { ApiError } from "../api/client";
import type { Manager, Message } from "../api/types";
import { changesOf, chronological } from "../state/cache";
import { useFollowMerge } from "../state/useFollowMerge";
import { useBundle, useThread } from "../state/hooks";
import { buildRows, type UnreadMark } from "../state/threadRows";
import { useJump } from "../state/useJump";
import { useMarkRead } from "../state/useMarkRead";
import { t } from "../strings";
import { Composer } from "./Composer";
import { type ListHandle, MessageList } from "./MessageList";
import { ThreadHeader } from "./ThreadHeader";

// Virtuoso keeps the reading position when older messages are prepended if the index of the
// first item goes down by as many items: rows before the newest page's first message.
const BASE_INDEX = 1_000_000;
const FEW_UNREAD = 6;

interface Props {
  id: number;
  me: Manager;
  onBack: () => void;
  togglePanel: () => void;
  /** A message to bring into view when the thread opens (the search hit it was opened from). */
  focus?: number | null;
}

/** One conversation: its header, its messages, notes and history, and the composer. */
export function Thread({ id, me, onBack, togglePanel, focus = null }: Props) {
  const thread = useThread(id);
  const bundle = useBundle(id);
  const conversation = bundle.data?.conversation;
  useFollowMerge(conversation);
  const messages = useMemo(() => chronological(thread.data), [thread.data]);
  const byId = useMemo(() => new Map(messages.map((m) => [m.id, m])), [messages]);
  const [replyTo, setReplyTo] = useState<Message | null>(null);
  const [atBottom, setAtBottom] = useState(true);
  const [newCount, setNewCount] = useState(0);
  const list = useRef<ListHandle>(null);

  // Where the manager left off: fixed when the conversation opens.
  const unreadFrom = useRef<UnreadMark | null | undefined>(undefined);
  if (unreadFrom.current === undefined && conversation && thread.data) {
    const count = conversation.unread_count;
    const incoming = messages.filter((m) => m.direction === "in");
    const from = count > 0 ? incoming[Math.max(0, incoming.length - count)]?.id : undefined;
    unreadFrom.current = from === undefined ? null : { from, count: Math.min(count, incoming.length) };
  }
  const notes = bundle.data?.notes;
  const olderToLoad = thread.hasNextPage;
  const changes = useMemo(() => changesOf(thread.data), [thread.data]);
  const rows = useMemo(() => buildRows(messages, unreadFrom.current ?? null, notes, olderToLoad, changes), [messages, notes, olderToLoad, changes]);

  const newestFirst = thread.data?.pages[0]?.items[0];
  const anchor = newestFirst ? rows.findIndex((r) => r.kind === "message" && r.message.id === newestFirst.id) : 0;
  const firstItemIndex = BASE_INDEX - Math.max(0, anchor);

  useMarkRead(id, me.id, conversation?.unread_count ?? 0, atBottom);

  // New messages while reading history: count them for the jump button.
  const lastId = messages[messages.length - 1]?.id;
  const seenLast = useRef(lastId);
  useEffect(() => {
    if (lastId !== seenLast.current) {
      if (!atBottom) setNewCount((n) => n + 1);
      seenLast.current = lastId;
    }
  }, [lastId, atBottom]);

  const { hasNextPage, isFetchingNextPage, fetchNextPage } = thread;
  const older = { loaded: !!thread.data, pages: thread.data?.pages.length ?? 0, hasNextPage, isFetchingNextPage, fetchNextPage };
  const { flash, jumpTo } = useJump(focus, rows, older, list);
  const loadOlder = useCallback(() => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);
  const onAtBottom = useCallback((bottom: boolean) => {
    setAtBottom(bottom);
    if (bottom) setNewCount(0);
  }, []);
  const jump = useCallback(() => {
    list.current?.scrollToIndex({ index: "LAST", align: "end", behavior: "smooth" });
    setNewCount(0);
  }, []);

  if (thread.error) {
    const missing = thread.error instanceof ApiError && thread.error.status === 404;
    return (
      <section className="thread empty">
        <p role="alert">{missing ? t.missingConversation : thread.error.message}</p>
        <button type="button" onClick={onBack}>
          {t.backToInbox}
        </button>
      </section>
    );
  }
  if (thread.isPending || !conversation) {
    return (
      <section className="thread" aria-busy="true">
        <div className="skeleton-thread" />
      </section>
    );
  }
  // Open with the newest message at the bottom, where a few unread messages show with their
  // marker anyway; with more than fit on screen, open at the marker.
  const manyUnread = (conversation.unread_count || 0) > FEW_UNREAD;
  const marker = unreadFrom.current && manyUnread ? rows.findIndex((r) => r.kind === "unread") : -1;
  const initial = marker >= 0 ? { index: marker, align: "start" as const } : { index: Math.max(0, rows.length - 1), align: "end" as const };

  return (
    <section className="thread" aria-label={conversation.title ?? undefined}>
      <ThreadHeader conversation={conversation} me={me} onBack={onBack} togglePanel={togglePanel} />
      {rows.length === 0 ? (
        <p className="empty">{t.noMessages}</p>
      ) : (
        <MessageList
          rows={rows}
          firstItemIndex={firstItemIndex}
          initial={initial}
          me={me}
          byId={byId}
          flash={flash}
          fetchingOlder={isFetchingNextPage}
          loadOlder={loadOlder}
          onReply={setReplyTo}
          onQuoteClick={jumpTo}
          onAtBottom={onAtBottom}
          list={list}
        />
      )}
      {!atBottom && (
        <button type="button" className="jump" onClick={jump}>
          {t.newBelow(newCount)}
        </button>
      )}
      <Composer conversation={conversation} me={me} replyTo={replyTo} clearReply={() => setReplyTo(null)} />
    </section>
  );
}
