//! The domain's nouns: event settings, catalogue, terminals, staff, wallets,
//! entries and shifts.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::error::InputError;
use crate::ids::{
    BillId, CategoryId, EntryId, IdempotencyKey, ProductId, ShiftId, StaffId, TerminalId, TokenId,
    VendorId,
};
use crate::money::{Cents, VatRate};

/// Declares a string-backed enum with `as_str`, `FromStr` and `Display`, the
/// form in which it is stored in SQLite and sent over the wire.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = InputError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(InputError::new($what, format!("'{s}' is not one of: {}",
                        [$($text),+].join(", ")))),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum!(
    /// What a terminal may do to wallets (seed 001): take money, give money, or both.
    Permission, "permission" { Debit => "debit", Credit => "credit", All => "all" }
);

impl Permission {
    pub fn allows(self, direction: Direction) -> bool {
        matches!(
            (self, direction),
            (Permission::All, _)
                | (Permission::Debit, Direction::Debit)
                | (Permission::Credit, Direction::Credit)
        )
    }
}

/// The direction of an operation that a terminal permission governs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Debit,
    Credit,
}

string_enum!(
    /// What a staff member may do. Each role includes the ones before it.
    Role, "role" { Cashier => "cashier", Supervisor => "supervisor", Manager => "manager" }
);

string_enum!(
    /// The kind of a ledger entry.
    EntryKind, "entry kind" {
        Sale => "sale",
        TopUp => "top_up",
        Cancel => "cancel",
        DepositReturn => "deposit_return",
        Payout => "payout",
        Adjustment => "adjustment",
    }
);

string_enum!(
    /// How the guest paid or was paid.
    Tender, "tender" { Wallet => "wallet", Cash => "cash", Card => "card" }
);

string_enum!(
    /// Whether this terminal works alone (its ledger is the truth) or syncs
    /// with a tapster-server (the server is the truth; offline limits apply).
    EventMode, "event mode" { Standalone => "standalone", Connected => "connected" }
);

string_enum!(
    /// Whether a wristband must prove it is a genuine band of the event
    /// (NTAG 424 DNA with its own key) before it pays or is topped up, or
    /// is taken by its UID alone (legacy hardware; clones pay too).
    BandPolicy, "band policy" { GenuineRequired => "genuine_required", UidOnly => "uid_only" }
);

string_enum!(
    /// Whether the event's transactions are signed by a fiscal device
    /// (Germany's TSE) through its server: off, by a simulated device that
    /// says on every receipt it is not certified, or by a certified one.
    FiscalSigning, "fiscal signing" { Off => "off", Simulated => "simulated", Certified => "certified" }
);

// `string_enum!` writes the derives and cannot mark a variant `#[default]`.
#[allow(clippy::derivable_impls)]
impl Default for FiscalSigning {
    fn default() -> Self {
        FiscalSigning::Off
    }
}

impl BandPolicy {
    /// Settings that do not say (written before genuine bands existed).
    pub fn legacy() -> BandPolicy {
        BandPolicy::UidOnly
    }
}

/// Limits for wallet debits authorised without the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OfflineLimits {
    /// Unacknowledged offline debits per wallet on this terminal.
    pub wallet_cap: Cents,
    /// How old a wallet's last confirmed balance may be.
    pub max_balance_age_secs: i64,
    /// Unacknowledged offline debits of all wallets on this terminal.
    pub terminal_cap: Cents,
    /// The largest single offline debit.
    pub per_sale_limit: Cents,
    /// What passes may take off carts on this terminal before the server
    /// confirmed them (a pass can be used at two offline tills at once).
    #[serde(default = "default_pass_cap")]
    pub pass_cap: Cents,
}

fn default_pass_cap() -> Cents {
    Cents(100_00)
}

