import { useState } from "react";

/** The server's message after a failed action, announced to screen readers. */
export function ErrorLine({ error }: { error: string | null }) {
  return error ? (
    <p role="alert" className="error">
      {error}
    </p>
  ) : null;
}

/**
 * The error of a component's actions, for its ErrorLine: `run(action, done)` calls `done` with
 * the answer and clears an earlier error when the action succeeds, and shows the server's
 * message when it fails.
 */
export function useActionError() {
  const [error, setError] = useState<string | null>(null);
  function run<T>(action: Promise<T>, done?: (value: T) => void): void {
    action.then(
      (value) => {
        done?.(value);
        setError(null);
      },
      (err: Error) => setError(err.message),
    );
  }
  return { error, setError, run };
}
