// Desktop notifications: on once the browser allows them, until the manager turns them off
// (kept in this browser, as the permission is).

import { useState } from "react";

const NOTIFY_KEY = "crm.notify";

export function useNotify(): [boolean, (on: boolean) => void] {
  const [notify, setNotifyState] = useState(
    () => typeof Notification !== "undefined" && Notification.permission === "granted" && localStorage.getItem(NOTIFY_KEY) !== "off",
  );
  const setNotify = (on: boolean) => {
    setNotifyState(on);
    try {
      localStorage.setItem(NOTIFY_KEY, on ? "on" : "off");
    } catch {
      // storage blocked: the choice lasts as long as the page
    }
  };
  return [notify, setNotify];
}
