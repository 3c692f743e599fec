//! A guest's request to get the rest of their wristband's balance paid out
//! by bank transfer (SEPA), or given to the cause the organiser names.
//! Checked here once, for the guest pages and the manager alike: the
//! account holder's name, the IBAN (its checksum and its country's format,
//! `iban_validate`), the country against the event's allow-list, the
//! e-mail address, and the donation.

use iban::{Iban, IbanLike};
use serde::{Deserialize, Serialize};

use crate::Cents;

/// The SEPA scheme's countries (EPC, 2024): the default allow-list.
pub const SEPA_COUNTRIES: &[&str] = &[
    "AD", "AT", "BE", "BG", "CH", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GB", "GI", "GR",
    "HR", "HU", "IE", "IS", "IT", "LI", "LT", "LU", "LV", "MC", "MT", "NL", "NO", "PL", "PT", "RO",
    "SE", "SI", "SK", "SM", "VA",
];

/// Longest account holder's name a SEPA transfer carries.
pub const MAX_NAME: usize = 70;

/// How much of the rest goes to the organiser's cause.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "cents", rename_all = "snake_case")]
pub enum Donation {
    None,
    /// At most this much (less if less is left at the payout).
    Part(Cents),
    All,
}

/// A checked request: what the payout run will use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayoutRequest {
    pub account_holder: String,
    /// Electronic form, no spaces (`DE44500105175407324931`); empty when
    /// everything is donated.
    pub iban: String,
    pub email: String,
    pub donation: Donation,
}

/// What is wrong with a request, one field at a time.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PayoutRequestError {
    #[error("the account holder's name must be 1 to 70 characters")]
    AccountHolder,
    #[error("this is not a valid IBAN: check it on your bank card or statement")]
    Iban,
    #[error("payouts go to accounts in {allowed} only")]
    Country { allowed: String },
    #[error("the e-mail address is not valid")]
    Email,
    #[error("a donation must be more than zero")]
    Donation,
    #[error("this event takes no donations")]
    NoDonations,
}

/// The organiser's settings for payouts requested on the guest pages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PayoutSettings {
    /// Countries whose accounts are paid to (ISO 3166 codes); default the
    /// SEPA countries.
    #[serde(default = "sepa_countries")]
    pub countries: Vec<String>,
    /// The cause guests may give their rest to; none: no donations.
    #[serde(default)]
    pub donation_target: Option<String>,
    /// Requests close at this time (ms since the epoch); none: open until
    /// the payout run.
    #[serde(default)]
    pub closes_at: Option<i64>,
    /// The smallest transfer made (after the fee); a smaller rest is not
    /// paid out and stays unclaimed.
    #[serde(default)]
    pub minimum_cents: Cents,
    /// Kept from each transfer (never from a donation).
    #[serde(default)]
    pub fee_cents: Cents,
    /// The organiser's account the transfers leave from; a payout run
    /// needs it.
    #[serde(default)]
    pub debtor: Option<DebtorAccount>,
    /// The text on each transfer (at most 140 characters).
    #[serde(default)]
    pub remittance: Option<String>,
    /// The organiser's words above the payout form (at most 1,000
    /// characters).
    #[serde(default)]
    pub page_text: Option<String>,
    /// What becomes of paid money nobody asked for once requests have
    /// closed (`closes_at`).
    #[serde(default)]
    pub unclaimed: Unclaimed,
}

/// Paid money left on bands after the request window closed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Unclaimed {
    /// The organiser keeps it (as the event's terms say).
    #[default]
    Retain,
    /// It goes to the cause the organiser names (`donation_target`).
    Donate,
}

/// The organiser's bank account, as a SEPA file names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DebtorAccount {
    /// The account holder (at most 70 characters).
    pub name: String,
    /// The IBAN, with or without spaces.
    pub iban: String,
}

/// How a band's payable rest is divided by a payout run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PayoutSplit {
    /// Sent to the guest's account.
    pub transfer: Cents,
    /// Kept by the organiser as the fee.
    pub fee: Cents,
    /// Given to the organiser's cause.
    pub donation: Cents,
}

impl PayoutSplit {
    /// What leaves the wallet: the three parts together.
    pub fn total(&self) -> Option<Cents> {
        Cents::checked_sum([self.transfer, self.fee, self.donation])
    }
}

/// Why a payout run leaves a request out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum NotPaidOut {
    #[error("nothing on the band can be paid out")]
    Nothing,
    #[error("after the fee the transfer would be below the minimum of {minimum}")]
    BelowMinimum { minimum: Cents },
}

