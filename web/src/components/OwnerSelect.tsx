import { useTeam } from "../state/hooks";
import { t } from "../strings";

/** Whose customers (or deals): everyone's (""), mine ("me"), nobody's ("none") or a
 * colleague's (their id), as the API's `owner` filters take it. */
export function OwnerSelect({
  value,
  onChange,
  anyLabel = t.contacts.anyOwner,
  mineLabel = t.contacts.mine,
}: {
  value: string;
  onChange: (owner: string) => void;
  anyLabel?: string;
  mineLabel?: string;
}) {
  const team = useTeam().data?.items ?? [];
  return (
    <select aria-label={t.contacts.owner} value={value} onChange={(e) => onChange(e.target.value)}>
      <option value="">{anyLabel}</option>
      <option value="me">{mineLabel}</option>
      <option value="none">{t.contacts.nobodys}</option>
      {team.map((m) => (
        <option key={m.id} value={String(m.id)}>
          {m.name}
        </option>
      ))}
    </select>
  );
}
