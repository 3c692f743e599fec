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
use tapster_server::http::router;
use tapster_server::store::ServerStore;

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
        #[arg(long)]
        db: PathBuf,
        /// Address to listen on; port 0 picks a free one (printed on stdout).
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Average requests per second per token and endpoint (seed 000:
        /// 5); 0 switches the limit off.
        #[arg(long, default_value_t = 5.0)]
        rate_limit: f64,
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
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        event: String,
    },
    /// Fill an event with the demo bar: drinks with deposits, food, staff
    /// and funded wristbands.
    Demo {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        event: String,
        #[arg(long, default_value_t = 100)]
        wallets: u32,
        /// Each wristband's balance in cents (default: 10.00 to 50.00); more than the
        /// event's maximum balance raises that maximum.
        #[arg(long)]
        wallet_balance: Option<i64>,
    },
    /// Exit 0 when every wallet's balance equals the sum of its transactions.
    Check {
        #[arg(long)]
        db: PathBuf,
    },
}

#[derive(Subcommand)]
enum EventCommand {
    Create {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand)]
enum TerminalCommand {
    Create {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        event: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = parse_permission)]
        permission: Permission,
    },
}

fn parse_permission(value: &str) -> Result<Permission, String> {
    value
        .parse()
        .map_err(|e: tapster_ledger::error::InputError| e.to_string())
}

fn open(db: &std::path::Path) -> Result<ServerStore> {
    ServerStore::open(db, Arc::new(SystemClock))
        .with_context(|| format!("cannot open {}", db.display()))
}

fn print(value: serde_json::Value) {
    println!("{value}");
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Serve {
            db,
            listen,
            rate_limit,
        } => serve(open(&db)?, listen, rate_limit),
        Command::Event {
            command: EventCommand::Create { db, name },
        } => {
            print(json!({ "event_id": open(&db)?.create_event(&name)? }));
            Ok(())
        }
        Command::Terminal {
            command:
                TerminalCommand::Create {
                    db,
                    event,
                    name,
                    permission,
                },
        } => {
            let (id, token) = open(&db)?.create_terminal(&event, &name, permission)?;
            print(json!({ "id": id, "api_token": token }));
            Ok(())
        }
        Command::AdminToken { db, event } => {
            print(json!({ "admin_token": open(&db)?.create_admin_token(&event)? }));
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

fn serve(store: ServerStore, listen: SocketAddr, rate_limit: f64) -> Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let address = listener.local_addr()?;
        print(json!({ "listening": address.to_string() }));
        tracing::info!(%address, "serving");
        axum::serve(listener, router(Arc::new(store), rate_limit))
            .with_graceful_shutdown(shutdown_signal())
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