fn sepa_countries() -> Vec<String> {
    SEPA_COUNTRIES.iter().map(|c| c.to_string()).collect()
}

impl Default for PayoutSettings {
    fn default() -> Self {
        PayoutSettings {
            countries: sepa_countries(),
            donation_target: None,
            closes_at: None,
            minimum_cents: Cents::ZERO,
            fee_cents: Cents::ZERO,
            debtor: None,
            remittance: None,
            page_text: None,
            unclaimed: Unclaimed::Retain,
        }
    }
}

impl PayoutSettings {
    pub fn validate(&self) -> Result<(), crate::error::InputError> {
        if self.countries.is_empty()
            || self
                .countries
                .iter()
                .any(|c| c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()))
        {
            return Err(crate::error::InputError::new(
                "countries",
                "must list two-letter country codes such as DE",
            ));
        }
        if self
            .donation_target
            .as_deref()
            .is_some_and(|t| t.trim().is_empty() || t.chars().count() > 140)
        {
            return Err(crate::error::InputError::new(
                "donation_target",
                "must be 1 to 140 characters",
            ));
        }
        if self.minimum_cents.is_negative() {
            return Err(crate::error::InputError::new(
                "minimum_cents",
                "must not be negative",
            ));
        }
        if self.fee_cents.is_negative() {
            return Err(crate::error::InputError::new(
                "fee_cents",
                "must not be negative",
            ));
        }
        if let Some(debtor) = &self.debtor {
            if debtor.name.trim().is_empty() || debtor.name.chars().count() > MAX_NAME {
                return Err(crate::error::InputError::new(
                    "debtor.name",
                    "must be 1 to 70 characters",
                ));
            }
            if debtor.iban.parse::<Iban>().is_err() {
                return Err(crate::error::InputError::new(
                    "debtor.iban",
                    "is not a valid IBAN",
                ));
            }
        }
        if self
            .remittance
            .as_deref()
            .is_some_and(|t| t.trim().is_empty() || t.chars().count() > 140)
        {
            return Err(crate::error::InputError::new(
                "remittance",
                "must be 1 to 140 characters",
            ));
        }
        if self.unclaimed == Unclaimed::Donate && self.donation_target.is_none() {
            return Err(crate::error::InputError::new(
                "unclaimed",
                "can be donated only to a cause named in donation_target",
            ));
        }
        if self
            .page_text
            .as_deref()
            .is_some_and(|t| t.chars().count() > 1000)
        {
            return Err(crate::error::InputError::new(
                "page_text",
                "must be at most 1,000 characters",
            ));
        }
        Ok(())
    }

    /// Divides what a band may get back (`payable`, see
    /// [`crate::promo::payable`]) between the guest's account, the fee and
    /// the donation the guest chose. Donations take no fee; a transfer
    /// that would be below the minimum, or eaten by the fee, is not made.
    pub fn split(&self, payable: Cents, donation: Donation) -> Result<PayoutSplit, NotPaidOut> {
        if !payable.is_positive() {
            return Err(NotPaidOut::Nothing);
        }
        let donated = match donation {
            Donation::None => Cents::ZERO,
            Donation::Part(part) => part.max(Cents::ZERO).min(payable),
            Donation::All => payable,
        };
        // Both are within 0..=payable, so neither subtraction can overflow.
        let rest = Cents(payable.0 - donated.0);
        if rest == Cents::ZERO {
            return Ok(PayoutSplit {
                transfer: Cents::ZERO,
                fee: Cents::ZERO,
                donation: donated,
            });
        }
        let fee = self.fee_cents.max(Cents::ZERO).min(rest);
        let transfer = Cents(rest.0 - fee.0);
        if !transfer.is_positive() || transfer < self.minimum_cents {
            return Err(NotPaidOut::BelowMinimum {
                minimum: self.minimum_cents.max(Cents(1)),
            });
        }
        Ok(PayoutSplit {
            transfer,
            fee,
            donation: donated,
        })
    }
}

/// What a guest typed.
#[derive(Clone, Debug, Default)]
pub struct TypedRequest<'a> {
    pub account_holder: &'a str,
    pub iban: &'a str,
    pub email: &'a str,
    pub donation: Option<Donation>,
}

