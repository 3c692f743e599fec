//! `tapster-server`: serve the API, and administer the database file.
//! Every administrative command prints one JSON object on stdout.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use serde_json::json;
use tapster_ledger::model::Permission;
use tapster_ledger::pin::PinHashCost;
use tapster_ledger::SystemClock;
use tapster_server::http::{router_with, GuestServices};
use tapster_server::mail::Mailer;
use tapster_server::store::{DatabaseLocation, ServerStore};
use tapster_server::transport::{qr_text, setup_code, Bound, SetupTransport, Transport};
use tapster_tls::server::{names_for, CertificateSource, OwnCertificate, ServedCertificate};

#[derive(Parser)]
#[command(
    name = "tapster-server",
    version,
    about = "The event's source of truth for Tapster terminals"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API until SIGTERM or Ctrl-C.
    Serve {
        /// The database: a SQLite file, or a `postgres://` URL.
        #[arg(long, visible_alias = "database", value_name = "PATH|URL")]
        db: String,
        /// Address to listen on; port 0 picks a free one (printed on stdout).
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Average requests per second per token and endpoint (seed 000:
        /// 5); 0 switches the limit off.
        #[arg(long, default_value_t = 5.0)]
        rate_limit: f64,
        #[command(flatten)]
        tls: TlsArgs,
        #[command(flatten)]
        guests: GuestArgs,
    },
    /// The server's own TLS certificate (kept next to a SQLite database,
    /// or in --tls-dir).
    Tls {
        #[command(subcommand)]
        command: TlsCommand,
    },
    /// Events.
    Event {
        #[command(subcommand)]
        command: EventCommand,
    },
    /// Terminals.
    Terminal {
        #[command(subcommand)]
        command: TerminalCommand,
    },
    /// Make a manager token for an event.
    AdminToken {
        /// The database: a SQLite file, or a `postgres://` URL.
        #[arg(long, visible_alias = "database", value_name = "PATH|URL")]
        db: String,
        #[arg(long)]
        event: String,
    },
    /// Make the codes printed on wristbands for the guest pages (a band's
    /// earlier code stops working). They are shown only now.
    GuestCodes {
        /// The database: a SQLite file, or a `postgres://` URL.
        #[arg(long, visible_alias = "database", value_name = "PATH|URL")]
        db: String,
        #[arg(long)]
        event: String,
        /// A file of wristband token ids, one per line (`-`: standard input).
        #[arg(long)]
        tokens: PathBuf,
        /// The server's public address (`https://pay.example.org`): each
        /// code comes with the link its QR code should carry.
        #[arg(long)]
        portal: Option<String>,
    },
    /// Fill an event with the demo bar: drinks with deposits, food, staff
    /// and funded wristbands.
    Demo {
        /// The database: a SQLite file, or a `postgres://` URL.
        #[arg(long, visible_alias = "database", value_name = "PATH|URL")]
        db: String,
        #[arg(long)]
        event: String,
        #[arg(long, default_value_t = 100)]
        wallets: u32,
        /// Each wristband's balance in cents (default: 10.00 to 50.00); more than the
        /// event's maximum balance raises that maximum.
        #[arg(long)]
        wallet_balance: Option<i64>,
    },
    /// Copy a SQLite database into an empty PostgreSQL database, then
    /// verify the copy (every table's rows, every balance).
    Migrate {
        /// The SQLite database (`sqlite:PATH` or a path).
        #[arg(long)]
        from: String,
        /// The PostgreSQL database (`postgres://…`), empty.
        #[arg(long)]
        to: String,
    },
    /// Exports for the tax office.
    Export {
        #[command(subcommand)]
        what: ExportCommand,
    },
    /// Exit 0 when every wallet's balance equals the sum of its transactions.
    Check {
        /// The database: a SQLite file, or a `postgres://` URL.
        #[arg(long, visible_alias = "database", value_name = "PATH|URL")]
        db: String,
    },
}

