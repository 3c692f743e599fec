// The one door to the Rust backend: every command and event, typed from
// the generated bindings. Screens import from here and never call
// `invoke` or `listen` themselves.

import { invoke } from "@tauri-apps/api/core";
import { emitTo, listen, type UnlistenFn } from "@tauri-apps/api/event";
import { save } from "@tauri-apps/plugin-dialog";
import type {
  AppError,
  BillStep,
  BillView,
  CartItem,
  CatalogueAdmin,
  CountForm,
  EncodingStation,
  InventoryItemForm,
  MovementForm,
  StockView,
  VendorForm,
  PassBatchForm,
  PassesView,
  PayoutsView,
  PayoutSettingsForm,
  FiscalView,
  FiscalForm,
  AuditForm,
  AuditView,
  StartupFailure,
  NewPayoutRunForm,
  ExportFormat,
  Exported,
  ProductForm,
  Report,
  ReportQuery,
  SettingsForm,
  SettingsSaved,
  SettingsView,
  StaffForm,
  StaffMember,
  SyncOverview,
  TerminalInfo,
  CustomerView,
  Catalog,
  Done,
  Quote,
  Receipt,
  ServerCheck,
  ServerFields,
  Session,
  ShiftClosed,
  Status,
  Tap,
  Tender,
  TipChoice,
  Wallet,
  ScannedLine,
  ScannedPass,
  VoucherCredited,
} from "./bindings";

export type * from "./bindings";

/** Whatever a command rejects with, as an AppError. */
export function asAppError(error: unknown): AppError {
  if (error && typeof error === "object" && "code" in error && "message" in error) {
    return error as AppError;
  }
  return {
    code: "internal",
    message: String(error),
    retryable: false,
    missing_cents: null,
  };
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (error) {
    throw asAppError(error);
  }
}

