import { describe, expect, it, vi } from "vitest";
import { loadWhileSessionOpens, canManage, executionDate, passFormProblem, runActions, colourForInput, fillHours, parseCount, periodRange, pinOk, singleFlight, tabsFor, vatLabel } from "./manage";

const at = (y: number, mo: number, d: number, h = 0, mi = 0) => new Date(y, mo - 1, d, h, mi).getTime();

describe("tabs by role", () => {
  it("shows supervisors a part and managers everything", () => {
    expect(tabsFor("manager")).toEqual(["reports", "catalogue", "stock", "staff", "wallets", "terminals", "sync", "passes", "bands", "payouts", "fiscal", "audit", "settings"]);
    expect(tabsFor("supervisor")).toEqual(["reports", "stock", "wallets", "terminals", "sync"]);
    expect(tabsFor("cashier")).toEqual([]);
    expect(canManage("manager")).toBe(true);
    expect(canManage("supervisor")).toBe(true);
    expect(canManage("cashier")).toBe(false);
    expect(canManage(undefined)).toBe(false);
  });
});

describe("report periods", () => {
  const now = at(2025, 6, 24, 17, 30);

  it("today starts at local midnight, the last hour an hour ago, the event has no ends", () => {
    expect(periodRange("today", now)).toEqual({ from_ms: at(2025, 6, 24), until_ms: null });
    expect(periodRange("hour", now)).toEqual({ from_ms: now - 3_600_000, until_ms: null });
    expect(periodRange("event", now)).toEqual({ from_ms: null, until_ms: null });
  });

  it("a custom range reads the two inputs, either may stay open", () => {
    expect(periodRange("custom", now, "2025-06-24T12:00", "2025-06-24T18:00")).toEqual({
      from_ms: at(2025, 6, 24, 12),
      until_ms: at(2025, 6, 24, 18),
    });
    expect(periodRange("custom", now, "", "2025-06-24T18:00")).toEqual({ from_ms: null, until_ms: at(2025, 6, 24, 18) });
    expect(periodRange("custom", now, "", "")).toEqual({ from_ms: null, until_ms: null });
  });

  it("a custom range that is not one gives no query", () => {
    expect(periodRange("custom", now, "2025-06-24T18:00", "2025-06-24T12:00")).toBeNull();
    expect(periodRange("custom", now, "2025-06-24T18:00", "2025-06-24T18:00")).toBeNull();
    expect(periodRange("custom", now, "nonsense", "")).toBeNull();
  });
});

describe("singleFlight", () => {
  it("never runs twice at once and runs once more for calls that came meanwhile", async () => {
    let running = 0;
    let most = 0;
    let runs = 0;
    const release: (() => void)[] = [];
    const refresh = singleFlight(async () => {
      running++;
      runs++;
      most = Math.max(most, running);
      await new Promise<void>((resolve) => release.push(resolve));
      running--;
    });
    const first = refresh();
    refresh();
    refresh();
    refresh();
    expect(runs).toBe(1);
    release.shift()!();
    await new Promise((r) => setTimeout(r, 0));
    expect(runs).toBe(2); // the three calls meanwhile make one more run
    release.shift()!();
    await first;
    expect(runs).toBe(2);
    expect(most).toBe(1);
    refresh();
    expect(runs).toBe(3); // idle again: runs at once
    release.shift()!();
  });

  it("goes on after a failing run", async () => {
    let runs = 0;
    const refresh = singleFlight(async () => {
      runs++;
      throw new Error("boom");
    });
    await refresh();
    await refresh();
    expect(runs).toBe(2);
  });
});

describe("form helpers", () => {
  it("gives colour inputs #rrggbb", () => {
    expect(colourForInput("#E8A317", "#000000")).toBe("#e8a317");
    expect(colourForInput("#abc", "#000000")).toBe("#aabbcc");
    expect(colourForInput("orange", "#123456")).toBe("#123456");
    expect(colourForInput(null, "#123456")).toBe("#123456");
  });

  it("shows VAT basis points as percent", () => {
    expect(vatLabel(1900, "de")).toBe("19 %");
    expect(vatLabel(700, "en")).toBe("7 %");
    expect(vatLabel(750, "de")).toBe("7,5 %");
    expect(vatLabel(1025, "en")).toBe("10.25 %");
    expect(vatLabel(0, "de")).toBe("0 %");
  });

  it("reads stock counts and PINs", () => {
    expect(parseCount("12")).toBe(12);
    expect(parseCount(" 0 ")).toBe(0);
    expect(parseCount("-1")).toBeNull();
    expect(parseCount("1,5")).toBeNull();
    expect(parseCount("")).toBeNull();
    expect(pinOk("1234")).toBe(true);
    expect(pinOk("12345678")).toBe(true);
    expect(pinOk("123")).toBe(false);
    expect(pinOk("123456789")).toBe(false);
    expect(pinOk("12a4")).toBe(false);
  });
});

