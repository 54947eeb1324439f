/**
 * The inbox's own symbols, drawn as SVG in the text's colour: the same on every machine, where
 * emoji and rarer symbols depend on the fonts installed (without an emoji font a paperclip is an
 * empty box). What customers write, reactions included, stays text.
 */
const PATHS = {
  attach: "M20 11.5l-8.2 8.2a5 5 0 0 1-7.1-7.1l8.5-8.5a3.3 3.3 0 0 1 4.7 4.7l-8.5 8.5a1.7 1.7 0 0 1-2.4-2.4l7.8-7.8",
  file: "M6 2.5h8l5 5v14H6z M14 2.5v5h5",
  video: "M3 6.5h11.5v11H3z M14.5 10.5l6-3.5v10l-6-3.5",
  audio: "M9 18V5.5l11-2V16 M6 21a3 3 0 1 0 0-6 3 3 0 0 0 0 6z M17 19a3 3 0 1 0 0-6 3 3 0 0 0 0 6z",
  voice: "M12 2.5a3 3 0 0 1 3 3V11a3 3 0 0 1-6 0V5.5a3 3 0 0 1 3-3z M5.5 10.5a6.5 6.5 0 0 0 13 0 M12 17v4.5",
  location: "M12 21.5s7-6.2 7-11.5a7 7 0 0 0-14 0c0 5.3 7 11.5 7 11.5z M12 12.5a2.5 2.5 0 1 0 0-5 2.5 2.5 0 0 0 0 5z",
  delete: "M3.5 6h17 M9 6V3.5h6V6 M6 6l1 15h10l1-15 M10 10v7 M14 10v7",
  edit: "M4 20h4.5L19.5 9 15 4.5 4 15.5z M13 6.5l4.5 4.5",
  reply: "M9.5 14.5l-5-5 5-5 M4.5 9.5h9a6 6 0 0 1 6 6v4",
  menu: "M4 6.5h16 M4 12h16 M4 17.5h16",
  close: "M6 6l12 12 M18 6L6 18",
  pending: "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z M12 7v5l3 2",
  team: "M9 11a3.5 3.5 0 1 0 0-7 3.5 3.5 0 0 0 0 7z M2.5 20a6.5 6.5 0 0 1 13 0 M16 4.3a3.5 3.5 0 0 1 0 6.4 M18.5 14a6.5 6.5 0 0 1 3 6",
  failed: "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z M12 7v6 M12 16.5v.5",
} as const;

export type IconName = keyof typeof PATHS;

export function Icon({ name, label }: { name: IconName; label?: string }) {
  return (
    <svg
      className={`icon icon-${name}`}
      viewBox="0 0 24 24"
      width="1.15em"
      height="1.15em"
      fill="none"
      stroke="currentColor"
      strokeWidth={2}
      strokeLinecap="round"
      strokeLinejoin="round"
      role={label ? "img" : undefined}
      aria-label={label}
      aria-hidden={label ? undefined : true}
      focusable="false"
    >
      <path d={PATHS[name]} />
    </svg>
  );
}
