import { type RefObject, useImperativeHandle, useMemo, useRef, useState } from "react";
import { Virtuoso, type VirtuosoHandle } from "react-virtuoso";

import { floatingDay, type Row } from "../state/threadRows";
import { t } from "../strings";
import { PlainList } from "./PlainList";
import { DayFloat, type RowProps, ThreadRow } from "./ThreadRow";

/** What the thread asks of its list, whichever draws it: bring a row (or the end) into view. */
export type ListHandle = Pick<VirtuosoHandle, "scrollToIndex">;

// Up to this many rows (a page of messages with its days and notes) the thread is drawn as it
// is; beyond, only what is on screen is in the DOM.
const PLAIN_ROWS = 80;

interface Props extends RowProps {
  rows: Row[];
  /** Virtuoso keeps the reading position when older rows are prepended: see Thread. */
  firstItemIndex: number;
  initial: { index: number; align: "start" | "end" };
  fetchingOlder: boolean;
  loadOlder: () => void;
  onAtBottom: (bottom: boolean) => void;
  list: RefObject<ListHandle | null>;
}

/** The thread's rows: drawn at once while they are few, in a virtualised list once they are many. */
export function MessageList({ rows, firstItemIndex, initial, fetchingOlder, loadOlder, onAtBottom, list, ...rowProps }: Props) {
  const [virtual, setVirtual] = useState(rows.length > PLAIN_ROWS);
  // Where the plain thread was when it grew long: the virtual list opens there.
  const topRow = useRef<string | null>(null);
  const virtuoso = useRef<VirtuosoHandle>(null);
  const plain = useRef<ListHandle>(null);
  useImperativeHandle(list, () => ({ scrollToIndex: (at) => (virtual ? virtuoso.current : plain.current)?.scrollToIndex(at) }), [virtual]);
  if (!virtual && rows.length > PLAIN_ROWS) setVirtual(true);
  if (!virtual) {
    return (
      <PlainList
        rows={rows}
        initial={initial}
        fetchingOlder={fetchingOlder}
        loadOlder={loadOlder}
        onAtBottom={onAtBottom}
        onTopRow={(key) => {
          topRow.current = key;
        }}
        handle={plain}
        {...rowProps}
      />
    );
  }
  const kept = topRow.current === null ? -1 : rows.findIndex((r) => r.key === topRow.current);
  return (
    <VirtualList
      rows={rows}
      firstItemIndex={firstItemIndex}
      initial={kept >= 0 ? { index: kept, align: "start" } : initial}
      fetchingOlder={fetchingOlder}
      loadOlder={loadOlder}
      onAtBottom={onAtBottom}
      handle={virtuoso}
      rowProps={rowProps}
    />
  );
}

interface VirtualProps extends Omit<Props, "list" | keyof RowProps> {
  handle: RefObject<VirtuosoHandle | null>;
  rowProps: RowProps;
}

function VirtualList({ rows, firstItemIndex, initial, fetchingOlder, loadOlder, onAtBottom, handle, rowProps }: VirtualProps) {
  const [topDay, setTopDay] = useState<string | null>(null);
  // Stable: a new component type on every render would remount the header and move the list.
  // biome-ignore lint/correctness/noComponentHookFactories: react-virtuoso takes its parts as components; memoised so the type stays the same
  const components = useMemo(() => ({ Header: () => (fetchingOlder ? <p className="loading-older">{t.loadingOlder}</p> : null) }), [fetchingOlder]);
  return (
    <div className="messages-wrap">
      <DayFloat day={topDay} />
      <Virtuoso
        ref={handle}
        className="messages"
        data={rows}
        firstItemIndex={firstItemIndex}
        initialTopMostItemIndex={initial}
        computeItemKey={(_, row) => row.key}
        startReached={loadOlder}
        followOutput={(bottom) => (bottom ? "auto" : false)}
        increaseViewportBy={{ top: 200, bottom: 400 }}
        rangeChanged={({ startIndex }) => {
          // The day of the topmost row (Virtuoso counts from firstItemIndex).
          setTopDay(floatingDay(rows, startIndex >= firstItemIndex ? startIndex - firstItemIndex : startIndex));
        }}
        atBottomStateChange={onAtBottom}
        // "At the bottom" within a tall message of it: a message that arrives on a new day
        // (with its date separator) or with a photo must still be followed.
        atBottomThreshold={400}
        // No "probe" pass to guess a row's height (a date separator would be a poor guess).
        defaultItemHeight={56}
        components={components}
        itemContent={(_, row) => <ThreadRow row={row} {...rowProps} />}
      />
    </div>
  );
}