#[derive(Subcommand)]
enum ExportCommand {
    /// DSFinV-K 2.3 for the tax auditors: a ZIP of the 20 CSV files,
    /// index.xml and the GDPdU DTD, one closing per till per business day
    /// (06:00 to 06:00 in the event's time zone).
    Dsfinvk {
        /// The database: a SQLite file, or a `postgres://` URL.
        #[arg(long, visible_alias = "database", value_name = "PATH|URL")]
        db: String,
        #[arg(long)]
        event: String,
        /// The first business day (`2026-07-17`); default: the first.
        #[arg(long)]
        from: Option<jiff::civil::Date>,
        /// The last business day, included; default: the last.
        #[arg(long)]
        to: Option<jiff::civil::Date>,
        /// Where the ZIP goes.
        #[arg(long)]
        out: PathBuf,
    },
}

/// What the guest pages need besides the database.
#[derive(clap::Args)]
struct GuestArgs {
    /// The organiser's outgoing mail relay for receipts to guests:
    /// `smtp://HOST:PORT` (plain, for a relay on the same machine or
    /// network), `smtps://USER:PASSWORD@HOST` or
    /// `smtp://USER:PASSWORD@HOST:587?tls=required` (STARTTLS). Better
    /// given as TAPSTER_MAIL_RELAY, so no password shows in `ps`.
    #[arg(
        long,
        env = "TAPSTER_MAIL_RELAY",
        hide_env_values = true,
        requires = "mail_from"
    )]
    mail_relay: Option<String>,
    /// The sender of those e-mails, e.g. "Festival <payout@example.org>".
    #[arg(long)]
    mail_from: Option<String>,
    /// The guest pages' public address (`https://pay.example.org`), for
    /// the links in e-mails; without it they carry none.
    #[arg(long)]
    portal_url: Option<String>,
}

impl GuestArgs {
    fn services(self) -> Result<GuestServices> {
        let mail = match (self.mail_relay, self.mail_from) {
            (Some(relay), Some(from)) => Some(Mailer::start(&relay, &from)?),
            _ => None,
        };
        if let Some(url) = &self.portal_url {
            anyhow::ensure!(
                url.starts_with("https://") && !url.contains(['"', '<', '>', ' ']),
                "--portal-url must be an https:// address"
            );
        }
        Ok(GuestServices {
            mail,
            portal_url: self.portal_url.map(|u| u.trim_end_matches('/').to_string()),
        })
    }
}

/// How `serve` is reached.
#[derive(clap::Args)]
struct TlsArgs {
    /// The operator's certificate (PEM, with its chain) instead of the
    /// server's own; reloaded when the file changes or at SIGHUP.
    #[arg(long, requires = "tls_key", conflicts_with = "insecure_http")]
    tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// A certificate to announce to pinned tills before switching to it.
    #[arg(long, requires = "tls_cert")]
    tls_next_cert: Option<PathBuf>,
    /// More host names or addresses for the server's own certificate when
    /// it is made (the listen address, localhost and the host name are in).
    #[arg(long = "tls-name")]
    tls_names: Vec<String>,
    /// Where the server's own certificate is kept (default: next to a
    /// SQLite database; required on PostgreSQL without --tls-cert).
    #[arg(long)]
    tls_dir: Option<PathBuf>,
    /// Plain HTTP: terminal tokens and wallets readable by anyone on the
    /// network. For local development only; tills show "not encrypted".
    #[arg(long)]
    insecure_http: bool,
    /// Also listen on this port (same address) and answer plain-HTTP
    /// requests with a 308 to the HTTPS address.
    #[arg(long, conflicts_with = "insecure_http")]
    redirect_http: Option<u16>,
}

