import QRCode from "qrcode";
import { useEffect, useRef, useState, type FormEvent } from "react";

import { api, ApiError, type LoginStep } from "../api/client";
import { t } from "../strings";
import type { BusinessNumber } from "../api/types";
import { ErrorLine, useActionError } from "./ErrorLine";
import { NumberItem } from "./NumberItem";

/** Connect WhatsApp numbers (admins): the bridge's login steps, through the CRM. A QR code is
 * drawn from the step's data as the bridge sends new ones; the phone-number flow shows the
 * pairing code for as long as the phone takes. A wait the server cut short is asked again;
 * leaving the page cancels a login still going. */
export function WhatsApp() {
  const [logins, setLogins] = useState<BusinessNumber[] | null>(null);
  const [step, setStep] = useState<LoginStep | null>(null);
  const [phone, setPhone] = useState("");
  const [message, setMessage] = useState<string | null>(null);
  const { error, setError, run } = useActionError();
  const canvas = useRef<HTMLCanvasElement>(null);
  const active = useRef(true);
  const going = useRef<LoginStep | null>(null);
  going.current = step;

  const refresh = () => run(api.whatsapp(), (r) => setLogins(r.numbers));
  // biome-ignore lint/correctness/useExhaustiveDependencies: once, when the page opens
  useEffect(() => {
    active.current = true;
    refresh();
    return () => {
      active.current = false;
      // The bridge would keep a WhatsApp connection open for this login for half an hour.
      if (going.current) api.loginCancel(going.current.login_id).catch(() => undefined);
    };
  }, []);

  // Draw the QR code of the current step.
  useEffect(() => {
    const data = step?.display_and_wait?.type === "qr" ? step.display_and_wait.data : null;
    if (data && canvas.current) void QRCode.toCanvas(canvas.current, data, { width: 264, margin: 1 });
  }, [step]);

  // While a code is shown, wait for the next step: a new code, or done.
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new wait for each new step only
  useEffect(() => {
    if (step?.type !== "display_and_wait") return;
    let cancelled = false;
    const wait = (): void => {
      api.loginWait(step.login_id, step.step_id, step.txn_id).then(
        (next) => {
          if (cancelled || !active.current) return;
          if (next === null) wait();
          else if (next.type === "complete") {
            setStep(null);
            setMessage(next.instructions ?? t.wa.connected);
            refresh();
          } else setStep(next);
        },
        (e: Error) => {
          if (cancelled || !active.current) return;
          setStep(null);
          setError(e.message);
        },
      );
    };
    wait();
    return () => {
      cancelled = true;
    };
  }, [step]);

  const begin = (flow: "qr" | "phone") => {
    setError(null);
    setMessage(null);
    run(api.loginStart(flow), setStep);
  };

  function submitPhone(e: FormEvent) {
    e.preventDefault();
    if (!step) return;
    const field = step.user_input?.fields[0]?.id ?? "phone_number";
    api.loginInput(step.login_id, step.step_id, { [field]: phone }).then(
      (next) => {
        setError(null);
        setStep(next);
      },
      (e: Error) => {
        setError(e.message);
        // The bridge ends a login on a rejected number: a new one keeps the form usable.
        if (e instanceof ApiError && e.code === "phone_rejected") api.loginStart("phone").then(setStep, () => setStep(null));
        else setStep(null);
      },
    );
  }

  return (
    <section className="whatsapp" aria-label={t.wa.title}>
      <h3>{t.wa.title}</h3>
      {logins !== null && logins.length === 0 && !step && <p>{t.wa.none}</p>}
      <ul>
        {(logins ?? []).map((n) => (
          <NumberItem key={n.login_id} number={n} logout={() => run(api.logout_whatsapp(n.login_id), refresh)} fail={(e) => setError(e.message)} />
        ))}
      </ul>
      {!step && (
        <p>
          <button type="button" onClick={() => begin("qr")}>
            {t.wa.qr}
          </button>{" "}
          <button type="button" onClick={() => begin("phone")}>
            {t.wa.phone}
          </button>
        </p>
      )}
      {step?.instructions && <p>{step.instructions}</p>}
      {step?.display_and_wait?.type === "qr" && (
        <>
          <canvas ref={canvas} className="qr" aria-label={t.wa.qrLabel} />
          <p className="hint">{t.wa.qrHelp}</p>
        </>
      )}
      {step?.display_and_wait?.type === "code" && (
        <>
          <p className="pairing-code">{step.display_and_wait.data}</p>
          <p className="hint">{t.wa.codeHelp}</p>
        </>
      )}
      {step?.type === "user_input" && (
        <form noValidate onSubmit={submitPhone}>
          <input
            type="tel"
            value={phone}
            onChange={(e) => setPhone(e.target.value)}
            placeholder="+49 170 1234567"
            aria-label={t.side.phone}
            required
          />
          <button type="submit">{t.wa.next}</button>
        </form>
      )}
      {step && (
        <button type="button" onClick={() => api.loginCancel(step.login_id).finally(() => setStep(null))}>
          {t.cancel}
        </button>
      )}
      {message && <p role="status">{message}</p>}
      <ErrorLine error={error} />
    </section>
  );
}
