import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, type ReactNode, useEffect, useState } from "react";

import { api, conversationFilters, type ListFilters } from "../api/client";
import type { Manager, SavedView } from "../api/types";
import { mayChangeView } from "../permissions";
import { dropView, putView } from "../state/teamCache";
import { DEFAULT_FILTERS } from "../state/filters";
import { useViews } from "../state/hooks";
import { filtersOfView, sameFilters } from "../state/views";
import { t } from "../strings";
import { ConfirmButton } from "./Confirm";
import { ErrorLine, useActionError } from "./ErrorLine";
import { Icon } from "./Icon";

interface Props {
  filters: ListFilters;
  setFilters: (f: ListFilters) => void;
  me: Manager;
}

/** A view's name (and, for an admin, whether the team sees it), saved with the list's filters. */
function ViewForm({
  initial,
  share,
  onSave,
  onCancel,
  children,
}: {
  initial: string;
  /** Offered when saving a new view as an admin. */
  share: boolean;
  onSave: (name: string, shared: boolean) => Promise<void>;
  onCancel: () => void;
  children?: ReactNode;
}) {
  const [name, setName] = useState(initial);
  const [shared, setShared] = useState(false);
  const [busy, setBusy] = useState(false);
  const { error, run } = useActionError();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    run(onSave(name.trim(), shared).finally(() => setBusy(false)));
  };
  return (
    <form
      className="view-form"
      onSubmit={submit}
      onKeyDown={(e) => {
        if (e.key === "Escape") {
          e.stopPropagation();
          onCancel();
        }
      }}
    >
      <input
        aria-label={t.views.name}
        placeholder={t.views.name}
        maxLength={40}
        value={name}
        onChange={(e) => setName(e.target.value)}
        // biome-ignore lint/a11y/noAutofocus: the form the manager just opened to type a name in
        autoFocus
      />
      {share && (
        <label className="chip">
          <input type="checkbox" checked={shared} onChange={(e) => setShared(e.target.checked)} />
          {t.views.share}
        </label>
      )}
      <button type="submit" className="primary" disabled={busy || name.trim() === ""}>
        {t.views.save}
      </button>
      <button type="button" onClick={onCancel}>
        {t.cancel}
      </button>
      {children}
      <ErrorLine error={error} />
    </form>
  );
}

/**
 * The saved views beside the tabs, each with how many conversations it holds (kept current by
 * the live frames like the tabs' counts). The list's filters can be saved as a new view, and an
 * open view the manager may change can take the changed filters, a new name, or be removed.
 */
export function ViewBar({ filters, setFilters, me }: Props) {
  const qc = useQueryClient();
  const views = useViews();
  const [editing, setEditing] = useState<"new" | "rename" | null>(null);
  const { error, setError, run } = useActionError();
  // Another view opened: a form or an error of the one before is not about it.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the open view is the trigger
  useEffect(() => {
    setEditing(null);
    setError(null);
  }, [filters.view]);
  const items = views.data?.items ?? [];
  const active = items.find((v) => v.id === filters.view);
  const changed = active !== undefined && !sameFilters(filtersOfView(active), filters);
  // Something beyond a tab narrows the list (a tab alone is there already, with its count).
  const narrowed = !sameFilters(filters, { ...DEFAULT_FILTERS, tab: filters.tab }) && !filters.archived;
  const mayChange = active !== undefined && mayChangeView(active, me);

  const saved = (v: { view: SavedView; count: number; changes_at: string | null }) => {
    putView(qc, v.view, v.count, v.changes_at);
    setFilters({ ...filtersOfView(v.view), q: filters.q });
    setEditing(null);
  };

  return (
    <div className="views" role="toolbar" aria-label={t.views.title}>
      {items.map((v) => (
        <button
          type="button"
          key={v.id}
          aria-pressed={v.id === filters.view}
          className={v.id === filters.view ? "view active" : "view"}
          title={v.shared ? t.views.team : t.views.own}
          onClick={() => setFilters({ ...filtersOfView(v), q: filters.q })}
        >
          {v.shared && <Icon name="team" />}
          {v.name} <span className="count">{views.data?.counts[v.id] ?? 0}</span>
        </button>
      ))}
      {editing === null && narrowed && (!active || changed) && (
        <button type="button" className="link" onClick={() => setEditing("new")}>
          {t.views.saveAs}
        </button>
      )}
      {editing === null && mayChange && changed && (
        <button type="button" className="link" onClick={() => run(api.patchView(active.id, { filters: conversationFilters(filters) }), saved)}>
          {t.views.update(active.name)}
        </button>
      )}
      {editing === null && mayChange && (
        <button type="button" className="link" onClick={() => setEditing("rename")}>
          {t.views.edit}
        </button>
      )}
      {editing === "new" && (
        <ViewForm
          initial=""
          share={me.role === "admin"}
          onCancel={() => setEditing(null)}
          onSave={async (name, shared) => saved(await api.addView({ name, shared, filters: conversationFilters(filters) }))}
        />
      )}
      {editing === "rename" && active && (
        <ViewForm
          key={active.id}
          initial={active.name}
          share={false}
          onCancel={() => setEditing(null)}
          onSave={async (name) => saved(await api.patchView(active.id, { name }))}
        >
          <ConfirmButton
            className="danger"
            question={t.views.removeQuestion(active.name)}
            confirm={t.views.remove}
            onConfirm={() =>
              run(api.deleteView(active.id), () => {
                dropView(qc, active.id);
                setEditing(null);
                setFilters({ ...DEFAULT_FILTERS, view: null });
              })
            }
          >
            {t.views.remove}
          </ConfirmButton>
        </ViewForm>
      )}
      <ErrorLine error={views.isError ? t.views.failed : error} />
    </div>
  );
}
