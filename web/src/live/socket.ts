// The live connection (`/api/v1/ws`): reconnects with backoff and resumes with `?since=` from
// the last frame it saw, so nothing that happened while it was down is missed; the server
// answers a too-old `since` with `resync`.

import type { LiveFrame } from "../api/types";

export type LiveState = "connecting" | "open" | "reconnecting";

export interface LiveHandlers {
  frame: (frame: LiveFrame) => void;
  state: (state: LiveState) => void;
  // The server closed the connection because the session ended (4001) or the manager's rights
  // changed (4003): who is signed in, and what they may see, must be asked again.
  ended?: () => void;
}

export const SESSION_ENDED = 4001;
export const RIGHTS_CHANGED = 4003;

const MAX_DELAY = 30_000;

export function backoff(attempt: number, random = Math.random): number {
  const base = Math.min(MAX_DELAY, 500 * 2 ** attempt);
  return base / 2 + random() * (base / 2);
}

export class LiveConnection {
  private ws: WebSocket | null = null;
  private seq: number | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;

  constructor(
    private readonly handlers: LiveHandlers,
    private readonly url: (since: number | null) => string = defaultUrl,
  ) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.ws?.close(1000);
    this.ws = null;
  }

  private connect(): void {
    this.handlers.state(this.seq === null ? "connecting" : "reconnecting");
    const ws = new WebSocket(this.url(this.seq));
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.handlers.state("open");
    };
    ws.onmessage = (event: MessageEvent<string>) => {
      const frame = JSON.parse(event.data) as LiveFrame;
      if (frame.type === "hello" || frame.type === "resync") {
        this.seq = frame.seq;
      } else if (this.seq === null || frame.seq > this.seq) {
        this.seq = frame.seq;
      } else {
        return; // seen already (a replay overlapping what was pushed)
      }
      this.handlers.frame(frame);
    };
    ws.onclose = (event: CloseEvent) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      if (event.code === SESSION_ENDED || event.code === RIGHTS_CHANGED) this.handlers.ended?.();
      this.handlers.state("reconnecting");
      this.timer = setTimeout(() => this.connect(), backoff(this.attempt++));
    };
  }
}

function defaultUrl(since: number | null): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const query = since === null ? "" : `?since=${since}`;
  return `${scheme}//${location.host}/api/v1/ws${query}`;
}
