//! Deterministic simulation of sync: three terminals and the server's store
//! on a seeded in-memory network that loses requests, loses answers,
//! delivers twice and holds messages back to deliver them later in another
//! order; terminals and the server crash and restart between steps. After
//! every step the ledgers' invariants hold (postings sum to zero, balances
//! equal postings, sequences gap-free, chains verify) and the server's
//! wallets equal their transactions; at the end, with the network healed,
//! every ledger and the server agree to the cent.
//!
//! `TAPSTER_SIM_SEEDS` (default 1,000) seeds per run; a failure names its
//! seed, and `TAPSTER_SIM_SEED=n` runs that one alone.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tapster_api::{
    BatchEntry, BatchResponse, Catalog, CreateTransaction, Heartbeat, TerminalResource, WalletFeed,
};
use tapster_ledger::model::{Permission, Tender};
use tapster_ledger::pin::PinHashCost;
use tapster_ledger::pricing::Cart;
use tapster_ledger::store::{Authorisation, SaleRequest, TopUpRequest};
use tapster_ledger::{
    demo, Cents, IdempotencyKey, Ledger, LedgerOptions, StaffId, SystemClock, TerminalId,
};
use tapster_server::error::ServerError;
use tapster_server::store::{AuthenticatedTerminal, ServerStore};
use tapster_sync::{ApiError, Applied, Reply, ServerClient, SyncConfig, Syncer, Transport};

const TERMINALS: usize = 3;
const WALLETS: u32 = 6;
const BALANCE: i64 = 40_00;
const STEPS: usize = 40;

type Delayed = Box<dyn FnOnce(&ServerStore) + Send>;

/// The server and the network of one simulated event.
struct World {
    db: PathBuf,
    store: Mutex<Arc<ServerStore>>,
    rng: Mutex<StdRng>,
    faults: AtomicBool,
    /// Requests held back by the network, delivered later in any order.
    delayed: Mutex<Vec<Delayed>>,
}

enum Fate {
    Deliver,
    LoseRequest,
    LoseAnswer,
    Twice,
    HoldBack,
}

impl World {
    fn fate(&self) -> Fate {
        if !self.faults.load(Ordering::SeqCst) {
            return Fate::Deliver;
        }
        match self.rng.lock().unwrap().gen_range(0..10) {
            0 => Fate::LoseRequest,
            1 => Fate::LoseAnswer,
            2 => Fate::Twice,
            3 => Fate::HoldBack,
            _ => Fate::Deliver,
        }
    }

    fn store(&self) -> Arc<ServerStore> {
        self.store.lock().unwrap().clone()
    }

    /// The server process dies and starts again on its database.
    fn restart_server(&self) {
        let mut store = self.store.lock().unwrap();
        *store = Arc::new(ServerStore::open(&self.db, Arc::new(SystemClock)).unwrap());
    }

    /// The network lets go of what it held back, in a seeded order.
    fn deliver_held_back(&self) {
        let mut held = std::mem::take(&mut *self.delayed.lock().unwrap());
        let store = self.store();
        while !held.is_empty() {
            let n = self.rng.lock().unwrap().gen_range(0..held.len());
            (held.swap_remove(n))(&store);
        }
    }
}

/// The server's refusal as the HTTP client would have read it.
fn api_error(error: ServerError) -> ApiError {
    match error.status().as_u16() {
        401 => ApiError::Unauthorized,
        429 => ApiError::RateLimited {
            retry_after_secs: 1,
        },
        status if status >= 500 => ApiError::ServerTrouble {
            status,
            message: error.to_string(),
            retry_after_secs: None,
        },
        status => ApiError::Refused {
            status,
            code: error.code().to_string(),
            message: error.to_string(),
        },
    }
}

/// One terminal's line to the server.
struct Line {
    world: Arc<World>,
    terminal: AuthenticatedTerminal,
}

