import type { ReactNode } from "react";

// Web addresses in a customer's text: http(s) ones and bare www. ones. Nothing else becomes a
// link (no javascript:, data: or other schemes can be made clickable by what a customer types).
const ADDRESS = /\b(?:https?:\/\/|www\.)[^\s<>"]+/gi;
// Punctuation that ends a sentence rather than the address.
const TRAILING = /[.,;:!?)\]}'"]+$/;

/** The text with its web addresses as links that open in a new tab, cut off from this page. */
export function Linkify({ text }: { text: string }) {
  const parts: ReactNode[] = [];
  let last = 0;
  for (const found of text.matchAll(ADDRESS)) {
    const start = found.index ?? 0;
    const address = found[0].replace(TRAILING, "");
    if (!address.includes(".", address.startsWith("www.") ? 4 : 0)) continue;
    parts.push(text.slice(last, start));
    const href = address.startsWith("www.") ? `https://${address}` : address;
    parts.push(
      <a key={start} href={href} target="_blank" rel="noopener noreferrer nofollow">
        {address}
      </a>,
    );
    last = start + address.length;
  }
  parts.push(text.slice(last));
  return <>{parts}</>;
}
