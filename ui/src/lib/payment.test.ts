import { describe, expect, it } from "vitest";
import { fingerprint, KeyKeeper } from "./payment";

function keeper() {
  let n = 0;
  return new KeyKeeper(() => `key-${++n}`);
}

describe("idempotency keys", () => {
  it("are reused for a retry of the same request after a retryable error", () => {
    const keys = keeper();
    const request = fingerprint([{ product: "beer", quantity: 2 }], "wallet", "04D3");
    const first = keys.keyFor(request);
    keys.settle(true);
    expect(keys.keyFor(request)).toBe(first);
  });

  it("are new when the request differs (another wristband, tender or cart)", () => {
    const keys = keeper();
    const first = keys.keyFor(fingerprint(["beer"], "wallet", "A"));
    keys.settle(true);
    expect(keys.keyFor(fingerprint(["beer"], "wallet", "B"))).not.toBe(first);
    expect(keys.keyFor(fingerprint(["beer"], "cash", null))).not.toBe(first);
  });

  it("are new after a final answer, even for the same request", () => {
    const keys = keeper();
    const request = fingerprint(["beer"], "wallet", "A");
    const first = keys.keyFor(request);
    keys.settle(false);
    expect(keys.keyFor(request)).not.toBe(first);
  });
});
