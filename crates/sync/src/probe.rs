//! `tapster-sync probe URL`: what a server offers and how it answers,
//! before a till is pointed at it.

use std::time::Instant;

use serde::Serialize;
use tapster_api::{capability, ServerProductId};

use crate::client::ServerClient;

/// What a server said about itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProbeReport {
    /// The API root the requests went to.
    pub api_root: String,
    pub encrypted: bool,
    /// `tapster` (batch, feeds, catalogue) or `point_of_sale` (seed 001 only).
    pub dialect: Option<&'static str>,
    pub capabilities: Vec<String>,
    pub terminal_id: Option<String>,
    pub terminal_name: Option<String>,
    pub permission: Option<String>,
    pub products: usize,
    /// `strings`, `numbers`, `mixed` or `none`.
    pub product_ids: &'static str,
    /// The server redirected to paths ending in a slash.
    pub trailing_slash: bool,
    /// Whether the till can trust it with an idempotency key (a plain
    /// server is not: lost answers are judged by the wallet's balance).
    pub honours_idempotency_keys: bool,
    pub answer_ms: u64,
    pub error: Option<String>,
}

/// Asks the server for its terminal, once.
pub async fn probe(client: &ServerClient) -> ProbeReport {
    let started = Instant::now();
    let answer = client.terminal().await;
    let mut report = ProbeReport {
        api_root: client.base().to_string(),
        encrypted: client.base().starts_with("https://"),
        dialect: None,
        capabilities: Vec::new(),
        terminal_id: None,
        terminal_name: None,
        permission: None,
        products: 0,
        product_ids: "none",
        trailing_slash: client.wants_trailing_slash(),
        honours_idempotency_keys: false,
        answer_ms: started.elapsed().as_millis() as u64,
        error: None,
    };
    match answer {
        Ok(terminal) => {
            let tapster = terminal
                .capabilities
                .iter()
                .any(|c| c == capability::TRANSACTIONS_BATCH);
            report.dialect = Some(if tapster { "tapster" } else { "point_of_sale" });
            report.honours_idempotency_keys = tapster;
            report.capabilities = terminal.capabilities.clone();
            report.terminal_id = Some(terminal.id.clone());
            report.terminal_name = Some(terminal.friendly_name.clone());
            report.permission = Some(terminal.permission.as_str().to_string());
            report.products = terminal.products.len();
            let numbers = terminal
                .products
                .iter()
                .filter(|p| matches!(p.id, ServerProductId::Number(_)))
                .count();
            report.product_ids = match (numbers, terminal.products.len()) {
                (_, 0) => "none",
                (0, _) => "strings",
                (n, all) if n == all => "numbers",
                _ => "mixed",
            };
            report.trailing_slash = client.wants_trailing_slash();
        }
        Err(error) => report.error = Some(error.to_string()),
    }
    report
}
