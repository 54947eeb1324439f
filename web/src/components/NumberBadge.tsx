import type { Conversation } from "../api/types";
import { useNumbers } from "../state/hooks";
import { t } from "../strings";

/** Whether the business has more than one number to tell its chats apart by. */
export function useSeveralNumbers(): boolean {
  return (useNumbers().data?.items.length ?? 0) > 1;
}

/** Which of the business's numbers a chat is on (shown when there are several). */
export function NumberBadge({ number, shown }: { number: Conversation["number"]; shown: boolean }) {
  if (!shown || !number) return null;
  const label = number.name ?? `+${number.login_id}`;
  return (
    <span className="badge number" title={t.newChat.onNumber(label)}>
      {label}
    </span>
  );
}

/** Choose one of the business's numbers ("" for every one); nothing when there is only one. */
export function NumberSelect({ value, onChange }: { value: string; onChange: (loginId: string) => void }) {
  const numbers = useNumbers().data?.items ?? [];
  if (numbers.length < 2) return null;
  return (
    <select aria-label={t.filters.number} value={value} onChange={(e) => onChange(e.target.value)}>
      <option value="">{t.filters.anyNumber}</option>
      {numbers.map((n) => (
        <option key={n.login_id} value={n.login_id}>
          {n.name ?? `+${n.login_id}`}
        </option>
      ))}
    </select>
  );
}