impl Default for OfflineLimits {
    fn default() -> Self {
        OfflineLimits {
            wallet_cap: Cents(50_00),
            max_balance_age_secs: 4 * 3600,
            terminal_cap: Cents(1_000_00),
            per_sale_limit: Cents(30_00),
            pass_cap: default_pass_cap(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventSettings {
    pub name: String,
    /// ISO 4217 code.
    pub currency: String,
    pub receipt_header: String,
    pub receipt_footer: String,
    pub max_wallet_balance: Cents,
    pub offline: OfflineLimits,
    pub mode: EventMode,
    /// Failed PIN logins before login locks, and for how long.
    pub max_failed_logins: u32,
    pub login_lockout_secs: i64,
    /// Genuine bands required (the default for new events) or UID only.
    #[serde(default = "BandPolicy::legacy")]
    pub band_policy: BandPolicy,
    /// The event's IANA time zone (`Europe/Berlin`): times shown to people
    /// (seed 001's `timestamp.readable`, reports) are in it.
    #[serde(default = "default_time_zone")]
    pub time_zone: String,
    /// Set by the server from its fiscal device: tills ask it to sign.
    #[serde(default)]
    pub fiscal_signing: FiscalSigning,
}

fn default_time_zone() -> String {
    EventSettings::DEFAULT_TIME_ZONE.into()
}

impl Default for EventSettings {
    fn default() -> Self {
        EventSettings {
            name: "Tapster".into(),
            currency: "EUR".into(),
            receipt_header: String::new(),
            receipt_footer: String::new(),
            max_wallet_balance: Cents(250_00),
            offline: OfflineLimits::default(),
            mode: EventMode::Standalone,
            max_failed_logins: 5,
            login_lockout_secs: 300,
            band_policy: BandPolicy::GenuineRequired,
            time_zone: default_time_zone(),
            fiscal_signing: FiscalSigning::Off,
        }
    }
}

impl EventSettings {
    pub const DEFAULT_TIME_ZONE: &'static str = "Europe/Berlin";

    /// The event's time zone (UTC if its name is not known here).
    pub fn zone(&self) -> jiff::tz::TimeZone {
        jiff::tz::TimeZone::get(&self.time_zone).unwrap_or(jiff::tz::TimeZone::UTC)
    }

    pub fn validate(&self) -> Result<(), InputError> {
        if self.name.trim().is_empty() || self.name.len() > 200 {
            return Err(InputError::new("event name", "must be 1 to 200 characters"));
        }
        if self.currency.len() != 3 || !self.currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(InputError::new(
                "currency",
                "must be a three-letter ISO code like EUR",
            ));
        }
        for (field, amount) in [
            ("maximum wallet balance", self.max_wallet_balance),
            ("offline wallet cap", self.offline.wallet_cap),
            ("offline terminal cap", self.offline.terminal_cap),
            ("offline per-sale limit", self.offline.per_sale_limit),
            ("offline pass cap", self.offline.pass_cap),
        ] {
            if amount.is_negative() {
                return Err(InputError::new(field, "must not be negative"));
            }
        }
        if self.offline.max_balance_age_secs < 0 || self.login_lockout_secs < 0 {
            return Err(InputError::new("durations", "must not be negative"));
        }
        if jiff::tz::TimeZone::get(&self.time_zone).is_err() {
            return Err(InputError::new(
                "time zone",
                "must be an IANA time zone like Europe/Berlin",
            ));
        }
        if self.max_failed_logins == 0 || self.max_failed_logins > 10 {
            return Err(InputError::new("max failed logins", "must be 1 to 10"));
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Category {
    pub id: CategoryId,
    pub name: String,
    pub position: i64,
}

/// A colour as `#RRGGBB`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, example = "#1A2B3C"))]
pub struct Colour(String);

impl Colour {
    pub fn new(value: &str) -> Result<Self, InputError> {
        let ok = value.len() == 7
            && value.starts_with('#')
            && value[1..].bytes().all(|b| b.is_ascii_hexdigit());
        if !ok {
            return Err(InputError::new("colour", "must look like #1A2B3C"));
        }
        Ok(Colour(value.to_ascii_uppercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Colour {
    type Err = InputError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Colour::new(s)
    }
}

impl TryFrom<String> for Colour {
    type Error = InputError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Colour::new(&value)
    }
}

impl From<Colour> for String {
    fn from(value: Colour) -> Self {
        value.0
    }
}

/// A product on the grid, modelled after seed 004.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Product {
    pub id: ProductId,
    pub name: String,
    pub subtitle: Option<String>,
    pub category: CategoryId,
    /// Gross price (VAT included).
    pub price: Cents,
    pub vat_rate: VatRate,
    pub background: Colour,
    pub text_colour: Colour,
    pub sale_price: Option<Cents>,
    pub on_sale: bool,
    pub use_stock: bool,
    pub stock: i64,
    pub available_from: Option<Timestamp>,
    pub available_until: Option<Timestamp>,
    pub archived: bool,
    /// The returnable cup whose deposit is added with every unit of this product.
    pub deposit_product: Option<ProductId>,
    /// This product is itself a returnable deposit (a cup): sold as a liability, not revenue.
    pub returnable: bool,
    /// Longer text for the back office (seed 004).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The picture on the grid tile: an `https://` or `http://` address, or
    /// a small `data:image/…` URL that works without a network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail_url: Option<String>,
    /// The ribbon across the tile while on sale, with [`Product::sale_text`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ribbon_colour: Option<Colour>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sale_text: Option<String>,
    /// Loyalty points (seed 004): shown and reported, never money.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub points: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sale_points: Option<i64>,
    /// Whose sale it is (see [`crate::settlement`]); `None`: the bar's vendor
    /// or the organiser.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<VendorId>,
    /// What one unit takes from the bar's inventory (see [`crate::inventory`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consumes: Vec<crate::inventory::Consumption>,
    /// Sold out at the bar of the till this catalogue was made for: the
    /// server sets it per till; the event's own product never has it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sold_out: bool,
}

fn is_zero(value: &i64) -> bool {
    *value == 0
}

impl Product {
    pub const MAX_NAME_LEN: usize = 80;

    /// A product with sensible defaults, for setup code and tests.
    pub fn new(
        id: ProductId,
        name: &str,
        category: CategoryId,
        price: Cents,
        vat: VatRate,
    ) -> Self {
        Product {
            id,
            name: name.into(),
            subtitle: None,
            category,
            price,
            vat_rate: vat,
            background: Colour("#2B2B2B".into()),
            text_colour: Colour("#FFFFFF".into()),
            sale_price: None,
            on_sale: false,
            use_stock: false,
            stock: 0,
            available_from: None,
            available_until: None,
            archived: false,
            deposit_product: None,
            returnable: false,
            description: None,
            thumbnail_url: None,
            ribbon_colour: None,
            sale_text: None,
            points: 0,
            sale_points: None,
            vendor: None,
            consumes: Vec::new(),
            sold_out: false,
        }
    }

    /// The price a guest pays now: the sale price while the sale flag is on.
    pub fn effective_price(&self) -> Cents {
        match (self.on_sale, self.sale_price) {
            (true, Some(sale)) => sale,
            _ => self.price,
        }
    }

    pub fn is_available_at(&self, now: Timestamp) -> bool {
        self.available_from.is_none_or(|from| now >= from)
            && self.available_until.is_none_or(|until| now < until)
    }

    pub fn validate(&self) -> Result<(), InputError> {
        if crate::bills::RESERVED_PRODUCT_IDS.contains(&self.id.as_str()) {
            return Err(InputError::new(
                "product id",
                format!(
                    "'{}' is kept for the lines the till adds itself; choose another",
                    self.id
                ),
            ));
        }
        let name = self.name.trim();
        if name.is_empty() || self.name.chars().count() > Self::MAX_NAME_LEN {
            return Err(InputError::new(
                "product name",
                format!("must be 1 to {} characters", Self::MAX_NAME_LEN),
            ));
        }
        if self.price.is_negative() || self.sale_price.is_some_and(Cents::is_negative) {
            return Err(InputError::new("price", "must not be negative"));
        }
        if self.vat_rate.0 > VatRate::MAX_BASIS_POINTS {
            return Err(InputError::new(
                "VAT rate",
                "must be 0 to 10000 basis points",
            ));
        }
        if self.on_sale && self.sale_price.is_none() {
            return Err(InputError::new(
                "sale price",
                "is required while the product is on sale",
            ));
        }
        if self.stock < 0 {
            return Err(InputError::new("stock", "must not be negative"));
        }
        if let (Some(from), Some(until)) = (self.available_from, self.available_until) {
            if from >= until {
                return Err(InputError::new("availability", "must start before it ends"));
            }
        }
        if self.returnable && self.deposit_product.is_some() {
            return Err(InputError::new(
                "deposit product",
                "a deposit cannot carry another deposit",
            ));
        }
        if self.deposit_product.as_ref() == Some(&self.id) {
            return Err(InputError::new(
                "deposit product",
                "cannot be the product itself",
            ));
        }
        if self
            .description
            .as_ref()
            .is_some_and(|d| d.chars().count() > 1000)
        {
            return Err(InputError::new(
                "description",
                "must be at most 1000 characters",
            ));
        }
        if let Some(url) = &self.thumbnail_url {
            validate_thumbnail(url)?;
        }
        if self
            .sale_text
            .as_ref()
            .is_some_and(|t| t.chars().count() > 40)
        {
            return Err(InputError::new(
                "sale text",
                "must be at most 40 characters",
            ));
        }
        if self.points < 0 || self.sale_points.is_some_and(|p| p < 0) {
            return Err(InputError::new("points", "must not be negative"));
        }
        crate::inventory::validate_recipe(&self.consumes)?;
        Ok(())
    }
}

/// Largest thumbnail kept inline (`data:` URL), so the catalogue stays small.
pub const MAX_INLINE_THUMBNAIL: usize = 64 * 1024;

/// A thumbnail is a web address (http or https) or an inline PNG, JPEG,
/// WebP or SVG image.
fn validate_thumbnail(url: &str) -> Result<(), InputError> {
    let inline = ["png", "jpeg", "webp", "svg+xml"]
        .iter()
        .any(|kind| url.starts_with(&format!("data:image/{kind}")));
    if inline {
        if url.len() > MAX_INLINE_THUMBNAIL {
            return Err(InputError::new(
                "thumbnail",
                "an inline image must be at most 64 KiB; use a smaller picture or a web address",
            ));
        }
        return Ok(());
    }
    let web = url.starts_with("https://") || url.starts_with("http://");
    if !web || url.len() > 2048 || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(InputError::new(
            "thumbnail",
            "must be an http(s) address of at most 2048 characters or an inline data:image URL",
        ));
    }
    Ok(())
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Terminal {
    pub id: TerminalId,
    pub friendly_name: String,
    pub permission: Permission,
    /// The products on this terminal's grid, in order.
    pub layout: Vec<ProductId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Staff {
    pub id: StaffId,
    pub name: String,
    pub role: Role,
    pub badge: Option<TokenId>,
    pub active: bool,
}

/// A wallet as this terminal knows it: the server's last confirmed figures
/// plus this terminal's entries the server has not yet counted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalletView {
    pub token: TokenId,
    pub wallet_id: Option<String>,
    pub blocked: bool,
    /// `None` when this terminal has never seen a confirmed balance.
    pub confirmed_balance: Option<Cents>,
    pub confirmed_at: Option<Timestamp>,
    pub confirmed_cursor: Option<i64>,
    /// Confirmed balance plus this terminal's entries not yet included in it.
    pub available: Cents,
    /// How much of `available` is promo credit from vouchers: spent first,
    /// never paid out (see [`crate::promo`]).
    pub promo: Cents,
    /// Offline-authorised debits not yet acknowledged by the server (<= 0).
    pub unacknowledged_offline_debits: Cents,
    pub deposits: Vec<DepositCount>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DepositCount {
    pub product: ProductId,
    pub count: i64,
}

/// A line of an entry, priced at the moment of the operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Line {
    pub product: ProductId,
    pub name: String,
    pub category: CategoryId,
    /// Negative on cancellations and deposit returns.
    pub quantity: i64,
    pub unit_price: Cents,
    pub vat_rate: VatRate,
    pub deposit: bool,
    /// On a discount line: the pass that gave it (its price is negative,
    /// its product [`crate::passes::DISCOUNT_PRODUCT`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass: Option<crate::passes::PassCode>,
    /// A tip: booked to the shift's tip account, not revenue (product
    /// [`crate::bills::TIP_PRODUCT`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tip: bool,
    /// A line that moves money into or out of a bill's open payments
    /// (product [`crate::bills::BILL_PRODUCT`]): positive on a payment,
    /// negative on the entry that settles the bill with its goods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill: Option<BillId>,
}

impl Line {
    pub fn total(&self) -> Option<Cents> {
        self.unit_price.checked_mul(self.quantity)
    }

    /// Goods sold (or given back): not a deposit, tip or bill line.
    /// Discount lines count: they lower the goods' revenue.
    pub fn is_goods(&self) -> bool {
        !self.deposit && !self.tip && self.bill.is_none()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SyncState {
    Pending,
    Acknowledged {
        server_id: String,
        /// The server's wallet-feed cursor at which this entry was applied.
        server_cursor: i64,
        at: Timestamp,
    },
    Rejected {
        reason: String,
        at: Timestamp,
    },
    /// A wallet sale sent to a plain PointOfSale server whose answer was
    /// lost, where the wallet's balance cannot tell whether it was booked
    /// (other tills moved it). Never sent again: a manager decides. It
    /// counts against the wallet here, as if booked.
    Uncertain {
        reason: String,
        at: Timestamp,
    },
    /// An entry the server cannot take (a plain PointOfSale server has no
    /// credit by POST): kept in this till's books, counted here, never
    /// retried; a manager books it on the server by hand.
    KeptLocally {
        reason: String,
        at: Timestamp,
    },
}

impl SyncState {
    /// Decided for good by the server or by the sync (no retry).
    pub fn is_decided(&self) -> bool {
        !matches!(self, SyncState::Pending)
    }
}

/// One entry of the ledger, with its lines.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Entry {
    pub id: EntryId,
    pub terminal: TerminalId,
    pub sequence: i64,
    pub idempotency_key: IdempotencyKey,
    pub kind: EntryKind,
    pub token: Option<TokenId>,
    pub tender: Tender,
    /// Seen from the guest: credits positive, debits negative.
    pub amount: Cents,
    pub lines: Vec<Line>,
    pub staff: StaffId,
    pub shift: Option<ShiftId>,
    pub terminal_time: Timestamp,
    pub reverses: Option<EntryId>,
    /// Authorised by this terminal's offline rules rather than by a server.
    pub offline: bool,
    /// The wallet's available balance right after this entry, for receipts.
    pub balance_after: Option<Cents>,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shift {
    pub id: ShiftId,
    pub terminal: TerminalId,
    pub staff: StaffId,
    pub opened_at: Timestamp,
    pub float: Cents,
    pub closed: Option<ShiftClose>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShiftClose {
    pub closed_at: Timestamp,
    pub z_number: i64,
    pub expected_cash: Cents,
    pub counted_cash: Cents,
    /// Counted minus expected: negative when cash is missing.
    pub difference: Cents,
    /// Who counted the drawer and closed it (the cashier, or a supervisor
    /// closing a shift its cashier left open); unknown for shifts closed
    /// before this was kept.
    #[serde(default)]
    pub closed_by: Option<StaffId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_follow_seed_001() {
        assert!(Permission::Debit.allows(Direction::Debit));
        assert!(!Permission::Debit.allows(Direction::Credit));
        assert!(Permission::Credit.allows(Direction::Credit));
        assert!(!Permission::Credit.allows(Direction::Debit));
        assert!(Permission::All.allows(Direction::Debit));
        assert!(Permission::All.allows(Direction::Credit));
        assert_eq!("all".parse::<Permission>().unwrap(), Permission::All);
        assert!("root".parse::<Permission>().is_err());
    }

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Cashier < Role::Supervisor && Role::Supervisor < Role::Manager);
    }

    #[test]
    fn effective_price_uses_the_sale_price_only_on_sale() {
        let mut beer = Product::new(
            ProductId::new("beer").unwrap(),
            "Bier",
            CategoryId::new("drinks").unwrap(),
            Cents(450),
            VatRate(1900),
        );
        beer.sale_price = Some(Cents(350));
        assert_eq!(beer.effective_price(), Cents(450));
        beer.on_sale = true;
        assert_eq!(beer.effective_price(), Cents(350));
    }

    #[test]
    fn availability_window_is_half_open() {
        let mut p = Product::new(
            ProductId::new("x").unwrap(),
            "X",
            CategoryId::new("c").unwrap(),
            Cents(1),
            VatRate(0),
        );
        p.available_from = Some(Timestamp(100));
        p.available_until = Some(Timestamp(200));
        assert!(!p.is_available_at(Timestamp(99)));
        assert!(p.is_available_at(Timestamp(100)));
        assert!(p.is_available_at(Timestamp(199)));
        assert!(!p.is_available_at(Timestamp(200)));
    }

    #[test]
    fn products_are_validated() {
        let good = Product::new(
            ProductId::new("x").unwrap(),
            "X",
            CategoryId::new("c").unwrap(),
            Cents(0),
            VatRate(700),
        );
        assert!(good.validate().is_ok(), "a price of 0 is allowed");
        let mut bad = good.clone();
        bad.price = Cents(-1);
        assert!(bad.validate().is_err());
        let mut bad = good.clone();
        bad.on_sale = true;
        assert!(bad.validate().is_err());
        let mut bad = good.clone();
        bad.name = "  ".into();
        assert!(bad.validate().is_err());
        let mut bad = good.clone();
        bad.vat_rate = VatRate(10_001);
        assert!(bad.validate().is_err());
        let mut bad = good.clone();
        bad.deposit_product = Some(bad.id.clone());
        assert!(bad.validate().is_err());
        for reserved in ["tip", "bill", "discount"] {
            let mut bad = good.clone();
            bad.id = ProductId::new(reserved).unwrap();
            assert!(bad.validate().is_err(), "{reserved} is reserved");
        }
        assert!(Colour::new("#12ab3C").is_ok());
        assert!(Colour::new("red").is_err());
    }
}
