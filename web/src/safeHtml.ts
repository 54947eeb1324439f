// The HTML a message may carry, as the server publishes it (x-rules.html): one allow-list.

import DOMPurify from "dompurify";

import { rules } from "./api/contract";

// DOMPurify's hooks are global: added once, at the first message with HTML.
let hooked = false;

const ALLOWED_ATTRIBUTES: Readonly<Record<string, readonly string[]>> = rules.html.attributes;
const NOT_URLS = Object.values(ALLOWED_ATTRIBUTES)
  .flat()
  .filter((name) => name !== "href");
const SCHEMES = new RegExp(`^(?:${rules.html.url_schemes.join("|")}):`, "i");

/**
 * A message's HTML (the contact's: untrusted) as the server allows it (x-rules.html), sanitized
 * again in the browser: the same tags, each attribute only on its own tag, links in a new tab
 * with no way back to this page (window.opener) and no referrer. Where DOMPurify cannot work
 * there is no HTML at all (null: the plain body is shown).
 */
export function safeHtml(html: string): string | null {
  if (!DOMPurify.isSupported) return null;
  if (!hooked) {
    hooked = true;
    DOMPurify.addHook("uponSanitizeAttribute", (node, data) => {
      // Set for every attribute: DOMPurify passes the same object from one attribute to the next.
      data.keepAttr = ALLOWED_ATTRIBUTES[node.nodeName.toLowerCase()]?.includes(data.attrName) ?? false;
    });
    DOMPurify.addHook("afterSanitizeAttributes", (node) => {
      if (node.tagName === "A" && node.hasAttribute("href")) {
        node.setAttribute("target", "_blank");
        node.setAttribute("rel", rules.html.link_rel);
      }
    });
  }
  return DOMPurify.sanitize(html, {
    ALLOWED_TAGS: [...rules.html.tags],
    ALLOWED_ATTR: [...new Set(Object.values(ALLOWED_ATTRIBUTES).flat())],
    ALLOWED_URI_REGEXP: SCHEMES,
    // DOMPurify checks every attribute's value as a URL unless told it is not one.
    ADD_URI_SAFE_ATTR: NOT_URLS,
  });
}
