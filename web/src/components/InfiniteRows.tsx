import type { ReactNode } from "react";
import { Virtuoso } from "react-virtuoso";

/** What a list needs of its paged query to load the next page as it ends. */
interface Pages {
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  fetchNextPage: () => Promise<unknown>;
}

/** A virtualised list of rows with ids that asks for its next page when scrolled to its end
 * (the conversations, the contacts). */
export function InfiniteRows<T extends { id: number }>({ rows, pages, row }: { rows: T[]; pages: Pages; row: (item: T) => ReactNode }) {
  return (
    <Virtuoso
      className="rows"
      data={rows}
      computeItemKey={(_, item) => item.id}
      endReached={() => {
        if (pages.hasNextPage && !pages.isFetchingNextPage) void pages.fetchNextPage();
      }}
      itemContent={(_, item) => row(item)}
    />
  );
}

/** Placeholder rows while a list's first page loads. */
export function RowsLoading() {
  return (
    <ul className="skeleton" aria-busy="true">
      {Array.from({ length: 8 }, (_, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: placeholders, all alike
        <li key={i} />
      ))}
    </ul>
  );
}
