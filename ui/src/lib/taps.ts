// Who gets the next wristband tap: the screen on display registers itself.

import type { Tap } from "./bindings";

let handler: ((tap: Tap) => void) | null = null;

/** Makes `next` the receiver of taps; returns the function that undoes it. */
export function receiveTaps(next: (tap: Tap) => void): () => void {
  handler = next;
  return () => {
    if (handler === next) handler = null;
  };
}

export function deliverTap(tap: Tap): boolean {
  if (!handler) return false;
  handler(tap);
  return true;
}
