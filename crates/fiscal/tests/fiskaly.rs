//! The cloud TSE client against the suite's test double of fiskaly's API
//! (`tapster_fiscal::double`, named as such): a sale, a top-up, a payout
//! and a cancellation signed; an outage in the middle of a shift and the
//! recovery; the receipt's QR code read back.

use tapster_fiscal::cases::{cases_of, negated};
use tapster_fiscal::double::{FiskalyDouble, API_KEY, API_SECRET, TSS_ID};
use tapster_fiscal::fiskaly::{FiskalyConfig, FiskalyTse};
use tapster_fiscal::qr::{parse_qr, qr_text};
use tapster_fiscal::{sign_or_outage, ProcessData, Signing, Tse};
use tapster_ledger::model::{EntryKind, Line, Tender};
use tapster_ledger::{CategoryId, Cents, ProductId, VatRate};

fn beer(quantity: i64) -> Line {
    Line {
        product: ProductId::new("beer").unwrap(),
        name: "Bier".into(),
        category: CategoryId::new("drinks").unwrap(),
        quantity,
        unit_price: Cents(500),
        vat_rate: VatRate(1900),
        deposit: false,
        pass: None,
        tip: false,
        bill: None,
    }
}

fn tse(double: &FiskalyDouble, secret: &str) -> FiskalyTse {
    FiskalyTse::new(FiskalyConfig {
        base_url: double.base_url(),
        api_key: API_KEY.into(),
        api_secret: secret.into(),
        tss_id: TSS_ID.into(),
    })
    .unwrap()
}

fn receipt(kind: EntryKind, tender: Tender, amount: i64, lines: &[Line]) -> ProcessData {
    let (cases, paid) = cases_of(kind, tender, Cents(amount), lines, true).unwrap();
    ProcessData::of(&cases, paid).unwrap()
}

#[test]
fn sales_top_ups_payouts_and_cancellations_are_signed_in_order() {
    let double = FiskalyDouble::start();
    let tse = tse(&double, API_SECRET);
    assert!(
        tse.health().reachable && tse.health().message.is_empty(),
        "{:?}",
        tse.health()
    );

    let sale = receipt(EntryKind::Sale, Tender::Cash, 1000, &[beer(2)]);
    let signed = sign_or_outage(&tse, "till-bar-1", &sale);
    let Signing::Signed(first) = signed else {
        panic!("{signed:?}")
    };
    assert_eq!((first.number, first.signature_counter), (1, 1));
    assert_eq!(first.client_serial, "till-bar-1");
    assert_eq!(first.public_key, double.public_key());
    assert!(first.certified);

    let top_up = sign_or_outage(
        &tse,
        "till-bar-1",
        &receipt(EntryKind::TopUp, Tender::Card, 2000, &[]),
    );
    let payout = sign_or_outage(
        &tse,
        "till-info",
        &receipt(EntryKind::Payout, Tender::Cash, -750, &[]),
    );
    let (cases, paid) = cases_of(
        EntryKind::Sale,
        Tender::Cash,
        Cents(1000),
        &[beer(2)],
        false,
    )
    .unwrap();
    let cancellation = ProcessData::of(&negated(&cases).unwrap(), paid).unwrap();
    let storno = sign_or_outage(&tse, "till-bar-1", &cancellation);
    let counters: Vec<u64> = [&top_up, &payout, &storno]
        .iter()
        .map(|s| s.signed().expect("signed").signature_counter)
        .collect();
    assert_eq!(counters, vec![2, 3, 4]);

    let schemas = double.finished();
    assert_eq!(
        schemas[0]["standard_v1"]["receipt"],
        serde_json::json!({
            "receipt_type": "RECEIPT",
            "amounts_per_vat_rate": [{ "vat_rate": "NORMAL", "amount": "10.00" }],
            "amounts_per_payment_type": [{ "payment_type": "CASH", "amount": "10.00" }],
        })
    );
    assert_eq!(
        schemas[1]["standard_v1"]["receipt"]["amounts_per_vat_rate"],
        serde_json::json!([{ "vat_rate": "NULL", "amount": "20.00" }])
    );
    assert_eq!(
        schemas[2]["standard_v1"]["receipt"]["amounts_per_payment_type"],
        serde_json::json!([{ "payment_type": "CASH", "amount": "-7.50" }])
    );
    assert_eq!(
        schemas[3]["standard_v1"]["receipt"],
        serde_json::json!({
            "receipt_type": "RECEIPT",
            "amounts_per_vat_rate": [{ "vat_rate": "NORMAL", "amount": "-10.00" }],
            "amounts_per_payment_type": [{ "payment_type": "CASH", "amount": "-10.00" }],
        }),
        "a cancellation is a receipt with the amounts negated"
    );

    // The receipt's QR code reads back to what was signed.
    let qr = parse_qr(&qr_text(first.as_ref())).unwrap();
    assert_eq!(qr.process_type, "Kassenbeleg-V1");
    assert_eq!(qr.process_data, "Beleg^10.00_0.00_0.00_0.00_0.00^10.00:Bar");
    assert_eq!((qr.number, qr.signature_counter), (1, 1));
    assert_eq!(qr.signature, first.signature);
    assert!(qr.time_end >= qr.time_start);
}

#[test]
fn an_outage_mid_shift_marks_sales_and_the_next_ones_are_signed_again() {
    let double = FiskalyDouble::start();
    let tse = tse(&double, API_SECRET);
    let sale = receipt(EntryKind::Sale, Tender::Wallet, -500, &[beer(1)]);
    assert!(sign_or_outage(&tse, "till-1", &sale).signed().is_some());

    double.set_down(true);
    let during = sign_or_outage(&tse, "till-1", &sale);
    let Signing::Outage { reason } = &during else {
        panic!("{during:?}")
    };
    assert!(reason.contains("cannot be reached"), "{reason}");
    assert!(!tse.health().reachable);

    double.set_down(false);
    let after = sign_or_outage(&tse, "till-1", &sale);
    let signed = after.signed().expect("signed again");
    assert_eq!(
        signed.signature_counter, 2,
        "the outage sale used no counter"
    );
    assert_eq!(double.finished().len(), 2);
}

#[test]
fn a_wrong_secret_or_a_plain_http_cloud_is_refused() {
    let double = FiskalyDouble::start();
    let wrong = tse(&double, "not the secret");
    let refused = sign_or_outage(
        &wrong,
        "till-1",
        &receipt(EntryKind::TopUp, Tender::Cash, 100, &[]),
    );
    let Signing::Outage { reason } = refused else {
        panic!("must not sign")
    };
    assert!(reason.contains("refused"), "{reason}");
    assert!(FiskalyTse::new(FiskalyConfig {
        base_url: "http://kassensichv.example.org/api/v2".into(),
        api_key: API_KEY.into(),
        api_secret: API_SECRET.into(),
        tss_id: TSS_ID.into(),
    })
    .is_err());
}
