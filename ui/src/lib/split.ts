// The split screen's arithmetic: which notes a guest is likely to hand
// over for the rest, and what a cancelled bill gives back how.

import type { BillPaymentView } from "./bindings";

const NOTES = [500, 1000, 2000, 5000, 10000];

/**
 * Quick cash buttons for `rest` cents: the next notes above it (5 to
 * 100 €), at most three. A note of exactly the rest is the "exact" button.
 */
export function cashNotes(rest: number): number[] {
  return NOTES.filter((note) => note > rest).slice(0, 3);
}

/** What the guests get back when a bill is cancelled, by tender. */
export function givenBack(payments: BillPaymentView[]): { wallet: number; cash: number; card: number } {
  const back = { wallet: 0, cash: 0, card: 0 };
  for (const payment of payments) {
    if (!payment.cancelled) back[payment.tender] += payment.amount_cents;
  }
  return back;
}
