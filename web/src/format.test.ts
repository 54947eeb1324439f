import { describe, expect, it } from "vitest";

import { snoozeChoices, untilLabel } from "./format";

describe("snoozing", () => {
  const at = (y: number, m: number, d: number, h: number, min = 0) => new Date(y, m - 1, d, h, min);
  const until = (now: Date) => Object.fromEntries(snoozeChoices(now).map((c) => [c.key, c.until]));

  it("offers three hours, tomorrow at nine and next Monday at nine", () => {
    const wednesday = at(2026, 1, 7, 15, 30);
    const choices = until(wednesday);
    expect(choices.later).toEqual(at(2026, 1, 7, 18, 30));
    expect(choices.tomorrow).toEqual(at(2026, 1, 8, 9));
    expect(choices.nextWeek).toEqual(at(2026, 1, 12, 9));
  });

  it("takes next Monday as the one after today, on a Monday and on a Sunday", () => {
    expect(until(at(2026, 1, 12, 10)).nextWeek).toEqual(at(2026, 1, 19, 9));
    expect(until(at(2026, 1, 11, 22)).nextWeek).toEqual(at(2026, 1, 12, 9));
  });

  it("says when a snooze ends, whole: today's time, else the weekday, date and time", () => {
    const now = at(2026, 1, 7, 8);
    const time = (d: Date) => d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    expect(untilLabel(at(2026, 1, 7, 18).toISOString(), now)).toBe(`today, ${time(at(2026, 1, 7, 18))}`);
    const friday = at(2026, 1, 9, 9);
    const label = untilLabel(friday.toISOString(), now);
    expect(label).toContain(friday.toLocaleDateString([], { weekday: "short", day: "numeric", month: "short" }));
    expect(label).toContain(time(friday));
    expect(untilLabel(at(2027, 2, 20, 9).toISOString(), now)).toContain("2027");
  });
});
