//! Passes: QR codes a guest or a volunteer shows at the till — a
//! discount, a voucher credited as promo money, or an allowance (three
//! drinks a day). What a pass is, whether it can be redeemed now, and
//! what it takes off a cart are decided here, for the server and the till
//! alike.

use rand::RngCore;
use serde::{Deserialize, Serialize};

use std::collections::BTreeMap;

use crate::clock::Timestamp;
use crate::error::InputError;
use crate::ids::{CategoryId, ProductId};
use crate::model::Line;
use crate::money::{Cents, VatRate};
use crate::pricing::PricedCart;

/// The product id of discount lines: no product of the catalogue, so
/// reports list what passes took off apart from what was sold.
pub const DISCOUNT_PRODUCT: &str = "discount";
/// The category of discount lines.
pub const DISCOUNT_CATEGORY: &str = "discounts";

/// The text in a pass's QR code. Tapster's own are `TAP-` and 26 Crockford
/// base-32 digits of 128 random bits (unguessable, and QR alphanumeric);
/// imported third-party codes are any 4 to 64 printable ASCII characters.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
pub struct PassCode(String);

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

impl PassCode {
    /// A new random code.
    pub fn generate() -> PassCode {
        let mut bytes = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut bytes);
        let value = u128::from_be_bytes(bytes);
        let digits: String = (0..26)
            .rev()
            .map(|i| CROCKFORD[((value >> (i * 5)) & 31) as usize] as char)
            .collect();
        PassCode(format!("TAP-{digits}"))
    }

    /// A code as scanned or typed: surrounding whitespace is dropped.
    pub fn parse(input: &str) -> Result<PassCode, InputError> {
        let code = input.trim();
        let length = code.chars().count();
        if !(4..=64).contains(&length) {
            return Err(InputError::new("code", "must be 4 to 64 characters"));
        }
        if !code.chars().all(|c| c.is_ascii_graphic()) {
            return Err(InputError::new(
                "code",
                "may hold only printable characters without spaces",
            ));
        }
        Ok(PassCode(code.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What tills keep of a code: its SHA-256 under a domain, as hex. A
    /// till's disk then holds no code that could be printed and used
    /// (an imported short code stays guessable; Tapster's own do not).
    pub fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        hasher.update(b"tapster-pass-v1\n");
        hasher.update(self.0.as_bytes());
        hex::encode(hasher.finalize())
    }

    /// Whether this is one of Tapster's own codes (not an imported one).
    pub fn is_tapster(&self) -> bool {
        self.0.len() == 30
            && self.0.starts_with("TAP-")
            && self.0[4..].bytes().all(|b| CROCKFORD.contains(&b))
    }

    /// For logs and lists: the last four characters of a long code, none
    /// of a short one (a short imported code would be given away whole).
    pub fn masked(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        if chars.len() < 12 {
            return "…".into();
        }
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("…{tail}")
    }
}

impl TryFrom<String> for PassCode {
    type Error = InputError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        PassCode::parse(&value)
    }
}

impl From<PassCode> for String {
    fn from(code: PassCode) -> String {
        code.0
    }
}

impl std::fmt::Display for PassCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The kind of pass, as the seed's `pass_type` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PassType {
    Discount,
    Voucher,
    Allowance,
}

impl PassType {
    pub fn as_str(self) -> &'static str {
        match self {
            PassType::Discount => "discount",
            PassType::Voucher => "voucher",
            PassType::Allowance => "allowance",
        }
    }
}

impl std::str::FromStr for PassType {
    type Err = InputError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "discount" => Ok(PassType::Discount),
            "voucher" => Ok(PassType::Voucher),
            "allowance" => Ok(PassType::Allowance),
            _ => Err(InputError::new(
                "pass_type",
                "must be discount, voucher or allowance",
            )),
        }
    }
}

