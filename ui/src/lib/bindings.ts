// Generated from src-tauri/src/view.rs and error.rs by the `bindings_are_current` test.
// Do not edit: run `TAPSTER_UPDATE_BINDINGS=1 cargo test -p tapster-app bindings`.

export type ErrorCode = "not_logged_in" | "wrong_pin" | "login_locked" | "unknown_badge" | "role_not_permitted" | "terminal_not_permitted" | "no_open_shift" | "shift_already_open" | "shift_of_another_cashier" | "empty_cart" | "price_changed" | "invalid_quantity" | "unknown_product" | "product_not_available" | "out_of_stock" | "sold_out" | "insufficient_funds" | "wallet_blocked" | "wristband_not_genuine" | "no_band_keys" | "unknown_wallet" | "offline_limit" | "max_balance_exceeded" | "tender_mismatch" | "nothing_to_cancel" | "not_your_last_sale" | "already_cancelled" | "cannot_cancel" | "not_returnable" | "deposit_return_exceeded" | "nothing_to_pay_out" | "pass_refused" | "pass_not_applicable" | "returns_exceed_order" | "bill_overpaid" | "bill_closed" | "part_of_bill" | "bills_open" | "invalid_input" | "idempotency_conflict" | "no_tap" | "refused_by_server" | "server_unreachable" | "server_untrusted" | "server_owned" | "category_not_empty" | "badge_in_use" | "badge_is_guest_band" | "band_is_staff_badge" | "save_failed" | "outcome_unknown" | "storage_full" | "storage_busy" | "printer_problem" | "not_in_demo_mode" | "internal";

export type AppError = { code: ErrorCode, message: string, retryable: boolean, 
/**
 * For `insufficient_funds`: how much is missing, to offer a top-up.
 */
missing_cents: number | null, };

export type Role = "cashier" | "supervisor" | "manager";

export type Tender = "wallet" | "cash" | "card";

export type Language = "de" | "en";

export type Cashier = { id: string, name: string, role: Role, };

export type ShiftInfo = { id: string, cashier_name: string, 
/**
 * Milliseconds since the Unix epoch.
 */
opened_at: number, float_cents: number, 
/**
 * The open shift belongs to whoever is logged in.
 */
mine: boolean, 
/**
 * Another's shift that whoever is logged in may close (a supervisor
 * or manager: count the drawer, the Z report names them).
 */
closable: boolean, };

export type DemoInfo = { staff: Array<DemoStaff>, wristbands: Array<DemoWristband>, };

export type DemoStaff = { name: string, role: Role, pin: string, };

export type DemoWristband = { token: string, label: string, };

export type Session = { event_name: string, terminal_name: string, currency: string, 
/**
 * The event's time zone (IANA, `Europe/Berlin`): reports label hours
 * by it, whatever the till's own clock is set to.
 */
time_zone: string, language: Language, cashier: Cashier | null, shift: ShiftInfo | null, 
/**
 * `None` outside demo mode.
 */
demo: DemoInfo | null, 
/**
 * Ask for a confirmation (old and new balance) before a wristband pays.
 */
confirm_wallet_payments: boolean, 
/**
 * Full screen; the app closes only with a manager's PIN.
 */
kiosk: boolean, 
/**
 * A wristband reader types on the keyboard: keypads take touch only
 * (its digits must not become a PIN or an amount).
 */
keyboard_reader: boolean, 
/**
 * First start of a till: show the setup screen.
 */
needs_setup: boolean, 
/**
 * Lock after this many seconds without a touch.
 */
lock_after_secs: number, };

export type Category = { id: string, name: string, };

export type Product = { id: string, name: string, subtitle: string | null, category: string, price_cents: number, 
/**
 * The cup deposit added with each unit, if any.
 */
deposit_cents: number | null, background: string, text_colour: string, 
/**
 * Units left when the product counts stock.
 */
stock: number | null, available: boolean, 
/**
 * The picture on the tile (a web address or an inline `data:` image).
 */
thumbnail_url: string | null, 
/**
 * While on sale: the ribbon's colour and text across the tile.
 */
ribbon_colour: string | null, sale_text: string | null, on_sale: boolean, 
/**
 * Sold out at this till's bar.
 */
sold_out: boolean, };

