//! Ledger benchmarks, each next to a baseline measured in the same run.
//!
//! `cargo bench -p tapster-ledger --bench ledger_bench`
//!
//! 1. Sale commit: a wallet sale (3 lines with deposits, postings, stock,
//!    hash chain, idempotency record) with `synchronous=FULL`,
//!    interleaved round by round with the baseline: a bare single-row
//!    INSERT + COMMIT on an identical SQLite file in the same folder.
//! 2. Sales report over 1,000,000 entries (whole range, and a range with
//!    partial hours), next to a plain `SUM()` over all raw lines.
//!
//! 3. PIN-only login with 300 active staff at production Argon2id cost
//!    (the lookup by PIN tag), next to what a login cost before tags
//!    (every active member's hash tried) and to one hash verification.
//!
//! Files live in cargo's target tmp dir, on the project's disk.

mod history;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::Connection;
use tapster_ledger::model::Tender;
use tapster_ledger::pin::PinHashCost;
use tapster_ledger::pricing::Cart;
use tapster_ledger::store::{
    Authorisation, OpenShiftRequest, ReportFilter, SaleRequest, TopUpRequest,
};
use tapster_ledger::{
    demo, Cents, IdempotencyKey, Ledger, LedgerOptions, StaffId, TerminalId, Timestamp,
};

const ROUNDS: usize = 20;
const SALES_PER_ROUND: usize = 300;
const WALLETS: u32 = 500;
const REPORT_ENTRIES: i64 = 1_000_000;

fn main() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ledger-bench");
    std::fs::create_dir_all(&dir).unwrap();
    // `cargo bench … -- sales` or `-- report` runs only one part.
    let only = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    if only.as_deref().is_none_or(|o| o == "sales") {
        sale_commit(&dir);
    }
    if only.as_deref().is_none_or(|o| o == "report") {
        report(&dir);
    }
    if only.as_deref().is_none_or(|o| o == "login") {
        login(&dir);
    }
}

const LOGIN_STAFF: u32 = 300;
const LOGINS: usize = 200;

/// The PIN of bench staff member `n`: five digits, all different.
fn bench_pin(n: u32) -> tapster_ledger::pin::Pin {
    tapster_ledger::pin::Pin::new(&format!("{}", 10_000 + n * 7)).unwrap()
}

