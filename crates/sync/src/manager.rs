//! The manager API for a till's manager screens. A supervisor's or
//! manager's PIN, checked by the server, opens a staff session with the
//! terminal's token; its token then allows what their role allows. The PIN
//! is sent once and kept nowhere; the session's token lives in memory.

use serde::de::DeserializeOwned;
use serde::Serialize;
use tapster_api::audit::{AuditQuery, AuditRecord, AuditVerification};
use tapster_api::backoffice::{
    InventoryCount, InventoryItemResource, InventoryTransaction, NewCount, NewMovement,
    SaveInventoryItem, SaveVendor, SoldOutChanged, StockOverview, VendorResource,
};
use tapster_api::manage::{
    Conflicts, NewStaffMember, StaffMember, StaffSession, StaffSessionRequest, Summary,
    TerminalStatus, TerminalUpdate,
};
use tapster_api::payouts::{
    GuestCodes, GuestCodesRequest, GuestSecurity, IssuedCode, NewPayoutRun, PayoutRun,
    UnclaimedBalances, UnclaimedSettled,
};
use tapster_api::walletapp::{ImportPasses, ManagedPass, NewPassBatch, PassBatch, RedemptionRow};
use tapster_api::WalletResource;
use tapster_ledger::model::{Category, EventSettings, Product, Role};
use tapster_ledger::payout_request::PayoutSettings;

use crate::client::{ApiError, ServerClient};

/// An open staff session: the server, the event and the session's token.
#[derive(Clone)]
pub struct ManagerSession {
    client: ServerClient,
    pub staff_id: String,
    pub role: Role,
    /// Milliseconds since the Unix epoch.
    pub expires_at: i64,
}

impl std::fmt::Debug for ManagerSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManagerSession")
            .field("staff_id", &self.staff_id)
            .field("role", &self.role)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A time range and terminal for the event's report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SummaryFilter {
    pub from_millis: Option<i64>,
    pub until_millis: Option<i64>,
    pub terminal: Option<String>,
}

impl ServerClient {
    /// Opens a staff session with this terminal's token and the staff
    /// member's PIN.
    pub async fn open_staff_session(
        &self,
        staff_id: &str,
        pin: &str,
    ) -> Result<ManagerSession, ApiError> {
        let session: StaffSession =
            self.data(self.http().post(self.url("pos/staff-sessions")).json(
                &StaffSessionRequest {
                    staff_id: staff_id.into(),
                    pin: pin.into(),
                },
            ))
            .await?;
        Ok(ManagerSession {
            client: self.with_token(&session.token),
            staff_id: session.staff_id,
            role: session.role,
            expires_at: session.expires_at,
        })
    }
}

impl ManagerSession {
    fn url(&self, path: &str) -> String {
        self.client.url(&format!("manage/{path}"))
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        self.client
            .data(self.client.http().get(self.url(path)))
            .await
    }

    async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, ApiError> {
        self.client
            .data(self.client.http().post(self.url(path)).json(body))
            .await
    }

    async fn put<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, ApiError> {
        self.client
            .data(self.client.http().put(self.url(path)).json(body))
            .await
    }

    pub async fn summary(&self, filter: &SummaryFilter) -> Result<Summary, ApiError> {
        let mut query = Vec::new();
        if let Some(from) = filter.from_millis {
            query.push(format!("terminal_timestamp=gte:{from}"));
        }
        if let Some(until) = filter.until_millis {
            query.push(format!("terminal_timestamp=lte:{until}"));
        }
        if let Some(terminal) = &filter.terminal {
            query.push(format!("terminal={terminal}"));
        }
        self.get(&format!("reports/summary?{}", query.join("&")))
            .await
    }

    pub async fn conflicts(&self) -> Result<Conflicts, ApiError> {
        self.get("conflicts").await
    }

    pub async fn terminals(&self) -> Result<Vec<TerminalStatus>, ApiError> {
        self.get("terminals").await
    }

    /// Changes a terminal's name, permission and grid.
    pub async fn update_terminal(
        &self,
        id: &str,
        update: &TerminalUpdate,
    ) -> Result<TerminalStatus, ApiError> {
        self.put(&format!("terminals/{id}"), update).await
    }

    /// Every product, archived ones too.
    pub async fn products(&self) -> Result<Vec<Product>, ApiError> {
        self.get("products?archived=true").await
    }

