import { type MouseEvent, type PointerEvent, useRef } from "react";

// How long a finger rests on a message before its actions show (a phone has no hover).
const LONG_PRESS_MS = 450;

/** Handlers that call `action` when a touch rests in place for LONG_PRESS_MS. */
export function useLongPress(action: () => void) {
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const touching = useRef(false);
  const cancel = () => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = null;
  };
  return {
    onPointerDown: (e: PointerEvent) => {
      touching.current = e.pointerType === "touch";
      if (!touching.current) return;
      cancel();
      timer.current = setTimeout(() => {
        timer.current = null;
        action();
      }, LONG_PRESS_MS);
    },
    onPointerUp: cancel,
    onPointerCancel: cancel,
    onPointerMove: (e: PointerEvent) => {
      if (Math.abs(e.movementX) + Math.abs(e.movementY) > 6) cancel();
    },
    // The browser's own long-press menu would cover the message.
    onContextMenu: (e: MouseEvent) => {
      if (touching.current) e.preventDefault();
    },
  };
}
