import { describe, expect, it } from "vitest";
import type { MovementForm, StockRowView, StockView, StockWarning } from "./bindings";
import { texts } from "./i18n";
import {
  basisPointsToPercent,
  countDifference,
  countProblem,
  formatThousandths,
  groupByLocation,
  itemDraftOf,
  itemFormOf,
  levelClass,
  movementProblem,
  newItemDraft,
  newVendorDraft,
  noteOf,
  parseQuantity,
  percentToBasisPoints,
  quantityText,
  settlementFileName,
  soldOutSet,
  vendorDraftOf,
  vendorFormOf,
  warningsText,
} from "./stock";

const row = (item: string, location: string, on_hand: string, level = "ok"): StockRowView => ({
  item_id: item,
  item_name: item === "keg" ? "Bierfass" : "Becher",
  unit: item === "keg" ? "l" : "Stück",
  location_id: location,
  location_name: location === "bar-1" ? "Bar 1" : location === "bar-2" ? "Bar 2" : "Lager",
  on_hand,
  low_stock: "20",
  level,
});

const view = (rows: StockRowView[]): StockView => ({
  locations: [
    { id: "bar-1", name: "Bar 1" },
    { id: "bar-2", name: "Bar 2" },
  ],
  items: [],
  rows,
  sold_out: [{ location_id: "bar-2", product_id: "beer" }],
  vendors: [],
  products: [],
});

describe("quantities", () => {
  it("read what a person types, with a comma or a point, as exact thousandths", () => {
    expect(parseQuantity("30")).toBe(30_000);
    expect(parseQuantity("0,5")).toBe(500);
    expect(parseQuantity(" 12.25 ")).toBe(12_250);
    expect(parseQuantity("0,001")).toBe(1);
    expect(parseQuantity("0.1")).toBe(100);
    expect(parseQuantity("0")).toBe(0);
  });

  it("refuse what the ledger refuses", () => {
    for (const bad of ["", "abc", "0,0001", ",5", "5,", "1.2.3", "1,5 l", "+3", "1e3"]) {
      expect(parseQuantity(bad), bad).toBeNull();
    }
    expect(parseQuantity("-2")).toBeNull();
    expect(parseQuantity("-2", true)).toBe(-2000);
    expect(parseQuantity("-0", true)).toBe(0);
  });

  it("show with the language's decimal separator and no needless zeros", () => {
    expect(formatThousandths(12_500, "de")).toBe("12,5");
    expect(formatThousandths(12_500, "en")).toBe("12.5");
    expect(formatThousandths(30_000, "de")).toBe("30");
    expect(formatThousandths(1, "de")).toBe("0,001");
    expect(formatThousandths(-1_250, "en")).toBe("-1.25");
    expect(formatThousandths(1_500, "de", true)).toBe("+1,5");
    expect(formatThousandths(0, "de", true)).toBe("0");
    expect(quantityText("12.5", "de")).toBe("12,5");
    expect(quantityText("-0.25", "de")).toBe("-0,25");
    expect(quantityText("7", "en")).toBe("7");
    expect(quantityText("n/a", "de")).toBe("n/a");
  });
});

describe("commission", () => {
  it("reads percent as basis points", () => {
    expect(percentToBasisPoints("15")).toBe(1500);
    expect(percentToBasisPoints("12,5")).toBe(1250);
    expect(percentToBasisPoints("7.25 %")).toBe(725);
    expect(percentToBasisPoints("0")).toBe(0);
    expect(percentToBasisPoints("100")).toBe(10_000);
    for (const bad of ["", "100,01", "101", "-5", "1,234", "abc"]) expect(percentToBasisPoints(bad), bad).toBeNull();
  });

  it("shows basis points as percent to type back", () => {
    expect(basisPointsToPercent(1500, "de")).toBe("15");
    expect(basisPointsToPercent(1250, "de")).toBe("12,5");
    expect(basisPointsToPercent(725, "en")).toBe("7.25");
    expect(basisPointsToPercent(5, "de")).toBe("0,05");
    expect(percentToBasisPoints(basisPointsToPercent(1234, "de"))).toBe(1234);
  });
});

describe("stock by bar", () => {
  it("groups rows by bar in the bars' order, bars without rows too", () => {
    const rows = [row("keg", "bar-2", "3"), row("keg", "store", "100"), row("cups", "bar-2", "0"), row("keg", "bar-1", "12.5")];
    const groups = groupByLocation(rows, view([]).locations);
    expect(groups.map((g) => [g.location_id, g.location_name, g.rows.map((r) => r.item_id)])).toEqual([
      ["bar-1", "Bar 1", ["keg"]],
      ["bar-2", "Bar 2", ["keg", "cups"]],
      ["store", "Lager", ["keg"]],
    ]);
    expect(groupByLocation([], [{ id: "bar-1", name: "Bar 1" }])).toEqual([{ location_id: "bar-1", location_name: "Bar 1", rows: [] }]);
  });

  it("derives a count's difference from before and after", () => {
    const before = view([row("keg", "bar-1", "12.5")]);
    const after = view([row("keg", "bar-1", "11")]);
    expect(countDifference(before, after, "keg", "bar-1")).toBe(-1_500);
    expect(countDifference(after, before, "keg", "bar-1")).toBe(1_500);
    expect(countDifference(null, after, "keg", "bar-1")).toBeNull();
    expect(countDifference(before, after, "keg", "bar-2")).toBeNull();
  });

  it("knows which product is sold out where, and the level's badge", () => {
    const soldOut = soldOutSet(view([]));
    expect(soldOut.has("bar-2", "beer")).toBe(true);
    expect(soldOut.has("bar-1", "beer")).toBe(false);
    expect(levelClass("ok")).toBe("good");
    expect(levelClass("low")).toBe("warn");
    expect(levelClass("out")).toBe("bad");
  });
});