#[derive(Subcommand)]
enum TlsCommand {
    /// Print the fingerprint of the certificate served (and of the next one).
    Show {
        /// The database: a SQLite file, or a `postgres://` URL.
        #[arg(long, visible_alias = "database", value_name = "PATH|URL")]
        db: String,
        #[arg(long)]
        tls_dir: Option<PathBuf>,
    },
    /// Make the next certificate: a running server announces it to pinned
    /// tills from now on; switch with `tls promote` once they have all synced.
    Rotate {
        /// The database: a SQLite file, or a `postgres://` URL.
        #[arg(long, visible_alias = "database", value_name = "PATH|URL")]
        db: String,
        #[arg(long = "tls-name")]
        tls_names: Vec<String>,
        #[arg(long)]
        tls_dir: Option<PathBuf>,
    },
    /// Serve the next certificate (a running server switches within seconds).
    Promote {
        /// The database: a SQLite file, or a `postgres://` URL.
        #[arg(long, visible_alias = "database", value_name = "PATH|URL")]
        db: String,
        #[arg(long)]
        tls_dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum EventCommand {
    Create {
        /// The database: a SQLite file, or a `postgres://` URL.
        #[arg(long, visible_alias = "database", value_name = "PATH|URL")]
        db: String,
        #[arg(long)]
        name: String,
    },
    /// A new version of the event's master key for genuine bands (after a
    /// till was lost): tills get it at their next sync, bands are re-keyed
    /// at the encoding station; the previous version works until then.
    RotateBandKeys {
        /// The database: a SQLite file, or a `postgres://` URL.
        #[arg(long, visible_alias = "database", value_name = "PATH|URL")]
        db: String,
        #[arg(long)]
        event: String,
    },
}

#[derive(Subcommand)]
enum TerminalCommand {
    Create {
        /// The database: a SQLite file, or a `postgres://` URL.
        #[arg(long, visible_alias = "database", value_name = "PATH|URL")]
        db: String,
        #[arg(long)]
        event: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = parse_permission)]
        permission: Permission,
        /// HOST:PORT at which tills reach the server: print a setup code
        /// (with the fingerprint of the server's own certificate) for it.
        #[arg(long)]
        address: Option<String>,
        /// The server runs with --insecure-http (a setup code without TLS).
        #[arg(long)]
        insecure_http: bool,
        /// The server runs with an operator's certificate (a setup code
        /// without fingerprint: tills validate it against their roots).
        #[arg(long)]
        validated: bool,
        /// Also print the setup code as a QR code (on stderr).
        #[arg(long)]
        qr: bool,
        /// Where the server's own certificate is (see `serve --tls-dir`).
        #[arg(long)]
        tls_dir: Option<PathBuf>,
    },
}

fn parse_permission(value: &str) -> Result<Permission, String> {
    value
        .parse()
        .map_err(|e: tapster_ledger::error::InputError| e.to_string())
}

fn open(db: &str) -> Result<ServerStore> {
    ServerStore::connect(db, Arc::new(SystemClock))
        .with_context(|| format!("cannot open {}", shown(db)))
}

/// The database as it may be logged: a URL without its password.
fn shown(db: &str) -> String {
    DatabaseLocation::parse(db).shown()
}

/// Where the server's own certificate is kept: `--tls-dir`, else next
/// to a SQLite database.
fn own_certificate(db: &str, tls_dir: Option<PathBuf>) -> Result<OwnCertificate> {
    match (tls_dir, DatabaseLocation::parse(db)) {
        (Some(dir), _) => Ok(OwnCertificate { dir }),
        (None, DatabaseLocation::Sqlite(path)) => Ok(OwnCertificate::next_to(&path)),
        (None, DatabaseLocation::Postgres(_)) => anyhow::bail!(
            "on PostgreSQL the server's own certificate is kept in --tls-dir DIR (the same for every server process), or give --tls-cert and --tls-key"
        ),
    }
}

fn print(value: serde_json::Value) {
    println!("{value}");
}

