import { describe, expect, it } from "vitest";
import type { BillPaymentView } from "./bindings";
import { cashNotes, givenBack } from "./split";

describe("cash notes for the rest", () => {
  it("are the next notes above it, at most three", () => {
    expect(cashNotes(730)).toEqual([1000, 2000, 5000]);
    expect(cashNotes(120)).toEqual([500, 1000, 2000]);
    expect(cashNotes(2350)).toEqual([5000, 10000]);
    expect(cashNotes(7000)).toEqual([10000]);
  });

  it("leave out a note of exactly the rest (that is the exact button) and stop at 100 €", () => {
    expect(cashNotes(1000)).toEqual([2000, 5000, 10000]);
    expect(cashNotes(10000)).toEqual([]);
    expect(cashNotes(12345)).toEqual([]);
  });
});

describe("a cancelled bill", () => {
  const payment = (tender: BillPaymentView["tender"], amount_cents: number, cancelled = false): BillPaymentView => ({
    tender,
    token_masked: tender === "wallet" ? "••••0001" : null,
    amount_cents,
    tendered_cents: null,
    change_cents: 0,
    reference: null,
    offline: false,
    cancelled,
  });

  it("gives back what each tender paid, not what was already given back", () => {
    const back = givenBack([
      payment("wallet", 500),
      payment("cash", 1000),
      payment("cash", 250),
      payment("card", 700),
      payment("wallet", 300, true),
    ]);
    expect(back).toEqual({ wallet: 500, cash: 1250, card: 700 });
    expect(givenBack([])).toEqual({ wallet: 0, cash: 0, card: 0 });
  });
});
