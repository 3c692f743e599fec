// The cart as the cashier builds it: products and quantities only. What it
// costs (deposits included) comes from the backend's pricing (`quote`).
// Cups the guest brings back are the cup with a negative quantity, an item
// of their own: selling a cup and taking cups back never mix.

import type { CartItem } from "./bindings";

export const MAX_QUANTITY = 999;

const sold = (product: string) => (item: CartItem) => item.product === product && item.quantity > 0;

export function add(cart: CartItem[], product: string, by = 1): CartItem[] {
  const found = cart.find(sold(product));
  if (!found) {
    return by > 0 ? [...cart, { product, quantity: Math.min(by, MAX_QUANTITY) }] : cart;
  }
  const quantity = Math.min(found.quantity + by, MAX_QUANTITY);
  if (quantity <= 0) {
    return cart.filter((item) => item !== found);
  }
  return cart.map((item) => (item === found ? { product, quantity } : item));
}

export function quantityOf(cart: CartItem[], product: string): number {
  return cart.find(sold(product))?.quantity ?? 0;
}

export function count(cart: CartItem[]): number {
  return cart.reduce((sum, item) => sum + item.quantity, 0);
}

/** How many cups (`cup`: the returnable cup's product id) the guest brings back. */
export function cupsBack(cart: CartItem[], cup: string): number {
  const back = cart.find((item) => item.product === cup && item.quantity < 0);
  return back ? -back.quantity : 0;
}

/** The cart with `n` cups brought back (0 takes them out). */
export function setCupsBack(cart: CartItem[], cup: string, n: number): CartItem[] {
  const cups = Math.min(Math.max(0, Math.floor(n)), MAX_QUANTITY);
  const index = cart.findIndex((item) => item.product === cup && item.quantity < 0);
  if (cups === 0) return index < 0 ? cart : cart.filter((_, i) => i !== index);
  const item = { product: cup, quantity: -cups };
  return index < 0 ? [...cart, item] : cart.map((old, i) => (i === index ? item : old));
}
