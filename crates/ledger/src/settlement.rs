//! What each vendor is owed. A vendor (an independent food or drink
//! business at the event) owns products and bars; every goods line of a
//! sale is attributed to a vendor when it is booked ([`attribute`]), and
//! the settlement of a period is computed from those lines alone
//! ([`settle`]), so a vendor can check it line by line.
//!
//! Deposits (cups) and tips are not a vendor's: cups are the organiser's
//! liability to the guest, tips the staff's.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{InputError, LedgerError, Result};
use crate::ids::{ProductId, VendorId};
use crate::model::{Line, Product};
use crate::money::{Cents, VatRate};

/// The organiser's cut: a share of the vendor's gross and/or a fixed fee
/// per settlement.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Commission {
    /// Basis points of the gross (1500 = 15 %).
    pub rate_bp: i64,
    pub fixed_fee: Cents,
}

impl Commission {
    pub fn validate(&self) -> std::result::Result<(), InputError> {
        if !(0..=10_000).contains(&self.rate_bp) {
            return Err(InputError::new(
                "commission",
                "must be 0 to 100 % (0 to 10000 basis points)",
            ));
        }
        if self.fixed_fee.is_negative() {
            return Err(InputError::new("fixed fee", "must not be negative"));
        }
        Ok(())
    }

    /// The share of `gross`, rounded half away from zero (a period whose
    /// cancellations outweigh its sales gets the share back).
    pub fn share_of(&self, gross: Cents) -> Result<Cents> {
        let numerator = i128::from(gross.0) * i128::from(self.rate_bp);
        let magnitude = (2 * numerator.abs() + 10_000) / 20_000;
        let share = if numerator < 0 { -magnitude } else { magnitude };
        i64::try_from(share)
            .map(Cents)
            .map_err(|_| LedgerError::AmountOverflow)
    }
}

/// Who a line's money goes to: the product's vendor, else the vendor of
/// the bar where it was sold; a discount line goes with the goods it
/// discounted when they are all one vendor's, else with the bar.
/// `None`: the organiser's own sale. Deposit, tip and bill lines are
/// nobody's here.
pub fn attribute<'a>(
    lines: &'a [Line],
    product: impl Fn(&ProductId) -> Option<&'a Product>,
    location_vendor: Option<&VendorId>,
) -> Vec<(usize, Option<VendorId>)> {
    let goods = |line: &Line| line.is_goods();
    let vendor_of = |line: &Line| {
        product(&line.product)
            .and_then(|p| p.vendor.clone())
            .or_else(|| location_vendor.cloned())
    };
    let product_vendors: Vec<Option<VendorId>> = lines
        .iter()
        .filter(|l| goods(l) && l.pass.is_none())
        .map(vendor_of)
        .collect();
    let single_vendor = match product_vendors.split_first() {
        Some((first, rest)) if rest.iter().all(|v| v == first) => Some(first.clone()),
        _ => None,
    };
    lines
        .iter()
        .enumerate()
        .filter(|(_, l)| goods(l))
        .map(|(i, line)| {
            let vendor = if line.pass.is_some() {
                single_vendor
                    .clone()
                    .unwrap_or_else(|| location_vendor.cloned())
            } else {
                vendor_of(line)
            };
            (i, vendor)
        })
        .collect()
}

/// One attributed line as the settlement reads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VendorLine {
    pub transaction_id: String,
    /// When it was sold (the till's time), ms since the epoch.
    pub at: i64,
    pub terminal_id: Option<String>,
    pub product_id: String,
    pub name: String,
    /// Negative on a cancellation.
    pub quantity: i64,
    pub unit_price: Cents,
    pub vat_rate: VatRate,
    /// From a cancellation (or refund) of an earlier sale.
    pub cancellation: bool,
}

impl VendorLine {
    pub fn gross(&self) -> Result<Cents> {
        self.unit_price
            .checked_mul(self.quantity)
            .ok_or(LedgerError::AmountOverflow)
    }
}

/// VAT of one rate within a settlement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VatTotal {
    pub rate: VatRate,
    pub gross: Cents,
    pub net: Cents,
    pub vat: Cents,
}

