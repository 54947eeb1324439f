import { useTeam } from "../state/hooks";
import { t } from "../strings";

/** Whose customers: everyone's (""), mine ("me"), nobody's ("none") or a colleague's (their id). */
export function OwnerSelect({
  value,
  onChange,
  anyLabel = t.contacts.anyOwner,
}: {
  value: string;
  onChange: (owner: string) => void;
  anyLabel?: string;
}) {
  const team = useTeam().data?.items ?? [];
  return (
    <select aria-label={t.contacts.owner} value={value} onChange={(e) => onChange(e.target.value)}>
      <option value="">{anyLabel}</option>
      <option value="me">{t.contacts.mine}</option>
      <option value="none">{t.contacts.nobodys}</option>
      {team.map((m) => (
        <option key={m.id} value={String(m.id)}>
          {m.name}
        </option>
      ))}
    </select>
  );
}
