// Logic of the stock screen and the sell screen's low-stock banner that
// needs no window: quantities (exact thousandths of a unit, never a
// float, shown with the language's decimal separator), commission in
// percent ⇄ basis points, rows grouped by bar, and the forms' checks.

import type {
  CountForm,
  ExportFormat,
  InventoryItemForm,
  InventoryItemView,
  Language,
  MovementForm,
  StockLocation,
  StockRowView,
  StockView,
  StockWarning,
  VendorForm,
  VendorView,
} from "./bindings";
import { localDateStamp } from "./localTime";
import { formatMoneyInput, parseMoney } from "./moneyInput";

/** Thousandths per unit, as the ledger counts quantities. */
export const SCALE = 1000;

export type MovementKind = "delivery" | "transfer" | "waste" | "correction";
export const MOVEMENT_KINDS: MovementKind[] = ["delivery", "transfer", "waste", "correction"];

/**
 * A quantity as typed ("30", "0,5", "12.25") or as Rust shows it ("12.5",
 * "-2") → thousandths of the unit. At most three decimals, like the
 * ledger; a sign only when `signed`. `null` for anything else.
 */
export function parseQuantity(text: string, signed = false): number | null {
  const m = /^(-)?(\d{1,12})(?:[.,](\d{1,3}))?$/.exec(text.trim());
  if (!m) return null;
  if (m[1] && !signed) return null;
  const value = Number.parseInt(m[2], 10) * SCALE + Number.parseInt((m[3] ?? "").padEnd(3, "0"), 10);
  return m[1] && value !== 0 ? -value : value;
}

/**
 * Thousandths as the language writes them, with as few decimals as the
 * value needs: 12500 → "12,5" (de) / "12.5" (en). `plus`: "+" before a
 * positive value (a difference).
 */
export function formatThousandths(value: number, language: Language, plus = false): string {
  const sign = value < 0 ? "-" : plus && value > 0 ? "+" : "";
  const magnitude = Math.abs(Math.trunc(value));
  const whole = Math.floor(magnitude / SCALE);
  const fraction = String(magnitude % SCALE).padStart(3, "0").replace(/0+$/, "");
  return fraction ? `${sign}${whole}${language === "de" ? "," : "."}${fraction}` : `${sign}${whole}`;
}

/** A quantity Rust sends ("12.5") with the language's separator ("12,5"); unreadable ones as they are. */
export function quantityText(shown: string, language: Language): string {
  const value = parseQuantity(shown, true);
  return value === null ? shown : formatThousandths(value, language);
}

/**
 * A commission typed in percent ("15", "12,5", "7.25 %") → basis points
 * (1500, 1250, 725): 0 to 100 %, at most two decimals; `null` otherwise.
 */
export function percentToBasisPoints(text: string): number | null {
  const m = /^(\d{1,3})(?:[.,](\d{1,2}))?$/.exec(text.trim().replace(/\s*%$/, ""));
  if (!m) return null;
  const bp = Number.parseInt(m[1], 10) * 100 + Number.parseInt((m[2] ?? "").padEnd(2, "0"), 10);
  return bp <= 10_000 ? bp : null;
}

/** Basis points as a percent to type back: 1500 → "15", 1250 → "12,5" (de) / "12.5" (en). */
export function basisPointsToPercent(basisPoints: number, language: Language): string {
  const bp = Math.abs(Math.trunc(basisPoints));
  const whole = Math.floor(bp / 100);
  const fraction = String(bp % 100).padStart(2, "0").replace(/0+$/, "");
  const sign = basisPoints < 0 ? "-" : "";
  return fraction ? `${sign}${whole}${language === "de" ? "," : "."}${fraction}` : `${sign}${whole}`;
}

export type LocationGroup = { location_id: string; location_name: string; rows: StockRowView[] };

/**
 * The stock rows by bar: the bars in the order given (also those without
 * rows), then bars only the rows name, in the order first seen. Rows keep
 * their order within a bar.
 */
export function groupByLocation(rows: StockRowView[], locations: StockLocation[]): LocationGroup[] {
  const groups = new Map<string, LocationGroup>();
  for (const location of locations) {
    if (!groups.has(location.id)) groups.set(location.id, { location_id: location.id, location_name: location.name, rows: [] });
  }
  for (const row of rows) {
    let group = groups.get(row.location_id);
    if (!group) {
      group = { location_id: row.location_id, location_name: row.location_name, rows: [] };
      groups.set(row.location_id, group);
    }
    group.rows.push(row);
  }
  return [...groups.values()];
}

/** What is on hand of an item at a bar, in thousandths; `null` when the view has no such row. */
export function onHandAt(view: StockView | null, item: string, location: string): number | null {
  const row = view?.rows.find((r) => r.item_id === item && r.location_id === location);
  return row ? parseQuantity(row.on_hand, true) : null;
}

/** How much a count changed a bar's stock: after − before, in thousandths; `null` if either is unknown. */
export function countDifference(before: StockView | null, after: StockView, item: string, location: string): number | null {
  const was = onHandAt(before, item, location);
  const is = onHandAt(after, item, location);
  return was === null || is === null ? null : is - was;
}

const soldOutKey = (location: string, product: string) => `${location}\u0000${product}`;

