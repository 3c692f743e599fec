//! The HTTP side: tapster-server's API (and any plain PointOfSale API
//! server of seed 001), with errors sorted by what the caller should do.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use tapster_api::{
    BatchEntry, BatchRequest, BatchResponse, CreateTransaction, Data, ErrorBody, Heartbeat,
    PosTransaction, TerminalResource, WalletFeed, WalletResource, CURSOR_HEADER, PROMO_HEADER,
    TRANSACTION_ID_HEADER,
};
pub use tapster_tls::MalformedFingerprint;
use tapster_tls::{
    classify, client_config, Fingerprint, Pins, TlsFailure, Trust, NEXT_CERTIFICATE_HEADER,
};
use thiserror::Error;

/// What went wrong talking to the server, by what to do about it.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ApiError {
    /// No answer (refused, reset, timed out): try again later.
    #[error("the server cannot be reached: {0}")]
    Unreachable(String),
    /// No connection could be made (refused, no route): nothing was sent.
    #[error("the server cannot be reached: {0}")]
    NotConnected(String),
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
    /// The encrypted connection was refused before anything was sent: the
    /// server is not the one pinned (a man in the middle, or a server set
    /// up anew), or its certificate does not validate. Nothing was sent.
    #[error("{0}")]
    Untrusted(TlsFailure),
    /// The till's server settings cannot work (no request was made).
    #[error("the server settings cannot work: {0}")]
    Misconfigured(String),
    /// The server does not offer what this needs (a plain PointOfSale
    /// server and a tip, say): nothing was sent.
    #[error("the server does not offer this: {0}")]
    NotOffered(String),
}

impl ApiError {
    /// Worth trying again later with the same request.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ApiError::Unreachable(_)
                | ApiError::NotConnected(_)
                | ApiError::RateLimited { .. }
                | ApiError::ServerTrouble { .. }
                // The right server may be back at the next try (and until
                // then nothing is sent to the wrong one).
                | ApiError::Untrusted(_)
        )
    }

    /// Whether the server certainly never saw the request (no connection,
    /// or a connection refused before anything was sent): unlike a
    /// timeout, the outcome is known — nothing happened.
    pub fn nothing_sent(&self) -> bool {
        matches!(
            self,
            ApiError::NotConnected(_) | ApiError::Untrusted(_) | ApiError::NotOffered(_)
        )
    }

    /// A request that could not be sent or answered, by what stopped it.
    fn from_transport(error: reqwest::Error) -> ApiError {
        match classify(&error) {
            Some(failure) => ApiError::Untrusted(failure),
            // Without the URL: it holds the wristband's UID, which must not
            // reach the logs.
            None if error.is_connect() => ApiError::NotConnected(error.without_url().to_string()),
            None => ApiError::Unreachable(error.without_url().to_string()),
        }
    }
}

/// Where the server is, and how the till knows it is talking to it.
#[derive(Clone, Debug)]
pub struct ServerAddress {
    /// `https://HOST:PORT`; `http://` only for a server run with
    /// `--insecure-http` (or a plain PointOfSale server).
    pub url: String,
    pub trust: Trust,
}

impl ServerAddress {
    /// `url`, pinned to `fingerprint` when one is given (from the setup
    /// code), else validated against the system's roots.
    pub fn new(url: &str, fingerprint: Option<Fingerprint>) -> ServerAddress {
        ServerAddress {
            url: url.trim_end_matches('/').to_string(),
            trust: match fingerprint {
                Some(fingerprint) => Trust::Pinned(Pins::new(fingerprint, None)),
                None => Trust::Roots {
                    extra_roots: Vec::new(),
                },
            },
        }
    }

    /// `url` pinned to `pins` (kept by the caller, who may listen to
    /// their changes).
    pub fn pinned(url: &str, pins: Pins) -> ServerAddress {
        ServerAddress {
            url: url.trim_end_matches('/').to_string(),
            trust: Trust::Pinned(pins),
        }
    }

