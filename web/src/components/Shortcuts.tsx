import { Fragment, useEffect } from "react";

import { useCounts } from "../state/hooks";
import { t } from "../strings";

/** What the keyboard does, over the inbox; a click anywhere or Esc closes it. */
export function Shortcuts({ onClose }: { onClose: () => void }) {
  return (
    // biome-ignore lint/a11y/useKeyWithClickEvents: Esc closes it from the keyboard (the shell's key handler)
    <div className="shortcuts" role="dialog" aria-label={t.shortcuts.title} onClick={onClose}>
      <div className="shortcuts-card">
        <h2>{t.shortcuts.title}</h2>
        <dl>
          {t.shortcuts.list.map(([keys, what]) => (
            <Fragment key={keys}>
              <dt>
                <kbd>{keys}</kbd>
              </dt>
              <dd>{what}</dd>
            </Fragment>
          ))}
        </dl>
      </div>
    </div>
  );
}

/** The tab's title counts the unread conversations, on every page. */
export function UnreadTitle() {
  const counts = useCounts();
  const unread = counts.data?.unread ?? 0;
  useEffect(() => {
    document.title = unread > 0 ? `(${unread}) ${t.appTitle}` : t.appTitle;
  }, [unread]);
  return null;
}
