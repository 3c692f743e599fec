// The Audit tab's words: what each audited action is called, and an
// action's figures (`{"price":[450,500]}`) as a line people read.

import type { Language } from "./bindings";
import { money } from "./i18n";

/** Every action the server audits (crates/api/src/audit.rs, checked by a Rust test). */
export const AUDIT_ACTIONS = [
  "settings_changed",
  "category_saved",
  "category_removed",
  "categories_reordered",
  "product_created",
  "product_changed",
  "product_archived",
  "product_restored",
  "terminal_created",
  "terminal_changed",
  "terminal_archived",
  "terminal_restored",
  "terminal_token_rolled",
  "staff_created",
  "staff_changed",
  "wallet_paired",
  "wallet_blocked",
  "wallet_unblocked",
  "balance_moved",
  "payout",
  "cancellation",
  "correction",
  "shift_closed",
  "fiscal_device_changed",
  "payout_settings_changed",
  "payout_run_created",
  "payout_run_finished",
  "payout_run_revoked",
  "unclaimed_settled",
  "band_keys_rotated",
  "integration_created",
  "integration_revoked",
  "passes_created",
  "passes_imported",
  "pass_blocked",
  "pass_unblocked",
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

const names: Record<Language, Record<AuditAction, string>> = {
  de: {
    settings_changed: "Einstellungen geändert",
    category_saved: "Kategorie gespeichert",
    category_removed: "Kategorie entfernt",
    categories_reordered: "Kategorien umsortiert",
    product_created: "Produkt angelegt",
    product_changed: "Produkt geändert",
    product_archived: "Produkt archiviert",
    product_restored: "Produkt wiederhergestellt",
    terminal_created: "Kasse angelegt",
    terminal_changed: "Kasse geändert",
    terminal_archived: "Kasse stillgelegt",
    terminal_restored: "Kasse wieder aktiv",
    terminal_token_rolled: "Kassen-Token erneuert",
    staff_created: "Personal angelegt",
    staff_changed: "Personal geändert",
    wallet_paired: "Armband angelegt",
    wallet_blocked: "Armband gesperrt",
    wallet_unblocked: "Armband entsperrt",
    balance_moved: "Guthaben umgebucht",
    payout: "Auszahlung",
    cancellation: "Storno",
    correction: "Korrekturbuchung",
    shift_closed: "Schicht abgeschlossen",
    fiscal_device_changed: "TSE geändert",
    payout_settings_changed: "Auszahlungsregeln geändert",
    payout_run_created: "Auszahlungslauf erstellt",
    payout_run_finished: "Auszahlungslauf gebucht",
    payout_run_revoked: "Auszahlungslauf zurückgenommen",
    unclaimed_settled: "Nicht abgeholtes Guthaben gebucht",
    band_keys_rotated: "Armband-Schlüssel gewechselt",
    integration_created: "Schnittstelle freigegeben",
    integration_revoked: "Schnittstelle gesperrt",
    passes_created: "Pässe erstellt",
    passes_imported: "Pässe importiert",
    pass_blocked: "Pass gesperrt",
    pass_unblocked: "Pass entsperrt",
  },
  en: {
    settings_changed: "Settings changed",
    category_saved: "Category saved",
    category_removed: "Category removed",
    categories_reordered: "Categories reordered",
    product_created: "Product created",
    product_changed: "Product changed",
    product_archived: "Product archived",
    product_restored: "Product restored",
    terminal_created: "Till created",
    terminal_changed: "Till changed",
    terminal_archived: "Till retired",
    terminal_restored: "Till back in use",
    terminal_token_rolled: "Till token renewed",
    staff_created: "Staff member created",
    staff_changed: "Staff member changed",
    wallet_paired: "Wristband paired",
    wallet_blocked: "Wristband blocked",
    wallet_unblocked: "Wristband unblocked",
    balance_moved: "Balance moved",
    payout: "Payout",
    cancellation: "Cancellation",
    correction: "Correction",
    shift_closed: "Shift closed",
    fiscal_device_changed: "TSE changed",
    payout_settings_changed: "Payout rules changed",
    payout_run_created: "Payout run made",
    payout_run_finished: "Payout run booked",
    payout_run_revoked: "Payout run called off",
    unclaimed_settled: "Unclaimed balances booked",
    band_keys_rotated: "Band keys rotated",
    integration_created: "Integration allowed",
    integration_revoked: "Integration revoked",
    passes_created: "Passes made",
    passes_imported: "Passes imported",
    pass_blocked: "Pass blocked",
    pass_unblocked: "Pass unblocked",
  },
};

export function actionText(action: string, language: Language): string {
  return (names[language] as Record<string, string>)[action] ?? action;
}

/** Fields that hold a list, never a `[before, after]` change. */
const LISTS = new Set(["order"]);

/** Fields that hold cents. */
const MONEY = /(^|_)(price|amount|balance|credit|cents|cash)$|^(max_wallet_balance|float|difference)$/;

function value(field: string, v: unknown, currency: string, language: Language): string {
  if (v === null || v === undefined) return "–";
  if (typeof v === "number" && MONEY.test(field)) return money(v, currency, language);
  if (typeof v === "boolean") return language === "de" ? (v ? "ja" : "nein") : v ? "yes" : "no";
  if (typeof v === "string") return v;
  if (Array.isArray(v) && v.every((item) => typeof item === "string")) return v.join(" › ");
  return JSON.stringify(v);
}

/**
 * An action's figures as one line: `price: 4,50 € → 5,00 €; name: Bier`.
 * A change (`[before, after]`) shows with an arrow; cents as money.
 */
export function detailText(detail: string, currency: string, language: Language): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(detail);
  } catch {
    return detail;
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return detail;
  return Object.entries(parsed as Record<string, unknown>)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([field, v]) => {
      if (Array.isArray(v) && v.length === 2 && !LISTS.has(field)) {
        return `${field}: ${value(field, v[0], currency, language)} → ${value(field, v[1], currency, language)}`;
      }
      return `${field}: ${value(field, v, currency, language)}`;
    })
    .join("; ");
}
