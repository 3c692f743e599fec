//! The print queue against a printer that refuses connections, one that
//! stalls, and one out of paper (the real emupos emulator behind them): a
//! sale never waits, jobs print once the printer is back, and never twice.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

use common::{free_port, printed_lines, wait_until, Emupos};
use tapster_print::document::ReceiptBuilder;
use tapster_print::printer::{PrinterUri, Timeouts};
use tapster_print::{
    CodePage, JobState, PaperWidth, PrintQueue, PrinterStatus, QueueOptions, Receipt,
};

fn receipt(text: &str) -> Receipt {
    let mut b = ReceiptBuilder::new(PaperWidth::Mm58, CodePage::Wpc1252);
    b.title(text).row("1 × Bier 0,5 l", "5,00 €");
    b.build()
}

fn quick() -> QueueOptions {
    QueueOptions {
        timeouts: Timeouts {
            connect: Duration::from_millis(500),
            write: Duration::from_secs(5),
            status: Duration::from_millis(300),
        },
        first_retry_delay: Duration::from_millis(100),
        max_retry_delay: Duration::from_millis(400),
        status_interval: Duration::from_millis(500),
        ..QueueOptions::default()
    }
}

fn titles(printed: &[String]) -> Vec<String> {
    printed
        .iter()
        .map(|text| printed_lines(text)[0].clone())
        .collect()
}

#[test]
fn jobs_wait_for_a_printer_that_refuses_and_print_once_it_is_back() {
    let port = free_port();
    let uri = PrinterUri::Tcp {
        host: "127.0.0.1".into(),
        port,
    };
    let queue = PrintQueue::start(uri, quick()).unwrap();
    // Enqueuing returns at once with the printer away.
    let first = queue.print(&receipt("Beleg 1"), "1").unwrap();
    let second = queue.print(&receipt("Beleg 2"), "2").unwrap();
    wait_until(
        Duration::from_secs(10),
        "retries against the dead port",
        || {
            let status = queue.status();
            let job = status.jobs.iter().find(|j| j.id == first)?;
            (status.status == PrinterStatus::Offline && job.attempts >= 2).then_some(())
        },
    );
    let status = queue.status();
    assert_eq!(status.pending, 2);
    assert!(status.last_error.is_some());
    // The printer comes back on the same port.
    let printer = Emupos::start_on(port);
    for job in [first, second] {
        let done = queue.wait_for(job, Duration::from_secs(30)).unwrap();
        assert_eq!(done.state, JobState::Sent, "{done:?}");
    }
    let printed = printer.wait_for_receipts(2);
    assert_eq!(titles(&printed), ["Beleg 1", "Beleg 2"], "in order");
    // Retries are over: nothing prints a second time.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(printer.receipt_ids().len(), 2);
    assert_eq!(queue.status().status, PrinterStatus::Ok);
}

/// A printer that accepts the connection and reads nothing until told to,
/// then passes everything on to the emulator.
fn stalling_proxy(target: u16) -> (u16, mpsc::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (release, released) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        let mut stalled = Vec::new();
        listener.set_nonblocking(true).unwrap();
        // Accept (the kernel completes the handshake) but do not read.
        loop {
            match listener.accept() {
                Ok((client, _)) => stalled.push(client),
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
            if released.try_recv().is_ok() {
                break;
            }
        }
        for mut client in stalled {
            client.set_nonblocking(false).unwrap();
            client
                .set_read_timeout(Some(Duration::from_millis(500)))
                .unwrap();
            let mut upstream = TcpStream::connect(("127.0.0.1", target)).unwrap();
            let mut buffer = [0u8; 4096];
            loop {
                match client.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => upstream.write_all(&buffer[..n]).unwrap(),
                }
            }
        }
    });
    (port, release)
}