    /// Whether requests travel encrypted.
    pub fn is_encrypted(&self) -> bool {
        self.url.starts_with("https://")
    }

    pub fn pins(&self) -> Option<&Pins> {
        match &self.trust {
            Trust::Pinned(pins) => Some(pins),
            Trust::Roots { .. } => None,
        }
    }

    /// A reqwest client for this address: pinned or validated TLS,
    /// connections kept alive and reused (a sale pays no handshake).
    pub fn http_client(&self, timeout: Duration) -> Result<reqwest::Client, ApiError> {
        let builder = reqwest::Client::builder()
            // A redirect is answered, not followed: a POST must not turn
            // into a GET elsewhere, and a moved API is a setting to fix.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(3)))
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(90));
        let builder = if self.is_encrypted() {
            let config =
                client_config(&self.trust).map_err(|e| ApiError::Misconfigured(e.to_string()))?;
            builder.use_preconfigured_tls(config).https_only(true)
        } else if self.url.starts_with("http://") {
            if self.pins().is_some() {
                return Err(ApiError::Misconfigured(
                    "a certificate fingerprint needs an https:// address".into(),
                ));
            }
            builder
        } else {
            return Err(ApiError::Misconfigured(format!(
                "the server address must start with https:// (or http:// for a server without TLS), not {:?}",
                self.url.chars().take(40).collect::<String>()
            )));
        };
        builder
            .build()
            .map_err(|e| ApiError::Misconfigured(e.to_string()))
    }
}

/// A transaction the server applied online, with what the ledger needs.
#[derive(Clone, Debug)]
pub struct Applied {
    pub wallet: WalletResource,
    pub transaction_id: Option<String>,
    pub cursor: Option<i64>,
    /// The wallet's promo credit after it (not from a plain server).
    pub promo: Option<i64>,
}

impl Applied {
    /// The wallet, with the transaction's id, feed cursor and promo credit
    /// from the answer's headers (where the server sent them).
    fn from_headers(wallet: WalletResource, headers: &reqwest::header::HeaderMap) -> Applied {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        Applied {
            wallet,
            transaction_id: text(TRANSACTION_ID_HEADER).map(String::from),
            cursor: text(CURSOR_HEADER).and_then(|v| v.parse().ok()),
            promo: text(PROMO_HEADER).and_then(|v| v.parse().ok()),
        }
    }
}

/// An answer that arrives later.
pub type Reply<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, ApiError>> + Send + 'a>>;

/// Another way to the server than HTTP: the deterministic simulation of
/// the tests (`tests/sim.rs`) puts a seeded, lossy in-memory network and
/// the server's store here. The sync engine cannot tell the difference.
use tapster_api::audit::{ShiftClosesTaken, TillShiftCloses};

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
    fn pass_feed(&self, since: i64, limit: u32) -> Reply<'_, tapster_api::PassFeed>;
    fn heartbeat<'a>(&'a self, beat: &'a Heartbeat) -> Reply<'a, ()>;
    /// The till's shift closes for the event's audit trail.
    fn shift_closes(&self, _closes: TillShiftCloses) -> Reply<'_, ShiftClosesTaken> {
        Box::pin(async {
            Err(ApiError::Misconfigured(
                "no audit trail on this transport".into(),
            ))
        })
    }
    /// Seed 001's wallet by token (only a plain server is asked).
    fn wallet<'a>(&'a self, _token_id: &'a str) -> Reply<'a, WalletResource> {
        Box::pin(async {
            Err(ApiError::Misconfigured(
                "no plain server on this transport".into(),
            ))
        })
    }
    /// Seed 001's debit as it spells it (only a plain server is asked).
    fn pos_transaction<'a>(
        &'a self,
        _token_id: &'a str,
        _request: &'a PosTransaction,
    ) -> Reply<'a, WalletResource> {
        Box::pin(async {
            Err(ApiError::Misconfigured(
                "no plain server on this transport".into(),
            ))
        })
    }
}