export const backend = {
  session: () => call<Session>("session"),
  login: (pin: string) => call<Session>("login", { pin }),
  loginWithBadge: (token: string) => call<Session>("login_with_badge", { token }),
  lock: () => call<Session>("lock"),
  openShift: (floatCents: number, key: string) => call<Session>("open_shift", { floatCents, key }),
  closeShift: (countedCents: number, key: string) =>
    call<ShiftClosed>("close_shift", { countedCents, key }),
  catalog: () => call<Catalog>("catalog"),
  /**
   * `pass`: the code of a scanned discount or allowance pass to take off.
   * A negative quantity of the cup is cups the guest brings back.
   */
  quote: (items: CartItem[], pass: string | null = null, tip: TipChoice | null = null) =>
    call<Quote>("quote", { items, pass, tip }),
  /** `expectedTotalCents`: the total the cashier saw; another price is refused. */
  pay: (
    items: CartItem[],
    tender: Tender,
    token: string | null,
    key: string,
    expectedTotalCents: number,
    pass: string | null = null,
    tip: TipChoice | null = null,
  ) => call<Done>("pay", { items, tender, token, key, expectedTotalCents, pass, tip }),
  /** The cart as a bill to pay step by step: priced, its stock held, nothing paid. */
  openBill: (items: CartItem[], tip: TipChoice | null, pass: string | null, key: string) =>
    call<BillView>("open_bill", { items, tip, pass, key }),
  /**
   * One payment towards a bill. `offeredCents` null: a wristband (tapped)
   * pays what it has, at most the rest; cash or card the rest. Cash may
   * be more than the rest: the change comes back.
   */
  payBill: (
    bill: string,
    tender: Tender,
    token: string | null,
    offeredCents: number | null,
    reference: string | null,
    key: string,
  ) => call<BillStep>("pay_bill", { bill, tender, token, offeredCents, reference, key }),
  /** Gives every payment back (wristbands credited, cash out of the drawer). */
  cancelBill: (bill: string, key: string) => call<BillView>("cancel_bill", { bill, key }),
  /** The bill still open in this shift (after a restart or a new login). */
  resumeBill: () => call<BillView | null>("resume_bill"),
  topUp: (token: string, amountCents: number, tender: Tender, key: string) =>
    call<Done>("top_up", { token, amountCents, tender, key }),
  returnDeposit: (token: string | null, quantity: number, tender: Tender, key: string) =>
    call<Done>("return_deposit", { token, quantity, tender, key }),
  cancelLast: (key: string) => call<Done>("cancel_last", { key }),
  wallet: (token: string) => call<Wallet>("wallet", { token }),
  scannedLine: (line: string) => call<ScannedLine>("scanned_line", { line }),
  scanPass: (code: string) => call<ScannedPass>("scan_pass", { code }),
  redeemVoucher: (code: string, token: string, key: string) =>
    call<VoucherCredited>("redeem_voucher", { code, token, key }),
  reprintLast: () => call<Receipt>("reprint_last"),
  openDrawer: () => call<void>("open_drawer"),
  simulateTap: (token: string) => call<void>("simulate_tap", { token }),
  status: () => call<Status>("status"),
  dismissNotice: (id: string) => call<Status>("dismiss_notice", { id }),
  touch: () => call<void>("touch"),
  readSetupCode: (code: string) => call<ServerFields>("read_setup_code", { code }),
  checkServer: (fields: ServerFields) => call<ServerCheck>("check_server", { fields }),
  /** First start: an event of this till's own, with its first manager. */
  setupStandalone: (eventName: string, managerName: string, pin: string) =>
    call<Session>("setup_standalone", { eventName, managerName, pin }),
  /** Keeps the connection and restarts the app connected to the server. */
  saveServer: (fields: ServerFields) => call<void>("save_server", { fields }),
  /** Closes the app; in kiosk mode only with a manager's PIN. */
  exitApp: (pin: string) => call<void>("exit_app", { pin }),

  // Manager screens: every command checks the logged-in role in Rust.
  report: (query: ReportQuery) => call<Report>("manager_report", { query }),
  /** Writes the report to `path` (chosen in the save dialog). */
  exportReport: (query: ReportQuery, format: ExportFormat, path: string) =>
    call<Exported>("export_report", { query, format, path }),
  catalogueAdmin: () => call<CatalogueAdmin>("catalogue_admin"),
  saveProduct: (form: ProductForm) => call<CatalogueAdmin>("save_product", { form }),
  /** `id` null: a new category, named by `creationKey` (made once per form) so a retry makes it once. */
  saveCategory: (id: string | null, name: string, creationKey: string | null = null) =>
    call<CatalogueAdmin>("save_category", { id, name, creationKey }),
  /** Moves a category by `offset` places on every till (-1 earlier, +1 later). */
  moveCategory: (category: string, offset: number) => call<CatalogueAdmin>("move_category", { category, offset }),
  /** Removes a category that holds no products, archived ones included. */
  removeCategory: (category: string) => call<CatalogueAdmin>("remove_category", { category }),
  /** Moves a product on this till's grid by `offset` places (-1 left, +1 right). */
  moveInLayout: (product: string, offset: number) => call<CatalogueAdmin>("move_in_layout", { product, offset }),
  staff: () => call<StaffMember[]>("staff_list"),
  saveStaff: (form: StaffForm) => call<StaffMember[]>("save_staff", { form }),
  /** Gives a staff member the badge just tapped on the reader, or takes theirs (`null`). */
  setStaffBadge: (id: string, badge: string | null) => call<StaffMember[]>("set_staff_badge", { id, badge }),
  /** A wristband as a manager sees it (needs no tap: it may be lost). */
  manageWallet: (token: string) => call<Wallet>("manage_wallet", { token }),
  setWalletBlocked: (token: string, blocked: boolean) => call<Wallet>("set_wallet_blocked", { token, blocked }),
  /** Pays out the whole balance; the wristband must have been tapped. */
  payoutWallet: (token: string, tender: Tender, key: string) => call<Done>("payout_wallet", { token, tender, key }),
  /** Moves the balance to a new wristband (tapped); connected tills only. */
  moveWallet: (from: string, to: string) => call<Wallet>("move_wallet", { from, to }),
  terminals: () => call<TerminalInfo[]>("terminals"),
  syncOverview: () => call<SyncOverview>("sync_overview"),
  /** The event's passes by batch (from the server; connected tills). */
  passes: () => call<PassesView>("passes"),
  createPasses: (form: PassBatchForm, key: string) => call<PassesView>("create_passes", { form, key }),
  /** A ticket shop's codes (CSV text with a `code` column) as passes giving what `form` says. */
  importPasses: (form: PassBatchForm, csv: string) => call<PassesView>("import_passes", { form, csv }),
  setPassBlocked: (code: string, blocked: boolean) => call<PassesView>("set_pass_blocked", { code, blocked }),
  /** Writes a batch's sheet of pass cards (PDF) to `path` (chosen in the save dialog). */
  savePassSheet: (batch: string, path: string) => call<Exported>("save_pass_sheet", { batch, path }),
  /** The event's TSE: device, health, outages per till, business details (connected tills, managers). */
  startupFailure: () => call<StartupFailure | null>("startup_failure"),
  auditTrail: (form: AuditForm) => call<AuditView>("audit_trail", { form }),
  saveAuditCsv: (form: AuditForm, path: string) => call<Exported>("save_audit_csv", { form, path }),
  fiscal: () => call<FiscalView>("fiscal"),
  saveFiscal: (form: FiscalForm) => call<FiscalView>("save_fiscal", { form }),
  /** The DSFinV-K export (ZIP) of business days `from` to `to` (`2026-07-17`; empty: all) to `path`. */
  saveDsfinvk: (from: string, to: string, path: string) => call<Exported>("save_dsfinvk", { from, to, path }),
  /** Payouts to guests by SEPA transfer: settings, runs, unclaimed, alarms (connected tills, managers). */
  payouts: () => call<PayoutsView>("payouts"),
  savePayoutSettings: (form: PayoutSettingsForm) => call<PayoutsView>("save_payout_settings", { form }),
  createPayoutRun: (form: NewPayoutRunForm) => call<PayoutsView>("create_payout_run", { form }),
  /** `done`: the bank has paid (booked); otherwise revoked (wallets unfrozen). */
  endPayoutRun: (run: string, done: boolean) => call<PayoutsView>("end_payout_run", { run, done }),
  /** New guest-page codes for the listed wristbands (one id per line), saved as CSV at `path` only. */
  saveGuestCodes: (tokens: string, portalUrl: string, path: string) =>
    call<Exported>("save_guest_codes", { tokens, portalUrl, path }),
  /** Books unclaimed paid money (retained or donated, as the settings say) once requests closed. */
  settleUnclaimed: () => call<PayoutsView>("settle_unclaimed"),
  /** A run's SEPA file (`xml`; the run becomes exported) or its bands (`csv`). */
  savePayoutRunFile: (run: string, format: ExportFormat, path: string) =>
    call<Exported>("save_payout_run_file", { run, format, path }),
  encodingStation: () => call<EncodingStation>("encoding_station"),
  /** Switches the reader to encoding wristbands (`link`: an https:// guest page, or null). */
  startEncoding: (link: string | null) => call<EncodingStation>("start_encoding", { link }),
  stopEncoding: () => call<EncodingStation>("stop_encoding"),
  // Stock at the bars (on the event's server; connected tills). A
  // supervisor books deliveries, transfers, waste, counts and sold out;
  // corrections, inventory items and vendors need a manager.
  stock: () => call<StockView>("stock"),
  /** A delivery, transfer (`location_id` → `to_location_id`), waste or correction; `quantity` as typed ("0,5"). */
  bookStockMovement: (form: MovementForm) => call<StockView>("book_stock_movement", { form }),
  /** A physical count: the bar's stock becomes `counted`. */
  recordStockCount: (form: CountForm) => call<StockView>("record_stock_count", { form }),
  setSoldOut: (location: string, product: string, soldOut: boolean) =>
    call<StockView>("set_sold_out", { location, product, soldOut }),
  saveInventoryItem: (form: InventoryItemForm) => call<StockView>("save_inventory_item", { form }),
  saveVendor: (form: VendorForm) => call<StockView>("save_vendor", { form }),
  /** Writes a vendor's settlement for a period (`null`: open end) to `path` (chosen in the save dialog). */
  saveSettlement: (vendor: string, fromMs: number | null, untilMs: number | null, format: ExportFormat, path: string) =>
    call<Exported>("save_settlement", { vendor, fromMs, untilMs, format, path }),
  settings: () => call<SettingsView>("settings"),
  saveSettings: (form: SettingsForm) => call<SettingsSaved>("save_settings", { form }),
  /** Prints a test receipt on `printer` (a URI) without saving it. */
  testPrint: (printer: string, paperMm: number) => call<void>("test_print", { printer, paperMm }),
  testDrawer: (printer: string) => call<void>("test_drawer", { printer }),
  restartApp: () => call<void>("restart_app"),
};

