import { describe, expect, it } from "vitest";
import { add, count, MAX_QUANTITY, quantityOf } from "./cart";

describe("cart", () => {
  it("adds and counts units per product", () => {
    let cart = add([], "beer");
    cart = add(cart, "beer");
    cart = add(cart, "cola");
    expect(quantityOf(cart, "beer")).toBe(2);
    expect(quantityOf(cart, "cola")).toBe(1);
    expect(count(cart)).toBe(3);
    expect(cart.map((i) => i.product)).toEqual(["beer", "cola"]);
  });

  it("removes a product when its quantity reaches zero", () => {
    let cart = add([], "beer");
    cart = add(cart, "beer", -1);
    expect(cart).toEqual([]);
    expect(add([], "beer", -1)).toEqual([]);
  });

  it("caps quantities", () => {
    const cart = add([], "beer", 5000);
    expect(quantityOf(cart, "beer")).toBe(MAX_QUANTITY);
  });
});
