import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";

import { api } from "../api/client";
import type { BusinessNumber } from "../api/types";
import { keys } from "../state/cache";
import { t } from "../strings";

/**
 * One of the business's WhatsApp numbers on the Team → WhatsApp page: its state as the bridge
 * says it, the name the team knows it by (saved when the field is left or Enter pressed), and
 * logging it out.
 */
export function NumberItem({ number, logout, fail }: { number: BusinessNumber; logout: () => void; fail: (e: Error) => void }) {
  const qc = useQueryClient();
  const [name, setName] = useState(number.name ?? "");
  const save = (e?: FormEvent) => {
    e?.preventDefault();
    const wanted = name.trim() || null;
    if (wanted === number.name) return;
    api.nameNumber(number.login_id, wanted).then(() => qc.invalidateQueries({ queryKey: keys.numbers }), fail);
  };
  return (
    <li className={`number ${number.state}`}>
      <form noValidate onSubmit={save}>
        <input
          value={name}
          onChange={(e) => setName(e.target.value)}
          onBlur={() => save()}
          maxLength={80}
          placeholder={t.wa.namePlaceholder}
          aria-label={t.wa.name(number.phone ?? `+${number.login_id}`)}
        />
      </form>
      <span className="phone">{number.phone ?? `+${number.login_id}`}</span>
      <span className="state">{t.wa.states[number.state]}</span>
      <button type="button" onClick={logout}>
        {t.wa.logout}
      </button>
    </li>
  );
}