impl PayoutRequest {
    /// Checks a typed request against the event's `allowed` countries and
    /// whether it takes donations.
    pub fn check(
        typed: &TypedRequest<'_>,
        allowed: &[String],
        donations_taken: bool,
    ) -> Result<PayoutRequest, PayoutRequestError> {
        let donation = typed.donation.unwrap_or(Donation::None);
        match donation {
            Donation::None => {}
            _ if !donations_taken => return Err(PayoutRequestError::NoDonations),
            Donation::Part(cents) if !cents.is_positive() => {
                return Err(PayoutRequestError::Donation)
            }
            Donation::Part(_) | Donation::All => {}
        }
        let email = typed.email.trim();
        if !plausible_email(email) {
            return Err(PayoutRequestError::Email);
        }
        if donation == Donation::All {
            // Nothing to transfer: no account needed.
            return Ok(PayoutRequest {
                account_holder: String::new(),
                iban: String::new(),
                email: email.to_string(),
                donation,
            });
        }
        let account_holder = typed
            .account_holder
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if account_holder.is_empty()
            || account_holder.chars().count() > MAX_NAME
            || account_holder.chars().any(char::is_control)
        {
            return Err(PayoutRequestError::AccountHolder);
        }
        let iban: Iban = typed.iban.parse().map_err(|_| PayoutRequestError::Iban)?;
        if !allowed.iter().any(|c| c == iban.country_code()) {
            return Err(PayoutRequestError::Country {
                allowed: allowed.join(", "),
            });
        }
        Ok(PayoutRequest {
            account_holder,
            iban: iban.electronic_str().to_string(),
            email: email.to_string(),
            donation,
        })
    }
}