export type Catalog = { categories: Array<Category>, 
/**
 * In this terminal's grid order.
 */
products: Array<Product>, 
/**
 * The returnable cup, for deposit returns.
 */
cup: Product | null, stock_warnings: Array<StockWarning>, };

export type StockWarning = { item: string, name: string, unit: string, 
/**
 * What is left, in the item's unit (`12.5`).
 */
on_hand: string, 
/**
 * `low` or `out`.
 */
level: string, };

export type StockView = { locations: Array<StockLocation>, items: Array<InventoryItemView>, 
/**
 * Every active item at every location.
 */
rows: Array<StockRowView>, sold_out: Array<SoldOutView>, vendors: Array<VendorView>, 
/**
 * Products to mark sold out.
 */
products: Array<ProductName>, };

export type StockLocation = { id: string, name: string, };

export type InventoryItemView = { id: string, name: string, unit: string, 
/**
 * Decimal in the unit (`20`, `0.5`).
 */
low_stock: string, on_hand: string, vendor_id: string | null, };

export type StockRowView = { item_id: string, item_name: string, unit: string, location_id: string, location_name: string, on_hand: string, low_stock: string, 
/**
 * `ok`, `low` or `out`.
 */
level: string, };

export type SoldOutView = { location_id: string, product_id: string, };

export type VendorView = { id: string, name: string, 
/**
 * Basis points: 1500 is 15 %.
 */
commission_bp: number, fixed_fee_cents: number, locations: Array<string>, };

export type ProductName = { id: string, name: string, };

export type MovementForm = { 
/**
 * `delivery`, `transfer`, `waste` or `correction`.
 */
kind: string, item_id: string, 
/**
 * The location (for a transfer: where it goes from).
 */
location_id: string, 
/**
 * Where a transfer goes to.
 */
to_location_id: string | null, quantity: string, note: string | null, };

export type CountForm = { item_id: string, location_id: string, counted: string, note: string | null, };

export type InventoryItemForm = { 
/**
 * `null`: a new item (its id from the name).
 */
id: string | null, name: string, unit: string, low_stock: string, };

export type VendorForm = { id: string | null, name: string, commission_bp: number, fixed_fee_cents: number, locations: Array<string>, };

export type CartItem = { product: string, quantity: number, };

export type QuoteLine = { product: string, name: string, quantity: number, unit_cents: number, total_cents: number, deposit: boolean, 
/**
 * What a pass takes off (negative): not a product.
 */
discount: boolean, 
/**
 * A tip: the staff's, not revenue.
 */
tip: boolean, };

export type TipChoice = { "kind": "amount", cents: number, } | { "kind": "percent", basis_points: number, };

export type BillView = { id: string, 
/**
 * `open`, `settled` or `cancelled`.
 */
status: string, lines: Array<QuoteLine>, total_cents: number, tip_cents: number, paid_cents: number, remaining_cents: number, payments: Array<BillPaymentView>, };

export type BillPaymentView = { tender: Tender, token_masked: string | null, amount_cents: number, 
/**
 * Cash handed over (the change is the difference).
 */
tendered_cents: number | null, change_cents: number, reference: string | null, 
/**
 * Decided by this till's offline rules.
 */
offline: boolean, cancelled: boolean, };

export type BillStep = { bill: BillView, 
/**
 * Cash to hand back for this payment.
 */
change_cents: number, 
/**
 * When this payment covered the rest: the settled sale and its receipt.
 */
done: Done | null, };

export type Quote = { lines: Array<QuoteLine>, total_cents: number, deposit_cents: number, 
/**
 * Why the pass asked for is not taken off (its product is not in the
 * cart…): the cart is priced without it.
 */
pass_waits: string | null, };

export type Receipt = { 
/**
 * The receipt as text, for the on-screen preview.
 */
text: string, 
/**
 * Sent to a printer's queue (false: no printer, shown on screen only).
 */
queued: boolean, };

export type Done = { entry_id: string, receipt_number: number, kind: string, tender: Tender, 
/**
 * Seen from the guest: negative for what they paid.
 */
amount_cents: number, token_masked: string | null, balance_after_cents: number | null, 
/**
 * Decided by this terminal's offline rules (the server confirms later).
 */
offline: boolean, receipt: Receipt, };

