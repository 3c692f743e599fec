//! The HTTP side: tapster-server's API (and any plain PointOfSale API
//! server of seed 001), with errors sorted by what the caller should do.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use tapster_api::{
    BatchEntry, BatchRequest, BatchResponse, CreateTransaction, Data, ErrorBody, Heartbeat,
    TerminalResource, WalletFeed, WalletResource, CURSOR_HEADER, TRANSACTION_ID_HEADER,
};
use thiserror::Error;

/// What went wrong talking to the server, by what to do about it.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ApiError {
    /// No answer (refused, reset, timed out): try again later.
    #[error("the server cannot be reached: {0}")]
    Unreachable(String),
    /// 401: the terminal's token is wrong or was rolled. Retrying will not help.
    #[error("the server does not accept this terminal's token; enter the new one")]
    Unauthorized,
    /// 429: slow down, as told.
    #[error("the server asks to wait {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// 503 or another 5xx: the server has trouble; try again later.
    #[error("the server has a problem (HTTP {status}): {message}")]
    ServerTrouble {
        status: u16,
        message: String,
        retry_after_secs: Option<u64>,
    },
    /// A 4xx answer to this very request: the server refused it.
    #[error("the server refused: {message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    /// An answer that does not parse.
    #[error("the server's answer could not be read: {0}")]
    Garbled(String),
}

impl ApiError {
    /// Worth trying again later with the same request.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ApiError::Unreachable(_)
                | ApiError::RateLimited { .. }
                | ApiError::ServerTrouble { .. }
        )
    }
}

/// A transaction the server applied online, with what the ledger needs.
#[derive(Clone, Debug)]
pub struct Applied {
    pub wallet: WalletResource,
    pub transaction_id: Option<String>,
    pub cursor: Option<i64>,
}

/// An answer that arrives later.
pub type Reply<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, ApiError>> + Send + 'a>>;

/// Another way to the server than HTTP: the deterministic simulation of
/// the tests (`tests/sim.rs`) puts a seeded, lossy in-memory network and
/// the server's store here. The sync engine cannot tell the difference.
pub trait Transport: Send + Sync {
    fn terminal(&self) -> Reply<'_, TerminalResource>;
    fn catalog(&self) -> Reply<'_, tapster_api::Catalog>;
    fn batch(&self, entries: Vec<BatchEntry>) -> Reply<'_, BatchResponse>;
    fn transaction<'a>(
        &'a self,
        token_id: &'a str,
        request: &'a CreateTransaction,
    ) -> Reply<'a, Applied>;
    fn wallet_feed(&self, since: i64, limit: u32) -> Reply<'_, WalletFeed>;
    fn heartbeat<'a>(&'a self, beat: &'a Heartbeat) -> Reply<'a, ()>;
}

#[derive(Clone)]
pub struct ServerClient {
    http: reqwest::Client,
    /// `…/api/v1/events/{event_id}`
    base: String,
    token: String,
    /// Instead of HTTP (simulation).
    transport: Option<std::sync::Arc<dyn Transport>>,
}

