//! The OpenAPI document at `/api/v1/openapi.json`, generated from the
//! handlers' annotations and the wire types.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "tapster-server",
        description = "The PointOfSale API (terminals, wallets, transactions) with Tapster's extensions for offline terminals, and the manager API. Amounts are integer cents; entities are wrapped in `data`; errors are `{\"error_code\", \"error_message\"}`."
    ),
    paths(
        crate::http::get_terminal,
        crate::http::get_wallet,
        crate::http::post_transaction,
        crate::http::post_payout,
        crate::http::post_batch,
        crate::http::get_wallet_feed,
        crate::http::post_heartbeat,
        crate::http::post_shift_closes,
        crate::http::post_fiscal_receipt,
        crate::http::get_catalog,
        crate::http::post_staff_session,
        crate::http::get_band_keys,
        crate::http::get_sun_tap,
        crate::admin::get_settings,
        crate::admin::put_settings,
        crate::admin::rotate_band_keys,
        crate::winston::bills,
        crate::winston::payments,
        crate::winston::products,
        crate::winston::users,
        crate::admin::create_integration,
        crate::admin::list_integrations,
        crate::admin::revoke_integration,
        crate::admin::create_passes,
        crate::admin::import_passes,
        crate::admin::list_passes,
        crate::admin::export_passes,
        crate::admin::block_pass,
        crate::admin::unblock_pass,
        crate::admin::pass_report,
        crate::admin::pass_sheet,
        crate::admin::pass_qr,
        crate::walletapp::list_devices,
        crate::walletapp::store_device,
        crate::walletapp::fetch_device,
        crate::walletapp::update_device,
        crate::walletapp::archive_device,
        crate::walletapp::restore_device,
        crate::walletapp::device_token,
        crate::walletapp::list_locations,
        crate::walletapp::store_location,
        crate::walletapp::scan_info,
        crate::walletapp::scan,
        crate::walletapp::redeem_voucher,
        crate::walletapp::pass_feed,
        crate::admin::list_categories,
        crate::admin::save_category,
        crate::admin::remove_category,
        crate::admin::reorder_categories,
        crate::admin::list_products,
        crate::admin::create_product,
        crate::admin::update_product,
        crate::admin::archive_product,
        crate::admin::restore_product,
        crate::admin::list_terminals,
        crate::admin::create_terminal,
        crate::admin::update_terminal,
        crate::admin::archive_terminal,
        crate::admin::restore_terminal,
        crate::admin::roll_token,
        crate::admin::list_staff,
        crate::admin::save_staff,
        crate::admin::set_staff_badge,
        crate::admin::pair_wallet,
        crate::admin::get_wallet,
        crate::admin::block_wallet,
        crate::admin::unblock_wallet,
        crate::admin::move_wallet,
        crate::admin::guest_codes,
        crate::admin::guest_security,
        crate::admin::get_fiscal,
        crate::admin::put_fiscal,
        crate::admin::dsfinvk_export,
        crate::admin::get_payout_settings,
        crate::admin::put_payout_settings,
        crate::admin::payout,
        crate::admin::list_payout_runs,
        crate::admin::create_payout_run,
        crate::admin::get_payout_run,
        crate::admin::payout_run_sepa,
        crate::admin::payout_run_csv,
        crate::admin::finish_payout_run,
        crate::admin::revoke_payout_run,
        crate::admin::unclaimed_balances,
        crate::admin::settle_unclaimed,
        crate::admin::sales_report,
        crate::admin::top_up_report,
        crate::admin::summary,
        crate::admin::audit_trail,
        crate::admin::audit_csv,
        crate::admin::verify_audit,
        crate::admin::conflicts,
        crate::stock_admin::list_vendors,
        crate::stock_admin::get_vendor,
        crate::stock_admin::save_vendor,
        crate::stock_admin::settlement,
        crate::stock_admin::settlement_csv,
        crate::stock_admin::settlement_pdf,
        crate::stock_admin::list_items,
        crate::stock_admin::save_item,
        crate::stock_admin::book_movement,
        crate::stock_admin::record_count,
        crate::stock_admin::stock,
        crate::stock_admin::mark_sold_out,
        crate::stock_admin::unmark_sold_out,
        crate::shop_products::list_products,
        crate::shop_products::store_product,
        crate::shop_products::fetch_product,
        crate::shop_products::update_product,
        crate::shop_products::archive_product,
        crate::shop_products::restore_product,
        crate::wristcoin::menu_items,
        crate::wristcoin::staff,
        crate::wristcoin::vendors,
        crate::wristcoin::inventory_items,
        crate::wristcoin::inventory_transactions,
        crate::wristcoin::inventory_counts,
        crate::wristcoin::sales,
        crate::wristcoin::topups,
    ),
    modifiers(&Tokens),
    tags((name = "pos", description = "Terminals: seed 001's PointOfSale API and the offline extensions"),
         (name = "devices", description = "Seed 003 (walletapp): devices and locations with a manager's token (abilities devices.*), pass scans with a device's token (scanners.get, scanners.post); other tokens get 403. Answers are `{\"message\": \"Request successful\", \"data\": …}` except the scans, which answer the pass itself"),
         (name = "integrations", description = "Seed 002 (Winston): every call a POST whose JSON body is the query, with `Authorization: Token <app>@<key>`; errors are plain text"),
         (name = "products", description = "Seed 004 (walletapp): the event's products with the seed's fields; prices are decimal numbers read exactly to cents; PUT changes only the fields sent. A manager's token (abilities products.get/store/update/delete); device tokens get 403. Answers are `{\"message\": \"Request successful\", \"data\": …}`"),
         (name = "backoffice", description = "Seed 000 (WristCoin): menu items, staff, vendors, inventory items, inventory transactions and counts, sales and top-ups, read-only, with `sort=name:desc,item_id:asc`, filters by field (`gte:`/`lte:`/`gt:`/`lt:` to compare), `limit` and `offset`. Errors are `{\"error_code\": 0, \"error_message\": …}`; 429 above an average of 5 requests/s per endpoint"),
         (name = "guest", description = "Guests' phones: a genuine band's SUN link, without a token"),
         (name = "manage", description = "Managers: catalogue, terminals, staff, wallets, reports. With the event's admin token, or a staff session (`POST pos/staff-sessions`) for what that role allows"))
)]
pub struct ApiDoc;

/// Both bearer schemes: a terminal's `api_token` and an event's admin
/// token (or a staff session's token, for what its role allows).
struct Tokens;

impl Modify for Tokens {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for name in ["api_token", "admin_token"] {
            components.add_security_scheme(
                name,
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