export type RecentEntry = { kind: string, amount_cents: number, at: number, summary: string, };

export type DepositHeld = { name: string, count: number, };

export type Wallet = { token: string, token_masked: string, known: boolean, blocked: boolean, balance_cents: number, 
/**
 * How much of the balance is promo credit (vouchers): spent first,
 * never paid out.
 */
promo_cents: number, deposits: Array<DepositHeld>, recent: Array<RecentEntry>, };

export type ShiftClosed = { z_number: number, expected_cents: number, counted_cents: number, difference_cents: number, 
/**
 * Who closed it, when not its cashier.
 */
closed_by_name: string | null, receipt: Receipt, };

export type Connectivity = "standalone" | "starting" | "online" | "degraded" | "offline" | "auth_failed" | "untrusted" | "incompatible";

export type ReaderState = "ready" | "no_reader" | "service_down" | "simulated";

export type PrinterState = "none" | "ok" | "paper_near_end" | "paper_out" | "cover_open" | "not_ready" | "offline" | "unknown";

export type Status = { connectivity: Connectivity, 
/**
 * Connected to the server over plain HTTP (a red "not encrypted").
 */
unencrypted: boolean, 
/**
 * Entries not yet confirmed by the server.
 */
pending: number, reader: ReaderState, reader_name: string | null, printer: PrinterState, print_jobs_waiting: number, 
/**
 * Goes up when sync took in a changed catalogue: the grid reloads.
 */
catalog_version: number, 
/**
 * What the cashier must be told and confirm, oldest first.
 */
notices: Array<Notice>, };

export type Notice = { 
/**
 * Confirmed with `dismiss_notice`.
 */
id: string, 
/**
 * `interrupted_sale_recorded` (the server took the money: the sale is
 * now in this till's books) or `interrupted_sale_not_applied` (nothing
 * was debited: sell again if the guest still wants it); for a payout
 * `interrupted_payout_recorded` (the server paid it out: hand the
 * guest the amount) or `interrupted_payout_not_applied`.
 */
kind: string, token_masked: string, amount_cents: number | null, 
/**
 * The entry's number on this till, when recorded.
 */
entry_sequence: number | null, };

export type Tap = { token: string, token_masked: string, 
/**
 * Microseconds since the Unix epoch when the tap reached the app, for
 * the tap-to-screen measurement.
 */
at_micros: number, };

export type CustomerView = { "state": "idle", event_name: string, } | { "state": "cart", lines: Array<CustomerLine>, total_cents: number, currency: string, 
/**
 * The guest may choose a tip here (the display sends
 * `customer-tip` with a `TipChoice`, or null for none).
 */
offer_tip: boolean, 
/**
 * The tip on the cart now, in basis points when it is a share.
 */
tip_basis_points: number | null, } | { "state": "done", amount_cents: number, balance_after_cents: number | null, currency: string, };

export type CustomerLine = { name: string, quantity: number, total_cents: number, };

export type ServerCheck = { terminal_id: string, terminal_name: string, };

export type ServerFields = { url: string, event: string, token: string, 
/**
 * The certificate to pin, `sha256:…` (empty: validated against the
 * system's roots).
 */
fingerprint: string, };

export type ReportSource = "till" | "event";

export type ReportQuery = { source: ReportSource, 
/**
 * Milliseconds since the Unix epoch; `null`: from the start.
 */
from_ms: number | null, 
/**
 * Exclusive; `null`: until now.
 */
until_ms: number | null, terminal: string | null, cashier: string | null, };

export type ReportRow = { key: string, label: string, count: number, amount_cents: number, };

export type VatLine = { 
/**
 * e.g. `19 %`.
 */
rate: string, gross_cents: number, net_cents: number, vat_cents: number, };

export type HourBar = { start_ms: number, count: number, amount_cents: number, };

export type Choice = { id: string, name: string, };