#[derive(Clone)]
pub struct ServerClient {
    http: reqwest::Client,
    /// The pins to which the server's announcement of its next
    /// certificate is added.
    pins: Option<Pins>,
    /// The API root: `…/api/v1/events/{event_id}` on a Tapster server,
    /// or the address as given for a server mounted elsewhere.
    base: String,
    /// The server wants a slash at the end of every path (it redirected
    /// to one); learned from its first redirect, shared by clones.
    trailing_slash: std::sync::Arc<std::sync::atomic::AtomicBool>,
    token: String,
    /// Instead of HTTP (simulation).
    transport: Option<std::sync::Arc<dyn Transport>>,
}

/// The API root under which `pos/terminal` lives. A bare address
/// (`https://10.0.0.2:8443`) is a Tapster server: its event's root is
/// `/api/v1/events/{event}`. An address with a path
/// (`http://pos.example/festival/api/`) is taken as the root itself, with
/// any slashes at the end dropped.
pub fn api_root(server_url: &str, event_id: &str) -> String {
    let url = server_url.trim_end_matches('/');
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    if after_scheme.contains('/') {
        url.to_string()
    } else {
        format!("{url}/api/v1/events/{event_id}")
    }
}

/// `url` with a slash at the end of its path (before any query) added or
/// taken away.
fn with_trailing_slash(url: &str, slash: bool) -> String {
    let (path, query) = url
        .split_once('?')
        .map_or((url, None), |(p, q)| (p, Some(q)));
    let path = path.trim_end_matches('/');
    let path = if slash {
        format!("{path}/")
    } else {
        path.to_string()
    };
    match query {
        Some(query) => format!("{path}?{query}"),
        None => path,
    }
}

