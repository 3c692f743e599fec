import { describe, expect, it } from "vitest";
import type { CatalogueAdmin, ProductForm } from "./bindings";
import { draftOf, formOf, newDraft, thumbnailOk, type ProductDraft } from "./productDraft";

const beer: ProductForm = {
  id: "beer",
  creation_key: null,
  name: "Bier 0,5 l",
  subtitle: null,
  category: "drinks",
  price_cents: 450,
  vat_basis_points: 1900,
  background: "#6B4F2A",
  text_colour: "#FFFFFF",
  sale_price_cents: null,
  on_sale: false,
  use_stock: true,
  stock: 120,
  available_from_ms: null,
  available_until_ms: null,
  deposit_product: "cup",
  returnable: false,
  archived: false,
  thumbnail_url: null,
  ribbon_colour: null,
  sale_text: null,
  description: null,
};

const promoted: ProductForm = {
  ...beer,
  sale_price_cents: 350,
  on_sale: true,
  thumbnail_url: "https://example.org/beer.png",
  ribbon_colour: "#C0392B",
  sale_text: "Happy Hour",
  description: "Helles vom Fass, 0,5 l.\nAus der Region.",
};

const admin: CatalogueAdmin = {
  categories: [{ id: "drinks", name: "Getränke" }],
  products: [beer],
  layout: ["beer"],
  vat_rates: [700, 1900],
  edits_go_to_server: false,
};

function edited(change: Partial<ProductDraft>): ProductDraft {
  return { ...draftOf(beer, "de"), ...change };
}

describe("product drafts", () => {
  it("round-trip a product unchanged", () => {
    const draft = draftOf(beer, "de");
    expect(draft.price).toBe("4,50");
    expect(draft.background).toBe("#6b4f2a");
    expect(formOf(draft)).toEqual({ form: beer });
  });

  it("read prices as cents and optional texts as null", () => {
    const result = formOf(edited({ price: "5,2", subtitle: "  ", sale_price: "3.99", on_sale: true }));
    expect(result).toMatchObject({ form: { price_cents: 520, subtitle: null, sale_price_cents: 399, on_sale: true } });
  });

  it("find the first problem", () => {
    expect(formOf(edited({ name: "  " }))).toEqual({ problem: "name" });
    expect(formOf(edited({ name: "x".repeat(81) }))).toEqual({ problem: "name" });
    expect(formOf(edited({ category: "" }))).toEqual({ problem: "category" });
    expect(formOf(edited({ price: "4,505" }))).toEqual({ problem: "price" });
    expect(formOf(edited({ price: "" }))).toEqual({ problem: "price" });
    expect(formOf(edited({ on_sale: true, sale_price: "" }))).toEqual({ problem: "sale_price" });
    expect(formOf(edited({ sale_price: "abc" }))).toEqual({ problem: "sale_price" });
    expect(formOf(edited({ stock: "-3" }))).toEqual({ problem: "stock" });
    expect(formOf(edited({ available_from: "2025-06-24T20:00", available_until: "2025-06-24T18:00" }))).toEqual({
      problem: "availability",
    });
  });

  it("keep availability in local time and drop a deposit on a returnable", () => {
    const result = formOf(edited({ available_from: "2025-06-24T18:00", returnable: true }));
    expect(result).toMatchObject({
      form: { available_from_ms: new Date(2025, 5, 24, 18).getTime(), available_until_ms: null, deposit_product: null },
    });
  });

  it("ignore the stock text while stock is not counted", () => {
    expect(formOf(edited({ use_stock: false, stock: "" }))).toMatchObject({ form: { use_stock: false, stock: 0 } });
  });

  it("start new products in the first category at 19 %", () => {
    const draft = newDraft(admin);
    expect(draft).toMatchObject({ id: null, category: "drinks", vat_basis_points: 1900, price: "" });
    expect(formOf({ ...draft, name: "Wasser", price: "2" })).toMatchObject({
      form: { id: null, name: "Wasser", price_cents: 200, background: "#3A6EA5" },
    });
  });

  it("give each new product its own creation key, kept through every save of the form", () => {
    const draft = newDraft(admin);
    expect(draft.creation_key).toMatch(/^[0-9a-f-]{36}$/);
    expect(newDraft(admin).creation_key).not.toBe(draft.creation_key);
    const first = formOf({ ...draft, name: "Wasser", price: "2" });
    const again = formOf({ ...draft, name: "Wasser", price: "2" });
    expect("form" in first && "form" in again && first.form.creation_key === again.form.creation_key).toBe(true);
    expect(draftOf(promoted, "de").creation_key).toBeNull();
  });

  it("carry picture, ribbon, sale text and description through, empty ones as null", () => {
    const draft = draftOf(promoted, "de");
    expect(draft).toMatchObject({
      thumbnail_url: "https://example.org/beer.png",
      ribbon_colour: "#c0392b",
      sale_text: "Happy Hour",
      description: "Helles vom Fass, 0,5 l.\nAus der Region.",
    });
    expect(formOf(draft)).toEqual({ form: promoted });
    expect(draftOf(beer, "de")).toMatchObject({ thumbnail_url: "", ribbon_colour: "", sale_text: "", description: "" });
    expect(formOf(edited({ thumbnail_url: "  ", ribbon_colour: "", sale_text: " ", description: "\n" }))).toMatchObject({
      form: { thumbnail_url: null, ribbon_colour: null, sale_text: null, description: null },
    });
    expect(formOf(edited({ ribbon_colour: "#00ff00", sale_text: " -20 % " }))).toMatchObject({
      form: { ribbon_colour: "#00FF00", sale_text: "-20 %" },
    });
    expect(newDraft(admin)).toMatchObject({ thumbnail_url: "", ribbon_colour: "", sale_text: "", description: "" });
  });

  it("check picture, sale text and description as the ledger does", () => {
    expect(formOf(edited({ thumbnail_url: "ftp://example.org/a.png" }))).toEqual({ problem: "thumbnail" });
    expect(formOf(edited({ thumbnail_url: "https://example.org/a b.png" }))).toEqual({ problem: "thumbnail" });
    expect(formOf(edited({ thumbnail_url: "data:image/gif;base64,R0lGOD" }))).toEqual({ problem: "thumbnail" });
    expect(formOf(edited({ thumbnail_url: "data:image/png;base64,iVBORw0KGgo=" }))).toMatchObject({
      form: { thumbnail_url: "data:image/png;base64,iVBORw0KGgo=" },
    });
    expect(thumbnailOk("http://bar.local/beer.jpg")).toBe(true);
    expect(thumbnailOk(`https://example.org/${"x".repeat(2048)}`)).toBe(false);
    expect(thumbnailOk(`data:image/webp;base64,${"A".repeat(64 * 1024)}`)).toBe(false);
    expect(formOf(edited({ sale_text: "x".repeat(40) }))).toMatchObject({ form: { sale_text: "x".repeat(40) } });
    expect(formOf(edited({ sale_text: "x".repeat(41) }))).toEqual({ problem: "sale_text" });
    expect(formOf(edited({ description: "ä".repeat(1000) }))).toMatchObject({ form: { description: "ä".repeat(1000) } });
    expect(formOf(edited({ description: "x".repeat(1001) }))).toEqual({ problem: "description" });
  });
});