/// A vendor's figures for a period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settlement {
    /// Sales before cancellations.
    pub sales: Cents,
    /// Cancellations and refunds (zero or negative).
    pub cancellations: Cents,
    /// `sales + cancellations`: what guests paid for the vendor's goods.
    pub gross: Cents,
    pub vat: Vec<VatTotal>,
    pub commission_rate_bp: i64,
    pub commission: Cents,
    pub fixed_fee: Cents,
    /// `gross − commission − fixed_fee`.
    pub payable: Cents,
    pub line_count: usize,
}

/// Sums a vendor's lines into its settlement.
pub fn settle(lines: &[VendorLine], commission: Commission) -> Result<Settlement> {
    let mut sales = Cents::ZERO;
    let mut cancellations = Cents::ZERO;
    let mut by_rate: BTreeMap<u32, Cents> = BTreeMap::new();
    for line in lines {
        let gross = line.gross()?;
        let bucket = if line.cancellation {
            &mut cancellations
        } else {
            &mut sales
        };
        *bucket = bucket
            .checked_add(gross)
            .ok_or(LedgerError::AmountOverflow)?;
        let rate = by_rate.entry(line.vat_rate.0).or_insert(Cents::ZERO);
        *rate = rate.checked_add(gross).ok_or(LedgerError::AmountOverflow)?;
    }
    let gross = sales
        .checked_add(cancellations)
        .ok_or(LedgerError::AmountOverflow)?;
    let vat = by_rate
        .into_iter()
        .map(|(rate, gross)| {
            let split = VatRate(rate).split_gross(gross);
            VatTotal {
                rate: split.rate,
                gross: split.gross,
                net: split.net,
                vat: split.vat,
            }
        })
        .collect();
    let share = commission.share_of(gross)?;
    let payable = gross
        .checked_sub(share)
        .and_then(|rest| rest.checked_sub(commission.fixed_fee))
        .ok_or(LedgerError::AmountOverflow)?;
    Ok(Settlement {
        sales,
        cancellations,
        gross,
        vat,
        commission_rate_bp: commission.rate_bp,
        commission: share,
        fixed_fee: commission.fixed_fee,
        payable,
        line_count: lines.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::CategoryId;
    use proptest::prelude::*;

    fn vendor(id: &str) -> VendorId {
        VendorId::new(id).unwrap()
    }

    fn product(id: &str, vendor_id: Option<&str>) -> Product {
        let mut p = Product::new(
            ProductId::new(id).unwrap(),
            id,
            CategoryId::new("food").unwrap(),
            Cents(800),
            VatRate(700),
        );
        p.vendor = vendor_id.map(vendor);
        p
    }

    fn line(p: &Product, quantity: i64) -> Line {
        Line {
            product: p.id.clone(),
            name: p.name.clone(),
            category: p.category.clone(),
            quantity,
            unit_price: p.price,
            vat_rate: p.vat_rate,
            deposit: false,
            pass: None,
            tip: false,
            bill: None,
        }
    }

    #[test]
    fn lines_go_to_the_product_vendor_then_the_bar_and_cups_and_tips_to_nobody() {
        let crepe = product("crepe", Some("marie"));
        let water = product("water", None);
        let cup = product("cup", None);
        let catalogue = [crepe.clone(), water.clone(), cup.clone()];
        let find = |id: &ProductId| catalogue.iter().find(|p| &p.id == id);
        let mut deposit = line(&cup, 1);
        deposit.deposit = true;
        let mut tip = line(&water, 1);
        tip.tip = true;
        let lines = [line(&crepe, 1), line(&water, 2), deposit, tip];
        let bar = vendor("beach-bar");
        let attributed = attribute(&lines, find, Some(&bar));
        assert_eq!(
            attributed,
            vec![(0, Some(vendor("marie"))), (1, Some(bar.clone()))]
        );
        assert_eq!(attribute(&lines, find, None)[1], (1, None));
    }

    #[test]
    fn a_discount_goes_with_a_single_vendors_goods() {
        let crepe = product("crepe", Some("marie"));
        let find = |id: &ProductId| (id == &crepe.id).then_some(&crepe);
        let mut discount = line(&product("discount", None), 1);
        discount.unit_price = Cents(-200);
        discount.pass = Some(crate::passes::PassCode::parse("PASS1234").unwrap());
        let lines = [line(&crepe, 1), discount];
        let attributed = attribute(&lines, find, Some(&vendor("beach-bar")));
        assert_eq!(attributed[1], (1, Some(vendor("marie"))));
    }

    #[test]
    fn settlement_of_a_known_period() {
        let l = |quantity: i64, price: i64, rate: u32, cancellation: bool| VendorLine {
            transaction_id: "t".into(),
            at: 0,
            terminal_id: None,
            product_id: "p".into(),
            name: "p".into(),
            quantity,
            unit_price: Cents(price),
            vat_rate: VatRate(rate),
            cancellation,
        };
        let lines = [
            l(10, 800, 700, false),
            l(4, 450, 1900, false),
            l(-1, 800, 700, true),
        ];
        let s = settle(
            &lines,
            Commission {
                rate_bp: 1500,
                fixed_fee: Cents(5000),
            },
        )
        .unwrap();
        assert_eq!(s.sales, Cents(9800));
        assert_eq!(s.cancellations, Cents(-800));
        assert_eq!(s.gross, Cents(9000));
        assert_eq!(s.commission, Cents(1350));
        assert_eq!(s.payable, Cents(9000 - 1350 - 5000));
        assert_eq!(s.vat.len(), 2);
        assert_eq!(s.vat[0].gross, Cents(7200));
        assert_eq!(s.vat[0].vat, Cents(471));
        assert_eq!(s.vat[1].gross, Cents(1800));
        assert_eq!(s.vat[1].vat, Cents(287));
    }

    #[test]
    fn commission_rounds_half_away_from_zero_and_refuses_nonsense() {
        let c = Commission {
            rate_bp: 1250,
            fixed_fee: Cents::ZERO,
        };
        assert_eq!(c.share_of(Cents(4)).unwrap(), Cents(1)); // 0.5 → 1
        assert_eq!(c.share_of(Cents(-4)).unwrap(), Cents(-1));
        assert_eq!(c.share_of(Cents(3)).unwrap(), Cents(0)); // 0.375 → 0
        assert!(Commission {
            rate_bp: 10_001,
            fixed_fee: Cents::ZERO
        }
        .validate()
        .is_err());
        assert!(Commission {
            rate_bp: 0,
            fixed_fee: Cents(-1)
        }
        .validate()
        .is_err());
    }

    proptest! {
        /// The settlement adds up: gross is the sum of the lines, VAT
        /// per rate sums to gross, and payable is gross less the cut.
        #[test]
        fn a_settlement_is_the_sum_of_its_lines(
            raw in proptest::collection::vec((-5i64..20, 0i64..5000, 0usize..3, any::<bool>()), 0..40),
            rate_bp in 0i64..=10_000,
            fee in 0i64..100_000,
        ) {
            let rates = [0, 700, 1900];
            let lines: Vec<VendorLine> = raw.iter().map(|(q, price, r, cancellation)| VendorLine {
                transaction_id: "t".into(),
                at: 0,
                terminal_id: None,
                product_id: "p".into(),
                name: "p".into(),
                quantity: if *cancellation { -q.abs() } else { *q },
                unit_price: Cents(*price),
                vat_rate: VatRate(rates[*r]),
                cancellation: *cancellation,
            }).collect();
            let s = settle(&lines, Commission { rate_bp, fixed_fee: Cents(fee) }).unwrap();
            let total: i64 = lines.iter().map(|l| l.quantity * l.unit_price.0).sum();
            prop_assert_eq!(s.gross.0, total);
            prop_assert_eq!(s.sales.0 + s.cancellations.0, total);
            prop_assert_eq!(s.vat.iter().map(|v| v.gross.0).sum::<i64>(), total);
            for v in &s.vat {
                prop_assert_eq!(v.net.0 + v.vat.0, v.gross.0);
            }
            prop_assert_eq!(s.payable.0, total - s.commission.0 - fee);
            prop_assert!((s.commission.0 * 10_000 - total * rate_bp).abs() <= 5_000);
        }
    }
}