/// What a discount takes off an order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "off", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Discount {
    /// 1 to 100 percent of the goods (not the deposits).
    Percent { percent: u8 },
    /// A fixed amount, at most the goods' total.
    Amount { amount: Cents },
    /// One unit of this product free.
    FreeProduct { product: ProductId },
}

/// How often an allowance renews.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AllowancePeriod {
    /// In any 24 hours (a festival day does not end at midnight).
    Day,
    /// Over the whole event.
    Event,
}

impl AllowancePeriod {
    /// Redemptions since this moment count against the allowance.
    pub fn counted_since(self, now: Timestamp) -> Timestamp {
        match self {
            AllowancePeriod::Day => Timestamp(now.0.saturating_sub(24 * 3_600_000)),
            AllowancePeriod::Event => Timestamp(i64::MIN),
        }
    }
}

/// What a pass gives.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Benefit {
    Discount {
        discount: Discount,
    },
    /// Promo credit on the wallet: spent before paid money, never paid out.
    Voucher {
        value: Cents,
    },
    /// `count` products of `products` free per `per` (one per redemption).
    Allowance {
        count: u32,
        per: AllowancePeriod,
        products: Vec<ProductId>,
    },
}

impl Benefit {
    pub fn pass_type(&self) -> PassType {
        match self {
            Benefit::Discount { .. } => PassType::Discount,
            Benefit::Voucher { .. } => PassType::Voucher,
            Benefit::Allowance { .. } => PassType::Allowance,
        }
    }

    /// Refuses benefits that make no sense (0 %, a negative voucher…).
    pub fn validate(&self) -> Result<(), InputError> {
        match self {
            Benefit::Discount {
                discount: Discount::Percent { percent },
            } if !(1..=100).contains(percent) => {
                Err(InputError::new("percent", "must be 1 to 100"))
            }
            Benefit::Discount {
                discount: Discount::Amount { amount },
            }
            | Benefit::Voucher { value: amount }
                if !amount.is_positive() || amount.0 > 1_000_000 =>
            {
                Err(InputError::new("value", "must be 0.01 to 10,000.00"))
            }
            Benefit::Allowance {
                count, products, ..
            } => {
                if !(1..=100).contains(count) {
                    Err(InputError::new("count", "must be 1 to 100"))
                } else if products.is_empty() {
                    Err(InputError::new(
                        "products",
                        "must name at least one product",
                    ))
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }
}

/// How often one pass may be redeemed at most.
pub const MAX_REDEMPTIONS: u32 = 1000;

/// A pass's redemption limit: 1 when not given, at most
/// [`MAX_REDEMPTIONS`].
pub fn redemption_limit(given: Option<u32>) -> Result<u32, InputError> {
    match given.unwrap_or(1) {
        limit @ 1..=MAX_REDEMPTIONS => Ok(limit),
        _ => Err(InputError::new(
            "max_redemptions",
            format!("must be 1 to {MAX_REDEMPTIONS}"),
        )),
    }
}

/// A validity window: either end open, but never ending before it starts.
pub fn check_window(from: Option<Timestamp>, until: Option<Timestamp>) -> Result<(), InputError> {
    match (from, until) {
        (Some(from), Some(until)) if until <= from => {
            Err(InputError::new("valid_until", "must be after valid_from"))
        }
        _ => Ok(()),
    }
}

/// A pass as the event keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pass {
    pub code: PassCode,
    pub benefit: Benefit,
    pub title: String,
    pub subtitle: String,
    pub valid_from: Option<Timestamp>,
    pub valid_until: Option<Timestamp>,
    /// How often it can be redeemed in all (allowances: per period).
    pub max_redemptions: u32,
    pub blocked: bool,
    /// A third party's reference (its ticket code, say).
    pub reference: Option<String>,
    /// An imported third-party code rather than one of Tapster's.
    pub external: bool,
}

/// A pass as the server tells tills about it with the sync feed, so a
/// till can take it off a cart offline: everything but the code itself
/// (only its [`PassCode::digest`] travels and is kept).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KnownPass {
    pub code_digest: String,
    pub benefit: Benefit,
    pub title: String,
    #[serde(default)]
    pub subtitle: String,
    pub valid_from: Option<Timestamp>,
    pub valid_until: Option<Timestamp>,
    pub max_redemptions: u32,
    pub blocked: bool,
    pub external: bool,
    /// Redemptions the server had counted when it told (an allowance: in
    /// its period).
    pub used: u32,
    /// The feed's version of this change: a till asks for what came after.
    pub version: i64,
}

impl KnownPass {
    /// The pass, for the code that was scanned (whose digest this is).
    pub fn pass(&self, code: PassCode) -> Pass {
        Pass {
            code,
            benefit: self.benefit.clone(),
            title: self.title.clone(),
            subtitle: self.subtitle.clone(),
            valid_from: self.valid_from,
            valid_until: self.valid_until,
            max_redemptions: self.max_redemptions,
            blocked: self.blocked,
            reference: None,
            external: self.external,
        }
    }
}

/// Why a pass cannot be redeemed now.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "refusal", rename_all = "snake_case")]
pub enum PassRefusal {
    #[error("this pass is blocked")]
    Blocked,
    #[error("this pass is not valid yet")]
    NotYetValid { from: Timestamp },
    #[error("this pass has expired")]
    Expired { until: Timestamp },
    /// The seed's "Pass already redeemed" (or "Code already redeemed" for
    /// an imported code).
    #[error("{}", if *external { "Code already redeemed" } else { "Pass already redeemed" })]
    AlreadyRedeemed { external: bool },
}

impl Pass {
    /// Whether the pass can be redeemed at `now`, having been redeemed
    /// `redeemed` times already (for an allowance: within its period).
    pub fn check_redeemable(&self, now: Timestamp, redeemed: u32) -> Result<(), PassRefusal> {
        if self.blocked {
            return Err(PassRefusal::Blocked);
        }
        if let Some(from) = self.valid_from.filter(|from| now < *from) {
            return Err(PassRefusal::NotYetValid { from });
        }
        if let Some(until) = self.valid_until.filter(|until| now >= *until) {
            return Err(PassRefusal::Expired { until });
        }
        if redeemed >= self.limit() {
            return Err(PassRefusal::AlreadyRedeemed {
                external: self.external,
            });
        }
        Ok(())
    }