    /// Creates (`new`) or replaces a product.
    pub async fn save_product(&self, product: &Product, new: bool) -> Result<Product, ApiError> {
        if new {
            self.post("products", product).await
        } else {
            self.put(&format!("products/{}", product.id), product).await
        }
    }

    pub async fn save_category(&self, category: &Category) -> Result<Category, ApiError> {
        self.post("categories", category).await
    }

    /// Removes an empty category; answers the categories left.
    pub async fn remove_category(&self, id: &str) -> Result<Vec<Category>, ApiError> {
        let request = self
            .client
            .http()
            .delete(self.url(&format!("categories/{id}")));
        self.client.data(request).await
    }

    /// Puts every category in `order`; answers them so.
    pub async fn reorder_categories(&self, order: Vec<String>) -> Result<Vec<Category>, ApiError> {
        self.put(
            "category-order",
            &tapster_api::manage::CategoryOrder { order },
        )
        .await
    }

    pub async fn staff(&self) -> Result<Vec<StaffMember>, ApiError> {
        self.get("staff").await
    }

    pub async fn save_staff(&self, member: &NewStaffMember) -> Result<StaffMember, ApiError> {
        self.post("staff", member).await
    }

    /// Gives a staff member a badge, or takes theirs (`None`).
    pub async fn set_staff_badge(
        &self,
        id: &str,
        badge: Option<String>,
    ) -> Result<StaffMember, ApiError> {
        self.put(
            &format!("staff/{id}/badge"),
            &tapster_api::manage::StaffBadge { badge },
        )
        .await
    }

    /// The wallet with its latest transactions.
    pub async fn wallet(&self, token_id: &str) -> Result<WalletResource, ApiError> {
        self.get(&format!("wallets/token/{token_id}")).await
    }

    pub async fn set_wallet_blocked(&self, token_id: &str, blocked: bool) -> Result<(), ApiError> {
        let url = self.url(&format!("wallets/token/{token_id}/block"));
        let request = if blocked {
            self.client.http().post(url)
        } else {
            self.client.http().delete(url)
        };
        self.client.no_content(request).await
    }

    /// Moves the whole balance to a new wristband; returns the balance moved.
    pub async fn move_wallet(&self, from: &str, to: &str) -> Result<i64, ApiError> {
        #[derive(serde::Deserialize)]
        struct Moved {
            balance: i64,
        }
        let moved: Moved = self
            .post(
                &format!("wallets/token/{from}/move"),
                &serde_json::json!({ "to_token_id": to }),
            )
            .await?;
        Ok(moved.balance)
    }

    pub async fn settings(&self) -> Result<EventSettings, ApiError> {
        self.get("settings").await
    }

    pub async fn update_settings(
        &self,
        settings: &EventSettings,
    ) -> Result<EventSettings, ApiError> {
        self.put("settings", settings).await
    }

    /// Every pass of the event (of `batch`, if given).
    pub async fn passes(&self, batch: Option<&str>) -> Result<Vec<ManagedPass>, ApiError> {
        let mut url = reqwest::Url::parse(&self.url("passes"))
            .map_err(|e| ApiError::Misconfigured(e.to_string()))?;
        if let Some(batch) = batch {
            url.query_pairs_mut().append_pair("batch", batch);
        }
        self.client.data(self.client.http().get(url)).await
    }

    /// A batch of new passes.
    pub async fn create_passes(&self, batch: &NewPassBatch) -> Result<PassBatch, ApiError> {
        self.post("passes", batch).await
    }

    /// A ticket shop's codes (CSV) as passes; all or none.
    pub async fn import_passes(&self, import: &ImportPasses) -> Result<PassBatch, ApiError> {
        self.post("passes/import", import).await
    }

    pub async fn set_pass_blocked(
        &self,
        code: &str,
        blocked: bool,
    ) -> Result<ManagedPass, ApiError> {
        let mut url = reqwest::Url::parse(&self.url("passes"))
            .map_err(|e| ApiError::Misconfigured(e.to_string()))?;
        url.path_segments_mut()
            .map_err(|_| ApiError::Misconfigured("a server address without a path".into()))?
            .push(code)
            .push("block");
        let request = if blocked {
            self.client.http().post(url)
        } else {
            self.client.http().delete(url)
        };
        self.client.data(request).await
    }

