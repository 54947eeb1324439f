import { useLayoutEffect, useRef, useState } from "react";

import { t } from "../strings";

/**
 * Grow a text box with its text, up to its CSS max-height (then it scrolls): by itself where
 * the browser sizes fields to their content (`field-sizing`), measured where it does not
 * (Firefox, Safari).
 */
export function fitHeight(box: HTMLTextAreaElement | null): void {
  if (!box || (typeof CSS !== "undefined" && CSS.supports?.("field-sizing", "content"))) return;
  box.style.height = "auto";
  box.style.height = `${box.scrollHeight}px`;
}

/**
 * A sent message's text, being changed: the keys are the composer's (Enter saves, Shift+Enter
 * breaks the line), Esc leaves it as it was. As wide as the bubble can be, and as tall as
 * its text.
 */
export function Editor({ initial, onSave, onCancel }: { initial: string; onSave: (body: string) => void; onCancel: () => void }) {
  const [text, setText] = useState(initial);
  const box = useRef<HTMLTextAreaElement>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the height follows the text
  useLayoutEffect(() => fitHeight(box.current), [text]);
  useLayoutEffect(() => {
    const el = box.current;
    el?.focus();
    el?.setSelectionRange(el.value.length, el.value.length);
  }, []);
  const save = () => {
    const body = text.trim();
    if (body === "" || body === initial.trim()) onCancel();
    else onSave(body);
  };
  return (
    <form
      noValidate
      className="edit"
      onSubmit={(e) => {
        e.preventDefault();
        save();
      }}
    >
      <textarea
        ref={box}
        rows={1}
        value={text}
        aria-label={t.edit}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
            e.preventDefault();
            save();
          } else if (e.key === "Escape") {
            e.preventDefault();
            e.stopPropagation();
            onCancel();
          }
        }}
      />
      <div className="edit-buttons">
        <span className="hint">{t.editHint}</span>
        <button type="button" onClick={onCancel}>
          {t.cancel}
        </button>
        <button type="submit">{t.save}</button>
      </div>
    </form>
  );
}