fn retry_after(headers: &HeaderMap) -> Option<u64> {
    headers.get(RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()
}

impl ServerClient {
    /// `server` like `http://10.0.0.2:8080`; requests time out after
    /// `timeout` (a batch of a thousand entries fits well within 10 s).
    pub fn new(
        server: &str,
        event_id: &str,
        api_token: &str,
        timeout: Duration,
    ) -> Result<Self, ApiError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(3)))
            .build()
            .map_err(|e| ApiError::Garbled(e.to_string()))?;
        Ok(ServerClient {
            http,
            base: format!("{}/api/v1/events/{event_id}", server.trim_end_matches('/')),
            token: api_token.to_string(),
            transport: None,
        })
    }

    /// A client that reaches the server through `transport` instead of
    /// HTTP (the manager API is HTTP only).
    pub fn over(transport: std::sync::Arc<dyn Transport>) -> Self {
        ServerClient {
            http: reqwest::Client::new(),
            base: String::new(),
            token: String::new(),
            transport: Some(transport),
        }
    }

    async fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<(StatusCode, HeaderMap, T), ApiError> {
        let response = request
            .bearer_auth(&self.token)
            .send()
            .await
            // Without the URL: it holds the wristband's UID, which must not
            // reach the logs.
            .map_err(|e| ApiError::Unreachable(e.without_url().to_string()))?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.map_err(|e| {
            ApiError::Unreachable(format!("the answer broke off: {}", e.without_url()))
        })?;
        if status.is_success() {
            let value =
                serde_json::from_slice(&bytes).map_err(|e| ApiError::Garbled(e.to_string()))?;
            return Ok((status, headers, value));
        }
        let body: Option<ErrorBody> = serde_json::from_slice(&bytes).ok();
        let message = body.as_ref().map_or_else(
            || String::from_utf8_lossy(&bytes).into_owned(),
            |b| b.error_message.clone(),
        );
        Err(match status {
            StatusCode::UNAUTHORIZED => ApiError::Unauthorized,
            StatusCode::TOO_MANY_REQUESTS => ApiError::RateLimited {
                retry_after_secs: retry_after(&headers).unwrap_or(1),
            },
            s if s.is_server_error() => ApiError::ServerTrouble {
                status: s.as_u16(),
                message,
                retry_after_secs: retry_after(&headers),
            },
            s => ApiError::Refused {
                status: s.as_u16(),
                code: body.map_or_else(|| "unknown".into(), |b| b.error_code),
                message,
            },
        })
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base)
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The same server and event with another bearer token (a staff
    /// session's).
    pub(crate) fn with_token(&self, token: &str) -> ServerClient {
        ServerClient {
            http: self.http.clone(),
            base: self.base.clone(),
            token: token.to_string(),
            transport: self.transport.clone(),
        }
    }

    /// Sends `request` and unwraps the answer's `data`.
    pub(crate) async fn data<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, ApiError> {
        let (_, _, data): (_, _, Data<T>) = self.send(request).await?;
        Ok(data.data)
    }

    /// Sends `request`, expecting no body (204).
    pub(crate) async fn no_content(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<(), ApiError> {
        self.send::<serde::de::IgnoredAny>(request.header("accept", "application/json"))
            .await
            .map(|_| ())
            .or_else(|e| match e {
                // An empty 2xx body does not parse as JSON: that is the answer.
                ApiError::Garbled(_) => Ok(()),
                other => Err(other),
            })
    }

    pub async fn terminal(&self) -> Result<TerminalResource, ApiError> {
        if let Some(transport) = &self.transport {
            return transport.terminal().await;
        }
        let (_, _, data): (_, _, Data<TerminalResource>) =
            self.send(self.http.get(self.url("pos/terminal"))).await?;
        Ok(data.data)
    }

    pub async fn catalog(&self) -> Result<tapster_api::Catalog, ApiError> {
        if let Some(transport) = &self.transport {
            return transport.catalog().await;
        }
        let (_, _, data): (_, _, Data<tapster_api::Catalog>) =
            self.send(self.http.get(self.url("pos/catalog"))).await?;
        Ok(data.data)
    }

    pub async fn batch(&self, entries: Vec<BatchEntry>) -> Result<BatchResponse, ApiError> {
        if let Some(transport) = &self.transport {
            return transport.batch(entries).await;
        }
        let (_, _, data): (_, _, Data<BatchResponse>) = self
            .send(
                self.http
                    .post(self.url("pos/transactions/batch"))
                    .json(&BatchRequest { entries }),
            )
            .await?;
        Ok(data.data)
    }

    /// Seed 001's debit by product ids, with the idempotency key.
    pub async fn transaction(
        &self,
        token_id: &str,
        request: &CreateTransaction,
    ) -> Result<Applied, ApiError> {
        if let Some(transport) = &self.transport {
            return transport.transaction(token_id, request).await;
        }
        let (_, headers, data): (_, _, Data<WalletResource>) = self
            .send(
                self.http
                    .post(self.url(&format!("pos/wallets/token/{token_id}/transactions")))
                    .json(request),
            )
            .await?;
        Ok(Applied {
            wallet: data.data,
            transaction_id: headers
                .get(TRANSACTION_ID_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(String::from),
            cursor: headers
                .get(CURSOR_HEADER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok()),
        })
    }

    pub async fn wallet_feed(&self, since: i64, limit: u32) -> Result<WalletFeed, ApiError> {
        if let Some(transport) = &self.transport {
            return transport.wallet_feed(since, limit).await;
        }
        let (_, _, data): (_, _, Data<WalletFeed>) = self
            .send(
                self.http
                    .get(self.url(&format!("pos/wallets?since={since}&limit={limit}"))),
            )
            .await?;
        Ok(data.data)
    }

    pub async fn heartbeat(&self, beat: &Heartbeat) -> Result<(), ApiError> {
        if let Some(transport) = &self.transport {
            return transport.heartbeat(beat).await;
        }
        let response = self
            .http
            .post(self.url("pos/terminal/heartbeat"))
            .bearer_auth(&self.token)
            .json(beat)
            .send()
            .await
            .map_err(|e| ApiError::Unreachable(e.to_string()))?;
        match response.status() {
            s if s.is_success() => Ok(()),
            StatusCode::UNAUTHORIZED => Err(ApiError::Unauthorized),
            s => Err(ApiError::ServerTrouble {
                status: s.as_u16(),
                message: "heartbeat refused".into(),
                retry_after_secs: None,
            }),
        }
    }
}