    /// How many redemptions count: all of them, or an allowance's period.
    pub fn counted_since(&self, now: Timestamp) -> Timestamp {
        match &self.benefit {
            Benefit::Allowance { per, .. } => per.counted_since(now),
            _ => Timestamp(i64::MIN),
        }
    }

    /// Redemptions allowed within [`Pass::counted_since`].
    pub fn limit(&self) -> u32 {
        match &self.benefit {
            Benefit::Allowance { count, .. } => *count,
            _ => self.max_redemptions,
        }
    }
}

/// Why a pass does not apply to a cart.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize)]
pub enum NotApplicable {
    #[error("the pass is for a product that is not in the cart")]
    ProductNotInCart,
    #[error("a voucher is credited to a wristband, not taken off a cart")]
    NotForCarts,
    #[error("the cart has no goods to take anything off")]
    NothingToDiscount,
    #[error("the cart already has a pass; one pass per sale")]
    AlreadyDiscounted,
}

/// The goods a discount can apply to: not deposits, not discount lines,
/// nothing taken back.
/// Goods a pass may take something off: not deposits, tips, bill lines,
/// other discounts or cups brought back.
fn is_goods(line: &Line) -> bool {
    line.is_goods() && line.pass.is_none() && line.quantity > 0
}

/// What `benefit` takes off `cart` (goods only, never deposits): at most
/// the goods' total, never negative. Percentages round half up, to the
/// guest's benefit.
pub fn amount_off(benefit: &Benefit, cart: &PricedCart) -> Result<Cents, NotApplicable> {
    let goods: i64 = cart
        .lines
        .iter()
        .filter(|line| is_goods(line))
        .map(|line| line.unit_price.0.saturating_mul(line.quantity))
        .fold(0i64, i64::saturating_add);
    if goods <= 0 {
        return Err(NotApplicable::NothingToDiscount);
    }
    let unit_of = |wanted: &[ProductId]| {
        cart.lines
            .iter()
            .filter(|line| is_goods(line) && wanted.contains(&line.product))
            .map(|line| line.unit_price.0)
            .max()
            .ok_or(NotApplicable::ProductNotInCart)
    };
    let off = match benefit {
        Benefit::Voucher { .. } => return Err(NotApplicable::NotForCarts),
        Benefit::Discount {
            discount: Discount::Percent { percent },
        } => {
            // goods ≤ i64::MAX / 100 in any real cart; saturate otherwise.
            goods.saturating_mul(i64::from(*percent)).saturating_add(50) / 100
        }
        Benefit::Discount {
            discount: Discount::Amount { amount },
        } => amount.0,
        Benefit::Discount {
            discount: Discount::FreeProduct { product },
        } => unit_of(std::slice::from_ref(product))?,
        Benefit::Allowance { products, .. } => unit_of(products)?,
    };
    Ok(Cents(off.clamp(0, goods)))
}

/// The lines by which `pass` takes its amount off `cart`: one negative
/// line per VAT rate, so the VAT shrinks with the price. A free product
/// is taken off at that product's rate; a percentage or an amount pro
/// rata over the goods' rates, whole cents, the cents left over going to
/// the rates with the most goods. Each line carries the pass's code.
pub fn discount_lines(pass: &Pass, cart: &PricedCart) -> Result<Vec<Line>, NotApplicable> {
    if cart.lines.iter().any(|line| line.pass.is_some()) {
        return Err(NotApplicable::AlreadyDiscounted);
    }
    let off = amount_off(&pass.benefit, cart)?.0;
    let eligible: Vec<&ProductId> = match &pass.benefit {
        Benefit::Discount {
            discount: Discount::FreeProduct { product },
        } => vec![product],
        Benefit::Allowance { products, .. } => products.iter().collect(),
        _ => Vec::new(),
    };
    let mut gross: BTreeMap<VatRate, i64> = BTreeMap::new();
    if eligible.is_empty() {
        for line in cart.lines.iter().filter(|line| is_goods(line)) {
            let sum = gross.entry(line.vat_rate).or_default();
            *sum = sum.saturating_add(line.unit_price.0.saturating_mul(line.quantity));
        }
    } else {
        // The free unit is the dearest of the eligible ones (as
        // `amount_off` priced it): all of it at that product's rate.
        let line = cart
            .lines
            .iter()
            .filter(|line| is_goods(line) && eligible.contains(&&line.product))
            .max_by_key(|line| line.unit_price.0)
            .ok_or(NotApplicable::ProductNotInCart)?;
        gross.insert(line.vat_rate, off);
    }
    let total: i64 = gross.values().copied().fold(0, i64::saturating_add);
    let mut shares: Vec<(VatRate, i64, i64)> = gross
        .into_iter()
        .map(|(rate, g)| {
            // off ≤ total, so the share ≤ g; i128 keeps the product exact.
            let share = (i128::from(off) * i128::from(g) / i128::from(total.max(1))) as i64;
            (rate, g, share)
        })
        .collect();
    let mut left = off - shares.iter().map(|(_, _, share)| share).sum::<i64>();
    let mut by_size: Vec<usize> = (0..shares.len()).collect();
    by_size.sort_by_key(|&i| std::cmp::Reverse(shares[i].1));
    while left > 0 {
        let before = left;
        for &i in &by_size {
            if left > 0 && shares[i].2 < shares[i].1 {
                shares[i].2 += 1;
                left -= 1;
            }
        }
        if left == before {
            break;
        }
    }
    let product = ProductId::new(DISCOUNT_PRODUCT).expect("a valid id");
    let category = CategoryId::new(DISCOUNT_CATEGORY).expect("a valid id");
    Ok(shares
        .into_iter()
        .filter(|(_, _, share)| *share > 0)
        .map(|(rate, _, share)| Line {
            product: product.clone(),
            name: pass.title.clone(),
            category: category.clone(),
            quantity: 1,
            unit_price: Cents(-share),
            vat_rate: rate,
            deposit: false,
            pass: Some(pass.code.clone()),
            tip: false,
            bill: None,
        })
        .collect())
}

/// `cart` with `pass` taken off: its discount lines after the goods
/// (before the deposits) and the total lowered by them.
pub fn apply_pass(mut cart: PricedCart, pass: &Pass) -> Result<PricedCart, NotApplicable> {
    let lines = discount_lines(pass, &cart)?;
    let off: i64 = lines.iter().map(|line| line.unit_price.0).sum();
    let at = cart
        .lines
        .iter()
        .position(|line| line.deposit)
        .unwrap_or(cart.lines.len());
    cart.lines.splice(at..at, lines);
    cart.total = Cents(cart.total.0 + off);
    Ok(cart)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::CategoryId;
    use crate::model::Line;
    use crate::money::VatRate;
    use proptest::prelude::*;

    fn line(product: &str, unit: i64, quantity: i64, deposit: bool) -> Line {
        Line {
            product: ProductId::new(product).unwrap(),
            name: product.into(),
            category: CategoryId::new("drinks").unwrap(),
            quantity,
            unit_price: Cents(unit),
            vat_rate: VatRate(1900),
            deposit,
            pass: None,
            tip: false,
            bill: None,
        }
    }

    fn cart(lines: Vec<Line>) -> PricedCart {
        let total = lines.iter().map(|l| l.unit_price.0 * l.quantity).sum();
        PricedCart {
            lines,
            total: Cents(total),
            stock_needed: Vec::new(),
        }
    }

    fn pass(benefit: Benefit) -> Pass {
        Pass {
            code: PassCode::generate(),
            benefit,
            title: "Freigetränk".into(),
            subtitle: String::new(),
            valid_from: Some(Timestamp(1_000)),
            valid_until: Some(Timestamp(2_000)),
            max_redemptions: 1,
            blocked: false,
            reference: None,
            external: false,
        }
    }

    #[test]
    fn a_pass_takes_nothing_off_tips_bill_lines_or_cups_brought_back() {
        let ten_percent = pass(Benefit::Discount {
            discount: Discount::Percent { percent: 10 },
        });
        let goods = cart(vec![line("beer", 500, 2, false)]);
        let mut busy = goods.lines.clone();
        busy.push(line("cup", -200, 1, true));
        busy.push(crate::bills::tip_line(Cents(300)));
        busy.push(crate::bills::bill_line(
            crate::ids::BillId(uuid::Uuid::nil()),
            Cents(-1_000),
        ));
        let busy = cart(busy);
        assert_eq!(amount_off(&ten_percent.benefit, &busy), Ok(Cents(100)));
        assert_eq!(
            discount_lines(&ten_percent, &busy).unwrap(),
            discount_lines(&ten_percent, &goods).unwrap()
        );
    }

    #[test]
    fn codes_are_unguessable_and_scannable() {
        let a = PassCode::generate();
        let b = PassCode::generate();
        assert_ne!(a, b);
        assert!(a.is_tapster(), "{a}");
        assert_eq!(a.as_str().len(), 30);
        assert!(a
            .as_str()
            .bytes()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'-'));
        assert_eq!(PassCode::parse(&format!("  {a}\n")).unwrap(), a);
        assert!(PassCode::parse("ab").is_err());
        assert!(PassCode::parse("with space").is_err());
        let imported = PassCode::parse("EVT-2026-000123").unwrap();
        assert!(!imported.is_tapster());
        assert_eq!(imported.masked(), "…0123");
        assert_eq!(
            PassCode::parse("AB12").unwrap().masked(),
            "…",
            "never a whole code"
        );
    }