describe("the low-stock banner", () => {
  const warnings: StockWarning[] = [
    { item: "keg", name: "Bierfass", unit: "l", on_hand: "12.5", level: "low" },
    { item: "cups", name: "Becher", unit: "Stück", on_hand: "0", level: "out" },
  ];

  it("says what is low and what is out, in the language", () => {
    expect(warningsText(warnings, texts.de, "de")).toBe("Wenig Bestand: Bierfass 12,5 l · Becher leer");
    expect(warningsText(warnings, texts.en, "en")).toBe("Low stock: Bierfass 12.5 l · Becher out");
    expect(warningsText([], texts.de, "de")).toBe("");
  });
});

describe("stock forms", () => {
  const movement = (change: Partial<MovementForm>): MovementForm => ({
    kind: "delivery",
    item_id: "keg",
    location_id: "bar-1",
    to_location_id: null,
    quantity: "30",
    note: null,
    ...change,
  });

  it("check a movement before it is sent", () => {
    expect(movementProblem(movement({}))).toBeNull();
    expect(movementProblem(movement({ item_id: "" }))).toBe("item");
    expect(movementProblem(movement({ location_id: "" }))).toBe("location");
    expect(movementProblem(movement({ kind: "transfer" }))).toBe("to");
    expect(movementProblem(movement({ kind: "transfer", to_location_id: "bar-1" }))).toBe("to");
    expect(movementProblem(movement({ kind: "transfer", to_location_id: "bar-2", quantity: "0,5" }))).toBeNull();
    expect(movementProblem(movement({ quantity: "0" }))).toBe("quantity");
    expect(movementProblem(movement({ kind: "waste", quantity: "-1" }))).toBe("quantity");
    expect(movementProblem(movement({ kind: "correction", quantity: "-1,5" }))).toBeNull();
    expect(movementProblem(movement({ kind: "correction", quantity: "0" }))).toBe("quantity");
  });

  it("check a count", () => {
    const count = { item_id: "keg", location_id: "bar-1", counted: "11,5", note: null };
    expect(countProblem(count)).toBeNull();
    expect(countProblem({ ...count, counted: "0" })).toBeNull();
    expect(countProblem({ ...count, counted: "-1" })).toBe("counted");
    expect(countProblem({ ...count, location_id: "" })).toBe("location");
    expect(noteOf("  ")).toBeNull();
    expect(noteOf(" Fass geplatzt ")).toBe("Fass geplatzt");
  });

  it("turn an inventory item draft into its form", () => {
    const draft = itemDraftOf({ id: "keg", name: "Bierfass", unit: "l", low_stock: "20.5", on_hand: "3", vendor_id: null }, "de");
    expect(draft.low_stock).toBe("20,5");
    expect(itemFormOf(draft)).toEqual({ form: { id: "keg", name: "Bierfass", unit: "l", low_stock: "20,5" } });
    expect(itemFormOf({ ...newItemDraft(), name: " Becher ", unit: "Stück" })).toEqual({
      form: { id: null, name: "Becher", unit: "Stück", low_stock: "0" },
    });
    expect(itemFormOf(newItemDraft())).toEqual({ problem: "name" });
    expect(itemFormOf({ ...draft, unit: " " })).toEqual({ problem: "unit" });
    expect(itemFormOf({ ...draft, low_stock: "viel" })).toEqual({ problem: "low_stock" });
  });

  it("turn a vendor draft into its form: percent to basis points, money to cents", () => {
    const vendor = { id: "crepes", name: "Crêpes-Stand", commission_bp: 1250, fixed_fee_cents: 5000, locations: ["bar-2"] };
    const draft = vendorDraftOf(vendor, "de");
    expect(draft).toEqual({ id: "crepes", name: "Crêpes-Stand", commission: "12,5", fixed_fee: "50,00", locations: ["bar-2"] });
    expect(vendorFormOf(draft)).toEqual({ form: vendor });
    expect(vendorFormOf({ ...newVendorDraft(), name: "Pommes", commission: "15" })).toEqual({
      form: { id: null, name: "Pommes", commission_bp: 1500, fixed_fee_cents: 0, locations: [] },
    });
    expect(vendorFormOf(newVendorDraft())).toEqual({ problem: "name" });
    expect(vendorFormOf({ ...draft, commission: "120" })).toEqual({ problem: "commission" });
    expect(vendorFormOf({ ...draft, fixed_fee: "zehn" })).toEqual({ problem: "fixed_fee" });
  });

  it("name a settlement's file after the vendor and the day", () => {
    const now = new Date(2025, 5, 24, 18).getTime();
    expect(settlementFileName("Crêpes & Co.", "pdf", now)).toBe("tapster-settlement-Crêpes-Co-2025-06-24.pdf");
    expect(settlementFileName("!!!", "csv", now)).toBe("tapster-settlement-vendor-2025-06-24.csv");
  });
});
