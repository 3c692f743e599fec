//! The app's benchmarks in the real window (Xvfb + WebKitWebDriver), each
//! next to a baseline from the same run.
//!
//! `cargo bench -p tapster-app --bench app_bench` (release build of the app)
//!
//! 1. Cold start: launching the app on an existing demo ledger until the
//!    login screen is in the DOM; baseline: the same binary started with
//!    `--version` (loading the executable, no window).
//! 2. Tap to screen: from the tap event leaving the reader task in Rust to
//!    the success screen painted (two animation frames after the DOM
//!    update), for wallet sales; baseline: a command round trip
//!    (`status`) from the page and back.
//! 3. Memory after 1,000 sales: proportional set size (PSS) of the app
//!    process and the WebKit processes it starts (RSS per process too);
//!    baseline: right after login.

#[path = "../tests/webdriver/mod.rs"]
mod webdriver;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use webdriver::App;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn summary(name: &str, mut values: Vec<f64>, unit: &str) -> (f64, f64) {
    values.sort_by(f64::total_cmp);
    let (p50, p99) = (percentile(&values, 0.5), percentile(&values, 0.99));
    println!(
        "{name:<52} n={:>4}  p50 {p50:>8.1} {unit}  p99 {p99:>8.1} {unit}",
        values.len()
    );
    (p50, p99)
}

/// Memory of the app (found by its data dir) and every process it started
/// (WebKit's web and network processes), per process: (name, RSS, PSS) in
/// MiB. RSS counts the shared WebKit libraries once per process; PSS
/// shares them out, so the PSS sum is the family's real footprint.
/// (name, RSS MiB, PSS MiB) of each of the app's processes.
fn memory(data_dir: &Path) -> Vec<(String, f64, f64)> {
    webdriver::processes_of(data_dir)
        .into_iter()
        .map(|p| (p.name, p.rss_mib, p.pss_mib))
        .collect()
}

fn report_memory(label: &str, rows: &[(String, f64, f64)]) -> f64 {
    let pss: f64 = rows.iter().map(|r| r.2).sum();
    let rss: f64 = rows.iter().map(|r| r.1).sum();
    let detail: Vec<String> = rows
        .iter()
        .map(|(name, rss, pss)| format!("{name} {rss:.0}/{pss:.0}"))
        .collect();
    println!(
        "{label:<40} PSS {pss:>6.0} MiB (RSS sum {rss:.0})  [rss/pss: {}]",
        detail.join(", ")
    );
    pss
}

fn login_and_open_shift(app: &App) {
    app.wait("screen-login");
    app.type_keys("1111");
    app.press("Enter");
    app.wait("screen-open-shift");
    app.click("open-shift");
    app.wait("screen-sell");
}

fn top_up(app: &App, band: &str, cents: &str) {
    app.click("nav-top_up");
    app.wait("screen-top-up");
    app.press("Escape");
    app.type_keys(cents);
    app.click(&format!("demo-tap-{band}"));
    app.wait("result-success");
    app.click("result-next");
    app.wait_gone("result-success");
}

