import { describe, expect, it } from "vitest";
import { AUDIT_ACTIONS, actionText, detailText } from "./audit";

describe("audit", () => {
  it("names every action in both languages", () => {
    for (const action of AUDIT_ACTIONS) {
      expect(actionText(action, "de")).not.toBe(action);
      expect(actionText(action, "en")).not.toBe(action);
    }
    expect(actionText("payout", "de")).toBe("Auszahlung");
    // An action from a newer server still shows, by its name.
    expect(actionText("something_new", "en")).toBe("something_new");
  });

  it("shows a change with an arrow and cents as money", () => {
    const line = detailText('{"price":[450,500],"name":["Bier","Bier 0,5 l"]}', "EUR", "de").replace(/\s/g, " ");
    expect(line).toBe("price: 4,50 € → 5,00 €; name: Bier → Bier 0,5 l");
    expect(detailText('{"amount":2600,"tender":"cash"}', "EUR", "en")).toBe("amount: €26.00; tender: cash");
    expect(detailText('{"max_wallet_balance":[25000,32100]}', "EUR", "en")).toBe("max_wallet_balance: €250.00 → €321.00");
  });

  it("shows a category order as a list, even of two", () => {
    expect(detailText('{"order":["wine","beer"]}', "EUR", "en")).toBe("order: wine › beer");
    expect(detailText('{"order":["a","b","c"]}', "EUR", "de")).toBe("order: a › b › c");
    expect(detailText('{"badge":[null,"••••E5F6"]}', "EUR", "de")).toBe("badge: – → ••••E5F6");
  });

  it("shows a shift's cash as money", () => {
    const line = detailText('{"cashier":"anna","counted_cash":9500,"difference":-500}', "EUR", "en");
    expect(line).toBe("cashier: anna; counted_cash: €95.00; difference: -€5.00");
  });

  it("leaves out empty fields and reads flags", () => {
    expect(detailText('{"reverses":null,"offline":true}', "EUR", "de")).toBe("offline: ja");
    expect(detailText("{}", "EUR", "en")).toBe("");
  });

  it("shows text it cannot read as it is", () => {
    expect(detailText("not json", "EUR", "en")).toBe("not json");
  });
});
