//! The guest pages beside the bars (`TAPSTER_BENCH=guest`): balance pages
//! per second, and whether the bars' online debits keep their pace while
//! guests load their pages. In one run, two rounds alternating: debits
//! alone (`CLIENTS` tills); pages alone (`FLOOD` phones, each signed in
//! with its own band's code, reloading its page as fast as the server
//! answers on a kept-alive HTTPS connection: the capacity); debits beside
//! a crowd (`CROWD` phones, each loading its page every `PACE`: an offered
//! load of 200 pages/s); and debits beside the flood. Target: debits with
//! the pages under load at least 0.8x of debits alone.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::{admin, bench_event, debits, Server, CLIENTS, RUN_FOR, WALLETS};

/// Phones reloading as fast as they can.
const FLOOD: usize = 8;
/// Phones reloading at a person's pace.
const CROWD: usize = 50;
const PACE: std::time::Duration = std::time::Duration::from_millis(250);

pub fn main() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("server-bench-guest");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("server.sqlite");
    let d = db.to_str().unwrap();
    let (event, token) = bench_event(d, "2500000");
    // The phones' bands: the last ones, which the debits reach too.
    let bands: String = (0..CROWD as u32)
        .map(|i| format!("{}\n", tapster_ledger::demo::wristband(WALLETS - i)))
        .collect();
    let band_file = dir.join("bands.txt");
    std::fs::write(&band_file, bands).unwrap();
    let issued = admin(&[
        "guest-codes",
        "--db",
        d,
        "--event",
        &event,
        "--tokens",
        band_file.to_str().unwrap(),
    ]);
    let codes: Vec<String> = issued["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap().to_string())
        .collect();

    println!(
        "== guest pages beside the bars: {CLIENTS} tills debiting; {CROWD} phones each loading its page every {} ms, or {FLOOD} reloading as fast as they can; {} s per phase, two rounds",
        PACE.as_millis(),
        RUN_FOR.as_secs()
    );
    let mut figures: std::collections::BTreeMap<&str, Vec<f64>> = Default::default();
    for round in 0..2 {
        let server = Server::start(d, true, &dir);
        let phones = sign_in(&server, &event, &codes);
        let (rate, _) = debits(&server, &event, &token, &format!("alone-{round}"));
        println!("  debits alone: {rate:.0}/s");
        figures.entry("alone").or_default().push(rate);
        let pages = load_pages(&server, &event, &phones[..FLOOD], None, || {
            std::thread::sleep(RUN_FOR)
        });
        println!("  pages alone, as fast as they come: {pages:.0}/s");
        figures.entry("capacity").or_default().push(pages);
        let mut rate = 0.0;
        let pages = load_pages(&server, &event, &phones, Some(PACE), || {
            rate = debits(&server, &event, &token, &format!("crowd-{round}")).0;
        });
        println!("  debits beside the crowd: {rate:.0}/s, pages {pages:.0}/s");
        figures.entry("crowd").or_default().push(rate);
        figures.entry("crowd pages").or_default().push(pages);
        let pages = load_pages(&server, &event, &phones[..FLOOD], None, || {
            rate = debits(&server, &event, &token, &format!("flood-{round}")).0;
        });
        println!("  debits beside the flood: {rate:.0}/s, pages {pages:.0}/s");
        figures.entry("flood").or_default().push(rate);
        figures.entry("flood pages").or_default().push(pages);
    }
    let mean = |key: &str| figures[key].iter().sum::<f64>() / figures[key].len() as f64;
    println!(
        "guest pages: {:.0} pages/s alone; debits {:.0}/s alone, {:.0}/s beside {:.0} pages/s of the crowd: {:.2}x (target: at least 0.8x); beside a flood of {:.0} pages/s: {:.0}/s, {:.2}x",
        mean("capacity"),
        mean("alone"),
        mean("crowd"),
        mean("crowd pages"),
        mean("crowd") / mean("alone"),
        mean("flood pages"),
        mean("flood"),
        mean("flood") / mean("alone"),
    );
}

/// One signed-in phone per code: its client and its session cookie.
fn sign_in(
    server: &Server,
    event: &str,
    codes: &[String],
) -> Vec<(reqwest::blocking::Client, String)> {
    codes
        .iter()
        .map(|code| {
            let client = server.page_client();
            let answer = client
                .post(format!("{}/guest/{event}/sign-in", server.origin()))
                .form(&[("code", code.as_str())])
                .send()
                .unwrap();
            assert_eq!(answer.status().as_u16(), 303, "signed in");
            let cookie = answer
                .headers()
                .get_all("set-cookie")
                .iter()
                .map(|v| v.to_str().unwrap().to_string())
                .find(|v| v.starts_with("__Host-tapster-guest="))
                .unwrap();
            (client, cookie.split(';').next().unwrap().to_string())
        })
        .collect()
}

/// Every phone loads its page, once every `pace` or as fast as it is
/// answered, while `meanwhile` runs; pages per second.
fn load_pages(
    server: &Server,
    event: &str,
    phones: &[(reqwest::blocking::Client, String)],
    pace: Option<std::time::Duration>,
    meanwhile: impl FnOnce(),
) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let url = format!("{}/guest/{event}?lang=en", server.origin());
    let workers: Vec<_> = phones
        .iter()
        .cloned()
        .map(|(client, cookie)| {
            let (stop, url) = (stop.clone(), url.clone());
            std::thread::spawn(move || {
                let mut loaded = 0u64;
                let mut next = Instant::now();
                while !stop.load(Ordering::Relaxed) {
                    if let Some(pace) = pace {
                        std::thread::sleep(next.saturating_duration_since(Instant::now()));
                        next += pace;
                    }
                    let page = client.get(&url).header("Cookie", &cookie).send().unwrap();
                    assert_eq!(page.status().as_u16(), 200);
                    let text = page.text().unwrap();
                    assert!(text.contains("History"), "the signed-in page");
                    loaded += 1;
                }
                loaded
            })
        })
        .collect();
    meanwhile();
    stop.store(true, Ordering::Relaxed);
    let loaded: u64 = workers.into_iter().map(|w| w.join().unwrap()).sum();
    loaded as f64 / started.elapsed().as_secs_f64()
}