fn main() -> Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info".into())
        // tokio-postgres logs every statement's parameters at debug level:
        // token and PIN hashes, IBANs, e-mail addresses. Never, whatever
        // RUST_LOG asks for.
        .add_directive(
            "tokio_postgres::query=info"
                .parse()
                .expect("a fixed log directive"),
        );
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Serve {
            db,
            listen,
            rate_limit,
            tls,
            guests,
        } => serve(&db, listen, rate_limit, tls, guests),
        Command::Tls { command } => tls_command(command),
        Command::Event {
            command: EventCommand::Create { db, name },
        } => {
            print(json!({ "event_id": open(&db)?.create_event(&name)? }));
            Ok(())
        }
        Command::Event {
            command: EventCommand::RotateBandKeys { db, event },
        } => {
            let keyring = open(&db)?.rotate_band_keys(&event, None)?;
            print(json!({ "band_key_version": keyring.current.version }));
            Ok(())
        }
        Command::Terminal {
            command:
                TerminalCommand::Create {
                    db,
                    event,
                    name,
                    permission,
                    address,
                    insecure_http,
                    validated,
                    qr,
                    tls_dir,
                },
        } => {
            let (id, token) = open(&db)?.create_terminal(&event, &name, permission)?;
            let setup_code = match address {
                Some(address) => {
                    let how = if insecure_http {
                        SetupTransport::InsecureHttp
                    } else if validated {
                        SetupTransport::Validated
                    } else {
                        let own = own_certificate(&db, tls_dir)?;
                        let host = address.rsplit_once(':').map_or(&*address, |(h, _)| h);
                        let names = names_for(
                            SocketAddr::from(([0, 0, 0, 0], 0)),
                            &[host.trim_matches(['[', ']']).to_string()],
                        );
                        SetupTransport::Pinned(own.ensure(&names)?.0)
                    };
                    Some(setup_code(&address, &event, &token, how))
                }
                None => None,
            };
            if let (true, Some(code)) = (qr, &setup_code) {
                if let Some(text) = qr_text(code) {
                    eprintln!("{text}");
                }
            }
            print(json!({ "id": id, "api_token": token, "setup_code": setup_code }));
            Ok(())
        }
        Command::AdminToken { db, event } => {
            print(json!({ "admin_token": open(&db)?.create_admin_token(&event)? }));
            Ok(())
        }
        Command::GuestCodes {
            db,
            event,
            tokens,
            portal,
        } => {
            let text = if tokens.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())?
            } else {
                std::fs::read_to_string(&tokens)
                    .with_context(|| format!("cannot read {}", tokens.display()))?
            };
            let tokens = text
                .lines()
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .map(|line| {
                    tapster_ledger::TokenId::parse(line)
                        .with_context(|| format!("not a wristband token id: {line}"))
                })
                .collect::<Result<Vec<_>>>()?;
            let codes = open(&db)?.issue_guest_codes(&event, &tokens)?;
            let codes: Vec<_> = codes
                .into_iter()
                .map(|issued| {
                    let link = portal.as_ref().map(|base| {
                        tapster_ledger::guest_code::portal_link(base, &event, &issued.code)
                    });
                    json!({ "token_id": issued.token_id, "code": issued.code, "link": link })
                })
                .collect();
            print(json!({ "event_id": event, "codes": codes }));
            Ok(())
        }
        Command::Demo {
            db,
            event,
            wallets,
            wallet_balance,
        } => {
            let balance = wallet_balance.map(tapster_ledger::Cents);
            open(&db)?.seed_demo(&event, wallets, balance, PinHashCost::Production)?;
            print(json!({ "event_id": event, "wallets": wallets }));
            Ok(())
        }
        Command::Migrate { from, to } => {
            let DatabaseLocation::Sqlite(path) = DatabaseLocation::parse(&from) else {
                anyhow::bail!("--from is a SQLite database (sqlite:PATH)");
            };
            if !matches!(DatabaseLocation::parse(&to), DatabaseLocation::Postgres(_)) {
                anyhow::bail!("--to is an empty PostgreSQL database (postgres://…)");
            }
            let target = open(&to)?;
            let copied = tapster_server::transfer::transfer(&path, &target)
                .with_context(|| format!("cannot copy {} to {}", path.display(), shown(&to)))?;
            print(json!({ "copied": copied.tables, "verified": true }));
            Ok(())
        }
        Command::Export {
            what:
                ExportCommand::Dsfinvk {
                    db,
                    event,
                    from,
                    to,
                    out,
                },
        } => {
            let zip = open(&db)?.dsfinvk_export(&event, from, to)?;
            std::fs::write(&out, &zip)
                .with_context(|| format!("cannot write {}", out.display()))?;
            print(json!({ "file": out, "bytes": zip.len() }));
            Ok(())
        }
        Command::Check { db } => {
            let problems = open(&db)?.check()?;
            print(json!({ "ok": problems.is_empty(), "problems": problems }));
            if problems.is_empty() {
                Ok(())
            } else {
                std::process::exit(1)
            }
        }
    }
}

