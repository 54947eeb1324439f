import type { HistoryEvent, Manager } from "../api/types";
import { clock, untilLabel } from "../format";
import { t } from "../strings";

/** The sentence a change to the conversation reads as, for the manager `me`. */
export function describeChange(h: HistoryEvent, me: Manager): string {
  const w = t.history;
  if (h.cause === "customer") return h.change === "archived" ? w.customerUnarchived : w.customerReopened;
  if (h.cause === "snooze") return w.snoozeEnded;
  const who = h.cause === "system" ? w.system : h.actor_id === me.id ? t.you : (h.actor_name ?? w.formerColleague);
  if (h.change === "assignee") {
    if (h.assignee_id === null) return w.unassigned(who);
    if (h.assignee_id === h.actor_id) return w.took(who);
    return w.assigned(who, h.assignee_id === me.id ? w.you : (h.assignee_name ?? w.formerColleague));
  }
  if (h.change === "archived") return h.archived ? w.archived(who) : w.unarchived(who);
  if (h.status === "snoozed" && h.snoozed_until) return w.snoozed(who, untilLabel(h.snoozed_until));
  if (h.status === "resolved") return w.resolved(who);
  if (h.status === "pending") return w.pending(who);
  return w.reopened(who);
}

/** A change to the conversation in the timeline, where and when it happened. */
export function HistoryRow({ change, me }: { change: HistoryEvent; me: Manager }) {
  return (
    <div className="history-row" data-history={change.id}>
      <span>{describeChange(change, me)}</span> <time dateTime={change.created_at}>{clock(change.created_at)}</time>
    </div>
  );
}
