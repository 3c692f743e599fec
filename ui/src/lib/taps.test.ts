import { describe, expect, it } from "vitest";
import { deliverTap, receiveTaps } from "./taps";

const tap = { token: "04D30000000001", token_masked: "••••0001", at_micros: 0 };

describe("taps", () => {
  it("go to the screen that registered last, and nowhere after it leaves", () => {
    const got: string[] = [];
    const stopA = receiveTaps(() => got.push("a"));
    const stopB = receiveTaps(() => got.push("b"));
    expect(deliverTap(tap)).toBe(true);
    stopA(); // a stale cleanup must not unregister b
    expect(deliverTap(tap)).toBe(true);
    stopB();
    expect(deliverTap(tap)).toBe(false);
    expect(got).toEqual(["b", "b"]);
  });
});