    #[test]
    fn a_pass_is_redeemable_inside_its_window_until_its_limit() {
        let p = pass(Benefit::Voucher { value: Cents(500) });
        assert_eq!(p.check_redeemable(Timestamp(1_500), 0), Ok(()));
        assert!(matches!(
            p.check_redeemable(Timestamp(999), 0),
            Err(PassRefusal::NotYetValid { .. })
        ));
        assert!(matches!(
            p.check_redeemable(Timestamp(2_000), 0),
            Err(PassRefusal::Expired { .. })
        ));
        let used = p.check_redeemable(Timestamp(1_500), 1).unwrap_err();
        assert_eq!(used.to_string(), "Pass already redeemed");
        let external = Pass {
            external: true,
            ..p.clone()
        };
        assert_eq!(
            external
                .check_redeemable(Timestamp(1_500), 1)
                .unwrap_err()
                .to_string(),
            "Code already redeemed"
        );
        let blocked = Pass { blocked: true, ..p };
        assert_eq!(
            blocked.check_redeemable(Timestamp(1_500), 0),
            Err(PassRefusal::Blocked)
        );
    }

    #[test]
    fn an_allowance_renews_after_a_day() {
        let beer = ProductId::new("beer").unwrap();
        let p = Pass {
            valid_from: None,
            valid_until: None,
            ..pass(Benefit::Allowance {
                count: 3,
                per: AllowancePeriod::Day,
                products: vec![beer],
            })
        };
        let now = Timestamp(100 * 3_600_000);
        assert_eq!(p.counted_since(now), Timestamp(76 * 3_600_000));
        assert_eq!(p.check_redeemable(now, 2), Ok(()));
        assert!(p.check_redeemable(now, 3).is_err());
    }