/// One `@`, something before it, a dotted domain after it, no spaces; the
/// receipt's delivery is the real check.
fn plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    email.len() <= 254
        && !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn with_fee(fee: i64, minimum: i64) -> PayoutSettings {
        PayoutSettings {
            fee_cents: Cents(fee),
            minimum_cents: Cents(minimum),
            ..PayoutSettings::default()
        }
    }

    #[test]
    fn the_fee_comes_off_the_transfer_and_never_off_the_donation() {
        let settings = with_fee(150, 500);
        assert_eq!(
            settings.split(Cents(2000), Donation::Part(Cents(300))),
            Ok(PayoutSplit {
                transfer: Cents(1550),
                fee: Cents(150),
                donation: Cents(300)
            })
        );
        assert_eq!(
            settings.split(Cents(2000), Donation::All),
            Ok(PayoutSplit {
                transfer: Cents::ZERO,
                fee: Cents::ZERO,
                donation: Cents(2000)
            })
        );
        // A part larger than the rest gives the rest.
        assert_eq!(
            settings.split(Cents(400), Donation::Part(Cents(1000))),
            Ok(PayoutSplit {
                transfer: Cents::ZERO,
                fee: Cents::ZERO,
                donation: Cents(400)
            })
        );
    }

    #[test]
    fn small_rests_are_not_transferred() {
        let settings = with_fee(150, 500);
        assert_eq!(
            settings.split(Cents(649), Donation::None),
            Err(NotPaidOut::BelowMinimum {
                minimum: Cents(500)
            })
        );
        assert!(settings.split(Cents(650), Donation::None).is_ok());
        assert_eq!(
            with_fee(150, 0).split(Cents(150), Donation::None),
            Err(NotPaidOut::BelowMinimum { minimum: Cents(1) })
        );
        assert_eq!(
            settings.split(Cents::ZERO, Donation::All),
            Err(NotPaidOut::Nothing)
        );
    }

    proptest! {
        #[test]
        fn a_split_adds_up_to_what_the_band_may_get_back(
            payable in -1_000i64..1_000_000,
            fee in 0i64..2_000,
            minimum in 0i64..5_000,
            donation in prop_oneof![
                Just(Donation::None),
                Just(Donation::All),
                (1i64..2_000_000).prop_map(|c| Donation::Part(Cents(c))),
            ],
        ) {
            let settings = with_fee(fee, minimum);
            match settings.split(Cents(payable), donation) {
                Ok(split) => {
                    prop_assert_eq!(split.total(), Some(Cents(payable)));
                    prop_assert!(!split.transfer.is_negative() && !split.fee.is_negative());
                    prop_assert!(!split.donation.is_negative());
                    prop_assert!(split.fee <= Cents(fee));
                    prop_assert!(split.transfer == Cents::ZERO || split.transfer >= Cents(minimum));
                    if let Donation::Part(part) = donation {
                        prop_assert!(split.donation <= part);
                    }
                    if split.transfer == Cents::ZERO {
                        prop_assert_eq!(split.fee, Cents::ZERO);
                    }
                }
                Err(NotPaidOut::Nothing) => prop_assert!(payable <= 0),
                Err(NotPaidOut::BelowMinimum { .. }) => {
                    prop_assert!(payable > 0 && donation != Donation::All);
                }
            }
        }
    }

    fn sepa() -> Vec<String> {
        SEPA_COUNTRIES.iter().map(|c| c.to_string()).collect()
    }

    fn typed<'a>(holder: &'a str, iban: &'a str, email: &'a str) -> TypedRequest<'a> {
        TypedRequest {
            account_holder: holder,
            iban,
            email,
            donation: None,
        }
    }

    #[test]
    fn a_german_account_is_taken_in_its_electronic_form() {
        let request = PayoutRequest::check(
            &typed(
                "  Erika   Müller ",
                "DE44 5001 0517 5407 3249 31",
                "erika@example.org",
            ),
            &sepa(),
            false,
        )
        .unwrap();
        assert_eq!(request.iban, "DE44500105175407324931");
        assert_eq!(request.account_holder, "Erika Müller");
        assert_eq!(request.donation, Donation::None);
    }

    #[test]
    fn a_wrong_checksum_or_a_countrys_wrong_format_is_refused() {
        for iban in [
            "DE45 5001 0517 5407 3249 31",
            "DE44 5001 0517 5407 3249",
            "XX00 1234",
            "",
        ] {
            assert_eq!(
                PayoutRequest::check(&typed("E", iban, "e@example.org"), &sepa(), false),
                Err(PayoutRequestError::Iban),
                "{iban}"
            );
        }
    }

    #[test]
    fn accounts_outside_the_allow_list_are_refused() {
        let only_de = vec!["DE".to_string()];
        let austrian = typed("E", "AT61 1904 3002 3457 3201", "e@example.org");
        assert!(PayoutRequest::check(&austrian, &sepa(), false).is_ok());
        assert_eq!(
            PayoutRequest::check(&austrian, &only_de, false),
            Err(PayoutRequestError::Country {
                allowed: "DE".into()
            })
        );
    }

    #[test]
    fn names_and_addresses_are_checked() {
        let iban = "DE44500105175407324931";
        let long = "x".repeat(71);
        for holder in ["", "   ", long.as_str(), "Erika\u{7}"] {
            assert_eq!(
                PayoutRequest::check(&typed(holder, iban, "e@example.org"), &sepa(), false),
                Err(PayoutRequestError::AccountHolder),
                "{holder:?}"
            );
        }
        for email in [
            "",
            "erika",
            "erika@",
            "@example.org",
            "erika@localhost",
            "e @x.org",
            "a@b@c.org",
        ] {
            assert_eq!(
                PayoutRequest::check(&typed("Erika", iban, email), &sepa(), false),
                Err(PayoutRequestError::Email),
                "{email}"
            );
        }
    }

    #[test]
    fn settings_default_to_the_sepa_countries_and_are_checked() {
        let settings = PayoutSettings::default();
        assert!(settings.validate().is_ok());
        assert!(settings.countries.iter().any(|c| c == "DE"));
        let lower = PayoutSettings {
            countries: vec!["de".into()],
            ..PayoutSettings::default()
        };
        assert!(lower.validate().is_err());
        let blank = PayoutSettings {
            donation_target: Some("  ".into()),
            ..PayoutSettings::default()
        };
        assert!(blank.validate().is_err());
    }

    #[test]
    fn donations_only_where_the_event_takes_them() {
        let mut request = typed("Erika", "DE44500105175407324931", "e@example.org");
        request.donation = Some(Donation::Part(Cents(500)));
        assert_eq!(
            PayoutRequest::check(&request, &sepa(), false),
            Err(PayoutRequestError::NoDonations)
        );
        assert_eq!(
            PayoutRequest::check(&request, &sepa(), true)
                .unwrap()
                .donation,
            Donation::Part(Cents(500))
        );
        request.donation = Some(Donation::Part(Cents(0)));
        assert_eq!(
            PayoutRequest::check(&request, &sepa(), true),
            Err(PayoutRequestError::Donation)
        );
        // Everything donated: no account needed.
        let all = TypedRequest {
            account_holder: "",
            iban: "",
            email: "e@example.org",
            donation: Some(Donation::All),
        };
        let checked = PayoutRequest::check(&all, &sepa(), true).unwrap();
        assert_eq!(
            (checked.iban.as_str(), checked.donation),
            ("", Donation::All)
        );
    }
}
