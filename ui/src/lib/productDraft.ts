// A product as the catalogue form edits it: text where a person types,
// checked and turned into the ProductForm Rust takes.

import type { CatalogueAdmin, Language, ProductForm } from "./bindings";
import { fromLocalInput, toLocalInput } from "./localTime";
import { colourForInput, parseCount } from "./manage";
import { formatMoneyInput, parseMoney } from "./moneyInput";

export const MAX_NAME_LEN = 80;
export const MAX_SALE_TEXT_LEN = 40;
export const MAX_DESCRIPTION_LEN = 1000;
/** An inline (`data:`) picture is kept in the catalogue: at most 64 KiB. */
export const MAX_INLINE_THUMBNAIL = 64 * 1024;
export const MAX_THUMBNAIL_URL_LEN = 2048;

export type ProductDraft = {
  id: string | null;
  /** A new product's key (see ProductForm.creation_key); null when editing. */
  creation_key: string | null;
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
  /** "" for none. */
  thumbnail_url: string;
  /** "#rrggbb", or "" for the default ribbon colour. */
  ribbon_colour: string;
  sale_text: string;
  description: string;
};

/** What is wrong with a draft, one field at a time. */
export type DraftProblem =
  | "name"
  | "category"
  | "price"
  | "sale_price"
  | "stock"
  | "availability"
  | "thumbnail"
  | "sale_text"
  | "description";

export const DEFAULT_BACKGROUND = "#3A6EA5";
export const DEFAULT_TEXT = "#ffffff";
/** The sale ribbon's colour when the product has none of its own. */
export const DEFAULT_RIBBON = "#d6453d";

const INLINE_KINDS = ["png", "jpeg", "webp", "svg+xml"];

/**
 * A tile picture as the ledger takes it: an http(s) address without
 * spaces (at most 2048 characters) or an inline PNG, JPEG, WebP or SVG
 * `data:` image of at most 64 KiB.
 */
export function thumbnailOk(url: string): boolean {
  // The ledger counts bytes (UTF-8), not characters.
  const bytes = new TextEncoder().encode(url).length;
  if (INLINE_KINDS.some((kind) => url.startsWith(`data:image/${kind}`))) return bytes <= MAX_INLINE_THUMBNAIL;
  return /^https?:\/\/\S+$/.test(url) && bytes <= MAX_THUMBNAIL_URL_LEN && !/[\u0000-\u001f\u007f]/.test(url);
}

export function draftOf(form: ProductForm, language: Language): ProductDraft {
  return {
    id: form.id,
    creation_key: null,
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
    thumbnail_url: form.thumbnail_url ?? "",
    ribbon_colour: form.ribbon_colour ? colourForInput(form.ribbon_colour, DEFAULT_RIBBON) : "",
    sale_text: form.sale_text ?? "",
    description: form.description ?? "",
  };
}

/** A new product: the first category, the usual VAT rate, dark grey. */
export function newDraft(admin: CatalogueAdmin): ProductDraft {
  const rates = admin.vat_rates;
  return {
    id: null,
    // Made once per new product: saving it again names the same product.
    creation_key: crypto.randomUUID(),
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
    thumbnail_url: "",
    ribbon_colour: "",
    sale_text: "",
    description: "",
  };
}

/** The form to save, or the first problem found (as Rust would find it). */
export function formOf(draft: ProductDraft): { form: ProductForm } | { problem: DraftProblem } {
  const name = draft.name.trim();
  if (!name || [...name].length > MAX_NAME_LEN) return { problem: "name" };
  if (!draft.category) return { problem: "category" };
  const price = parseMoney(draft.price);
  if (price === null) return { problem: "price" };
  const salePriceText = draft.sale_price.trim();
  const salePrice = salePriceText ? parseMoney(salePriceText) : null;
  if ((salePriceText && salePrice === null) || (draft.on_sale && salePrice === null)) return { problem: "sale_price" };
  const stock = draft.use_stock ? parseCount(draft.stock) : (parseCount(draft.stock) ?? 0);
  if (stock === null) return { problem: "stock" };
  const from = draft.available_from.trim() ? fromLocalInput(draft.available_from) : null;
  const until = draft.available_until.trim() ? fromLocalInput(draft.available_until) : null;
  if ((draft.available_from.trim() && from === null) || (draft.available_until.trim() && until === null)) {
    return { problem: "availability" };
  }
  if (from !== null && until !== null && from >= until) return { problem: "availability" };
  const thumbnail = draft.thumbnail_url.trim();
  if (thumbnail && !thumbnailOk(thumbnail)) return { problem: "thumbnail" };
  const saleText = draft.sale_text.trim();
  if ([...saleText].length > MAX_SALE_TEXT_LEN) return { problem: "sale_text" };
  const description = draft.description.trim();
  if ([...description].length > MAX_DESCRIPTION_LEN) return { problem: "description" };
  const subtitle = draft.subtitle.trim();
  return {
    form: {
      id: draft.id,
      creation_key: draft.creation_key,
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
      // Empty texts go to Rust as null (none).
      thumbnail_url: thumbnail ? thumbnail : null,
      ribbon_colour: draft.ribbon_colour.trim() ? draft.ribbon_colour.trim().toUpperCase() : null,
      sale_text: saleText ? saleText : null,
      description: description ? description : null,
    },
  };
}