export function onTap(handler: (tap: Tap) => void): Promise<UnlistenFn> {
  return listen<Tap>("tap", (event) => handler(event.payload));
}

export function onEncoding(handler: (station: EncodingStation) => void): Promise<UnlistenFn> {
  return listen<EncodingStation>("encoding", (event) => handler(event.payload));
}

export function onStatus(handler: (status: Status) => void): Promise<UnlistenFn> {
  return listen<Status>("status", (event) => handler(event.payload));
}

/** Shows `view` on the customer display, if the app has one. */
export function showCustomer(view: CustomerView): void {
  emitTo("customer", "customer-view", view).catch(() => {});
}

/** The shares of the goods a tip may be, on the till and the customer display. */
export const TIP_SHARES = [500, 1000, 1500];

/** The guest's tip, chosen on the customer display, to the cashier's window. */
export function chooseTipOnDisplay(choice: TipChoice | null): void {
  emitTo("main", "customer-tip", choice).catch(() => {});
}

export function onCustomerTip(handler: (choice: TipChoice | null) => void): Promise<UnlistenFn> {
  return listen<TipChoice | null>("customer-tip", (event) => handler(event.payload));
}

export function onCustomerView(handler: (view: CustomerView) => void): Promise<UnlistenFn> {
  return listen<CustomerView>("customer-view", (event) => handler(event.payload));
}

/**
 * The native save dialog, for a report export. `null`: the manager
 * cancelled. Needs the dialog plugin and its `dialog:allow-save` permission.
 */
export async function chooseSavePath(defaultName: string, format: ExportFormat): Promise<string | null> {
  const filters =
    format === "pdf"
      ? [{ name: "PDF", extensions: ["pdf"] }]
      : format === "xml"
        ? [{ name: "SEPA XML", extensions: ["xml"] }]
        : format === "zip"
          ? [{ name: "DSFinV-K (ZIP)", extensions: ["zip"] }]
          : [{ name: "CSV", extensions: ["csv"] }];
  try {
    return await save({ defaultPath: defaultName, filters });
  } catch (error) {
    throw asAppError(error);
  }
}

/** A fresh idempotency key: one per attempt of an operation, reused by its retries. */
export function newKey(): string {
  return crypto.randomUUID();
}