    #[test]
    fn discounts_take_goods_off_never_deposits() {
        let c = cart(vec![
            line("beer", 450, 2, false),
            line("water", 250, 1, false),
            line("cup", 300, 3, true),
        ]);
        let percent = |p| {
            amount_off(
                &Benefit::Discount {
                    discount: Discount::Percent { percent: p },
                },
                &c,
            )
        };
        assert_eq!(percent(10), Ok(Cents(115)));
        assert_eq!(percent(100), Ok(Cents(1150)), "deposits stay");
        let amount = |a| {
            amount_off(
                &Benefit::Discount {
                    discount: Discount::Amount { amount: Cents(a) },
                },
                &c,
            )
        };
        assert_eq!(amount(500), Ok(Cents(500)));
        assert_eq!(amount(5_000), Ok(Cents(1150)));
        let free = |p: &str| {
            amount_off(
                &Benefit::Discount {
                    discount: Discount::FreeProduct {
                        product: ProductId::new(p).unwrap(),
                    },
                },
                &c,
            )
        };
        assert_eq!(free("water"), Ok(Cents(250)));
        assert_eq!(free("wine"), Err(NotApplicable::ProductNotInCart));
        let allowance = Benefit::Allowance {
            count: 3,
            per: AllowancePeriod::Day,
            products: vec![
                ProductId::new("water").unwrap(),
                ProductId::new("beer").unwrap(),
            ],
        };
        assert_eq!(
            amount_off(&allowance, &c),
            Ok(Cents(450)),
            "the dearest of the set"
        );
        assert_eq!(
            amount_off(&Benefit::Voucher { value: Cents(500) }, &c),
            Err(NotApplicable::NotForCarts)
        );
        assert_eq!(
            amount_off(
                &Benefit::Discount {
                    discount: Discount::Percent { percent: 50 }
                },
                &cart(vec![line("cup", 300, 1, true)])
            ),
            Err(NotApplicable::NothingToDiscount)
        );
    }

