// A product as the catalogue form edits it: text where a person types,
// checked and turned into the ProductForm Rust takes.

import type { CatalogueAdmin, Language, ProductForm } from "./bindings";
import { fromLocalInput, toLocalInput } from "./localTime";
import { colourForInput, parseCount } from "./manage";
import { formatMoneyInput, parseMoney } from "./moneyInput";

export const MAX_NAME_LEN = 80;

export type ProductDraft = {
  id: string | null;
  name: string;
  subtitle: string;
  category: string;
  price: string;
  vat_basis_points: number;
  background: string;
  text_colour: string;
  sale_price: string;
  on_sale: boolean;
  use_stock: boolean;
  stock: string;
  available_from: string;
  available_until: string;
  /** "" for none. */
  deposit_product: string;
  returnable: boolean;
  archived: boolean;
};

/** What is wrong with a draft, one field at a time. */
export type DraftProblem = "name" | "category" | "price" | "sale_price" | "stock" | "availability";

export const DEFAULT_BACKGROUND = "#3A6EA5";
export const DEFAULT_TEXT = "#ffffff";

export function draftOf(form: ProductForm, language: Language): ProductDraft {
  return {
    id: form.id,
    name: form.name,
    subtitle: form.subtitle ?? "",
    category: form.category,
    price: formatMoneyInput(form.price_cents, language),
    vat_basis_points: form.vat_basis_points,
    background: colourForInput(form.background, DEFAULT_BACKGROUND),
    text_colour: colourForInput(form.text_colour, DEFAULT_TEXT),
    sale_price: form.sale_price_cents === null ? "" : formatMoneyInput(form.sale_price_cents, language),
    on_sale: form.on_sale,
    use_stock: form.use_stock,
    stock: String(form.stock),
    available_from: form.available_from_ms === null ? "" : toLocalInput(form.available_from_ms),
    available_until: form.available_until_ms === null ? "" : toLocalInput(form.available_until_ms),
    deposit_product: form.deposit_product ?? "",
    returnable: form.returnable,
    archived: form.archived,
  };
}

/** A new product: the first category, the usual VAT rate, dark grey. */
export function newDraft(admin: CatalogueAdmin): ProductDraft {
  const rates = admin.vat_rates;
  return {
    id: null,
    name: "",
    subtitle: "",
    category: admin.categories[0]?.id ?? "",
    price: "",
    vat_basis_points: rates.includes(1900) ? 1900 : (rates[0] ?? 1900),
    background: DEFAULT_BACKGROUND,
    text_colour: DEFAULT_TEXT,
    sale_price: "",
    on_sale: false,
    use_stock: false,
    stock: "0",
    available_from: "",
    available_until: "",
    deposit_product: "",
    returnable: false,
    archived: false,
  };
}

/** The form to save, or the first problem found (as Rust would find it). */
export function formOf(draft: ProductDraft): { form: ProductForm } | { problem: DraftProblem } {
  const name = draft.name.trim();
  if (!name || [...name].length > MAX_NAME_LEN) return { problem: "name" };
  if (!draft.category) return { problem: "category" };
  const price = parseMoney(draft.price);
  if (price === null) return { problem: "price" };
  const saleText = draft.sale_price.trim();
  const salePrice = saleText ? parseMoney(saleText) : null;
  if ((saleText && salePrice === null) || (draft.on_sale && salePrice === null)) return { problem: "sale_price" };
  const stock = draft.use_stock ? parseCount(draft.stock) : (parseCount(draft.stock) ?? 0);
  if (stock === null) return { problem: "stock" };
  const from = draft.available_from.trim() ? fromLocalInput(draft.available_from) : null;
  const until = draft.available_until.trim() ? fromLocalInput(draft.available_until) : null;
  if ((draft.available_from.trim() && from === null) || (draft.available_until.trim() && until === null)) {
    return { problem: "availability" };
  }
  if (from !== null && until !== null && from >= until) return { problem: "availability" };
  const subtitle = draft.subtitle.trim();
  return {
    form: {
      id: draft.id,
      name,
      subtitle: subtitle ? subtitle : null,
      category: draft.category,
      price_cents: price,
      vat_basis_points: draft.vat_basis_points,
      background: draft.background.toUpperCase(),
      text_colour: draft.text_colour.toUpperCase(),
      sale_price_cents: salePrice,
      on_sale: draft.on_sale,
      use_stock: draft.use_stock,
      stock,
      available_from_ms: from,
      available_until_ms: until,
      // A returnable (the cup) carries no deposit itself; nor does a product carry its own.
      deposit_product: draft.returnable || !draft.deposit_product || draft.deposit_product === draft.id ? null : draft.deposit_product,
      returnable: draft.returnable,
      archived: draft.archived,
    },
  };
}