impl Line {
    fn call<T: Send + 'static>(
        &self,
        work: impl Fn(&ServerStore) -> Result<T, ServerError> + Send + 'static,
    ) -> Reply<'static, T> {
        let store = self.world.store();
        let lost = |what: &str| Err(ApiError::Unreachable(format!("simulated: {what}")));
        let result = match self.world.fate() {
            Fate::Deliver => work(&store).map_err(api_error),
            Fate::LoseRequest => lost("request lost"),
            Fate::LoseAnswer => {
                let _ = work(&store);
                lost("answer lost")
            }
            Fate::Twice => {
                let _ = work(&store);
                work(&store).map_err(api_error)
            }
            Fate::HoldBack => {
                self.world
                    .delayed
                    .lock()
                    .unwrap()
                    .push(Box::new(move |store| drop(work(store))));
                lost("held back")
            }
        };
        Box::pin(std::future::ready(result))
    }
}

impl Transport for Line {
    fn terminal(&self) -> Reply<'_, TerminalResource> {
        let terminal = self.terminal.clone();
        self.call(move |s| s.terminal_resource(&terminal))
    }

    fn catalog(&self) -> Reply<'_, Catalog> {
        let (event, id) = (self.terminal.event_id.clone(), self.terminal.id.clone());
        self.call(move |s| s.catalog(&event, id.as_str()))
    }

    fn batch(&self, entries: Vec<BatchEntry>) -> Reply<'_, BatchResponse> {
        let terminal = self.terminal.clone();
        self.call(move |s| s.ingest_batch(&terminal, &entries))
    }

    fn transaction<'a>(
        &'a self,
        token_id: &'a str,
        request: &'a CreateTransaction,
    ) -> Reply<'a, Applied> {
        let terminal = self.terminal.clone();
        let token = tapster_ledger::TokenId::parse(token_id).unwrap();
        let request = request.clone();
        self.call(move |s| {
            let key = request
                .idempotency_key
                .as_deref()
                .map(|k| IdempotencyKey::new(k).unwrap());
            s.create_transaction(&terminal, &token, &request, key.as_ref())
                .map(|outcome| Applied {
                    wallet: outcome.wallet,
                    transaction_id: Some(outcome.transaction_id),
                    cursor: Some(outcome.cursor),
                    promo: outcome.promo,
                })
        })
    }

    fn wallet_feed(&self, since: i64, limit: u32) -> Reply<'_, WalletFeed> {
        let event = self.terminal.event_id.clone();
        self.call(move |s| s.wallet_feed(&event, since, limit))
    }

    fn shift_closes(
        &self,
        closes: tapster_api::audit::TillShiftCloses,
    ) -> Reply<'_, tapster_api::audit::ShiftClosesTaken> {
        let terminal = self.terminal.clone();
        self.call(move |s| s.record_shift_closes(&terminal, closes.clone()))
    }

    fn pass_feed(&self, since: i64, limit: u32) -> Reply<'_, tapster_api::PassFeed> {
        let event = self.terminal.event_id.clone();
        self.call(move |s| s.pass_feed(&event, since, limit))
    }

    fn heartbeat<'a>(&'a self, beat: &'a Heartbeat) -> Reply<'a, ()> {
        let terminal = self.terminal.clone();
        let beat = beat.clone();
        self.call(move |s| s.heartbeat(&terminal, &beat))
    }
}

struct Till {
    id: String,
    path: PathBuf,
    line: Arc<Line>,
    syncer: Option<Syncer>,
}

impl Till {
    fn open(&mut self) {
        let ledger = Ledger::open(
            &self.path,
            LedgerOptions::new(TerminalId::new(&self.id).unwrap()).with_pin_cost(PinHashCost::Fast),
        )
        .unwrap();
        self.syncer = Some(Syncer::new(
            Arc::new(ledger),
            ServerClient::over(self.line.clone()),
            Arc::new(SystemClock),
            SyncConfig::default(),
        ));
    }

    fn syncer(&self) -> &Syncer {
        self.syncer.as_ref().unwrap()
    }

    fn ledger(&self) -> &Ledger {
        self.syncer().ledger()
    }
}

fn wallet_deltas(ledger: &Path, into: &mut BTreeMap<String, i64>) -> i64 {
    let conn = rusqlite::Connection::open(ledger).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT e.token_id, SUM(e.wallet_delta), COUNT(*) FROM entries e
             LEFT JOIN entry_sync s ON s.entry_sequence = e.sequence
             WHERE e.token_id IS NOT NULL AND (s.state IS NULL OR s.state <> 'rejected')
             GROUP BY e.token_id",
        )
        .unwrap();
    let mut entries = 0;
    for row in stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
        .unwrap()
    {
        let (token, delta, count) = row.unwrap();
        *into.entry(token).or_default() += delta;
        entries += count;
    }
    entries
}