fn main() {
    let binary = Path::new(env!("CARGO_BIN_EXE_tapster-app"));
    let root = tempfile::tempdir().unwrap();
    let shots = root.path().join("shots");
    let data = root.path().join("data");

    // A first start seeds the demo ledger (Argon2 PIN hashes and all).
    {
        let app = App::launch(binary, &["--demo"], &data, &shots);
        app.wait("screen-login");
    }
    std::thread::sleep(Duration::from_millis(500));

    println!("== cold start to the login screen (existing demo ledger)");
    let baseline: Vec<f64> = (0..5)
        .map(|_| {
            let started = Instant::now();
            let status = Command::new(binary).arg("--version").output().unwrap();
            assert!(status.status.success());
            started.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    summary("baseline: the binary with --version", baseline, "ms");
    let starts: Vec<f64> = (0..5)
        .map(|_| {
            let started = Instant::now();
            let app = App::launch(binary, &["--demo"], &data, &shots);
            app.wait("screen-login");
            let elapsed = started.elapsed().as_secs_f64() * 1e3;
            drop(app);
            std::thread::sleep(Duration::from_millis(500));
            elapsed
        })
        .collect();
    summary("launch → login screen in the DOM (WebDriver)", starts, "ms");
    println!("target: start under 1.5 s");

    let app = App::launch(binary, &["--demo"], &data, &shots);
    login_and_open_shift(&app);
    let after_login = memory(&data);

    println!("== wristband tap to success screen");
    let round_trips: Vec<f64> = (0..100)
        .map(|_| {
            let value = app.post_async(
                "const done = arguments[0]; const t0 = performance.now(); window.__TAURI_INTERNALS__.invoke('status').then(() => done(performance.now() - t0));",
            );
            value.as_f64().unwrap_or(f64::NAN)
        })
        .collect();
    summary(
        "baseline: `status` command round trip from the page",
        round_trips,
        "ms",
    );
    if std::env::args().any(|a| a == "memory-only") {
        measure_memory(&app, &data, after_login);
        return;
    }
    let bands = ["04D30000000001", "04D30000000002"];
    top_up(&app, bands[0], "23000");
    top_up(&app, bands[1], "22000");
    app.click("nav-sell");
    let mut latencies = Vec::new();
    for band in bands {
        for _ in 0..50 {
            app.click("product-water");
            app.wait_text("cart-total", "4,50");
            let before = app.script(
                "return window.__tapsterLastResult ? window.__tapsterLastResult.tapAtMicros : 0;",
            );
            app.click(&format!("demo-tap-{band}"));
            app.wait("result-success");
            let deadline = Instant::now() + Duration::from_secs(5);
            let result = loop {
                let result = app.script("return window.__tapsterLastResult || null;");
                if !result.is_null() && result["tapAtMicros"] != before {
                    break result;
                }
                assert!(Instant::now() < deadline, "no paint mark");
                std::thread::sleep(Duration::from_millis(5));
            };
            let tap = result["tapAtMicros"].as_f64().unwrap();
            let painted = result["paintedAtMillis"].as_f64().unwrap() * 1000.0;
            latencies.push((painted - tap) / 1000.0);
            app.click("result-next");
            app.wait_gone("result-success");
        }
    }
    summary(
        "tap event in Rust → success screen painted",
        latencies,
        "ms",
    );
    println!("target: p99 under 100 ms");

    measure_memory(&app, &data, after_login);
}

fn measure_memory(app: &App, data: &Path, after_login: Vec<(String, f64, f64)>) {
    println!("== memory after 1,000 sales");
    for n in 0..1000 {
        app.click("product-fries");
        // Only a cart whose price is on screen can be paid.
        app.wait_text("cart-total", "4,00");
        app.click("pay-cash");
        app.wait("result-success");
        app.click("result-next");
        app.wait_gone("result-success");
        if n % 250 == 249 {
            report_memory(&format!("  after {} sales", n + 1), &memory(data));
        }
    }
    let before = report_memory("baseline: after login", &after_login);
    let after = report_memory("after 1,000 more sales", &memory(data));
    println!("  growth {:.2}x; target: under 200 MB", after / before);
    where_it_goes(data);
}

/// The largest shares of each process's PSS by what is mapped (a library,
/// the heap, anonymous memory), from `/proc/PID/smaps`: which lever is
/// worth pulling, and what software GL under Xvfb costs apart.
fn where_it_goes(data: &Path) {
    println!("== where it goes (PSS by mapping, MiB)");
    for process in webdriver::processes_of(data) {
        let Ok(smaps) = std::fs::read_to_string(format!("/proc/{}/smaps", process.pid)) else {
            continue;
        };
        let mut by_mapping: std::collections::BTreeMap<String, f64> = Default::default();
        let mut current = String::new();
        for line in smaps.lines() {
            let mut fields = line.split_whitespace();
            let first = fields.next().unwrap_or_default();
            if first.contains('-') && !first.ends_with(':') {
                let path = fields.nth(4).unwrap_or("[anonymous]");
                current = path.rsplit('/').next().unwrap_or(path).to_string();
            } else if first == "Pss:" {
                let kib: f64 = fields.next().and_then(|v| v.parse().ok()).unwrap_or(0.0);
                *by_mapping.entry(current.clone()).or_default() += kib / 1024.0;
            }
        }
        let mut rows: Vec<(String, f64)> = by_mapping.into_iter().collect();
        rows.sort_by(|a, b| b.1.total_cmp(&a.1));
        let software_gl: f64 = rows
            .iter()
            .filter(|(name, _)| {
                name.starts_with("libLLVM") || name.contains("swrast") || name.contains("dri")
            })
            .map(|r| r.1)
            .sum();
        let top: Vec<String> = rows
            .iter()
            .take(10)
            .map(|(name, mib)| format!("{name} {mib:.1}"))
            .collect();
        println!(
            "  {} {:.0} MiB (software GL {software_gl:.1}): {}",
            process.name,
            process.pss_mib,
            top.join(", ")
        );
    }
}
