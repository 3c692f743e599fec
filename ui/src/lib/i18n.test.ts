import { describe, expect, it } from "vitest";
import { ago, centsFromDigits, connectivityText, errorText, fill, kindText, money, percent } from "./i18n";

describe("i18n", () => {
  it("formats money per language", () => {
    expect(money(123450, "EUR", "de").replace(/\s/g, " ")).toBe("1.234,50 €");
    expect(money(-450, "EUR", "en")).toBe("-€4.50");
  });

  it("formats shares given in basis points", () => {
    expect(percent(1000, "de").replace(/\s/g, " ")).toBe("10 %");
    expect(percent(1250, "en")).toBe("12.5%");
  });

  it("reads keypad digits as cents", () => {
    expect(centsFromDigits("")).toBe(0);
    expect(centsFromDigits("2500")).toBe(2500);
  });

  it("chooses error texts by code, not message", () => {
    const error = {
      code: "insufficient_funds" as const,
      message: "not enough balance: 3.00 missing",
      retryable: false,
      missing_cents: 300,
    };
    expect(errorText(error, "de")).toBe("Guthaben reicht nicht.");
    expect(errorText(error, "en")).toBe("Not enough balance.");
  });

  it("fills templates", () => {
    expect(fill("{name} has to close it, {name}!", { name: "Anna" })).toBe(
      "Anna has to close it, Anna!",
    );
  });
});

describe("ago", () => {
  it("says how long ago, in both languages", () => {
    const now = 1_750_000_000_000;
    expect(ago(now - 2_000, now, "de")).toBe("gerade eben");
    expect(ago(now - 42_000, now, "en")).toBe("42 s ago");
    expect(ago(now - 5 * 60_000, now, "de")).toBe("vor 5 min");
    expect(ago(now - 3 * 3_600_000, now, "en")).toBe("3 h ago");
    expect(ago(now - 2 * 86_400_000, now, "de")).toBe("vor 2 Tagen");
    expect(ago(now + 10_000, now, "en")).toBe("just now");
  });
});

describe("entry kinds and connectivity", () => {
  it("names known kinds per language and passes unknown ones through", () => {
    expect(kindText("top_up", "de")).toBe("Aufladung");
    expect(kindText("top_up", "en")).not.toBe("Aufladung");
    expect(kindText("something_new", "en")).toBe("something_new");
  });
  it("marks the connections that need attention", () => {
    expect(connectivityText("online", "de").bad).toBe(false);
    expect(connectivityText("offline", "en").bad).toBe(true);
    expect(connectivityText("auth_failed", "de").bad).toBe(true);
  });
});
