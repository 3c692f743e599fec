//! A ledger on a real SQLite file with the demo bar, an exact clock and
//! deterministic ids.
#![allow(dead_code)]

use std::sync::Arc;

use tapster_ledger::demo;
use tapster_ledger::model::{EventMode, Tender};
use tapster_ledger::pin::PinHashCost;
use tapster_ledger::pricing::Cart;
use tapster_ledger::store::{Authorisation, OpenShiftRequest, Recorded, SaleRequest, TopUpRequest};
use tapster_ledger::{
    Cents, IdempotencyKey, Ledger, LedgerError, LedgerOptions, ManualClock, SequentialIds, StaffId,
    TerminalId, Timestamp, TokenId,
};

/// 2026-07-17 18:00 UTC, a festival Friday.
pub const START: Timestamp = Timestamp::from_millis(1_784_311_200_000);

pub struct Bar {
    pub ledger: Ledger,
    pub clock: Arc<ManualClock>,
    pub dir: tempfile::TempDir,
    next_key: std::sync::atomic::AtomicU64,
}

impl Bar {
    /// A standalone demo bar with no funded wallets and no open shift.
    pub fn new() -> Bar {
        Bar::with_mode(EventMode::Standalone)
    }

    pub fn with_mode(mode: EventMode) -> Bar {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(START));
        let ledger = Ledger::open(
            dir.path().join("ledger.sqlite"),
            LedgerOptions::new(TerminalId::new("bar-1").unwrap())
                .with_clock(clock.clone())
                .with_ids(Arc::new(SequentialIds::default()))
                .with_pin_cost(PinHashCost::Fast),
        )
        .unwrap();
        demo::seed(&ledger, 0).unwrap();
        let mut settings = ledger.settings().unwrap();
        settings.mode = mode;
        ledger.update_settings(&settings).unwrap();
        Bar {
            ledger,
            clock,
            dir,
            next_key: Default::default(),
        }
    }

    pub fn key(&self) -> IdempotencyKey {
        let n = self
            .next_key
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        IdempotencyKey::new(format!("k{n}")).unwrap()
    }

    pub fn open_shift(&self, staff: &str) {
        self.ledger
            .open_shift(&OpenShiftRequest {
                key: self.key(),
                staff: staff_id(staff),
                float: Cents(100_00),
            })
            .unwrap();
    }

    pub fn top_up(&self, staff: &str, token: &TokenId, cents: i64) -> Recorded {
        self.ledger
            .top_up(
                &TopUpRequest {
                    key: self.key(),
                    staff: staff_id(staff),
                    token: token.clone(),
                    amount: Cents(cents),
                    tender: Tender::Cash,
                },
                Authorisation::ThisLedger,
            )
            .unwrap()
    }

    pub fn sale_request(&self, staff: &str, cart: Cart, token: Option<&TokenId>) -> SaleRequest {
        SaleRequest {
            key: self.key(),
            staff: staff_id(staff),
            cart,
            tender: if token.is_some() {
                Tender::Wallet
            } else {
                Tender::Cash
            },
            token: token.cloned(),
            pass: None,
        }
    }

    pub fn sell(
        &self,
        staff: &str,
        cart: Cart,
        token: Option<&TokenId>,
    ) -> Result<Recorded, LedgerError> {
        self.ledger.sell(
            &self.sale_request(staff, cart, token),
            Authorisation::ThisLedger,
        )
    }

    pub fn balance(&self, token: &TokenId) -> Cents {
        self.ledger.wallet(token).unwrap().unwrap().available
    }

    /// Every row of every table, to prove a failed operation wrote nothing.
    pub fn fingerprint(&self) -> String {
        let conn = rusqlite::Connection::open(self.ledger.path()).unwrap();
        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let mut out = String::new();
        for table in tables {
            let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
            let columns = stmt.column_count();
            let mut rows = stmt.query([]).unwrap();
            out.push_str(&format!("## {table}\n"));
            while let Some(row) = rows.next().unwrap() {
                for i in 0..columns {
                    let value: rusqlite::types::Value = row.get(i).unwrap();
                    out.push_str(&format!("{value:?}|"));
                }
                out.push('\n');
            }
        }
        out
    }
}

pub fn staff_id(s: &str) -> StaffId {
    StaffId::new(s).unwrap()
}

pub fn band(n: u32) -> TokenId {
    demo::wristband(n)
}

pub fn cart(items: &[(&str, i64)]) -> Cart {
    items.iter().fold(Cart::new(), |cart, (product, quantity)| {
        cart.with(&demo::product(product), *quantity)
    })
}
