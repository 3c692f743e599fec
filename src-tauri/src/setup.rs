//! First start of a till: connect it to a tapster-server by URL, event and
//! terminal token — or a pasted setup code with all three — after testing
//! the connection, and keep the settings in the config dir (the token in
//! `secrets.toml`, mode 0600).

use std::path::Path;
use std::time::Duration;

use tapster_sync::{ApiError, Fingerprint, ServerClient};

use crate::config::{read_settings, write_settings, write_token, ServerSettings};
use crate::error::{AppError, ErrorCode};
use crate::view;

/// Reads `tapsters://HOST:PORT/EVENT?token=TOKEN&fp=sha256:…` (HTTPS, the
/// server's certificate pinned by its fingerprint; without `fp` it must
/// validate against the system's roots) or `tapster://…` (a server without
/// TLS), the code a manager copies for a new till.
pub fn parse_setup_code(code: &str) -> Result<ServerSettings, AppError> {
    let bad = || {
        AppError::new(
            ErrorCode::InvalidInput,
            "a setup code looks like tapsters://10.0.0.2:8443/EVENT_ID?token=TOKEN&fp=sha256:…",
        )
    };
    let code = code.trim();
    let (scheme, rest) = code.split_once("://").ok_or_else(bad)?;
    let scheme = match scheme {
        "tapster" => "http",
        "tapsters" => "https",
        _ => return Err(bad()),
    };
    let (location, query) = rest.split_once('?').ok_or_else(bad)?;
    let (host, event) = location
        .trim_end_matches('/')
        .split_once('/')
        .ok_or_else(bad)?;
    let field = |name: &str| {
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
    };
    let token = field("token").filter(|t| !t.is_empty()).ok_or_else(bad)?;
    if host.is_empty() || event.is_empty() || event.contains('/') {
        return Err(bad());
    }
    let fingerprint = parse_fingerprint(field("fp").unwrap_or(""))?;
    if fingerprint.is_some() && scheme == "http" {
        return Err(AppError::new(
            ErrorCode::InvalidInput,
            "a setup code with a fingerprint starts with tapsters://",
        ));
    }
    Ok(ServerSettings {
        url: format!("{scheme}://{host}"),
        event: event.to_string(),
        token: token.to_string(),
        fingerprint,
        next_fingerprint: None,
    })
}

/// A fingerprint typed or pasted (empty: none).
pub fn parse_fingerprint(text: &str) -> Result<Option<Fingerprint>, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse()
        .map(Some)
        .map_err(|e: tapster_sync::client::MalformedFingerprint| {
            AppError::new(ErrorCode::InvalidInput, e.to_string())
        })
}

/// Asks the server who this token belongs to.
pub async fn check_server(settings: &ServerSettings) -> Result<view::ServerCheck, AppError> {
    let client = ServerClient::new(
        &settings.address(),
        &settings.event,
        &settings.token,
        Duration::from_secs(5),
    )
    .map_err(|e| AppError::new(ErrorCode::InvalidInput, e.to_string()))?;
    match client.terminal().await {
        Ok(terminal) => Ok(view::ServerCheck {
            terminal_id: terminal.id,
            terminal_name: terminal.friendly_name,
        }),
        Err(
            error @ (ApiError::Unreachable(_)
            | ApiError::NotConnected(_)
            | ApiError::ServerTrouble { .. }),
        ) => Err(AppError {
            retryable: true,
            ..AppError::new(ErrorCode::ServerUnreachable, error.to_string())
        }),
        Err(error @ ApiError::Untrusted(_)) => {
            Err(AppError::new(ErrorCode::ServerUntrusted, error.to_string()))
        }
        Err(error) => Err(AppError::new(ErrorCode::RefusedByServer, error.to_string())),
    }
}

/// Keeps the connection: server, event and the terminal's id in
/// `tapster.toml` (other settings there stay), the token in `secrets.toml`.
pub fn save_connection(
    config_dir: &Path,
    settings: &ServerSettings,
    check: &view::ServerCheck,
) -> Result<(), AppError> {
    let failed = |e: anyhow::Error| AppError::new(ErrorCode::Internal, format!("{e:#}"));
    let mut file = read_settings(config_dir).map_err(failed)?;
    file.server = Some(settings.url.clone());
    file.event = Some(settings.event.clone());
    file.fingerprint = settings.fingerprint.map(|f| f.to_string());
    file.next_fingerprint = None;
    file.terminal = Some(check.terminal_id.clone());
    write_settings(config_dir, &file).map_err(failed)?;
    write_token(config_dir, &settings.token).map_err(failed)?;
    tracing::info!(server = %settings.url, event = %settings.event, terminal = %check.terminal_id, "connected to a server");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_codes_carry_server_event_and_token() {
        let settings =
            parse_setup_code(" tapster://10.0.0.2:8080/evt_42?token=abc.DEF-1 ").unwrap();
        assert_eq!(settings.url, "http://10.0.0.2:8080");
        assert_eq!(settings.event, "evt_42");
        assert_eq!(settings.token, "abc.DEF-1");
        assert_eq!(settings.fingerprint, None);
        let secure = parse_setup_code("tapsters://pos.example.org/evt_1/?token=t").unwrap();
        assert_eq!(secure.url, "https://pos.example.org");
        assert_eq!(secure.fingerprint, None);
        let fingerprint = Fingerprint::of_der(b"certificate");
        let pinned = parse_setup_code(&format!(
            "tapsters://10.0.0.2:8443/evt_42?token=abc&fp={fingerprint}"
        ))
        .unwrap();
        assert_eq!(pinned.url, "https://10.0.0.2:8443");
        assert_eq!(pinned.token, "abc");
        assert_eq!(pinned.fingerprint, Some(fingerprint));
        assert!(pinned.address().pins().is_some());
        for bad in [
            "tapsters://10.0.0.2:8443/evt_42?token=abc&fp=sha256:1234",
            &format!("tapster://10.0.0.2:8080/evt_42?token=abc&fp={fingerprint}"),
            "",
            "http://10.0.0.2/evt?token=x",
            "tapster://10.0.0.2:8080/evt_42",
            "tapster://10.0.0.2:8080/?token=x",
            "tapster://10.0.0.2:8080/evt_42?token=",
            "tapster://10.0.0.2:8080/a/b?token=x",
        ] {
            let error = parse_setup_code(bad).unwrap_err();
            assert_eq!(error.code, ErrorCode::InvalidInput, "{bad}");
        }
    }
}
