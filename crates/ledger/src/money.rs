//! Money: signed integer cents with checked arithmetic, and VAT rates in basis points.
//!
//! Floats never touch money. Every operation that can overflow returns `None`
//! (or `LedgerError::AmountOverflow` one level up) instead of wrapping.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An amount of money in cents of the event's currency. Signed: credits are
/// positive and debits negative, as in the PointOfSale API.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Cents(pub i64);

impl Cents {
    pub const ZERO: Cents = Cents(0);

    pub const fn new(cents: i64) -> Self {
        Cents(cents)
    }

    pub const fn get(self) -> i64 {
        self.0
    }

    pub fn checked_add(self, other: Cents) -> Option<Cents> {
        self.0.checked_add(other.0).map(Cents)
    }

    pub fn checked_sub(self, other: Cents) -> Option<Cents> {
        self.0.checked_sub(other.0).map(Cents)
    }

    pub fn checked_mul(self, factor: i64) -> Option<Cents> {
        self.0.checked_mul(factor).map(Cents)
    }

    pub fn checked_neg(self) -> Option<Cents> {
        self.0.checked_neg().map(Cents)
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn is_positive(self) -> bool {
        self.0 > 0
    }

    /// Parses a decimal amount in the currency (`12.50`, `3`, `-0.05`)
    /// exactly, as APIs that send prices as numbers do (seed 004). More
    /// than two decimals, exponents and anything else are refused.
    pub fn parse_decimal(text: &str) -> Result<Cents, crate::error::InputError> {
        let bad = |why: &str| crate::error::InputError::new("price", format!("'{text}' {why}"));
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let plain = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !plain(whole) || !plain(fraction) || digits.ends_with('.') {
            return Err(bad("is not a decimal amount like 12.50"));
        }
        if fraction.len() > 2 {
            return Err(bad("has more than two decimals"));
        }
        let too_large = || bad("is too large");
        let whole: i64 = whole.parse().map_err(|_| too_large())?;
        let fraction: i64 = if fraction.is_empty() {
            0
        } else {
            format!("{fraction:0<2}").parse().map_err(|_| too_large())?
        };
        let magnitude = whole
            .checked_mul(100)
            .and_then(|w| w.checked_add(fraction))
            .ok_or_else(too_large)?;
        Ok(Cents(if negative { -magnitude } else { magnitude }))
    }

    /// Sum of many amounts, `None` on overflow.
    pub fn checked_sum<I: IntoIterator<Item = Cents>>(amounts: I) -> Option<Cents> {
        amounts
            .into_iter()
            .try_fold(Cents::ZERO, |acc, amount| acc.checked_add(amount))
    }
}

/// Plain `12.34` / `-0.05` rendering, for logs and error messages. The UI
/// formats with the currency and locale itself.
impl fmt::Display for Cents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

/// A VAT rate in basis points: 1900 is 19 %, 700 is 7 %, 0 for deposits.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VatRate(pub u32);

impl VatRate {
    /// Rates above 100 % are refused as input errors.
    pub const MAX_BASIS_POINTS: u32 = 10_000;

    pub const fn basis_points(self) -> u32 {
        self.0
    }

    /// Splits a gross amount (prices include VAT, as on German bar menus) into
    /// net and VAT, rounding the VAT half away from zero. Splitting the sum
    /// per rate, not each line, keeps the receipt's VAT equal to the report's.
    pub fn split_gross(self, gross: Cents) -> VatSplit {
        let rate = i128::from(self.0);
        let gross_wide = i128::from(gross.0);
        let denominator = 10_000 + rate;
        let numerator = gross_wide * rate;
        // Round half away from zero: |vat| = floor((2|n| + d) / 2d).
        let magnitude = (2 * numerator.abs() + denominator) / (2 * denominator);
        let vat = if numerator < 0 { -magnitude } else { magnitude };
        // |vat| <= |gross|, so both fit back into i64.
        let vat = i64::try_from(vat).unwrap_or(0);
        VatSplit {
            rate: self,
            gross,
            net: Cents(gross.0 - vat),
            vat: Cents(vat),
        }
    }
}

impl fmt::Display for VatRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.0 / 100;
        let frac = self.0 % 100;
        if frac == 0 {
            write!(f, "{whole} %")
        } else {
            write!(f, "{whole}.{frac:02} %")
        }
    }
}

/// Gross = net + VAT, exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VatSplit {
    pub rate: VatRate,
    pub gross: Cents,
    pub net: Cents,
    pub vat: Cents,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checked_arithmetic_refuses_overflow() {
        assert_eq!(Cents(i64::MAX).checked_add(Cents(1)), None);
        assert_eq!(Cents(i64::MIN).checked_sub(Cents(1)), None);
        assert_eq!(Cents(i64::MAX / 2 + 1).checked_mul(2), None);
        assert_eq!(Cents(i64::MIN).checked_neg(), None);
        assert_eq!(Cents::checked_sum([Cents(i64::MAX), Cents(1)]), None);
        assert_eq!(
            Cents::checked_sum([Cents(250), Cents(-50), Cents(0)]),
            Some(Cents(200))
        );
    }

    #[test]
    fn decimals_parse_exactly_to_cents() {
        for (text, cents) in [
            ("12.50", 1250),
            ("12.5", 1250),
            ("3", 300),
            ("-0.05", -5),
            ("0.1", 10),
        ] {
            assert_eq!(Cents::parse_decimal(text).unwrap(), Cents(cents), "{text}");
        }
        for bad in [
            "12.505",
            "1e2",
            "",
            ".5",
            "5.",
            "abc",
            "1,50",
            "99999999999999999999",
        ] {
            assert!(
                Cents::parse_decimal(bad).is_err(),
                "{bad} should be refused"
            );
        }
    }

    #[test]
    fn displays_as_decimal() {
        assert_eq!(Cents(1234).to_string(), "12.34");
        assert_eq!(Cents(-5).to_string(), "-0.05");
        assert_eq!(Cents(0).to_string(), "0.00");
        assert_eq!(Cents(i64::MIN).to_string(), "-92233720368547758.08");
        assert_eq!(VatRate(1900).to_string(), "19 %");
        assert_eq!(VatRate(550).to_string(), "5.50 %");
    }

    #[test]
    fn vat_split_matches_german_receipts() {
        // 4.50 € beer at 19 %: net 3.78, VAT 0.72.
        let split = VatRate(1900).split_gross(Cents(450));
        assert_eq!((split.net, split.vat), (Cents(378), Cents(72)));
        // 3.00 € food at 7 %: 2.80 + 0.20 (0.1963 rounds up).
        let split = VatRate(700).split_gross(Cents(300));
        assert_eq!((split.net, split.vat), (Cents(280), Cents(20)));
        // Deposits carry no VAT.
        let split = VatRate(0).split_gross(Cents(200));
        assert_eq!((split.net, split.vat), (Cents(200), Cents(0)));
        // Negative amounts (cancellations) mirror positive ones.
        let split = VatRate(1900).split_gross(Cents(-450));
        assert_eq!((split.net, split.vat), (Cents(-378), Cents(-72)));
    }

    #[test]
    fn vat_split_never_overflows_and_always_adds_up() {
        for gross in [i64::MAX, i64::MIN, 1, -1, 0, 119, 12_345_678] {
            for rate in [0, 1, 700, 1900, 10_000] {
                let split = VatRate(rate).split_gross(Cents(gross));
                assert_eq!(split.net.0.checked_add(split.vat.0), Some(gross));
                assert!(split.vat.0.unsigned_abs() <= gross.unsigned_abs());
            }
        }
    }
}