export type Report = { query: ReportQuery, generated_at_ms: number, sales_count: number, revenue_cents: number, revenue_net_cents: number | null, vat_cents: number | null, by_product: Array<ReportRow>, by_category: Array<ReportRow>, by_vat_rate: Array<VatLine>, by_hour: Array<HourBar>, by_cashier: Array<ReportRow>, by_terminal: Array<ReportRow>, sales_by_tender: Array<ReportRow>, top_ups_by_tender: Array<ReportRow>, cancellations: Array<ReportRow>, 
/**
 * Cups issued, returned, wallets paid out (count and amount).
 */
deposits_issued: ReportRow, deposits_returned: ReportRow, payouts: ReportRow, 
/**
 * Promo credit (vouchers): credited, and spent on sales (event report).
 */
vouchers_credited: ReportRow, promo_spent: ReportRow, 
/**
 * What the filter can be set to.
 */
terminals: Array<Choice>, cashiers: Array<Choice>, 
/**
 * The event report is available (connected with manager access).
 */
event_available: boolean, };

export type ExportFormat = "pdf" | "csv" | "xml" | "zip";

export type PayoutsView = { settings: PayoutSettingsForm, 
/**
 * Newest first.
 */
runs: Array<PayoutRunLine>, unclaimed_bands: number, unclaimed_cents: number, 
/**
 * Of those, bands whose guest asked for a payout that no run has
 * taken yet (or that a run left out, below the minimum).
 */
unclaimed_requested: number, 
/**
 * The request window's end has passed.
 */
deadline_passed: boolean, wrong_codes_this_hour: number, wrong_code_budget: number, 
/**
 * Hours past the budget, newest first: `hour · count`.
 */
alarms: Array<string>, };

export type FiscalView = { 
/**
 * `off`, `simulated` or `fiskaly`.
 */
scheme: string, certified: boolean, 
/**
 * Whether the device answered just now (none when signing is off).
 */
reachable: boolean | null, 
/**
 * What is wrong with it, in words to act on; empty when healthy.
 */
health_message: string, tss_serial: string, since_ms: number | null, signed: number, unsigned: number, outages: Array<OutageLine>, business: BusinessForm, };

export type StartupFailure = { 
/**
 * The ledger file, to hand to whoever investigates (not to delete).
 */
ledger_path: string, terminal: string, problems: number, 
/**
 * `gap` (entries missing), `broken_link` or `content_changed` (edited).
 */
first_kind: string, 
/**
 * The entry where the chain first breaks.
 */
first_sequence: number, };

export type AuditForm = { 
/**
 * A staff member's id.
 */
staff: string, 
/**
 * An action's name (`payout`, `product_changed`…).
 */
action: string, 
/**
 * A wristband's token id.
 */
wallet: string, from_ms: number | null, until_ms: number | null, };

export type AuditView = { intact: boolean, first_broken: number | null, 
/**
 * Records in the whole trail.
 */
total: number, rows: Array<AuditRow>, 
/**
 * Only the newest records are shown; the export has them all.
 */
limited: boolean, };

export type AuditRow = { seq: number, at_ms: number, 
/**
 * `admin`, `staff`, `guest` or `console`.
 */
actor_kind: string, 
/**
 * The staff member's name (or id, or the guest's band).
 */
actor: string, terminal: string, action: string, wallet: string, subject: string, 
/**
 * The action's figures as JSON text: `{"price":[450,500]}`.
 */
detail: string, };

export type OutageLine = { till: string, from_ms: number, to_ms: number, receipts: number, reason: string, };

export type BusinessForm = { name: string, street: string, postcode: string, city: string, 
/**
 * ISO 3166 alpha-3: `DEU`.
 */
country: string, tax_number: string, vat_id: string, };

export type FiscalForm = { 
/**
 * `off`, `simulated` or `fiskaly`.
 */
scheme: string, fiskaly_api_key: string, fiskaly_api_secret: string, fiskaly_tss_id: string, 
/**
 * Empty: fiskaly's production address.
 */
fiskaly_base_url: string, business: BusinessForm, };

