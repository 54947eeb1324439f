import { type RefObject, useImperativeHandle, useLayoutEffect, useRef, useState } from "react";

import { floatingDay, type Row } from "../state/threadRows";
import { t } from "../strings";
import type { ListHandle } from "./MessageList";
import { DayFloat, type RowProps, ThreadRow } from "./ThreadRow";

// "At the bottom" within a tall message of it, as the virtual list counts it.
const AT_BOTTOM = 400;
const NEAR_TOP = 200;

function isAtBottom(el: HTMLElement): boolean {
  return el.scrollHeight - el.scrollTop - el.clientHeight < AT_BOTTOM;
}

interface Props extends RowProps {
  rows: Row[];
  initial: { index: number; align: "start" | "end" };
  fetchingOlder: boolean;
  loadOlder: () => void;
  onAtBottom: (bottom: boolean) => void;
  /** The key of the topmost row on screen, as the manager scrolls. */
  onTopRow: (key: string) => void;
  handle: RefObject<ListHandle | null>;
}

/**
 * A thread of a page or so, drawn as it is: in place in its first frame, at its end (or at the
 * unread marker), where a virtual list would spend frames measuring before it drew a row. The
 * thread moves to the virtual list once older pages make it long (MessageList).
 */
export function PlainList({ rows, initial, fetchingOlder, loadOlder, onAtBottom, onTopRow, handle, ...rowProps }: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const atBottom = useRef(initial.align === "end");
  const shape = useRef({ first: rows[0]?.key, height: 0 });
  const [topDay, setTopDay] = useState<string | null>(null);
  const rowAt = (index: number) => scroller.current?.querySelector<HTMLElement>(`[data-row="${index}"]`);

  useImperativeHandle(handle, () => ({
    scrollToIndex: (location) => {
      const el = scroller.current;
      const { index, align = "start", behavior } = typeof location === "number" ? { index: location } : location;
      if (el && index === "LAST") el.scrollTo({ top: el.scrollHeight, behavior: behavior === "smooth" ? "smooth" : "auto" });
      else if (typeof index === "number") rowAt(index)?.scrollIntoView({ block: align === "center" ? "center" : align });
    },
  }));

  // Before the first paint: at the end, or with the unread marker at the top.
  // biome-ignore lint/correctness/useExhaustiveDependencies: where the thread opens, once
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    if (initial.align === "start") rowAt(initial.index)?.scrollIntoView({ block: "start" });
    else el.scrollTop = el.scrollHeight;
    shape.current.height = el.scrollHeight;
    atBottom.current = isAtBottom(el);
    if (!atBottom.current) onAtBottom(false); // the thread assumes its end until told
    // A photo that loads, a bubble that grows: at the end, the end stays in view.
    const grown = new ResizeObserver(() => {
      if (atBottom.current) el.scrollTop = el.scrollHeight;
    });
    if (el.firstElementChild) grown.observe(el.firstElementChild);
    return () => grown.disconnect();
  }, []);
  // New rows: older ones above keep what is on screen in place; at the end, the thread follows.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    if (rows[0]?.key !== shape.current.first) el.scrollTop += el.scrollHeight - shape.current.height;
    else if (atBottom.current) el.scrollTop = el.scrollHeight;
    shape.current = { first: rows[0]?.key, height: el.scrollHeight };
    // Too short to scroll: nothing would ask for the older pages.
    if (el.scrollHeight <= el.clientHeight) loadOlder();
  }, [rows, loadOlder]);

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    const bottom = isAtBottom(el);
    if (bottom !== atBottom.current) {
      atBottom.current = bottom;
      onAtBottom(bottom);
    }
    if (el.scrollTop < NEAR_TOP) loadOlder();
    // The topmost row on screen: the first whose bottom is below the scroller's top (one walk
    // over the drawn rows, which are in the rows' order).
    const top = el.getBoundingClientRect().top;
    const drawn = [...(el.firstElementChild?.querySelectorAll<HTMLElement>(":scope > [data-row]") ?? [])];
    const at = drawn.findIndex((row) => row.getBoundingClientRect().bottom > top);
    if (at >= 0) {
      setTopDay(el.scrollTop > 0 ? floatingDay(rows, at) : null);
      onTopRow(rows[at]?.key ?? "");
    }
  };

  return (
    <div className="messages-wrap">
      <DayFloat day={topDay} />
      <div ref={scroller} className="messages plain" onScroll={onScroll}>
        <div className="plain-rows">
          {fetchingOlder && <p className="loading-older">{t.loadingOlder}</p>}
          {rows.map((row, i) => (
            <div key={row.key} data-row={i}>
              <ThreadRow row={row} {...rowProps} />
            </div>
          ))}
        </div>
      </div>
    </div>
  );
}