    #[test]
    fn limits_and_windows_are_checked() {
        assert_eq!(redemption_limit(None), Ok(1));
        assert_eq!(redemption_limit(Some(1000)), Ok(1000));
        assert!(redemption_limit(Some(0)).is_err());
        assert!(redemption_limit(Some(1001)).is_err());
        assert!(check_window(Some(Timestamp(10)), Some(Timestamp(10))).is_err());
        assert!(check_window(Some(Timestamp(10)), None).is_ok());
        assert!(check_window(None, Some(Timestamp(5))).is_ok());
    }

    #[test]
    fn benefits_that_make_no_sense_are_refused() {
        let bad = [
            Benefit::Discount {
                discount: Discount::Percent { percent: 0 },
            },
            Benefit::Discount {
                discount: Discount::Percent { percent: 101 },
            },
            Benefit::Discount {
                discount: Discount::Amount { amount: Cents(0) },
            },
            Benefit::Voucher { value: Cents(-5) },
            Benefit::Allowance {
                count: 0,
                per: AllowancePeriod::Day,
                products: vec![ProductId::new("beer").unwrap()],
            },
            Benefit::Allowance {
                count: 3,
                per: AllowancePeriod::Day,
                products: vec![],
            },
        ];
        for benefit in bad {
            assert!(benefit.validate().is_err(), "{benefit:?}");
        }
        assert!(Benefit::Voucher { value: Cents(500) }.validate().is_ok());
    }

