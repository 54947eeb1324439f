import { Link } from "react-router";

import type { ContactDetail } from "../api/types";
import { moment } from "../format";
import { paths } from "../routes";
import { t } from "../strings";

type Item = ContactDetail["timeline"][number];

function label(item: Item): string {
  const words = t.timeline[item.kind];
  return words(item.text);
}

/** What happened with this person, newest first: every conversation's changes, the notes
 * written there, their orders and merges (the server sends them in order). */
export function ContactTimeline({ contact }: { contact: ContactDetail }) {
  return (
    <section aria-label={t.timeline.title}>
      <h3>{t.timeline.title}</h3>
      {contact.timeline.length === 0 && <p className="muted">{t.timeline.empty}</p>}
      <ol className="timeline">
        {contact.timeline.map((item, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: events have no id of their own; the list is redrawn whole
          <li key={i} data-kind={item.kind}>
            <time className="muted">{moment(item.at)}</time> <span className={item.kind === "note" ? "note-text" : undefined}>{label(item)}</span>
            {item.actor_name && <span className="muted">{t.timeline.by(item.actor_name)}</span>}
            {item.conversation_id !== null && (
              <>
                {" "}
                <Link to={paths.conversation(item.conversation_id)}>{t.timeline.open}</Link>
              </>
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}