fn login(dir: &Path) {
    use tapster_ledger::model::Role;
    use tapster_ledger::pin::verify_pin;
    use tapster_ledger::store::NewStaff;

    let path = dir.join("login.sqlite");
    history::fresh(&path);
    let ledger = Ledger::open(
        &path,
        LedgerOptions::new(TerminalId::new("bench").unwrap())
            .with_pin_cost(PinHashCost::Production),
    )
    .unwrap();
    let started = Instant::now();
    for n in 0..LOGIN_STAFF {
        ledger
            .add_staff(&NewStaff {
                id: StaffId::new(format!("volunteer-{n}").as_str()).unwrap(),
                name: format!("Volunteer {n}"),
                role: Role::Cashier,
                pin: bench_pin(n),
                badge: None,
            })
            .unwrap();
    }
    println!(
        "== PIN login, {LOGIN_STAFF} active staff, production Argon2id cost (staff added in {:.1} s)",
        started.elapsed().as_secs_f64()
    );
    let hashes: Vec<String> = {
        let conn = Connection::open(&path).unwrap();
        let mut stmt = conn
            .prepare("SELECT pin_hash FROM staff WHERE active = 1")
            .unwrap();
        let rows = stmt.query_map([], |r| r.get(0)).unwrap();
        rows.map(Result::unwrap).collect()
    };
    assert_eq!(hashes.len(), LOGIN_STAFF as usize);

    let mut one_verify = Series::new("one Argon2id verification");
    let mut logins = Series::new("login by PIN tag");
    // Who logs in: spread over the staff, the same order every run.
    let mut who = 17u32;
    for _ in 0..LOGINS {
        who = (who * 31 + 7) % LOGIN_STAFF;
        let pin = bench_pin(who);
        let started = Instant::now();
        assert!(verify_pin(&pin, &hashes[0]).is_ok());
        let took = started.elapsed();
        one_verify.latencies.push(took);
        one_verify.busy += took;
        let started = Instant::now();
        let member = ledger.login_by_pin(&pin).unwrap();
        let took = started.elapsed();
        assert_eq!(member.id.as_str(), format!("volunteer-{who}"));
        logins.latencies.push(took);
        logins.busy += took;
    }
    // Before tags: every active member's hash tried, as each login did.
    let mut every_hash = Series::new("every hash tried (before)");
    for round in 0..3 {
        let pin = bench_pin(round * 100);
        let started = Instant::now();
        let found = hashes
            .iter()
            .filter(|hash| verify_pin(&pin, hash).unwrap())
            .count();
        let took = started.elapsed();
        assert_eq!(found, 1);
        every_hash.latencies.push(took);
        every_hash.busy += took;
    }
    let (verify_p50, _, _) = one_verify.report();
    let (login_p50, login_p99, _) = logins.report();
    let (before_p50, _, _) = every_hash.report();
    println!(
        "login p99 {:.0} ms (target under 300 ms); p50 {:.2}x one verification; {:.0}x faster than trying every hash",
        login_p99.as_secs_f64() * 1e3,
        login_p50.as_secs_f64() / verify_p50.as_secs_f64(),
        before_p50.as_secs_f64() / login_p50.as_secs_f64()
    );
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

struct Series {
    name: &'static str,
    latencies: Vec<Duration>,
    busy: Duration,
}

impl Series {
    fn new(name: &'static str) -> Self {
        Series {
            name,
            latencies: Vec::new(),
            busy: Duration::ZERO,
        }
    }

    fn per_second(&self) -> f64 {
        self.latencies.len() as f64 / self.busy.as_secs_f64()
    }

    fn report(&mut self) -> (Duration, Duration, f64) {
        self.latencies.sort();
        let p50 = percentile(&self.latencies, 0.50);
        let p99 = percentile(&self.latencies, 0.99);
        println!(
            "{:<28} n={:>5}  p50={:>8.3} ms  p99={:>8.3} ms  {:>8.0}/s",
            self.name,
            self.latencies.len(),
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3,
            self.per_second()
        );
        (p50, p99, self.per_second())
    }
}

fn sale_commit(dir: &Path) {
    let baseline_path = dir.join("baseline.sqlite");
    let ledger_path = dir.join("sales.sqlite");
    history::fresh(&baseline_path);
    history::fresh(&ledger_path);

    let baseline = Connection::open(&baseline_path).unwrap();
    baseline
        .pragma_update(None, "page_size", tapster_ledger::store::PAGE_SIZE)
        .unwrap();
    baseline.pragma_update(None, "journal_mode", "WAL").unwrap();
    baseline.pragma_update(None, "synchronous", "FULL").unwrap();
    baseline
        .execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, payload TEXT NOT NULL) STRICT")
        .unwrap();

    let ledger = Ledger::open(
        &ledger_path,
        LedgerOptions::new(TerminalId::new("bench").unwrap()).with_pin_cost(PinHashCost::Fast),
    )
    .unwrap();
    demo::seed(&ledger, 0).unwrap();
    let mut settings = ledger.settings().unwrap();
    settings.max_wallet_balance = Cents(1_000_000_00);
    ledger.update_settings(&settings).unwrap();
    let anna = StaffId::new("anna").unwrap();
    ledger
        .open_shift(&OpenShiftRequest {
            key: IdempotencyKey::random(),
            staff: anna.clone(),
            float: Cents(0),
        })
        .unwrap();
    for n in 1..=WALLETS {
        ledger
            .top_up(
                &TopUpRequest {
                    key: IdempotencyKey::random(),
                    staff: anna.clone(),
                    token: demo::wristband(n),
                    amount: Cents(100_000_00),
                    tender: Tender::Cash,
                },
                Authorisation::ThisLedger,
            )
            .unwrap();
    }
    let cart = Cart::new()
        .with(&demo::product("beer"), 2)
        .with(&demo::product("cola"), 1);
    let mut cola = ledger.product(&demo::product("cola")).unwrap().unwrap();
    cola.stock = 1_000_000;
    ledger.upsert_product(&cola).unwrap();

    let mut base = Series::new("baseline INSERT+COMMIT");
    let mut sales = Series::new("ledger wallet sale");
    let mut insert = baseline
        .prepare("INSERT INTO t (payload) VALUES (?1)")
        .unwrap();
    let mut n = 0u32;
    let mut round_ratios = Vec::new();
    for _ in 0..ROUNDS {
        let (base_busy, sales_busy) = (base.busy, sales.busy);
        for _ in 0..SALES_PER_ROUND {
            let started = Instant::now();
            baseline.execute_batch("BEGIN").unwrap();
            insert
                .execute(["a sale-sized row of about one hundred bytes, standing in for the entry"])
                .unwrap();
            baseline.execute_batch("COMMIT").unwrap();
            let took = started.elapsed();
            base.latencies.push(took);
            base.busy += took;
        }
        for _ in 0..SALES_PER_ROUND {
            n += 1;
            let request = SaleRequest {
                key: IdempotencyKey::random(),
                staff: anna.clone(),
                cart: cart.clone(),
                tender: Tender::Wallet,
                token: Some(demo::wristband(n % WALLETS + 1)),
                pass: None,
            };
            let started = Instant::now();
            ledger.sell(&request, Authorisation::ThisLedger).unwrap();
            let took = started.elapsed();
            sales.latencies.push(took);
            sales.busy += took;
        }
        // Throughput of this round's sales relative to this round's baseline.
        round_ratios
            .push((base.busy - base_busy).as_secs_f64() / (sales.busy - sales_busy).as_secs_f64());
    }
    round_ratios.sort_by(f64::total_cmp);
    println!("== sale commit, synchronous=FULL, {ROUNDS} interleaved rounds of {SALES_PER_ROUND}");
    let (_, base_p99, base_rate) = base.report();
    let (_, sale_p99, sale_rate) = sales.report();
    println!(
        "ratio: p99 {:.2}x the baseline's (target <= 2x), throughput {:.0}% of the baseline's (target >= 50%), \
         median of {ROUNDS} rounds {:.0}%",
        sale_p99.as_secs_f64() / base_p99.as_secs_f64(),
        100.0 * sale_rate / base_rate,
        100.0 * round_ratios[round_ratios.len() / 2]
    );
}

