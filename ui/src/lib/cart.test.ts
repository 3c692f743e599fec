import { describe, expect, it } from "vitest";
import { add, count, cupsBack, MAX_QUANTITY, quantityOf, setCupsBack } from "./cart";

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

describe("cups brought back", () => {
  it("are the cup with a negative quantity", () => {
    let cart = add([], "beer");
    expect(cupsBack(cart, "cup")).toBe(0);
    cart = setCupsBack(cart, "cup", 2);
    expect(cart).toEqual([
      { product: "beer", quantity: 1 },
      { product: "cup", quantity: -2 },
    ]);
    expect(cupsBack(cart, "cup")).toBe(2);
    cart = setCupsBack(cart, "cup", cupsBack(cart, "cup") - 1);
    expect(cart).toEqual([
      { product: "beer", quantity: 1 },
      { product: "cup", quantity: -1 },
    ]);
  });

  it("leave the cart at zero and never go negative or past the cap", () => {
    const cart = setCupsBack([{ product: "beer", quantity: 1 }], "cup", 1);
    expect(setCupsBack(cart, "cup", 0)).toEqual([{ product: "beer", quantity: 1 }]);
    expect(setCupsBack(cart, "cup", -3)).toEqual([{ product: "beer", quantity: 1 }]);
    expect(setCupsBack([], "cup", 0)).toEqual([]);
    expect(cupsBack(setCupsBack([], "cup", 5000), "cup")).toBe(MAX_QUANTITY);
  });

  it("do not mix with cups sold", () => {
    let cart = setCupsBack([], "cup", 2);
    expect(quantityOf(cart, "cup")).toBe(0);
    cart = add(cart, "cup");
    expect(quantityOf(cart, "cup")).toBe(1);
    expect(cupsBack(cart, "cup")).toBe(2);
    cart = add(cart, "cup", -1);
    expect(cart).toEqual([{ product: "cup", quantity: -2 }]);
  });
});
