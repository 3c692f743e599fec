import { describe, expect, it } from "vitest";
import { formatMoneyInput, parseMoney } from "./moneyInput";

describe("parseMoney", () => {
  it("reads whole amounts and decimals with comma or dot", () => {
    expect(parseMoney("3")).toBe(300);
    expect(parseMoney("3,5")).toBe(350);
    expect(parseMoney("3,50")).toBe(350);
    expect(parseMoney("3.50")).toBe(350);
    expect(parseMoney("3.05")).toBe(305);
    expect(parseMoney("0,01")).toBe(1);
    expect(parseMoney(",5")).toBe(50);
    expect(parseMoney("3,")).toBe(300);
    expect(parseMoney(" 12,90 ")).toBe(1290);
    expect(parseMoney("0")).toBe(0);
    expect(parseMoney("007")).toBe(700);
  });

  it("reads thousands separators in German and English style", () => {
    expect(parseMoney("1.234,50")).toBe(123450);
    expect(parseMoney("1,234.50")).toBe(123450);
    expect(parseMoney("1.234.567")).toBe(123456700);
    expect(parseMoney("1 234,50")).toBe(123450);
    expect(parseMoney("1234")).toBe(123400);
  });

  it("is exact where floats are not", () => {
    // 0.29 * 100 is 28.999999999999996 as a float.
    expect(parseMoney("0,29")).toBe(29);
    expect(parseMoney("1.005,10")).toBe(100510);
    expect(parseMoney("19,99")).toBe(1999);
  });

  it("refuses more than two decimals, letters, signs and nonsense", () => {
    for (const bad of [
      "",
      "  ",
      "3,505",
      "1.234", // a lone separator is decimal: three decimals
      "abc",
      "3€",
      "3,5a",
      "-3",
      "+3",
      "-0,50",
      "1e3",
      ",",
      ".",
      "1,2,3",
      "1.23.456",
      "12.34,56.78",
      "1.234,5,6",
      "12,34.567",
      "1234567890",
      "Infinity",
      "NaN",
    ]) {
      expect(parseMoney(bad), bad).toBeNull();
    }
  });
});

describe("formatMoneyInput", () => {
  it("writes cents back in the form parseMoney reads", () => {
    expect(formatMoneyInput(350, "de")).toBe("3,50");
    expect(formatMoneyInput(350, "en")).toBe("3.50");
    expect(formatMoneyInput(5, "de")).toBe("0,05");
    expect(formatMoneyInput(123450, "de")).toBe("1234,50");
    expect(formatMoneyInput(0, "en")).toBe("0.00");
    expect(formatMoneyInput(-250, "de")).toBe("-2,50");
  });

  it("round-trips", () => {
    for (const cents of [0, 1, 29, 99, 100, 1999, 123456, 987654321]) {
      expect(parseMoney(formatMoneyInput(cents, "de"))).toBe(cents);
      expect(parseMoney(formatMoneyInput(cents, "en"))).toBe(cents);
    }
  });
});
