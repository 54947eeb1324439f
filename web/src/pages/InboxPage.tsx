import { useCallback, useRef, useState } from "react";
import { useMatch, useNavigate } from "react-router";

import { ConversationList } from "../components/ConversationList";
import { useShell } from "../components/Shell";
import { SidePanel } from "../components/SidePanel";
import { Thread } from "../components/Thread";
import { UndoToast } from "../components/Undo";
import { paths } from "../routes";
import { usePrefetchNeighbours } from "../state/usePrefetch";
import { useResolve } from "../state/useResolve";
import { useSelection } from "../state/useSelection";
import { useShortcuts } from "../state/useShortcuts";
import { t } from "../strings";

// Wide enough for the list, the thread and the contact's panel side by side (styles.css).
const WIDE = "(min-width: 1200px)";

/** The inbox: the list, the open conversation (its address is /conversations/<id>) and the
 * contact's panel. */
export function InboxPage() {
  const { me, filters, setFilters, help } = useShell();
  const navigate = useNavigate();
  const match = useMatch(paths.conversationPattern);
  const selected = match?.params.id && /^\d+$/.test(match.params.id) ? Number(match.params.id) : null;
  // The contact's panel sits beside the thread where there is room for both; on a narrower
  // screen it would cover the thread, so it opens only when asked for.
  const [panelOpen, setPanelOpen] = useState(() => typeof matchMedia === "undefined" || matchMedia(WIDE).matches);
  // The message to bring into view in the conversation opened from a search hit.
  const [focus, setFocus] = useState<number | null>(null);
  const selectedRef = useRef(selected);
  selectedRef.current = selected;
  const select = useCallback(
    (id: number | null, message?: number) => {
      setFocus(message ?? null);
      const path = id === null ? paths.inbox : paths.conversation(id);
      if (id !== selectedRef.current || message !== undefined) navigate(path, { replace: id === selectedRef.current });
    },
    [navigate],
  );
  const searchRef = useRef<HTMLInputElement>(null);
  const { resolve, undo, endUndo } = useResolve(me.id);
  usePrefetchNeighbours(filters, selected);
  const selection = useSelection(filters);
  useShortcuts({
    me: me.id,
    filters,
    selected,
    help,
    select,
    resolve,
    closePanel: () => setPanelOpen(false),
    search: searchRef,
    pick: selection.pick,
  });

  return (
    <>
      <UndoToast undo={undo} onDone={endUndo} />
      <div className={`panes${selected === null ? " nothing-open" : ""}`}>
        <ConversationList
          filters={filters}
          setFilters={setFilters}
          selected={selected}
          select={select}
          me={me}
          searchRef={searchRef}
          selection={selection}
        />
        {selected === null ? (
          <section className="thread empty">{t.emptyThread}</section>
        ) : (
          <Thread
            key={`thread-${selected}`}
            id={selected}
            me={me}
            focus={focus}
            onBack={() => select(null)}
            togglePanel={() => setPanelOpen((o) => !o)}
          />
        )}
        {selected !== null && panelOpen && <SidePanel key={`side-${selected}`} id={selected} me={me} onClose={() => setPanelOpen(false)} />}
      </div>
    </>
  );
}