export type PayoutSettingsForm = { debtor_name: string, debtor_iban: string, donation_target: string, remittance: string, page_text: string, fee_cents: number, minimum_cents: number, 
/**
 * Requests close then; `null`: open until a run takes them.
 */
closes_at_ms: number | null, 
/**
 * Country codes whose accounts are paid, e.g. `DE AT`.
 */
countries: string, 
/**
 * Paid money nobody asked for once requests closed: `retain` or
 * `donate`.
 */
unclaimed: string, };

export type PayoutRunLine = { id: string, 
/**
 * `pending`, `exported`, `done` or `revoked`.
 */
state: string, created_at: string, execution_date: string, bands: number, transfers: number, transfer_cents: number, fee_cents: number, donation_cents: number, total_cents: number, warnings: Array<string>, };

export type NewPayoutRunForm = { max_count: number | null, max_cents: number | null, 
/**
 * `YYYY-MM-DD`; `null`: the next day.
 */
execution_date: string | null, 
/**
 * Run although tills have unsent sales or requests are still open.
 */
accept_warnings: boolean, };

export type Exported = { path: string, bytes: number, };

export type ProductForm = { 
/**
 * `null` for a new product.
 */
id: string | null, 
/**
 * A new product's key, made once when its form opens: saving it again
 * (an answer lost, a second tap) names the same product, never a
 * second one.
 */
creation_key: string | null, name: string, subtitle: string | null, category: string, price_cents: number, 
/**
 * In basis points: 1900 is 19 %.
 */
vat_basis_points: number, background: string, text_colour: string, sale_price_cents: number | null, on_sale: boolean, use_stock: boolean, stock: number, available_from_ms: number | null, available_until_ms: number | null, deposit_product: string | null, returnable: boolean, archived: boolean, 
/**
 * The tile's picture: an `https://` address or an inline `data:image/…`.
 */
thumbnail_url: string | null, 
/**
 * The ribbon across the tile while on sale, and its text.
 */
ribbon_colour: string | null, sale_text: string | null, description: string | null, };

export type CatalogueAdmin = { categories: Array<Category>, 
/**
 * Every product, archived ones last.
 */
products: Array<ProductForm>, 
/**
 * This till's grid, in order.
 */
layout: Array<string>, 
/**
 * VAT rates in use, in basis points, for the picker.
 */
vat_rates: Array<number>, 
/**
 * Edits go to the server (connected) or this till's ledger.
 */
edits_go_to_server: boolean, };

export type StaffMember = { id: string, name: string, role: Role, badge_masked: string | null, active: boolean, };

export type StaffForm = { id: string | null, 
/**
 * A new member's key, made once when the form opens: saving again
 * (an answer lost) names the same member, never a second one.
 */
creation_key: string | null, name: string, role: Role, pin: string | null, active: boolean, };

export type TerminalInfo = { id: string, name: string, permission: string, 
/**
 * This till.
 */
this_till: boolean, last_seen_ms: number | null, version: string | null, pending: number | null, archived: boolean, };

export type RejectedLine = { terminal: string, 
/**
 * This till's receipt number, when it is one of ours.
 */
receipt_number: number | null, kind: string, amount_cents: number | null, reason: string, at_ms: number, };

export type RefusedBand = { terminal: string, 
/**
 * The full UID, to block the wallet a clone copies.
 */
token: string, token_masked: string, reason: string, at_ms: number, };

export type EncodingStation = { 
/**
 * The reader encodes every band put on it (not taps).
 */
active: boolean, 
/**
 * The band key version bands get; `null`: this till has no band keys.
 */
key_version: number | null, 
/**
 * The guest page bands get a SUN link to, if any.
 */
link: string | null, encoded: number, failed: number, 
/**
 * Newest first (the last 50).
 */
bands: Array<EncodedBand>, };

export type PassKind = "voucher" | "percent_off" | "amount_off" | "free_product" | "allowance";

export type AllowancePer = "day" | "event";

export type PassBatchForm = { count: number, title: string, subtitle: string, kind: PassKind, amount_cents: number, percent: number, allowance_count: number, allowance_per: AllowancePer, products: Array<string>, valid_from_ms: number | null, valid_until_ms: number | null, max_redemptions: number, };

export type PassBatchLine = { batch: string, title: string, subtitle: string, pass_type: string, 
/**
 * What each pass gives, in words.
 */
gives: string, count: number, redeemed: number, 
/**
 * Codes of blocked passes.
 */
blocked: Array<string>, valid_from_ms: number | null, valid_until_ms: number | null, };