    fn at_rate(mut l: Line, rate: u32) -> Line {
        l.vat_rate = VatRate(rate);
        l
    }

    #[test]
    fn a_discount_is_split_over_the_vat_rates_and_carries_the_pass() {
        let c = cart(vec![
            at_rate(line("beer", 450, 2, false), 1900),
            at_rate(line("pretzel", 301, 1, false), 700),
            at_rate(line("cup", 300, 2, true), 0),
        ]);
        let p = pass(Benefit::Discount {
            discount: Discount::Percent { percent: 10 },
        });
        let lines = discount_lines(&p, &c).unwrap();
        // 10 % of 12.01 = 1.20 (half up): 9.00 → 0.89 (+1 left over, the
        // larger rate), 3.01 → 0.30.
        let by_rate: Vec<(u32, i64)> = lines
            .iter()
            .map(|l| (l.vat_rate.0, l.unit_price.0))
            .collect();
        assert_eq!(by_rate, vec![(700, -30), (1900, -90)]);
        assert!(lines.iter().all(|l| l.pass.as_ref() == Some(&p.code)
            && l.product.as_str() == DISCOUNT_PRODUCT
            && l.quantity == 1
            && !l.deposit));
        let applied = apply_pass(c.clone(), &p).unwrap();
        assert_eq!(applied.total, Cents(c.total.0 - 120));
        assert!(applied.lines.last().unwrap().deposit, "deposits stay last");
        assert_eq!(
            apply_pass(applied, &p),
            Err(NotApplicable::AlreadyDiscounted),
            "one pass per sale"
        );
        let free = pass(Benefit::Discount {
            discount: Discount::FreeProduct {
                product: ProductId::new("pretzel").unwrap(),
            },
        });
        let lines = discount_lines(&free, &c).unwrap();
        assert_eq!(lines.len(), 1);
        assert_eq!((lines[0].vat_rate.0, lines[0].unit_price.0), (700, -301));
    }

