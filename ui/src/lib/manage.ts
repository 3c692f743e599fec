// Logic of the manager screens that needs no window: which tabs a role
// sees, report periods, one query at a time.

import type { Role } from "./bindings";
import { fromLocalInput, startOfLocalDay } from "./localTime";

export type ManageTab = "reports" | "catalogue" | "stock" | "staff" | "wallets" | "terminals" | "sync" | "passes" | "bands" | "payouts" | "fiscal" | "audit" | "settings";

const ALL_TABS: ManageTab[] = ["reports", "catalogue", "stock", "staff", "wallets", "terminals", "sync", "passes", "bands", "payouts", "fiscal", "audit", "settings"];
// A supervisor (bar lead) books stock at the bars too.
const SUPERVISOR_TABS: ManageTab[] = ["reports", "stock", "wallets", "terminals", "sync"];

/** The manager area's tabs for a role (Rust checks every command as well). */
export function tabsFor(role: Role): ManageTab[] {
  if (role === "manager") return ALL_TABS;
  if (role === "supervisor") return SUPERVISOR_TABS;
  return [];
}

/**
 * Loads a tab that needs the server's staff session. Right after a PIN
 * login that session is still being opened in the background, so while
 * `unreachable()` says the server could not be asked, it asks again up to
 * `tries` times, 700 ms apart, before the error stays on screen.
 */
export function loadWhileSessionOpens(load: () => Promise<void>, unreachable: () => boolean, tries = 6): void {
  let left = tries;
  const attempt = async () => {
    await load();
    if (unreachable() && left-- > 0) setTimeout(attempt, 700);
  };
  void attempt();
}

export function canManage(role: Role | null | undefined): boolean {
  return role === "supervisor" || role === "manager";
}

export type Period = "today" | "hour" | "event" | "custom";

export type Range = { from_ms: number | null; until_ms: number | null };

/**
 * The range a period stands for at `now`. For "custom", the two
 * `datetime-local` values (empty: open end); `null` when one is not a
 * date or the range is empty.
 */
export function periodRange(period: Period, now: number, customFrom = "", customUntil = ""): Range | null {
  switch (period) {
    case "today":
      return { from_ms: startOfLocalDay(now), until_ms: null };
    case "hour":
      return { from_ms: now - 3_600_000, until_ms: null };
    case "event":
      return { from_ms: null, until_ms: null };
    case "custom": {
      const from = customFrom.trim() ? fromLocalInput(customFrom) : null;
      const until = customUntil.trim() ? fromLocalInput(customUntil) : null;
      if ((customFrom.trim() && from === null) || (customUntil.trim() && until === null)) return null;
      if (from !== null && until !== null && from >= until) return null;
      return { from_ms: from, until_ms: until };
    }
  }
}

/**
 * Wraps `run` so that it never runs twice at once: a call while it runs
 * asks for one more run after it (however many calls came in meanwhile),
 * which then sees the newest filters. `run` reports its own errors.
 */
export function singleFlight(run: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | null = null;
  let again = false;
  return () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          try {
            await run();
          } catch {
            // `run` shows its own errors; the loop must go on.
          }
        } while (again);
      } finally {
        running = null;
      }
    })();
    return running;
  };
}

const HOUR = 3_600_000;

/**
 * Hour bars with the empty hours between them filled in (zero), so that
 * the chart's time axis has no jumps. Past `maxBars` it is left as it is.
 */
export function fillHours<T extends { start_ms: number; count: number; amount_cents: number }>(
  bars: T[],
  maxBars = 24 * 7,
): { start_ms: number; count: number; amount_cents: number }[] {
  const sorted = [...bars].sort((a, b) => a.start_ms - b.start_ms);
  if (sorted.length < 2) return sorted;
  const first = sorted[0].start_ms;
  const last = sorted[sorted.length - 1].start_ms;
  if ((last - first) / HOUR + 1 > maxBars) return sorted;
  const out: { start_ms: number; count: number; amount_cents: number }[] = [];
  let next = 0;
  for (let slot = first; slot <= last; slot += HOUR) {
    const before = out.length;
    while (next < sorted.length && sorted[next].start_ms < slot + HOUR) {
      const bar = sorted[next++];
      out.push({ start_ms: bar.start_ms, count: bar.count, amount_cents: bar.amount_cents });
    }
    if (out.length === before) out.push({ start_ms: slot, count: 0, amount_cents: 0 });
  }
  return out;
}