/// One seeded event; panics with what broke.
fn simulate(seed: u64, dir: &Path) {
    let db = dir.join("server.sqlite");
    let store = ServerStore::open(&db, Arc::new(SystemClock)).unwrap();
    let event = store.create_event("Sim").unwrap();
    store
        .seed_demo(&event, WALLETS, Some(Cents(BALANCE)), PinHashCost::Fast)
        .unwrap();
    // Vouchers redeemed at the tills now and then: promo credit that sales
    // spend first, moved by the server's rule and folded by the tills'.
    let mut vouchers = store
        .create_passes(
            &event,
            tapster_api::walletapp::NewPassBatch {
                count: STEPS as u32,
                title: "Gutschein".into(),
                subtitle: String::new(),
                benefit: tapster_ledger::passes::Benefit::Voucher { value: Cents(5_00) },
                valid_from: None,
                valid_until: None,
                max_redemptions: None,
                idempotency_key: None,
            },
        )
        .unwrap()
        .codes
        .into_iter();
    let mut credited: BTreeMap<String, i64> = BTreeMap::new();
    let world = Arc::new(World {
        db: db.clone(),
        store: Mutex::new(Arc::new(store)),
        rng: Mutex::new(StdRng::seed_from_u64(seed)),
        faults: AtomicBool::new(false),
        delayed: Mutex::new(Vec::new()),
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut tills: Vec<Till> = (0..TERMINALS)
        .map(|n| {
            let (id, token) = world
                .store()
                .create_terminal(&event, &format!("t{n}"), Permission::All)
                .unwrap();
            let terminal = world
                .store()
                .authenticate_terminal(&event, &token)
                .unwrap()
                .unwrap();
            let ledger = common::terminal_ledger(dir, &id);
            let path = ledger.path().to_path_buf();
            drop(ledger);
            let mut till = Till {
                id,
                path,
                line: Arc::new(Line {
                    world: world.clone(),
                    terminal,
                }),
                syncer: None,
            };
            till.open();
            // A clean first round: the balances to decide offline by.
            runtime.block_on(till.syncer().round(&mut |_| {})).unwrap();
            till
        })
        .collect();

    world.faults.store(true, Ordering::SeqCst);
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
    for step in 0..STEPS {
        let t = rng.gen_range(0..TERMINALS);
        let wristband = demo::wristband(rng.gen_range(1..=WALLETS));
        let key = IdempotencyKey::new(format!("s{seed}-{step}")).unwrap();
        let sale = SaleRequest {
            key: key.clone(),
            staff: StaffId::new("anna").unwrap(),
            cart: Cart::new().with(&demo::product("fries"), rng.gen_range(1..=3)),
            tender: Tender::Wallet,
            token: Some(wristband.clone()),
            pass: None,
        };
        let what = match rng.gen_range(0..12) {
            0..=2 => {
                let _ = tills[t].ledger().sell(&sale, Authorisation::ThisLedger);
                "offline sale"
            }
            3..=4 => {
                let _ = runtime.block_on(tills[t].syncer().authorise_sale(&sale, true));
                "online sale"
            }
            5 => {
                let _ = tills[t].ledger().top_up(
                    &TopUpRequest {
                        key,
                        staff: StaffId::new("anna").unwrap(),
                        token: wristband,
                        amount: Cents(10_00),
                        tender: Tender::Cash,
                    },
                    Authorisation::ThisLedger,
                );
                "top-up"
            }
            6..=7 => {
                let _ = runtime.block_on(tills[t].syncer().round(&mut |_| {}));
                "sync round"
            }
            8 => {
                world.deliver_held_back();
                "held-back messages delivered"
            }
            9 => {
                tills[t].syncer = None;
                tills[t].open();
                "terminal crashed and restarted"
            }
            10 => {
                world.restart_server();
                "server crashed and restarted"
            }
            _ => {
                // Straight to the server (not through the lossy network):
                // what a till's voucher screen does, then its ledger takes
                // the wallet of the answer.
                let code =
                    tapster_ledger::passes::PassCode::parse(&vouchers.next().unwrap()).unwrap();
                let answer =
                    world
                        .store()
                        .redeem_voucher(&tills[t].line.terminal, &wristband, &code, &key);
                if let Ok(tapster_server::vouchers::VoucherOutcome::Credited { answer, .. }) =
                    answer
                {
                    *credited.entry(wristband.to_string()).or_default() += answer.credited;
                    tills[t]
                        .ledger()
                        .apply_wallet_snapshot(
                            &tapster_sync::passes::snapshot_of(&answer).unwrap(),
                            tapster_ledger::Timestamp(0),
                        )
                        .unwrap();
                }
                "voucher"
            }
        };
        for till in &tills {
            let reader = till.ledger().reader().unwrap();
            let chain = reader.verify_chain().unwrap();
            let violations = reader.check_invariants().unwrap();
            assert!(
                chain.is_empty() && violations.is_empty(),
                "seed {seed}, step {step} ({what}), {}: {chain:?} {violations:?}",
                till.id
            );
        }
        let problems = world.store().check().unwrap();
        assert!(
            problems.is_empty(),
            "seed {seed}, step {step} ({what}): server {problems:?}"
        );
    }

    // The network heals; whatever it held arrives; everyone syncs.
    world.faults.store(false, Ordering::SeqCst);
    world.deliver_held_back();
    for _ in 0..5 {
        for till in &tills {
            let _ = runtime.block_on(till.syncer().round(&mut |_| {}));
        }
    }
    let store = world.store();
    let mut deltas = BTreeMap::new();
    for till in &tills {
        assert_eq!(
            till.ledger().pending_count().unwrap(),
            0,
            "seed {seed}: {} still has entries to send",
            till.id
        );
        assert!(
            till.ledger().sale_intents().unwrap().is_empty(),
            "seed {seed}"
        );
        let in_ledger = wallet_deltas(&till.path, &mut deltas);
        let conn = rusqlite::Connection::open(&db).unwrap();
        let on_server: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM transactions
                 WHERE event_id = ?1 AND terminal_id = ?2 AND tag IS NOT 'voucher'",
                [&event, &till.id],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            on_server, in_ledger,
            "seed {seed}: {} and the server",
            till.id
        );
    }
    let conn = rusqlite::Connection::open(&db).unwrap();
    let mut stmt = conn
        .prepare("SELECT token_id, balance, promo_balance FROM wallets WHERE event_id = ?1")
        .unwrap();
    for row in stmt
        .query_map([&event], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
        .unwrap()
    {
        let (token, balance, promo) = row.unwrap();
        let expected = BALANCE
            + deltas.get(&token).copied().unwrap_or(0)
            + credited.get(&token).copied().unwrap_or(0);
        assert_eq!(balance, expected, "seed {seed}: wallet {token}");
        // Every till that knows the wallet agrees with the server, promo
        // credit included (its fold over nothing left uncounted).
        let token_id = tapster_ledger::TokenId::parse(&token).unwrap();
        for till in &tills {
            if let Some(view) = till.ledger().wallet(&token_id).unwrap() {
                assert_eq!(
                    (view.available.0, view.promo.0),
                    (balance, promo),
                    "seed {seed}: {} sees wallet {token}",
                    till.id
                );
            }
        }
    }
    assert!(store.check().unwrap().is_empty(), "seed {seed}");
}

#[test]
fn thousands_of_seeded_lossy_networks_and_crashes_end_with_exact_books() {
    let seeds: Vec<u64> = match std::env::var("TAPSTER_SIM_SEED") {
        Ok(seed) => vec![seed.parse().unwrap()],
        Err(_) => {
            let count = std::env::var("TAPSTER_SIM_SEEDS")
                .ok()
                .and_then(|n| n.parse().ok())
                .unwrap_or(1_000u64);
            (1..=count).collect()
        }
    };
    // fsync on a RAM disk costs nothing: thousands of seeds fit in a run.
    let base = Path::new("/dev/shm");
    for seed in seeds {
        let dir = if base.is_dir() {
            tempfile::tempdir_in(base).unwrap()
        } else {
            tempfile::tempdir().unwrap()
        };
        let outcome = std::panic::catch_unwind(|| simulate(seed, dir.path()));
        if let Err(panic) = outcome {
            eprintln!("failing seed: TAPSTER_SIM_SEED={seed}");
            std::panic::resume_unwind(panic);
        }
    }
}
