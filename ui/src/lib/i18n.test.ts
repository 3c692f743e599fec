import { describe, expect, it } from "vitest";
import { centsFromDigits, errorText, fill, money } from "./i18n";

describe("i18n", () => {
  it("formats money per language", () => {
    expect(money(123450, "EUR", "de").replace(/\s/g, " ")).toBe("1.234,50 €");
    expect(money(-450, "EUR", "en")).toBe("-€4.50");
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
