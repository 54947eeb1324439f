import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import type { Conversation, Manager, Status } from "../api/types";
import { localInputValue, snoozeChoices, untilLabel } from "../format";
import { labelConversation, patchConversation, type ConversationChanges } from "../state/patch";
import { useTeam } from "../state/hooks";
import { t } from "../strings";
import { ErrorLine } from "./ErrorLine";
import { Icon } from "./Icon";
import { LabelChips, LabelPopover } from "./Labels";
import { NumberBadge, useSeveralNumbers } from "./NumberBadge";

/** A snooze's end of the manager's choosing, in their local time; never in the past. */
function SnoozePicker({ onPick, onCancel }: { onPick: (until: Date) => void; onCancel: () => void }) {
  const [value, setValue] = useState(() => localInputValue(new Date(Date.now() + 86_400_000)));
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      noValidate
      className="snooze-picker"
      onSubmit={(e) => {
        e.preventDefault();
        const until = new Date(value);
        if (Number.isNaN(until.getTime()) || until.getTime() <= Date.now()) setError(t.snooze.past);
        else onPick(until);
      }}
      onKeyDown={(e) => {
        if (e.key === "Escape") {
          e.stopPropagation();
          onCancel();
        }
      }}
    >
      <input
        type="datetime-local"
        aria-label={t.snooze.pick}
        value={value}
        min={localInputValue(new Date())}
        onChange={(e) => setValue(e.target.value)}
        required
        // biome-ignore lint/a11y/noAutofocus: a form the manager just opened: typing goes to its first field
        autoFocus
      />
      <button type="submit">{t.snooze.apply}</button>
      <button type="button" onClick={onCancel}>
        {t.cancel}
      </button>
      <ErrorLine error={error} />
    </form>
  );
}

/** The conversation's name and what a manager changes about it: status, snooze, assignee, archive. */
export function ThreadHeader({
  conversation: c,
  me,
  onBack,
  togglePanel,
}: {
  conversation: Conversation;
  me: Manager;
  onBack: () => void;
  togglePanel: () => void;
}) {
  const qc = useQueryClient();
  const team = useTeam();
  const [error, setError] = useState<string | null>(null);
  const [picking, setPicking] = useState(false);
  const change = (changes: ConversationChanges) => {
    setError(null);
    patchConversation(qc, c, changes, me.id).catch((e: Error) => setError(e.message));
  };
  const name = c.title ?? c.contact?.display_name ?? "—";
  const several = useSeveralNumbers();
  return (
    <header className="thread-header">
      <button type="button" className="back" onClick={onBack} aria-label={t.backToInbox}>
        ←
      </button>
      <div className="who">
        <h2>{name}</h2>
        <span className="phone">{c.contact?.phone}</span>
        <NumberBadge number={c.number} shown={several} />
        <LabelChips ids={c.label_ids} max={4} />
      </div>
      <LabelPopover
        button={t.labels.button}
        title={t.labels.title}
        selected={c.label_ids}
        onToggle={(id, on) => {
          setError(null);
          labelConversation(qc, c, id, on, me.id).catch((e: Error) => setError(e.message));
        }}
      />
      <select
        aria-label={t.filters.status}
        value={picking ? "snooze:custom" : c.status}
        onChange={(e) => {
          const choice = snoozeChoices().find((s) => `snooze:${s.key}` === e.target.value);
          setPicking(e.target.value === "snooze:custom");
          if (choice) change({ status: "snoozed", snoozed_until: choice.until.toISOString() });
          else if (e.target.value !== "snoozed" && !e.target.value.startsWith("snooze:")) change({ status: e.target.value as Status });
        }}
      >
        {(["open", "pending", "resolved"] as const).map((s) => (
          <option key={s} value={s}>
            {t.status[s]}
          </option>
        ))}
        {c.status === "snoozed" && c.snoozed_until && <option value="snoozed">{t.snooze.until(untilLabel(c.snoozed_until))}</option>}
        {snoozeChoices().map((s) => (
          <option key={s.key} value={`snooze:${s.key}`}>
            {t.snooze[s.key]}
          </option>
        ))}
        <option value="snooze:custom">{t.snooze.custom}</option>
      </select>
      {picking && (
        <SnoozePicker
          onPick={(until) => {
            setPicking(false);
            change({ status: "snoozed", snoozed_until: until.toISOString() });
          }}
          onCancel={() => setPicking(false)}
        />
      )}
      <select
        aria-label={t.assignTo}
        value={c.assignee_id ?? ""}
        onChange={(e) => change({ assignee_id: e.target.value ? Number(e.target.value) : null })}
      >
        <option value="">{t.unassigned}</option>
        {(team.data?.items ?? []).map((m) => (
          <option key={m.id} value={m.id}>
            {m.name}
          </option>
        ))}
      </select>
      <button type="button" onClick={() => change({ is_archived: !c.is_archived })}>
        {c.is_archived ? t.unarchive : t.archive}
      </button>
      <button type="button" className="icon-button" onClick={togglePanel} aria-label={t.side.contact}>
        <Icon name="menu" />
      </button>
      <ErrorLine error={error} />
    </header>
  );
}