    /// A batch's passes as A4 sheets of cards (PDF bytes).
    pub async fn pass_sheet(&self, batch: &str, language: &str) -> Result<Vec<u8>, ApiError> {
        let mut url = reqwest::Url::parse(&self.url("passes/sheet.pdf"))
            .map_err(|e| ApiError::Misconfigured(e.to_string()))?;
        url.query_pairs_mut()
            .append_pair("batch", batch)
            .append_pair("language", language);
        let (_, _, pdf) = self.client.send_raw(self.client.http().get(url)).await?;
        Ok(pdf)
    }

    /// The settings for payouts asked for on the guest pages.
    pub async fn payout_settings(&self) -> Result<PayoutSettings, ApiError> {
        self.get("payout-settings").await
    }

    pub async fn save_payout_settings(
        &self,
        settings: &PayoutSettings,
    ) -> Result<PayoutSettings, ApiError> {
        self.put("payout-settings", settings).await
    }

    /// The event's fiscal device, its health and outages.
    pub async fn fiscal_status(&self) -> Result<tapster_api::fiscal::FiscalStatus, ApiError> {
        self.get("fiscal").await
    }

    pub async fn save_fiscal(
        &self,
        setup: &tapster_api::fiscal::FiscalSetup,
    ) -> Result<tapster_api::fiscal::FiscalStatus, ApiError> {
        self.put("fiscal", setup).await
    }

