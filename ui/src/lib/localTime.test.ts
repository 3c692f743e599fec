import { describe, expect, it } from "vitest";
import {
  clockWithSeconds,
  fromLocalInput,
  hourLabel,
  hourLabels,
  localDateStamp,
  shortDateTime,
  spansSeveralDays,
  startOfLocalDay,
  toLocalInput,
} from "./localTime";

// Built with the local-time Date constructor, so the tests hold in any
// time zone the machine has.
const at = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0) => new Date(y, mo - 1, d, h, mi, s).getTime();

describe("datetime-local values", () => {
  it("are read as local time", () => {
    expect(fromLocalInput("2025-06-24T14:30")).toBe(at(2025, 6, 24, 14, 30));
    expect(fromLocalInput("2025-06-24T14:30:15")).toBe(at(2025, 6, 24, 14, 30, 15));
    expect(fromLocalInput("2025-06-24T14:30:15.5")).toBe(at(2025, 6, 24, 14, 30, 15) + 500);
    expect(fromLocalInput("2025-01-01T00:00")).toBe(at(2025, 1, 1));
  });

  it("are written from epoch milliseconds, and round-trip to the minute", () => {
    expect(toLocalInput(at(2025, 6, 4, 9, 5))).toBe("2025-06-04T09:05");
    const ms = at(2025, 12, 31, 23, 59);
    expect(fromLocalInput(toLocalInput(ms))).toBe(ms);
    expect(fromLocalInput(toLocalInput(ms + 42_000))).toBe(ms);
  });

  it("refuse empty and impossible values", () => {
    for (const bad of ["", "2025-06-24", "14:30", "2025-02-30T10:00", "2025-13-01T10:00", "2025-06-24T24:00", "2025-06-24T10:60", "yesterday"]) {
      expect(fromLocalInput(bad), bad).toBeNull();
    }
  });
});

describe("days and hours", () => {
  it("finds the local midnight", () => {
    expect(startOfLocalDay(at(2025, 6, 24, 17, 45, 3))).toBe(at(2025, 6, 24));
    expect(startOfLocalDay(at(2025, 6, 24))).toBe(at(2025, 6, 24));
  });

  it("stamps file names and clocks", () => {
    expect(localDateStamp(at(2025, 6, 4, 23, 59))).toBe("2025-06-04");
    expect(clockWithSeconds(at(2025, 6, 4, 8, 7, 6))).toBe("08:07:06");
  });

  it("labels hour bars with the day only across days", () => {
    expect(hourLabel(at(2025, 6, 24, 14), false, "de")).toBe("14:00");
    expect(hourLabel(at(2025, 6, 24, 14), true, "de")).toBe("24.06. 14:00");
    expect(hourLabel(at(2025, 6, 24, 14), true, "en")).toBe("24/06 14:00");
    expect(hourLabels([at(2025, 6, 24, 22), at(2025, 6, 24, 23)], "de")).toEqual(["22:00", "23:00"]);
    expect(hourLabels([at(2025, 6, 24, 23), at(2025, 6, 25, 0)], "de")).toEqual(["24.06. 23:00", "25.06. 00:00"]);
  });

  it("label hours in the event's zone, half an hour off UTC and through the night the clocks go back", () => {
    const utc = (text: string) => Date.parse(text);
    // Kolkata is UTC+05:30: the local hours start at half past in UTC.
    expect(hourLabels([utc("2026-07-17T17:30:00Z"), utc("2026-07-17T18:30:00Z")], "de", "Asia/Kolkata")).toEqual([
      "17.07. 23:00",
      "18.07. 00:00",
    ]);
    // Berlin, 25 October 2026: 02:00 comes twice, at +02:00 and at +01:00.
    expect(
      hourLabels([utc("2026-10-25T00:00:00Z"), utc("2026-10-25T01:00:00Z"), utc("2026-10-25T02:00:00Z")], "en", "Europe/Berlin"),
    ).toEqual(["02:00 (GMT+2)", "02:00 (GMT+1)", "03:00"]);
    expect(spansSeveralDays([])).toBe(false);
    expect(shortDateTime(at(2025, 6, 24, 9, 5), "de")).toBe("24.06. 09:05");
  });
});