/** "#RRGGBB" for an `<input type=color>`, from whatever the catalogue holds. */
export function colourForInput(value: string | null | undefined, fallback: string): string {
  const v = (value ?? "").trim();
  if (/^#[0-9a-fA-F]{6}$/.test(v)) return v.toLowerCase();
  const short = /^#([0-9a-fA-F])([0-9a-fA-F])([0-9a-fA-F])$/.exec(v);
  if (short) return `#${short[1]}${short[1]}${short[2]}${short[2]}${short[3]}${short[3]}`.toLowerCase();
  return fallback;
}

/** VAT in basis points as shown: 1900 → "19 %", 750 → "7,5 %" (de). */
export function vatLabel(basisPoints: number, language: "de" | "en"): string {
  const whole = Math.trunc(basisPoints / 100);
  const rest = Math.abs(basisPoints % 100);
  if (rest === 0) return `${whole} %`;
  const decimals = String(rest).padStart(2, "0").replace(/0$/, "");
  return `${whole}${language === "de" ? "," : "."}${decimals} %`;
}

/** A stock count typed (a whole number, not negative); `null` if it is not one. */
export function parseCount(text: string): number | null {
  const v = text.trim();
  if (!/^\d{1,9}$/.test(v)) return null;
  return Number.parseInt(v, 10);
}

/** A PIN as the ledger takes it: 4 to 8 digits. */
export function pinOk(pin: string): boolean {
  return /^\d{4,8}$/.test(pin);
}

/**
 * What the pass form needs before it is sent (Rust checks it again):
 * `null` when it may go, else the field that is wrong.
 */
export function passFormProblem(form: {
  count: number;
  title: string;
  kind: string;
  amount_cents: number;
  percent: number;
  allowance_count: number;
  products: string[];
  valid_from_ms: number | null;
  valid_until_ms: number | null;
}): "count" | "title" | "amount" | "percent" | "allowance" | "products" | "window" | null {
  if (!Number.isInteger(form.count) || form.count < 1 || form.count > 10_000) return "count";
  if (form.title.trim() === "") return "title";
  if ((form.kind === "voucher" || form.kind === "amount_off") && !(form.amount_cents > 0)) return "amount";
  if (form.kind === "percent_off" && !(form.percent >= 1 && form.percent <= 100)) return "percent";
  if (form.kind === "allowance" && !(form.allowance_count >= 1 && form.allowance_count <= 100)) return "allowance";
  if ((form.kind === "allowance" || form.kind === "free_product") && form.products.length === 0) return "products";
  if (form.valid_from_ms !== null && form.valid_until_ms !== null && form.valid_until_ms <= form.valid_from_ms)
    return "window";
  return null;
}

/**
 * A payout run's next steps: a pending run's SEPA file goes to the bank
 * (which makes it exported), an exported run is marked done once the bank
 * has paid; a run of donations only has no file and is done at once.
 * Both may be revoked until they are done.
 */
export function runActions(state: string, transfers: number): { file: boolean; done: boolean; revoke: boolean } {
  const open = state === "pending" || state === "exported";
  return {
    file: open && transfers > 0,
    done: state === "exported" || (state === "pending" && transfers === 0),
    revoke: open,
  };
}

/** "2026-12-08" as typed in a date input, or null when empty; undefined when not a date. */
export function executionDate(text: string): string | null | undefined {
  const value = text.trim();
  if (value === "") return null;
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? value : undefined;
}
