import { useQueryClient } from "@tanstack/react-query";

import { api } from "../api/client";
import type * as S from "../api/schema";
import type { Conversation, Manager } from "../api/types";
import { snoozeChoices } from "../format";
import { changeConversation, keys } from "../state/cache";
import { useLabels, useTeam } from "../state/hooks";
import { BULK_LIMIT, capped } from "../state/useSelection";
import { t } from "../strings";
import { ErrorLine, useActionError } from "./ErrorLine";

interface Props {
  picked: ReadonlySet<number>;
  /** The list is the archived one: the bar takes them out of the archive instead. */
  archived: boolean;
  /** The list's loaded rows: "select all" takes these. */
  rows: Conversation[];
  setPicked: (ids: Set<number>) => void;
  me: Manager;
}

/**
 * What a manager does to the selected conversations at once: assign, set a status, snooze,
 * label or archive. One request, one transaction on the server; its answer puts every changed
 * conversation in place (lists, counts, views), and the live frames tell the colleagues.
 */
export function BulkBar({ picked, rows, setPicked, me, archived }: Props) {
  const qc = useQueryClient();
  const team = useTeam().data?.items ?? [];
  const labels = useLabels().data?.items ?? [];
  const { error, run } = useActionError();
  const ids = [...picked];

  const apply = (change: Omit<S.BulkBody, "ids">) =>
    run(api.bulk({ ids, ...change }), (out) => {
      let stale = false;
      for (const c of out.items) stale = changeConversation(qc, c, me.id) || stale;
      if (stale) void qc.invalidateQueries({ queryKey: keys.counts });
      setPicked(new Set());
    });
  // A select whose choice is an action: it goes back to its prompt once chosen.
  const choose = (e: React.ChangeEvent<HTMLSelectElement>, act: (value: string) => void) => {
    const value = e.target.value;
    e.target.value = "";
    if (value) act(value);
  };

  return (
    <div className="bulk-bar" role="toolbar" aria-label={t.bulk.title}>
      <span className="bulk-count">{t.bulk.selected(ids.length)}</span>
      {rows.length > ids.length && ids.length < BULK_LIMIT && (
        <button type="button" className="link" onClick={() => setPicked(capped(new Set(rows.map((c) => c.id))))}>
          {t.bulk.all(Math.min(rows.length, BULK_LIMIT))}
        </button>
      )}
      {ids.length >= BULK_LIMIT && <span className="muted small">{t.bulk.limit(BULK_LIMIT)}</span>}
      <button type="button" className="link" onClick={() => setPicked(new Set())}>
        {t.bulk.clear}
      </button>
      <select
        aria-label={t.bulk.assign}
        defaultValue=""
        onChange={(e) => choose(e, (v) => apply({ patch: { assignee_id: v === "none" ? null : Number(v) } }))}
      >
        <option value="">{t.bulk.assign}</option>
        <option value={me.id}>{t.bulk.toMe}</option>
        <option value="none">{t.unassigned}</option>
        {team
          .filter((m) => m.id !== me.id)
          .map((m) => (
            <option key={m.id} value={m.id}>
              {m.name}
            </option>
          ))}
      </select>
      <select
        aria-label={t.bulk.status}
        defaultValue=""
        onChange={(e) =>
          choose(e, (v) => {
            const snooze = snoozeChoices().find((s) => s.key === v);
            apply({
              patch: snooze ? { status: "snoozed", snoozed_until: snooze.until.toISOString() } : { status: v as S.ConversationPatch["status"] },
            });
          })
        }
      >
        <option value="">{t.bulk.status}</option>
        {(["open", "pending", "resolved"] as const).map((s) => (
          <option key={s} value={s}>
            {t.status[s]}
          </option>
        ))}
        {snoozeChoices().map((s) => (
          <option key={s.key} value={s.key}>
            {t.snooze[s.key]}
          </option>
        ))}
      </select>
      {labels.length > 0 && (
        <select
          aria-label={t.bulk.label}
          defaultValue=""
          onChange={(e) => choose(e, (v) => apply(v.startsWith("-") ? { remove_label: Number(v.slice(1)) } : { add_label: Number(v) }))}
        >
          <option value="">{t.bulk.label}</option>
          <optgroup label={t.bulk.addLabel}>
            {labels.map((l) => (
              <option key={l.id} value={l.id}>
                {l.name}
              </option>
            ))}
          </optgroup>
          <optgroup label={t.bulk.removeLabel}>
            {labels.map((l) => (
              <option key={l.id} value={`-${l.id}`}>
                {t.bulk.without(l.name)}
              </option>
            ))}
          </optgroup>
        </select>
      )}
      <button type="button" onClick={() => apply({ patch: { is_archived: !archived } })}>
        {archived ? t.bulk.unarchive : t.bulk.archive}
      </button>
      <ErrorLine error={error} />
    </div>
  );
}