describe("fillHours", () => {
  const h = 3_600_000;
  const t0 = Date.UTC(2025, 5, 24, 12);
  it("fills the empty hours between bars with zero", () => {
    const bars = [
      { start_ms: t0 + 3 * h, count: 1, amount_cents: 300 },
      { start_ms: t0, count: 2, amount_cents: 500 },
    ];
    expect(fillHours(bars)).toEqual([
      { start_ms: t0, count: 2, amount_cents: 500 },
      { start_ms: t0 + h, count: 0, amount_cents: 0 },
      { start_ms: t0 + 2 * h, count: 0, amount_cents: 0 },
      { start_ms: t0 + 3 * h, count: 1, amount_cents: 300 },
    ]);
  });

  it("leaves short and very long runs alone", () => {
    expect(fillHours([])).toEqual([]);
    const one = [{ start_ms: t0, count: 1, amount_cents: 1 }];
    expect(fillHours(one)).toEqual(one);
    const far = [one[0], { start_ms: t0 + 1000 * h, count: 1, amount_cents: 1 }];
    expect(fillHours(far)).toEqual(far);
  });
});

describe("the pass form", () => {
  const form = {
    count: 10,
    title: "Freigetränk",
    kind: "voucher",
    amount_cents: 500,
    percent: 10,
    allowance_count: 3,
    products: [] as string[],
    valid_from_ms: null as number | null,
    valid_until_ms: null as number | null,
  };
  it("lets a sensible batch go and names what is wrong", () => {
    expect(passFormProblem(form)).toBe(null);
    expect(passFormProblem({ ...form, count: 0 })).toBe("count");
    expect(passFormProblem({ ...form, title: " " })).toBe("title");
    expect(passFormProblem({ ...form, amount_cents: 0 })).toBe("amount");
    expect(passFormProblem({ ...form, kind: "percent_off", percent: 101 })).toBe("percent");
    expect(passFormProblem({ ...form, kind: "allowance" })).toBe("products");
    expect(passFormProblem({ ...form, kind: "allowance", products: ["beer"] })).toBe(null);
    expect(passFormProblem({ ...form, valid_from_ms: 10, valid_until_ms: 5 })).toBe("window");
  });
});

describe("payout runs", () => {
  it("offers the file before done, and revoking until done", () => {
    expect(runActions("pending", 3)).toEqual({ file: true, done: false, revoke: true });
    expect(runActions("exported", 3)).toEqual({ file: true, done: true, revoke: true });
    expect(runActions("pending", 0)).toEqual({ file: false, done: true, revoke: true });
    expect(runActions("done", 3)).toEqual({ file: false, done: false, revoke: false });
    expect(runActions("revoked", 3)).toEqual({ file: false, done: false, revoke: false });
  });

  it("reads the execution date or leaves it to the server", () => {
    expect(executionDate("")).toBeNull();
    expect(executionDate(" 2026-12-08 ")).toBe("2026-12-08");
    expect(executionDate("8.12.2026")).toBeUndefined();
  });
});

describe("loadWhileSessionOpens", () => {
  it("asks again while the server cannot be reached, then stops", async () => {
    vi.useFakeTimers();
    let calls = 0;
    let reachable = false;
    loadWhileSessionOpens(async () => {
      calls += 1;
    }, () => !reachable, 3);
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(700);
    expect(calls).toBe(2);
    reachable = true;
    await vi.advanceTimersByTimeAsync(700);
    expect(calls).toBe(3);
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls).toBe(3);
    vi.useRealTimers();
  });

  it("gives up after its tries", async () => {
    vi.useFakeTimers();
    let calls = 0;
    loadWhileSessionOpens(async () => {
      calls += 1;
    }, () => true, 2);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toBe(3);
    vi.useRealTimers();
  });
});
