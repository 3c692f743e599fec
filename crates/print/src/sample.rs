//! The test receipt: a made-up sale with €, umlauts, two VAT rates, cup
//! deposits and a QR code, to check a printer and its settings.

use tapster_ledger::demo;
use tapster_ledger::model::{Entry, EntryKind, Line, Tender};
use tapster_ledger::pricing::lines_total;
use tapster_ledger::{Cents, EntryId, IdempotencyKey, StaffId, TerminalId, Timestamp, TokenId};

use crate::document::Receipt;
use crate::layouts::{entry_receipt, EntryReceipt, ReceiptContext, ReceiptFormat};
use crate::PrintError;

fn line(key: &str, quantity: i64) -> Line {
    let product = demo::products()
        .into_iter()
        .find(|p| p.id.as_str() == key)
        .expect("demo product");
    Line {
        product: product.id,
        name: product.name,
        category: product.category,
        quantity,
        unit_price: product.price,
        vat_rate: product.vat_rate,
        deposit: product.returnable,
        pass: None,
        tip: false,
        bill: None,
    }
}

/// The sample sale: 2 beers, a white wine, a bratwurst and three cups.
pub fn sample_sale(at: Timestamp) -> Entry {
    let lines = vec![
        line("beer", 2),
        line("wine", 1),
        line("bratwurst", 1),
        line("cup", 3),
    ];
    let total = lines_total(&lines).unwrap_or(Cents::ZERO);
    Entry {
        id: EntryId(uuid::Uuid::from_u128(
            0x0192_f3a4_5b6c_7d8e_9f00_1a2b_3c4d_5e6f,
        )),
        terminal: TerminalId::new("bar-1").expect("id"),
        sequence: 42,
        idempotency_key: IdempotencyKey::new("test-receipt").expect("key"),
        kind: EntryKind::Sale,
        token: Some(TokenId::parse("04D30000000001").expect("token")),
        tender: Tender::Wallet,
        amount: total.checked_neg().unwrap_or(Cents::ZERO),
        lines,
        staff: StaffId::new("anna").expect("id"),
        shift: None,
        terminal_time: at,
        reverses: None,
        offline: false,
        balance_after: Some(Cents(12_50)),
        prev_hash: String::new(),
        hash: String::new(),
    }
}

/// The test receipt at `at`, marked as such at the top and bottom.
pub fn test_receipt(format: &ReceiptFormat, at: Timestamp) -> Result<Receipt, PrintError> {
    let t = format.language.texts();
    let ctx = ReceiptContext {
        event_name: "Tapster Sommerfest".into(),
        currency: "EUR".into(),
        header: format!("{}\nMüllers Weißbier-Garten", t.test_receipt),
        footer: format!("Prost! Schönen Abend.\n{}", t.test_receipt),
        terminal_name: "Bar Nord – Zelt 1".into(),
        cashier_name: "Anna Jäger".into(),
        promo_after: None,
        payments: Vec::new(),
    };
    let entry = sample_sale(at);
    entry_receipt(
        &EntryReceipt {
            entry: &entry,
            cancelled: None,
            copy: false,
            fiscal: None,
        },
        &ctx,
        format,
    )
}