#[test]
fn a_stalled_printer_does_not_block_and_prints_the_job_once() {
    let printer = Emupos::start();
    let (port, release) = stalling_proxy(printer.port);
    let queue = PrintQueue::start(
        PrinterUri::Tcp {
            host: "127.0.0.1".into(),
            port,
        },
        quick(),
    )
    .unwrap();
    let job = queue.print(&receipt("Beleg gestaut"), "stalled").unwrap();
    // The bytes sit in the connection: the status probe got no answer, so
    // the job went out as to any printer that does not report status.
    let done = queue.wait_for(job, Duration::from_secs(30)).unwrap();
    assert_eq!(done.state, JobState::Sent);
    std::thread::sleep(Duration::from_millis(500));
    assert!(printer.receipt_ids().is_empty(), "printed while stalled");
    release.send(()).unwrap();
    let printed = printer.wait_for_receipts(1);
    assert_eq!(titles(&printed), ["Beleg gestaut"]);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(printer.receipt_ids().len(), 1, "printed twice");
}

#[test]
fn paper_out_holds_jobs_until_the_roll_is_replaced() {
    let printer = Emupos::start();
    let queue = PrintQueue::start(printer.uri(), quick()).unwrap();
    wait_until(Duration::from_secs(10), "the first status", || {
        (queue.status().status == PrinterStatus::Ok).then_some(())
    });
    printer.set_fault("paper-out", true);
    let job = queue
        .print(&receipt("Nach Papierwechsel"), "paper")
        .unwrap();
    wait_until(Duration::from_secs(10), "paper out to be seen", || {
        let status = queue.status();
        let info = status.jobs.iter().find(|j| j.id == job)?;
        (status.status == PrinterStatus::PaperOut && info.state == JobState::Queued).then_some(())
    });
    // Near the end of the roll still prints, and says so.
    printer.set_fault("paper-out", false);
    printer.set_fault("paper-near-end", true);
    let done = queue.wait_for(job, Duration::from_secs(30)).unwrap();
    assert_eq!(done.state, JobState::Sent);
    assert_eq!(
        titles(&printer.wait_for_receipts(1)),
        ["Nach Papierwechsel"]
    );
    assert_eq!(queue.status().status, PrinterStatus::PaperNearEnd);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(printer.receipt_ids().len(), 1);
}

#[test]
fn a_reprint_is_marked_as_a_copy_and_a_drawer_kick_that_waited_too_long_is_dropped() {
    let printer = Emupos::start();
    let queue = PrintQueue::start(printer.uri(), quick()).unwrap();
    let mut cash = receipt("Barverkauf");
    cash.open_drawer = true;
    let job = queue.print(&cash, "cash").unwrap();
    queue.wait_for(job, Duration::from_secs(30)).unwrap();
    printer.wait_for_receipts(1);
    wait_until(
        Duration::from_secs(10),
        "the cash receipt to open the drawer",
        || printer.drawer_open().then_some(()),
    );
    printer.close_drawer();
    let copy = queue.reprint(job, "*** KOPIE ***").unwrap();
    assert_eq!(
        queue.wait_for(copy, Duration::from_secs(30)).unwrap().state,
        JobState::Sent
    );
    let printed = printer.wait_for_receipts(2);
    assert_eq!(titles(&printed), ["Barverkauf", "*** KOPIE ***"]);
    assert!(!printer.drawer_open(), "a reprint opened the drawer");

    // With the printer gone, a drawer kick expires instead of springing the
    // drawer open whenever the printer returns.
    let gone = PrintQueue::start(
        PrinterUri::Tcp {
            host: "127.0.0.1".into(),
            port: free_port(),
        },
        QueueOptions {
            drawer_max_age: Duration::from_millis(300),
            ..quick()
        },
    )
    .unwrap();
    let kick = gone.open_drawer();
    let done = gone.wait_for(kick, Duration::from_secs(10)).unwrap();
    assert_eq!(done.state, JobState::Expired);
    // The same for the drawer pulse of a cash receipt: the pulse expires,
    // the receipt keeps waiting for the printer.
    let receipt_job = gone.print(&cash, "cash").unwrap();
    wait_until(
        Duration::from_secs(10),
        "the receipt's drawer kick to expire",
        || {
            let status = gone.status();
            let expired_kick = status.jobs.iter().any(|j| {
                j.kind == tapster_print::queue::JobKind::DrawerKick
                    && j.id != kick
                    && j.state == JobState::Expired
            });
            expired_kick.then_some(())
        },
    );
    assert_eq!(gone.job(receipt_job).unwrap().state, JobState::Queued);
}