fn tls_command(command: TlsCommand) -> Result<()> {
    match command {
        TlsCommand::Show { db, tls_dir } => {
            let own = own_certificate(&db, tls_dir)?;
            if !own.exists() {
                anyhow::bail!(
                    "{} has no certificate yet: `serve` makes one at its first start",
                    own.dir.display()
                );
            }
            let served = ServedCertificate::load(own.source())?;
            print(json!({
                "fingerprint": served.fingerprint().to_string(),
                "next_fingerprint": served.next_fingerprint().map(|f| f.to_string()),
            }));
        }
        TlsCommand::Rotate {
            db,
            tls_names,
            tls_dir,
        } => {
            let own = own_certificate(&db, tls_dir)?;
            let names = names_for(SocketAddr::from(([0, 0, 0, 0], 0)), &tls_names);
            let next = own.prepare_next(&names)?;
            tracing::info!(next = %next, "next certificate made; announced to pinned tills");
            print(json!({ "next_fingerprint": next.to_string() }));
        }
        TlsCommand::Promote { db, tls_dir } => {
            let fingerprint = own_certificate(&db, tls_dir)?.promote_next()?;
            tracing::info!(%fingerprint, "next certificate is now served");
            print(json!({ "fingerprint": fingerprint.to_string() }));
        }
    }
    Ok(())
}

fn serve(
    db: &str,
    listen: SocketAddr,
    rate_limit: f64,
    tls: TlsArgs,
    guests: GuestArgs,
) -> Result<()> {
    let store = open(db)?;
    let services = guests.services()?;
    let transport = if tls.insecure_http {
        tracing::warn!(
            "serving PLAIN HTTP (--insecure-http): terminal tokens, PINs and wallets cross the network readable by anyone on it; tills show \"not encrypted\""
        );
        Transport::InsecureHttp
    } else {
        let source = match (tls.tls_cert, tls.tls_key) {
            (Some(cert), Some(key)) => CertificateSource {
                cert,
                key,
                next_cert: tls.tls_next_cert,
                generated: false,
            },
            _ => {
                let own = own_certificate(db, tls.tls_dir)?;
                let (fingerprint, made) = own.ensure(&names_for(listen, &tls.tls_names))?;
                if made {
                    tracing::info!(%fingerprint, dir = %own.dir.display(), "made the server's own TLS certificate");
                }
                own.source()
            }
        };
        Transport::Https(ServedCertificate::load(source)?)
    };
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let bound = Bound::bind(listen, tls.redirect_http, transport.clone()).await?;
        let address = bound.address();
        let (scheme, fingerprint, next) = match &transport {
            Transport::Https(certificate) => (
                "https",
                Some(certificate.fingerprint().to_string()),
                certificate.next_fingerprint().map(|f| f.to_string()),
            ),
            Transport::InsecureHttp => ("http", None, None),
        };
        print(json!({
            "listening": address.to_string(),
            "scheme": scheme,
            "fingerprint": fingerprint,
            "next_fingerprint": next,
            "redirect": bound.redirect_address().map(|a| a.to_string()),
        }));
        tracing::info!(%address, scheme, fingerprint = fingerprint.as_deref().unwrap_or("-"), "serving");
        bound
            .serve(
                router_with(Arc::new(store), rate_limit, services),
                shutdown_signal(),
            )
            .await?;
        tracing::info!("stopped");
        Ok(())
    })
}

/// SIGTERM or Ctrl-C; in-flight requests finish first.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
