// The cart as the cashier builds it: products and quantities only. What it
// costs (deposits included) comes from the backend's pricing (`quote`).

import type { CartItem } from "./bindings";

export const MAX_QUANTITY = 999;

export function add(cart: CartItem[], product: string, by = 1): CartItem[] {
  const found = cart.find((item) => item.product === product);
  if (!found) {
    return by > 0 ? [...cart, { product, quantity: Math.min(by, MAX_QUANTITY) }] : cart;
  }
  const quantity = Math.min(found.quantity + by, MAX_QUANTITY);
  if (quantity <= 0) {
    return cart.filter((item) => item.product !== product);
  }
  return cart.map((item) => (item.product === product ? { product, quantity } : item));
}

export function quantityOf(cart: CartItem[], product: string): number {
  return cart.find((item) => item.product === product)?.quantity ?? 0;
}

export function count(cart: CartItem[]): number {
  return cart.reduce((sum, item) => sum + item.quantity, 0);
}