    proptest! {
        /// Discount lines take exactly the amount off, never more than a
        /// rate's goods at that rate, and leave the deposits alone.
        #[test]
        fn discount_lines_add_up_per_rate(
            lines in prop::collection::vec((0usize..4, 0i64..5_000, 1i64..20, any::<bool>(), 0usize..3), 1..8),
            percent in 1u8..=100,
            amount in 1i64..100_000,
            which in 0usize..4,
        ) {
            let names = ["beer", "water", "wine", "cup"];
            let rates = [0u32, 700, 1900];
            let c = cart(lines.iter().map(|(p, unit, q, d, r)| at_rate(line(names[*p], *unit, *q, *d), rates[*r])).collect());
            let benefits = [
                Benefit::Discount { discount: Discount::Percent { percent } },
                Benefit::Discount { discount: Discount::Amount { amount: Cents(amount) } },
                Benefit::Discount { discount: Discount::FreeProduct { product: ProductId::new(names[which]).unwrap() } },
                Benefit::Allowance { count: 2, per: AllowancePeriod::Day, products: vec![ProductId::new(names[which]).unwrap(), ProductId::new("water").unwrap()] },
            ];
            for benefit in benefits {
                let p = pass(benefit);
                let Ok(off) = amount_off(&p.benefit, &c) else {
                    prop_assert!(discount_lines(&p, &c).is_err());
                    continue;
                };
                let discount = discount_lines(&p, &c).unwrap();
                let taken: i64 = discount.iter().map(|l| -l.unit_price.0).sum();
                prop_assert_eq!(taken, off.0);
                for l in &discount {
                    prop_assert!(l.unit_price.0 < 0 && !l.deposit && l.pass.is_some());
                    let goods_at_rate: i64 = c.lines.iter()
                        .filter(|g| !g.deposit && g.vat_rate == l.vat_rate)
                        .map(|g| g.unit_price.0 * g.quantity).sum();
                    prop_assert!(-l.unit_price.0 <= goods_at_rate);
                }
                let applied = apply_pass(c.clone(), &p).unwrap();
                prop_assert_eq!(applied.total.0, c.total.0 - off.0);
                prop_assert_eq!(crate::pricing::lines_total(&applied.lines).unwrap(), applied.total);
            }
        }
    }

    proptest! {
        /// Whatever the cart and the pass: the amount off is never
        /// negative, never more than the goods, and the deposits are
        /// always still paid in full.
        #[test]
        fn the_amount_off_stays_within_the_goods(
            lines in prop::collection::vec((0usize..4, 0i64..5_000, 1i64..20, any::<bool>()), 1..8),
            percent in 1u8..=100,
            amount in 1i64..100_000,
            which in 0usize..4,
        ) {
            let names = ["beer", "water", "wine", "cup"];
            let c = cart(lines.iter().map(|(p, unit, q, d)| line(names[*p], *unit, *q, *d)).collect());
            let goods: i64 = c.lines.iter().filter(|l| !l.deposit).map(|l| l.unit_price.0 * l.quantity).sum();
            let deposits: i64 = c.lines.iter().filter(|l| l.deposit).map(|l| l.unit_price.0 * l.quantity).sum();
            let benefits = [
                Benefit::Discount { discount: Discount::Percent { percent } },
                Benefit::Discount { discount: Discount::Amount { amount: Cents(amount) } },
                Benefit::Discount { discount: Discount::FreeProduct { product: ProductId::new(names[which]).unwrap() } },
                Benefit::Allowance { count: 1, per: AllowancePeriod::Event, products: vec![ProductId::new(names[which]).unwrap()] },
            ];
            for benefit in &benefits {
                if let Ok(off) = amount_off(benefit, &c) {
                    prop_assert!(off.0 >= 0 && off.0 <= goods, "{benefit:?}: {off} of {goods}");
                    prop_assert!(c.total.0 - off.0 >= deposits);
                }
            }
            let full = amount_off(&Benefit::Discount { discount: Discount::Percent { percent: 100 } }, &c);
            if goods > 0 {
                prop_assert_eq!(full, Ok(Cents(goods)));
            }
        }
    }
}
