import { useEffect, useRef, useState, type ReactNode } from "react";

import { t } from "../strings";

/**
 * A button whose action cannot be taken back (a message deleted for the customer too, a
 * colleague locked out): the first press asks, in place, and only the second acts. Esc,
 * "Cancel" or moving on leaves everything as it was.
 */
export function ConfirmButton({
  children,
  question,
  confirm,
  onConfirm,
  className,
  title,
}: {
  children: ReactNode;
  question: string;
  confirm: string;
  onConfirm: () => void;
  className?: string;
  title?: string;
}) {
  const [asking, setAsking] = useState(false);
  const yes = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (asking) yes.current?.focus();
  }, [asking]);
  if (!asking) {
    return (
      <button type="button" className={className} title={title} aria-label={title} onClick={() => setAsking(true)}>
        {children}
      </button>
    );
  }
  return (
    <span
      className="confirm"
      role="alertdialog"
      aria-label={question}
      onKeyDown={(e) => {
        if (e.key === "Escape") {
          e.stopPropagation();
          setAsking(false);
        }
      }}
    >
      <span>{question}</span>
      <button
        ref={yes}
        type="button"
        className="danger"
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        {confirm}
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        {t.cancel}
      </button>
    </span>
  );
}