/** The (bar, product) pairs marked sold out, to look up. */
export function soldOutSet(view: StockView): { has: (location: string, product: string) => boolean } {
  const keys = new Set(view.sold_out.map((s) => soldOutKey(s.location_id, s.product_id)));
  return { has: (location, product) => keys.has(soldOutKey(location, product)) };
}

/** The badge class of a stock level. */
export function levelClass(level: string): "good" | "warn" | "bad" {
  return level === "out" ? "bad" : level === "low" ? "warn" : "good";
}

/** The words the banner needs, in the language (from `texts`). */
export type WarningWords = { stock_low_banner: string; stock_out_word: string };

/** One warning in words: "Bierfass 12,5 l" (low) or "Becher leer" (out). */
export function warningText(warning: StockWarning, words: WarningWords, language: Language): string {
  if (warning.level === "out") return `${warning.name} ${words.stock_out_word}`;
  const unit = warning.unit.trim();
  return `${warning.name} ${quantityText(warning.on_hand, language)}${unit ? ` ${unit}` : ""}`;
}

/** The whole banner: "Wenig Bestand: Bierfass 12,5 l · Becher leer"; "" when nothing is low. */
export function warningsText(warnings: StockWarning[], words: WarningWords, language: Language): string {
  if (warnings.length === 0) return "";
  return `${words.stock_low_banner}: ${warnings.map((w) => warningText(w, words, language)).join(" · ")}`;
}

export type MovementProblem = "item" | "location" | "to" | "quantity";

/**
 * What a movement needs before it is sent (Rust and the server check it
 * again): an item and a bar, for a transfer another bar to go to, and a
 * quantity above 0 (a correction: any sign, not 0).
 */
export function movementProblem(form: MovementForm): MovementProblem | null {
  if (!form.item_id) return "item";
  if (!form.location_id) return "location";
  if (form.kind === "transfer" && (!form.to_location_id || form.to_location_id === form.location_id)) return "to";
  const quantity = parseQuantity(form.quantity, form.kind === "correction");
  if (quantity === null || quantity === 0) return "quantity";
  return null;
}

export type CountProblem = "item" | "location" | "counted";

/** A count needs an item, a bar and what was counted (0 or more). */
export function countProblem(form: CountForm): CountProblem | null {
  if (!form.item_id) return "item";
  if (!form.location_id) return "location";
  if (parseQuantity(form.counted) === null) return "counted";
  return null;
}

/** An optional note: `null` when empty. */
export function noteOf(text: string): string | null {
  const note = text.trim();
  return note ? note : null;
}

export const MAX_ITEM_NAME = 80;
export const MAX_UNIT = 16;

export type ItemDraft = { id: string | null; name: string; unit: string; low_stock: string };
export type ItemProblem = "name" | "unit" | "low_stock";

export function itemDraftOf(item: InventoryItemView, language: Language): ItemDraft {
  return { id: item.id, name: item.name, unit: item.unit, low_stock: quantityText(item.low_stock, language) };
}

export function newItemDraft(): ItemDraft {
  return { id: null, name: "", unit: "", low_stock: "0" };
}

/** The inventory item to save, or the first problem. */
export function itemFormOf(draft: ItemDraft): { form: InventoryItemForm } | { problem: ItemProblem } {
  const name = draft.name.trim();
  if (!name || [...name].length > MAX_ITEM_NAME) return { problem: "name" };
  const unit = draft.unit.trim();
  if (!unit || [...unit].length > MAX_UNIT) return { problem: "unit" };
  if (parseQuantity(draft.low_stock) === null) return { problem: "low_stock" };
  return { form: { id: draft.id, name, unit, low_stock: draft.low_stock.trim() } };
}

export const MAX_VENDOR_NAME = 80;

export type VendorDraft = { id: string | null; name: string; commission: string; fixed_fee: string; locations: string[] };
export type VendorProblem = "name" | "commission" | "fixed_fee";

export function vendorDraftOf(vendor: VendorView, language: Language): VendorDraft {
  return {
    id: vendor.id,
    name: vendor.name,
    commission: basisPointsToPercent(vendor.commission_bp, language),
    fixed_fee: formatMoneyInput(vendor.fixed_fee_cents, language),
    locations: [...vendor.locations],
  };
}

export function newVendorDraft(): VendorDraft {
  return { id: null, name: "", commission: "0", fixed_fee: "", locations: [] };
}

/** The vendor to save, or the first problem. An empty fee is none. */
export function vendorFormOf(draft: VendorDraft): { form: VendorForm } | { problem: VendorProblem } {
  const name = draft.name.trim();
  if (!name || [...name].length > MAX_VENDOR_NAME) return { problem: "name" };
  const commission = percentToBasisPoints(draft.commission);
  if (commission === null) return { problem: "commission" };
  const fee = draft.fixed_fee.trim() ? parseMoney(draft.fixed_fee) : 0;
  if (fee === null) return { problem: "fixed_fee" };
  return { form: { id: draft.id, name, commission_bp: commission, fixed_fee_cents: fee, locations: [...new Set(draft.locations)] } };
}

/** The save dialog's file name for a vendor's settlement. */
export function settlementFileName(vendorName: string, format: ExportFormat, now: number): string {
  const safe = vendorName.replace(/[^\p{L}\p{N}-]+/gu, "-").replace(/^-+|-+$/g, "").slice(0, 40) || "vendor";
  return `tapster-settlement-${safe}-${localDateStamp(now)}.${format}`;
}
