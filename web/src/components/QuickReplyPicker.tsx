import type { QuickReply } from "../api/types";
import { t } from "../strings";

interface Props {
  items: QuickReply[];
  active: number;
  loading: boolean;
  pick: (r: QuickReply) => void;
  hover: (index: number) => void;
}

/** The list "/" opens above the composer: the keyboard moves in it from the text box (arrows,
 * Enter, Esc, see Composer), the mouse picks too. */
export function QuickReplyPicker({ items, active, loading, pick, hover }: Props) {
  return (
    <div className="quick-picker" role="listbox" aria-label={t.quick.title} id="quick-replies">
      {items.length === 0 && <div className="muted quick-empty">{loading ? t.quick.loading : t.quick.none}</div>}
      {items.map((r, i) => (
        <div
          key={r.id}
          id={`quick-${r.id}`}
          role="option"
          tabIndex={-1}
          aria-selected={i === active}
          className={`quick-option${i === active ? " active" : ""}`}
          onMouseDown={(e) => {
            e.preventDefault(); // the text box keeps the focus
            pick(r);
          }}
          onMouseEnter={() => hover(i)}
        >
          <span className="quick-shortcut">/{r.shortcut}</span> <strong>{r.name}</strong>
          {r.personal && <span className="badge">{t.quick.mine}</span>}
          {r.files.length > 0 && <span className="muted small"> · {t.quick.files(r.files.length)}</span>}
          <div className="muted small quick-body">{r.body}</div>
        </div>
      ))}
    </div>
  );
}