fn retry_after(headers: &HeaderMap) -> Option<u64> {
    headers.get(RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()
}

impl ServerClient {
    /// The server at `server` (`https://10.0.0.2:8443`, pinned or
    /// validated); requests time out after `timeout` (a batch of a
    /// thousand entries fits well within 10 s).
    pub fn new(
        server: &ServerAddress,
        event_id: &str,
        api_token: &str,
        timeout: Duration,
    ) -> Result<Self, ApiError> {
        Ok(ServerClient {
            http: server.http_client(timeout)?,
            pins: server.pins().cloned(),
            base: api_root(&server.url, event_id),
            trailing_slash: Default::default(),
            token: api_token.to_string(),
            transport: None,
        })
    }

    /// A client that reaches the server through `transport` instead of
    /// HTTP (the manager API is HTTP only).
    pub fn over(transport: std::sync::Arc<dyn Transport>) -> Self {
        ServerClient {
            http: reqwest::Client::new(),
            pins: None,
            base: String::new(),
            trailing_slash: Default::default(),
            token: String::new(),
            transport: Some(transport),
        }
    }

    async fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<(StatusCode, HeaderMap, T), ApiError> {
        let (status, headers, bytes) = self.send_raw(request).await?;
        let value = serde_json::from_slice(&bytes).map_err(|e| ApiError::Garbled(e.to_string()))?;
        Ok((status, headers, value))
    }

    /// Sends `request`; a success's body as it came (a PDF, say), a
    /// failure as its `ApiError`.
    pub(crate) async fn send_raw(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<(StatusCode, HeaderMap, Vec<u8>), ApiError> {
        let request = request
            .bearer_auth(&self.token)
            .build()
            .map_err(|e| ApiError::Misconfigured(e.without_url().to_string()))?;
        let again = request.try_clone();
        let mut response = self
            .http
            .execute(request)
            .await
            .map_err(ApiError::from_transport)?;
        if response.status().is_redirection() {
            // A server that wants (or refuses) a slash at the end says so
            // with a redirect to the same path: learn it, ask there. A
            // redirect means the request was not carried out.
            let to = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| response.url().join(l).ok());
            let from = response.url().clone();
            match (to, again) {
                (Some(to), Some(mut again))
                    if to.path().trim_end_matches('/') == from.path().trim_end_matches('/')
                        && to.path() != from.path() =>
                {
                    let slash = to.path().ends_with('/');
                    self.trailing_slash
                        .store(slash, std::sync::atomic::Ordering::Relaxed);
                    tracing::info!(slash, "the server wants its paths with(out) a final slash");
                    again.url_mut().set_path(to.path());
                    response = self
                        .http
                        .execute(again)
                        .await
                        .map_err(ApiError::from_transport)?;
                }
                (to, _) => {
                    return Err(ApiError::Refused {
                        status: response.status().as_u16(),
                        code: "moved".into(),
                        message: format!(
                            "the server's API is not at this address (it points to {}): set the till's server address to its API root",
                            to.map_or_else(|| "nowhere".into(), |to| to.path().to_string())
                        ),
                    });
                }
            }
        }
        let status = response.status();
        let headers = response.headers().clone();
        self.learn_next_certificate(&headers);
        let bytes = response.bytes().await.map_err(|e| {
            ApiError::Unreachable(format!("the answer broke off: {}", e.without_url()))
        })?;
        if status.is_success() {
            return Ok((status, headers, bytes.to_vec()));
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

    /// The server, reached through the pin, announced the certificate it
    /// will switch to.
    fn learn_next_certificate(&self, headers: &HeaderMap) {
        let (Some(pins), Some(next)) = (&self.pins, headers.get(NEXT_CERTIFICATE_HEADER)) else {
            return;
        };
        match next
            .to_str()
            .ok()
            .and_then(|v| v.parse::<Fingerprint>().ok())
        {
            Some(next) => {
                if pins.state().next != Some(next) {
                    tracing::info!(%next, "the server announced its next certificate");
                }
                pins.learn_next(next);
            }
            None => tracing::warn!("the server announced a next certificate that does not parse"),
        }
    }

    /// The pins of this client's server, if it is pinned.
    pub fn pins(&self) -> Option<&Pins> {
        self.pins.as_ref()
    }

    pub(crate) fn url(&self, path: &str) -> String {
        let url = format!("{}/{path}", self.base);
        if self
            .trailing_slash
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            with_trailing_slash(&url, true)
        } else {
            url
        }
    }

    /// Whether the server's address accepts a connection now: a TCP
    /// connect, nothing sent, no TLS. For noticing that the network or the
    /// server is back while no request could connect.
    pub async fn accepts_connections(&self, within: Duration) -> bool {
        let Ok(url) = reqwest::Url::parse(&self.base) else {
            return false;
        };
        let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
            return false;
        };
        // An IPv6 literal comes bracketed.
        let host = host.trim_start_matches('[').trim_end_matches(']');
        matches!(
            tokio::time::timeout(within, tokio::net::TcpStream::connect((host, port))).await,
            Ok(Ok(_))
        )
    }

    /// The API root requests go to (for the probe's report).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Whether the server redirected to paths ending in a slash.
    pub fn wants_trailing_slash(&self) -> bool {
        self.trailing_slash
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The same server and event with another bearer token (a staff
    /// session's).
    pub(crate) fn with_token(&self, token: &str) -> ServerClient {
        ServerClient {
            http: self.http.clone(),
            pins: self.pins.clone(),
            base: self.base.clone(),
            trailing_slash: self.trailing_slash.clone(),
            token: token.to_string(),
            transport: self.transport.clone(),
        }
    }

    /// Sends `request` and reads the whole answer (no `data` envelope).
    pub(crate) async fn body<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, ApiError> {
        let (_, _, body): (_, _, T) = self.send(request).await?;
        Ok(body)
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
        Ok(Applied::from_headers(data.data, &headers))
    }

    /// A payout decided by the server (Tapster's extension): what it paid
    /// out, in cents, and the wallet after it.
    pub async fn payout(
        &self,
        token_id: &str,
        request: &tapster_api::CreatePayout,
    ) -> Result<(Applied, i64), ApiError> {
        if self.transport.is_some() {
            return Err(ApiError::NotOffered(
                "payouts are decided by this till on this transport".into(),
            ));
        }
        let (_, headers, data): (_, _, Data<tapster_api::PayoutApplied>) = self
            .send(
                self.http
                    .post(self.url(&format!("pos/wallets/token/{token_id}/payout")))
                    .json(request),
            )
            .await?;
        let amount = data.data.amount;
        Ok((Applied::from_headers(data.data.wallet, &headers), amount))
    }

    /// Seed 001's wallet by token: its balance now (404: not paired).
    pub async fn wallet(&self, token_id: &str) -> Result<WalletResource, ApiError> {
        if let Some(transport) = &self.transport {
            return transport.wallet(token_id).await;
        }
        self.data(
            self.http
                .get(self.url(&format!("pos/wallets/token/{token_id}"))),
        )
        .await
    }

    /// Seed 001's debit exactly as it spells it, for a server that offers
    /// nothing beyond it.
    pub async fn pos_transaction(
        &self,
        token_id: &str,
        request: &PosTransaction,
    ) -> Result<WalletResource, ApiError> {
        if let Some(transport) = &self.transport {
            return transport.pos_transaction(token_id, request).await;
        }
        self.data(
            self.http
                .post(self.url(&format!("pos/wallets/token/{token_id}/transactions")))
                .json(request),
        )
        .await
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

    /// The discount and allowance passes changed after `since` (by code
    /// digest), for taking them off carts offline.
    pub async fn pass_feed(
        &self,
        since: i64,
        limit: u32,
    ) -> Result<tapster_api::PassFeed, ApiError> {
        if let Some(transport) = &self.transport {
            return transport.pass_feed(since, limit).await;
        }
        let (_, _, data): (_, _, Data<tapster_api::PassFeed>) = self
            .send(
                self.http
                    .get(self.url(&format!("pos/passes?since={since}&limit={limit}"))),
            )
            .await?;
        Ok(data.data)
    }

    /// The event's master keys for genuine bands (HTTP only: the
    /// simulation has no band keys). Asked only over TLS.
    pub async fn band_keys(&self) -> Result<tapster_api::BandKeysResource, ApiError> {
        if !self.base.starts_with("https://") {
            return Err(ApiError::Misconfigured(
                "band keys are fetched over HTTPS only".into(),
            ));
        }
        let (_, _, data): (_, _, Data<tapster_api::BandKeysResource>) =
            self.send(self.http.get(self.url("pos/band-keys"))).await?;
        Ok(data.data)
    }

    /// Has the server sign a receipt with the event's fiscal device (a
    /// Tapster server only).
    pub async fn sign_receipt(
        &self,
        request: &tapster_api::fiscal::SignReceipt,
    ) -> Result<tapster_api::fiscal::Signing, ApiError> {
        if self.transport.is_some() {
            return Err(ApiError::NotOffered(
                "a plain PointOfSale server signs no receipts".into(),
            ));
        }
        self.data(
            self.http
                .post(self.url("pos/fiscal/receipts"))
                .json(request),
        )
        .await
    }

    /// Hands the server shift closes it may not have yet; it records each
    /// shift once.
    pub async fn shift_closes(
        &self,
        closes: TillShiftCloses,
    ) -> Result<ShiftClosesTaken, ApiError> {
        if let Some(transport) = &self.transport {
            return transport.shift_closes(closes).await;
        }
        let request = self
            .http
            .post(self.url("pos/audit/shift-closes"))
            .bearer_auth(&self.token)
            .json(&closes);
        self.data(request).await
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
            .map_err(ApiError::from_transport)?;
        self.learn_next_certificate(response.headers());
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
