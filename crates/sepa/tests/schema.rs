//! Every file this crate writes is valid against the pain.001.001.09
//! schema, checked by `xmllint` ([`tapster_sepa::testing`]).

use proptest::prelude::*;
use tapster_ledger::Cents;
use tapster_sepa::testing::validate;
use tapster_sepa::{credit_transfer_file, CreditTransfers, Debtor, Transfer};

fn debtor() -> Debtor<'static> {
    Debtor {
        name: "Festival Veranstaltungs GmbH & Co. KG",
        iban: "DE89 3704 0044 0532 0130 00",
    }
}

fn file<'a>(transfers: &'a [Transfer<'a>]) -> CreditTransfers<'a> {
    CreditTransfers {
        message_id: "TAPSTER-PR7QK2M9XD4HNB",
        payment_id: "TAPSTER-PR7QK2M9XD4HNB-1",
        created_at: jiff::civil::date(2026, 12, 6).at(23, 5, 0, 0),
        execution_date: jiff::civil::date(2026, 12, 8),
        debtor: debtor(),
        transfers,
    }
}

#[test]
fn a_file_with_german_and_foreign_names_is_valid() {
    let long = "Ä".repeat(60);
    let transfers = [
        Transfer {
            end_to_end_id: "PR7QK2M9XD4HNB-00001",
            creditor_name: "Jürgen Müller-Lüdenscheidt",
            creditor_iban: "DE44500105175407324931",
            amount: Cents(1250),
            remittance: "Tapster: Rest vom Armband 04A1B2C3 – danke fürs Kommen!",
        },
        Transfer {
            end_to_end_id: "PR7QK2M9XD4HNB-00002",
            creditor_name: "Σωκράτης Παπαδόπουλος",
            creditor_iban: "AT611904300234573201",
            amount: Cents(99_999_999_999),
            remittance: "",
        },
        Transfer {
            end_to_end_id: "PR7QK2M9XD4HNB-00003",
            creditor_name: &long,
            creditor_iban: "FR1420041010050500013M02606",
            amount: Cents(1),
            remittance: &"ß".repeat(100),
        },
    ];
    let xml = credit_transfer_file(&file(&transfers)).unwrap();
    validate(&xml).unwrap();
}

#[test]
fn the_validator_refuses_a_broken_file() {
    // The check can fail: a file without its control sum is refused.
    let transfers = [Transfer {
        end_to_end_id: "A-1",
        creditor_name: "Erika",
        creditor_iban: "DE44500105175407324931",
        amount: Cents(100),
        remittance: "x",
    }];
    let xml = credit_transfer_file(&file(&transfers)).unwrap();
    let broken = xml.replacen("<NbOfTxs>1</NbOfTxs>", "", 1);
    assert!(validate(&broken).is_err());
    let bad_amount = xml.replace("1.00</InstdAmt>", "1.001.0</InstdAmt>");
    assert!(validate(&bad_amount).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn any_names_and_amounts_make_a_valid_file(
        names in proptest::collection::vec("\\PC{1,90}", 1..6),
        amounts in proptest::collection::vec(1i64..10_000_000, 6),
        remittance in "\\PC{0,200}",
    ) {
        let ids: Vec<String> = (0..names.len()).map(|i| format!("PR-{i:05}")).collect();
        let transfers: Vec<Transfer<'_>> = names
            .iter()
            .zip(&ids)
            .zip(&amounts)
            .map(|((name, id), amount)| Transfer {
                end_to_end_id: id,
                creditor_name: name,
                creditor_iban: "DE44500105175407324931",
                amount: Cents(*amount),
                remittance: &remittance,
            })
            .collect();
        match credit_transfer_file(&file(&transfers)) {
            Ok(xml) => prop_assert!(validate(&xml).is_ok(), "{}", validate(&xml).unwrap_err()),
            // A name with nothing printable is refused, never written.
            Err(tapster_sepa::SepaError::Name(_)) => {}
            Err(other) => prop_assert!(false, "{other}"),
        }
    }
}
