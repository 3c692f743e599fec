//! How tills reach the server: HTTPS by default — with the server's own
//! certificate (generated once, kept next to its database, pinned by the
//! tills through their setup code) or an operator's from a CA — reloaded
//! when its files change or at SIGHUP; plain HTTP only when asked for; a
//! listener that sends plain requests on to HTTPS; and the setup codes.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::header::{HOST, LOCATION};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tapster_tls::server::{CertificateError, ServedCertificate, TlsListener};
use tapster_tls::{Fingerprint, NEXT_CERTIFICATE_HEADER};
use thiserror::Error;
use tokio::net::TcpListener;

/// How the API is served.
#[derive(Clone, Debug)]
pub enum Transport {
    Https(Arc<ServedCertificate>),
    /// Only with `--insecure-http`: tokens and wallets in clear text.
    InsecureHttp,
}

#[derive(Debug, Error)]
pub enum ServeError {
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Certificate(#[from] CertificateError),
    #[error("serving stopped: {0}")]
    Serve(std::io::Error),
}

/// Listeners bound and ready, before serving.
pub struct Bound {
    listener: TcpListener,
    redirect: Option<TcpListener>,
    transport: Transport,
}

/// How often the certificate files are looked at for changes.
const RELOAD_EVERY: Duration = Duration::from_secs(2);

impl Bound {
    /// Binds `listen` (and the redirect port on the same address).
    pub async fn bind(
        listen: SocketAddr,
        redirect_http: Option<u16>,
        transport: Transport,
    ) -> Result<Bound, ServeError> {
        let bind = |address: SocketAddr| async move {
            TcpListener::bind(address)
                .await
                .map_err(|source| ServeError::Listen { address, source })
        };
        let listener = bind(listen).await?;
        let redirect = match redirect_http {
            Some(port) => Some(bind(SocketAddr::new(listen.ip(), port)).await?),
            None => None,
        };
        Ok(Bound {
            listener,
            redirect,
            transport,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn redirect_address(&self) -> Option<SocketAddr> {
        self.redirect.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// Serves `api` until `shutdown` completes; requests in flight finish.
    pub async fn serve(
        self,
        api: Router,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let address = self.address();
        if let Some(redirect) = self.redirect {
            let https_port = address.port();
            let fallback_host = address.ip();
            tokio::spawn(async move {
                let app = Router::new()
                    .fallback(redirect_to_https)
                    .with_state(RedirectTarget {
                        port: https_port,
                        fallback_host: match fallback_host {
                            ip if ip.is_unspecified() => "localhost".to_string(),
                            std::net::IpAddr::V6(ip) => format!("[{ip}]"),
                            ip => ip.to_string(),
                        },
                    });
                if let Err(error) = axum::serve(redirect, app).await {
                    tracing::error!(%error, "the HTTP redirect listener stopped");
                }
            });
        }
        match self.transport {
            Transport::InsecureHttp => axum::serve(
                self.listener,
                no_keys_in_clear(api).into_make_service_with_connect_info::<ClientAddress>(),
            )
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(ServeError::Serve),
            Transport::Https(certificate) => {
                let config = certificate.server_config()?;
                tokio::spawn(reload(certificate.clone()));
                let listener =
                    TlsListener::new(self.listener, config).map_err(ServeError::Serve)?;
                axum::serve(
                    listener,
                    announce_next(api, certificate)
                        .into_make_service_with_connect_info::<ClientAddress>(),
                )
                .with_graceful_shutdown(shutdown)
                .await
                .map_err(ServeError::Serve)
            }
        }
    }
}

/// The address a request came from (its connection's peer), for handlers
/// that count per client (the guest pages' wrong codes).
#[derive(Clone, Copy, Debug)]
pub struct ClientAddress(pub SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, TlsListener>>
    for ClientAddress
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, TlsListener>) -> Self {
        ClientAddress(*stream.remote_addr())
    }
}

impl
    axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, tokio::net::TcpListener>>
    for ClientAddress
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, tokio::net::TcpListener>) -> Self {
        ClientAddress(*stream.remote_addr())
    }
}

/// Looks at the certificate files every few seconds and reloads them at
/// SIGHUP; a file that does not load leaves the served certificate as it
/// is (and says so in the log).
async fn reload(certificate: Arc<ServedCertificate>) {
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let mut tick = tokio::time::interval(RELOAD_EVERY);
    loop {
        let forced = tokio::select! {
            _ = tick.tick() => false,
            Some(()) = async {
                match hangup.as_mut() {
                    Some(signal) => signal.recv().await,
                    None => std::future::pending().await,
                }
            } => true,
        };
        let result = if forced {
            certificate.reload()
        } else {
            certificate.reload_if_changed()
        };
        match result {
            Ok(true) => tracing::info!(
                fingerprint = %certificate.fingerprint(),
                next = ?certificate.next_fingerprint(),
                "TLS certificate reloaded"
            ),
            Ok(false) => {}
            Err(error) => {
                tracing::warn!(%error, "TLS certificate not reloaded; serving the previous one")
            }
        }
    }
}

/// Band keys never cross the network in clear text: over plain HTTP their
/// route answers 403.
fn no_keys_in_clear(api: Router) -> Router {
    api.layer(axum::middleware::from_fn(
        |request: Request, next: axum::middleware::Next| async move {
            if request.uri().path().ends_with("/pos/band-keys") {
                return crate::error::ServerError::Forbidden(
                    "band keys are handed out over HTTPS only".into(),
                )
                .into_response();
            }
            next.run(request).await
        },
    ))
}

/// Every answer carries the next certificate's fingerprint while a switch
/// is prepared, so pinned tills learn it before the switch.
fn announce_next(api: Router, certificate: Arc<ServedCertificate>) -> Router {
    api.layer(axum::middleware::map_response(
        move |mut response: Response| {
            let certificate = certificate.clone();
            async move {
                if let Some(next) = certificate.next_fingerprint() {
                    if let Ok(value) = HeaderValue::from_str(&next.to_string()) {
                        response
                            .headers_mut()
                            .insert(NEXT_CERTIFICATE_HEADER, value);
                    }
                }
                response
            }
        },
    ))
}

#[derive(Clone)]
struct RedirectTarget {
    port: u16,
    fallback_host: String,
}

/// 308 to the same path on the HTTPS port, at the host the client asked
/// for (when it looks like a host name or address).
async fn redirect_to_https(
    State(target): State<RedirectTarget>,
    headers: HeaderMap,
    request: Request,
) -> Response {
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .map(host_without_port)
        .filter(|h| is_plain_host(h))
        .unwrap_or(&target.fallback_host);
    let port = match target.port {
        443 => String::new(),
        port => format!(":{port}"),
    };
    let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
    let location = format!("https://{host}{port}{path}");
    match HeaderValue::from_str(&location) {
        Ok(value) => (StatusCode::PERMANENT_REDIRECT, [(LOCATION, value)]).into_response(),
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}

fn host_without_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    match host.rsplit_once(':') {
        Some((name, _)) if !name.contains(':') => name,
        _ => host,
    }
}

fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

/// The code a manager gives a new till: server, event, the terminal's
/// token, and the certificate fingerprint to pin —
/// `tapsters://HOST:PORT/EVENT?token=…&fp=sha256:…` (`tapster://` for a
/// plain-HTTP server; no `fp` for a certificate from a CA).
pub fn setup_code(address: &str, event: &str, token: &str, transport: SetupTransport) -> String {
    match transport {
        SetupTransport::Pinned(fingerprint) => {
            format!("tapsters://{address}/{event}?token={token}&fp={fingerprint}")
        }
        SetupTransport::Validated => format!("tapsters://{address}/{event}?token={token}"),
        SetupTransport::InsecureHttp => format!("tapster://{address}/{event}?token={token}"),
    }
}

/// How a till is to trust the server of a setup code.
#[derive(Clone, Copy, Debug)]
pub enum SetupTransport {
    Pinned(Fingerprint),
    Validated,
    InsecureHttp,
}

/// A setup code as a QR code in text (two rows of modules per line), for
/// a terminal window.
pub fn qr_text(code: &str) -> Option<String> {
    let qr = qrcode::QrCode::new(code.as_bytes()).ok()?;
    Some(
        qr.render::<qrcode::render::unicode::Dense1x2>()
            .quiet_zone(true)
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_lose_their_port_and_odd_ones_are_not_used() {
        assert_eq!(host_without_port("pos.example:8080"), "pos.example");
        assert_eq!(host_without_port("10.0.0.2"), "10.0.0.2");
        assert_eq!(host_without_port("[::1]:80"), "[::1]");
        assert!(is_plain_host("[fe80::1]"));
        assert!(!is_plain_host("evil.example/path"));
        assert!(!is_plain_host("a b"));
    }

    #[test]
    fn setup_codes_carry_the_fingerprint_to_pin() {
        let fingerprint = Fingerprint::of_der(b"x");
        assert_eq!(
            setup_code(
                "10.0.0.2:8443",
                "evt_1",
                "tok",
                SetupTransport::Pinned(fingerprint)
            ),
            format!("tapsters://10.0.0.2:8443/evt_1?token=tok&fp={fingerprint}")
        );
        assert!(qr_text("tapsters://10.0.0.2:8443/evt_1?token=tok").is_some());
    }
}