export type PassesView = { 
/**
 * Newest first.
 */
batches: Array<PassBatchLine>, };

export type ScannedLine = { 
/**
 * A pass's code, to look up.
 */
pass_code: string | null, 
/**
 * A wristband's UID, delivered as a tap.
 */
wristband: boolean, };

export type ScannedPass = { code: string, code_masked: string, title: string, subtitle: string, 
/**
 * `voucher`, `discount` or `allowance`.
 */
pass_type: string, 
/**
 * What it gives, in the till's language ("5,00 € Guthaben").
 */
gives: string, redemptions_left: number, 
/**
 * A voucher: credited to a wristband as promo credit.
 */
creditable: boolean, 
/**
 * A discount or allowance: taken off a cart.
 */
applicable: boolean, };

export type VoucherCredited = { title: string, token_masked: string, credited_cents: number, balance_cents: number, promo_cents: number, };

export type EncodedBand = { token_masked: string | null, 
/**
 * The key version it had (0: blank) and has now; `null` on failure.
 */
from_version: number | null, key_version: number | null, link: boolean, 
/**
 * Why it was not encoded (put it on again).
 */
error: string | null, at_ms: number, };

export type OverdrawnLine = { token_masked: string, balance_cents: number, };

export type SyncOverview = { connectivity: Connectivity, pending: number, oldest_pending_ms: number | null, rejected: Array<RejectedLine>, 
/**
 * Wallet sales sent to a plain PointOfSale server whose answer was
 * lost and whose outcome its balances cannot tell; never sent again.
 */
uncertain: Array<RejectedLine>, 
/**
 * Their total, as seen from the guests (debits negative).
 */
uncertain_total_cents: number, 
/**
 * Entries the server cannot take (top-ups, cash sales to a plain
 * PointOfSale server), kept in this till's books.
 */
kept_locally: Array<RejectedLine>, kept_locally_total_cents: number, overdrawn: Array<OverdrawnLine>, 
/**
 * `false`: only this till's own figures (standalone, or no manager
 * access to the server).
 */
from_server: boolean, 
/**
 * Offline sales this till decided and the server has not yet counted.
 */
offline_exposure_cents: number, 
/**
 * Bands this till refused as not genuine, newest first.
 */
refused_bands: Array<RefusedBand>, 
/**
 * The event takes bands by their UID alone: a permanent warning.
 */
uid_only: boolean, };

export type SettingsForm = { language: Language, 
/**
 * A printer URI (`tcp://host:9100`, `file:///dev/usb/lp0`…) or `null`.
 */
printer: string | null, 
/**
 * `58` or `80` (mm).
 */
paper_mm: number, 
/**
 * A PC/SC reader name prefix, or `null` for the first reader.
 */
reader: string | null, lock_after_secs: number, confirm_wallet_payments: boolean, receipt_header: string, receipt_footer: string, 
/**
 * Offline: the largest single debit.
 */
offline_per_sale_cents: number, 
/**
 * Offline: unconfirmed debits per wallet on this till.
 */
offline_wallet_cap_cents: number, 
/**
 * Offline: unconfirmed debits of all wallets on this till.
 */
offline_terminal_cap_cents: number, 
/**
 * Offline: what passes took off carts on this till, unconfirmed.
 */
offline_pass_cap_cents: number, 
/**
 * The event requires genuine bands (NTAG 424 DNA) to pay and be
 * topped up; `false`: UID only (legacy hardware, clones pay too).
 */
genuine_bands_required: boolean, };

export type SettingsView = { form: SettingsForm, 
/**
 * PC/SC readers seen now.
 */
readers: Array<string>, 
/**
 * Receipt texts and offline limits are the server's (read-only here).
 */
event_settings_from_server: boolean, 
/**
 * Where the settings file is.
 */
config_file: string, 
/**
 * Fields of the form the command line or environment fixes: saving
 * them in the file changes nothing while the app is started so.
 */
pinned: Array<string>, };

export type SettingsSaved = { view: SettingsView, restart_needed: boolean, };
