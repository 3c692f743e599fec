// Money typed by a person, to integer cents and back. Never through a
// float: the digits before and after the decimal separator are read as
// integers on their own.

import type { Language } from "./bindings";

/** The largest amount accepted, in whole units (a typo guard). */
const MAX_UNITS_DIGITS = 9;

function groupsOk(groups: string[]): boolean {
  // 1.234.567: the first group has 1 to 3 digits, the others exactly 3.
  return (
    /^\d{1,3}$/.test(groups[0]) && groups.slice(1).every((g) => /^\d{3}$/.test(g))
  );
}

/**
 * "3", "3,5", "3,50", "3.50", "1.234,50", "1,234.50", "1234" → cents.
 * `null` for anything else: empty, letters, a sign, more than two
 * decimals, badly grouped thousands. A lone separator is the decimal one,
 * so "1.234" (three decimals) is refused rather than read as 1234.
 */
export function parseMoney(text: string): number | null {
  const value = text.trim().replace(/[\s\u00a0\u202f]/g, "");
  if (!/^[\d.,]+$/.test(value)) return null;
  const commas = value.split(",").length - 1;
  const dots = value.split(".").length - 1;

  let units: string;
  let decimals = "";
  if (commas > 0 && dots > 0) {
    // Both: the last one is the decimal separator, the other groups.
    const decimalSep = value.lastIndexOf(",") > value.lastIndexOf(".") ? "," : ".";
    const groupSep = decimalSep === "," ? "." : ",";
    const at = value.lastIndexOf(decimalSep);
    if (value.split(decimalSep).length - 1 !== 1) return null;
    const whole = value.slice(0, at);
    decimals = value.slice(at + 1);
    const groups = whole.split(groupSep);
    if (!groupsOk(groups)) return null;
    units = groups.join("");
  } else if (commas + dots === 1) {
    const at = value.search(/[.,]/);
    units = value.slice(0, at);
    decimals = value.slice(at + 1);
  } else if (commas + dots > 1) {
    // Only one kind, several times: thousands separators, no decimals.
    const groups = value.split(commas > 0 ? "," : ".");
    if (!groupsOk(groups)) return null;
    units = groups.join("");
  } else {
    units = value;
  }

  if (!/^\d*$/.test(units) || !/^\d{0,2}$/.test(decimals)) return null;
  if (units === "" && decimals === "") return null;
  const digits = units.replace(/^0+(?=\d)/, "");
  if (digits.length > MAX_UNITS_DIGITS) return null;
  const whole = digits === "" ? 0 : Number.parseInt(digits, 10);
  const fraction = decimals === "" ? 0 : Number.parseInt(decimals.padEnd(2, "0"), 10);
  return whole * 100 + fraction;
}

/** Cents as they are typed back: "1234,50" (de) or "1234.50" (en), no grouping. */
export function formatMoneyInput(cents: number, language: Language): string {
  const sign = cents < 0 ? "-" : "";
  const abs = Math.abs(Math.trunc(cents));
  const units = Math.floor(abs / 100);
  const fraction = String(abs % 100).padStart(2, "0");
  return `${sign}${units}${language === "de" ? "," : "."}${fraction}`;
}
