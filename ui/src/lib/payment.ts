// One idempotency key per attempt at an operation: a retry of the very same
// request (after an error marked retryable) reuses it, anything that
// differs — another wristband, tender, amount or cart — gets a new one.

import { newKey } from "./backend";

export class KeyKeeper {
  private key: string | null = null;
  private fingerprint: string | null = null;
  private readonly make: () => string;

  constructor(make: () => string = newKey) {
    this.make = make;
  }

  /** The key for a request described by `fingerprint`. */
  keyFor(fingerprint: string): string {
    if (this.key === null || this.fingerprint !== fingerprint) {
      this.key = this.make();
      this.fingerprint = fingerprint;
    }
    return this.key;
  }

  /** After an answer: keep the key only when the same request may be retried. */
  settle(retryable: boolean): void {
    if (!retryable) this.forget();
  }

  forget(): void {
    this.key = null;
    this.fingerprint = null;
  }
}

export function fingerprint(...parts: unknown[]): string {
  return JSON.stringify(parts);
}
