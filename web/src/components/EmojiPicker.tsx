import { useEffect, useRef, useState } from "react";

import { t } from "../strings";

// The emoji a sales conversation uses most, in a few rows: no library, nothing to download
// (the inbox's JavaScript stays small), and the system's emoji font draws them.
const EMOJI = [
  "😊",
  "🙂",
  "😀",
  "😂",
  "😉",
  "😍",
  "🤩",
  "😎",
  "🤔",
  "😅",
  "😇",
  "🙏",
  "👍",
  "👌",
  "👏",
  "🙌",
  "💪",
  "🤝",
  "👋",
  "✌️",
  "❤️",
  "💙",
  "💚",
  "🔥",
  "🎉",
  "✨",
  "⭐",
  "✅",
  "❌",
  "⚠️",
  "📦",
  "🚚",
  "🛒",
  "💳",
  "💶",
  "🧾",
  "📞",
  "📷",
  "📍",
  "⏰",
  "📅",
  "🎁",
  "☕",
  "🌞",
  "😢",
  "😮",
  "🙈",
  "💯",
];

/** A button that opens a grid of emoji; the chosen one is handed to `onPick`. */
export function EmojiPicker({ onPick, disabled = false }: { onPick: (emoji: string) => void; disabled?: boolean }) {
  const [open, setOpen] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    box.current?.querySelector("button")?.focus();
    const away = (e: MouseEvent) => {
      if (!box.current?.parentElement?.contains(e.target as Node)) setOpen(false);
    };
    addEventListener("mousedown", away);
    return () => removeEventListener("mousedown", away);
  }, [open]);
  return (
    <span className="emoji-picker">
      <button
        type="button"
        className="icon-button"
        aria-label={t.emoji}
        title={t.emoji}
        aria-expanded={open}
        disabled={disabled}
        onClick={() => setOpen((o) => !o)}
      >
        😊
      </button>
      {open && (
        <div
          ref={box}
          className="emoji-grid"
          role="dialog"
          aria-label={t.emoji}
          onKeyDown={(e) => {
            if (e.key === "Escape") {
              e.stopPropagation();
              setOpen(false);
            }
          }}
        >
          {EMOJI.map((emoji) => (
            <button
              type="button"
              key={emoji}
              aria-label={emoji}
              onClick={() => {
                onPick(emoji);
                setOpen(false);
              }}
            >
              {emoji}
            </button>
          ))}
        </div>
      )}
    </span>
  );
}