    /// The DSFinV-K export (a ZIP) for the business days `from` to `to`
    /// (`2026-07-17`, both included).
    pub async fn dsfinvk_zip(
        &self,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Vec<u8>, ApiError> {
        let mut url = reqwest::Url::parse(&self.url("fiscal/dsfinvk.zip"))
            .map_err(|e| ApiError::Misconfigured(e.to_string()))?;
        for (name, value) in [("from", from), ("to", to)] {
            if let Some(value) = value {
                url.query_pairs_mut().append_pair(name, value);
            }
        }
        let (_, _, bytes) = self.client.send_raw(self.client.http().get(url)).await?;
        Ok(bytes)
    }

    /// The audit trail's records that match `query` (managers only).
    pub async fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, ApiError> {
        self.client
            .data(self.client.http().get(self.url("audit")).query(query))
            .await
    }

    /// The same records as CSV, as bytes.
    pub async fn audit_csv(&self, query: &AuditQuery) -> Result<Vec<u8>, ApiError> {
        let request = self.client.http().get(self.url("audit.csv")).query(query);
        let (_, _, bytes) = self.client.send_raw(request).await?;
        Ok(bytes)
    }

    /// Whether the whole trail is intact, as the server recomputes it.
    pub async fn verify_audit(&self) -> Result<AuditVerification, ApiError> {
        self.get("audit/verify").await
    }

    /// The event's payout runs, newest first.
    pub async fn payout_runs(&self) -> Result<Vec<PayoutRun>, ApiError> {
        self.get("payout-runs").await
    }

    /// A new run: its wallets are frozen until it is done or revoked.
    pub async fn create_payout_run(&self, asked: &NewPayoutRun) -> Result<PayoutRun, ApiError> {
        self.post("payout-runs", asked).await
    }

    /// `done` (the bank paid: booked) or `revoke` (called off).
    pub async fn end_payout_run(&self, run: &str, how: &str) -> Result<PayoutRun, ApiError> {
        let url = self.run_url(run, how)?;
        self.client.data(self.client.http().post(url)).await
    }

    /// A run's SEPA file (`sepa.xml`; a pending run becomes exported) or
    /// its bands as CSV (`bands.csv`, in `style` `semicolon` or `comma`),
    /// as bytes.
    pub async fn payout_run_file(
        &self,
        run: &str,
        file: &str,
        style: Option<&str>,
    ) -> Result<Vec<u8>, ApiError> {
        let mut url = self.run_url(run, file)?;
        if let Some(style) = style {
            url.query_pairs_mut().append_pair("style", style);
        }
        let (_, _, bytes) = self.client.send_raw(self.client.http().get(url)).await?;
        Ok(bytes)
    }

    fn run_url(&self, run: &str, last: &str) -> Result<reqwest::Url, ApiError> {
        let mut url = reqwest::Url::parse(&self.url("payout-runs"))
            .map_err(|e| ApiError::Misconfigured(e.to_string()))?;
        url.path_segments_mut()
            .map_err(|_| ApiError::Misconfigured("a server address without a path".into()))?
            .push(run)
            .push(last);
        Ok(url)
    }

    /// Bands with money left that no run is paying out.
    pub async fn unclaimed_balances(&self) -> Result<UnclaimedBalances, ApiError> {
        self.get("payouts/unclaimed").await
    }

    /// New codes for the guest pages of `tokens` (a band's earlier code
    /// stops working). Shown only in this answer.
    pub async fn guest_codes(&self, tokens: Vec<String>) -> Result<Vec<IssuedCode>, ApiError> {
        let made: GuestCodes = self
            .post("guest-codes", &GuestCodesRequest { token_ids: tokens })
            .await?;
        Ok(made.codes)
    }

    /// Books unclaimed paid money as the settings say (after the window).
    pub async fn settle_unclaimed(&self) -> Result<UnclaimedSettled, ApiError> {
        self.post("payouts/unclaimed/settle", &serde_json::json!({}))
            .await
    }

    /// Wrong codes on the guest pages, and the hours past the budget.
    pub async fn guest_security(&self) -> Result<GuestSecurity, ApiError> {
        self.get("guest-security").await
    }

    /// Live stock per location, sold-out flags, the locations.
    pub async fn stock(&self) -> Result<StockOverview, ApiError> {
        self.get("inventory/stock").await
    }

    pub async fn inventory_items(&self) -> Result<Vec<InventoryItemResource>, ApiError> {
        self.get("inventory/items").await
    }

    pub async fn save_inventory_item(
        &self,
        id: &str,
        item: &SaveInventoryItem,
    ) -> Result<InventoryItemResource, ApiError> {
        self.put(&format!("inventory/items/{id}"), item).await
    }

    /// A delivery, transfer, waste or correction.
    pub async fn book_movement(
        &self,
        movement: &NewMovement,
    ) -> Result<Vec<InventoryTransaction>, ApiError> {
        self.post("inventory/movements", movement).await
    }

    pub async fn record_count(&self, count: &NewCount) -> Result<InventoryCount, ApiError> {
        self.post("inventory/counts", count).await
    }

    pub async fn set_sold_out(
        &self,
        location: &str,
        product: &str,
        sold_out: bool,
    ) -> Result<SoldOutChanged, ApiError> {
        let mut url = reqwest::Url::parse(&self.url("locations"))
            .map_err(|e| ApiError::Misconfigured(e.to_string()))?;
        url.path_segments_mut()
            .map_err(|_| ApiError::Misconfigured("a server address without a path".into()))?
            .push(location)
            .push("sold-out")
            .push(product);
        let request = if sold_out {
            self.client.http().put(url)
        } else {
            self.client.http().delete(url)
        };
        self.client.data(request).await
    }

    pub async fn vendors(&self) -> Result<Vec<VendorResource>, ApiError> {
        self.get("vendors").await
    }

    pub async fn save_vendor(
        &self,
        id: &str,
        vendor: &SaveVendor,
    ) -> Result<VendorResource, ApiError> {
        self.put(&format!("vendors/{id}"), vendor).await
    }

    /// A vendor's settlement as `pdf` or `csv` bytes, for a period given
    /// as API timestamps.
    pub async fn settlement_file(
        &self,
        vendor: &str,
        format: &str,
        from: Option<&str>,
        until: Option<&str>,
        language: &str,
    ) -> Result<Vec<u8>, ApiError> {
        let mut url =
            reqwest::Url::parse(&self.url(&format!("vendors/{vendor}/settlement.{format}")))
                .map_err(|e| ApiError::Misconfigured(e.to_string()))?;
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("language", language);
            if let Some(from) = from {
                query.append_pair("from", from);
            }
            if let Some(until) = until {
                query.append_pair("until", until);
            }
        }
        let (_, _, bytes) = self.client.send_raw(self.client.http().get(url)).await?;
        Ok(bytes)
    }

    /// Redemptions by pass type, location and device.
    pub async fn pass_report(&self) -> Result<Vec<RedemptionRow>, ApiError> {
        self.get("reports/passes").await
    }
}