/// A ledger with `REPORT_ENTRIES` sales over three festival days, built
/// with SQL in one transaction, then rolled up by the ledger (hashes are
/// placeholders, which reports never read).
fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..runs {
        let started = Instant::now();
        let value = f();
        best = best.min(started.elapsed());
        last = Some(value);
    }
    (best, last.unwrap())
}

fn report(dir: &Path) {
    let path = dir.join("report-1m-v8.sqlite");
    history::build(&path, REPORT_ENTRIES);
    let reader = tapster_ledger::LedgerReader::open(&path).unwrap();
    let conn = Connection::open(&path).unwrap();
    println!("== sales report over {REPORT_ENTRIES} entries (best of 5)");
    let (raw, total): (Duration, i64) = time(5, || {
        conn.query_row(
            "SELECT SUM((l.value ->> 'q') * (l.value ->> 'u')) FROM entries e JOIN json_each(e.lines) l",
            [],
            |r| r.get(0),
        )
        .unwrap()
    });
    println!(
        "{:<44} {:>9.1} ms  (sum {total})",
        "baseline: SUM over all raw lines",
        raw.as_secs_f64() * 1e3
    );
    let (whole, report) = time(5, || reader.sales_report(&ReportFilter::default()).unwrap());
    println!(
        "{:<44} {:>9.1} ms  (revenue {}, {} sales)",
        "full report, whole event",
        whole.as_secs_f64() * 1e3,
        report.revenue,
        report.sales_count
    );
    let start = 1_784_311_200_000i64;
    let filter = ReportFilter {
        from: Some(Timestamp(start + 5 * 3_600_000 + 1_234_567)),
        until: Some(Timestamp(start + 40 * 3_600_000 + 2_345_678)),
        ..ReportFilter::default()
    };
    let (partial, report) = time(5, || reader.sales_report(&filter).unwrap());
    println!(
        "{:<44} {:>9.1} ms  (revenue {}, {} sales)",
        "full report, 35 h with partial hours",
        partial.as_secs_f64() * 1e3,
        report.revenue,
        report.sales_count
    );
    println!("target: report under 100 ms");
}
