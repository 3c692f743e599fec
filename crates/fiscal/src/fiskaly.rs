//! A cloud TSE: fiskaly SIGN DE, API v2, through its middleware
//! (`https://kassensichv-middleware.fiskaly.com/api/v2`).
//!
//! - Authentication: `POST /auth` with the API key and secret gives a
//!   bearer token, kept until shortly before it expires and fetched again
//!   after a 401.
//! - The TSS (the signing unit) is set up once per event in fiskaly's
//!   dashboard or by its admin calls; the server only checks its state
//!   (`GET /tss/{tss_id}`, `INITIALIZED`).
//! - Each till is a client (`PUT /tss/{tss_id}/client/{client_id}` with
//!   its serial number, the till's id), registered on its first
//!   transaction. The client id is a UUID derived from the serial number,
//!   so every server process finds the same one. Not yet done here: v2
//!   asks for the TSS admin's authentication (its admin PIN) before a
//!   client is created; until it is, register each till's client
//!   (serial number = the till's id) in fiskaly's dashboard.
//! - A transaction is `PUT /tss/{tss_id}/tx/{tx_id}?tx_revision=1` with
//!   state `ACTIVE`, then revision 2 `FINISHED` with the `standard_v1`
//!   receipt schema: amounts per VAT rate and per payment type.
//!
//! The credentials are secrets: they are never logged, and `Debug` hides
//! them. Only HTTPS is spoken, with the system's certificate authorities,
//! except to a loopback address (the suite's test double).

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{json, Value};
use tapster_tls::{client_config, Trust};

use crate::process::{PaymentKind, ProcessData, RECEIPT_PROCESS};
use crate::tse::{Health, Signed, Started, Tse, TseError};

/// fiskaly's production address for SIGN DE v2: its middleware, through
/// which clients and transactions are written.
pub const PRODUCTION: &str = "https://kassensichv-middleware.fiskaly.com/api/v2";

/// What the server needs to sign with fiskaly.
#[derive(Clone, Deserialize, serde::Serialize)]
pub struct FiskalyConfig {
    /// The API's address: [`PRODUCTION`] unless told otherwise.
    pub base_url: String,
    pub api_key: String,
    pub api_secret: String,
    pub tss_id: String,
}

impl std::fmt::Debug for FiskalyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FiskalyConfig")
            .field("base_url", &self.base_url)
            .field("tss_id", &self.tss_id)
            .finish_non_exhaustive()
    }
}

pub struct FiskalyTse {
    config: FiskalyConfig,
    http: reqwest::blocking::Client,
    token: Mutex<Option<(String, Instant)>>,
    clients: Mutex<HashSet<String>>,
}

impl FiskalyTse {
    pub fn new(config: FiskalyConfig) -> Result<FiskalyTse, TseError> {
        let url = reqwest::Url::parse(&config.base_url)
            .map_err(|e| TseError::Misconfigured(format!("the fiskaly address: {e}")))?;
        let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        if url.scheme() != "https" && !loopback {
            return Err(TseError::Misconfigured(
                "the fiskaly address must be https://".into(),
            ));
        }
        let tls = client_config(&Trust::Roots {
            extra_roots: Vec::new(),
        })
        .map_err(|e| TseError::Misconfigured(e.to_string()))?;
        let http = reqwest::blocking::Client::builder()
            .use_preconfigured_tls(tls)
            // A signature is two requests once authenticated: both within
            // the 5 s a till waits for its receipt.
            .timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| TseError::Misconfigured(e.to_string()))?;
        Ok(FiskalyTse {
            config,
            http,
            token: Mutex::new(None),
            clients: Mutex::new(HashSet::new()),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.base_url.trim_end_matches('/'))
    }

    fn token(&self, fresh: bool) -> Result<String, TseError> {
        let mut token = self
            .token
            .lock()
            .map_err(|_| TseError::Refused("poisoned".into()))?;
        if let (false, Some((value, until))) = (fresh, token.as_ref()) {
            if Instant::now() < *until {
                return Ok(value.clone());
            }
        }
        let answer = self
            .http
            .post(self.url("/auth"))
            .json(&json!({ "api_key": self.config.api_key, "api_secret": self.config.api_secret }))
            .send()
            .map_err(unreachable)?;
        let body = checked(answer)?;
        let value = body["access_token"]
            .as_str()
            .ok_or_else(|| TseError::Refused("no access token in fiskaly's answer".into()))?
            .to_string();
        let life = body["access_token_expires_in"].as_u64().unwrap_or(300);
        // Fetched again a minute before it runs out.
        *token = Some((
            value.clone(),
            Instant::now() + Duration::from_secs(life.saturating_sub(60).max(1)),
        ));
        Ok(value)
    }

    /// A call with the bearer token, once more with a fresh one after 401.
    fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, TseError> {
        for fresh in [false, true] {
            let mut request = self
                .http
                .request(method.clone(), self.url(path))
                .bearer_auth(self.token(fresh)?);
            if let Some(body) = body {
                request = request.json(body);
            }
            let answer = request.send().map_err(unreachable)?;
            if answer.status() == reqwest::StatusCode::UNAUTHORIZED && !fresh {
                continue;
            }
            return checked(answer);
        }
        Err(TseError::Refused(
            "fiskaly does not take the API key".into(),
        ))
    }

    fn client_id(serial: &str) -> String {
        // The same serial gives the same UUID in every server process.
        let digest = ring::digest::digest(
            &ring::digest::SHA256,
            format!("tapster-till:{serial}").as_bytes(),
        );
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest.as_ref()[..16]);
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .to_string()
    }

    fn ensure_client(&self, serial: &str) -> Result<String, TseError> {
        let id = Self::client_id(serial);
        if self
            .clients
            .lock()
            .map_err(|_| TseError::Refused("poisoned".into()))?
            .contains(&id)
        {
            return Ok(id);
        }
        self.call(
            reqwest::Method::PUT,
            &format!("/tss/{}/client/{id}", self.config.tss_id),
            Some(&json!({ "serial_number": serial })),
        )?;
        self.clients
            .lock()
            .map_err(|_| TseError::Refused("poisoned".into()))?
            .insert(id.clone());
        Ok(id)
    }
}

fn unreachable(error: reqwest::Error) -> TseError {
    TseError::Unreachable(error.without_url().to_string())
}

fn checked(answer: reqwest::blocking::Response) -> Result<Value, TseError> {
    let status = answer.status();
    let body: Value = answer.json().unwrap_or(Value::Null);
    if status.is_success() {
        Ok(body)
    } else if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        Err(TseError::Unreachable(format!("fiskaly answered {status}")))
    } else {
        Err(TseError::Refused(format!(
            "{status}: {}",
            body["message"].as_str().unwrap_or("no reason given")
        )))
    }
}

/// fiskaly's name of a process data place.
const VAT_RATES: [&str; 5] = [
    "NORMAL",
    "REDUCED_1",
    "SPECIAL_RATE_1",
    "SPECIAL_RATE_2",
    "NULL",
];

/// The `standard_v1` receipt schema of `data`.
pub fn receipt_schema(data: &ProcessData) -> Value {
    let per_rate: Vec<Value> = data
        .gross
        .iter()
        .zip(VAT_RATES)
        .filter(|(amount, _)| amount.0 != 0)
        .map(|(amount, rate)| json!({ "vat_rate": rate, "amount": amount.to_string() }))
        .collect();
    let per_payment: Vec<Value> = data
        .payments
        .iter()
        .map(|(amount, kind)| {
            json!({
                "payment_type": match kind { PaymentKind::Cash => "CASH", PaymentKind::NonCash => "NON_CASH" },
                "amount": amount.to_string(),
            })
        })
        .collect();
    // A cancellation is a receipt of its own with negative amounts.
    let receipt_type = "RECEIPT";
    json!({ "standard_v1": { "receipt": {
        "receipt_type": receipt_type,
        "amounts_per_vat_rate": per_rate,
        "amounts_per_payment_type": per_payment,
    } } })
}

impl Tse for FiskalyTse {
    fn start(&self, client: &str) -> Result<Started, TseError> {
        let client_id = self.ensure_client(client)?;
        let id = uuid::Uuid::new_v4().to_string();
        let answer = self.call(
            reqwest::Method::PUT,
            &format!("/tss/{}/tx/{id}?tx_revision=1", self.config.tss_id),
            Some(&json!({ "state": "ACTIVE", "client_id": client_id })),
        )?;
        Ok(Started {
            id,
            client: client.to_string(),
            number: answer["number"].as_u64().unwrap_or(0),
            time_start: answer["time_start"].as_i64().unwrap_or(0),
        })
    }

    fn finish(&self, started: &Started, data: &ProcessData) -> Result<Signed, TseError> {
        let answer = self.call(
            reqwest::Method::PUT,
            &format!(
                "/tss/{}/tx/{}?tx_revision=2",
                self.config.tss_id, started.id
            ),
            Some(&json!({
                "state": "FINISHED",
                "client_id": Self::client_id(&started.client),
                "schema": receipt_schema(data),
            })),
        )?;
        let text = |v: &Value| v.as_str().map(str::to_string);
        let missing = || TseError::Refused("fiskaly's answer lacks the signature".into());
        let signature = &answer["signature"];
        Ok(Signed {
            number: answer["number"].as_u64().ok_or_else(missing)?,
            signature_counter: signature["counter"].as_u64().ok_or_else(missing)?,
            time_start: answer["time_start"].as_i64().ok_or_else(missing)?,
            time_end: answer["time_end"].as_i64().ok_or_else(missing)?,
            tss_serial: text(&answer["tss_serial_number"]).ok_or_else(missing)?,
            client_serial: text(&answer["client_serial_number"])
                .unwrap_or_else(|| started.client.clone()),
            algorithm: text(&signature["algorithm"]).ok_or_else(missing)?,
            time_format: text(&answer["log"]["timestamp_format"])
                .unwrap_or_else(|| "unixTime".into()),
            public_key: text(&signature["public_key"]).ok_or_else(missing)?,
            signature: text(&signature["value"]).ok_or_else(missing)?,
            process_type: RECEIPT_PROCESS.into(),
            process_data: data.text(),
            certified: true,
        })
    }

    fn health(&self) -> Health {
        match self.call(
            reqwest::Method::GET,
            &format!("/tss/{}", self.config.tss_id),
            None,
        ) {
            Ok(tss) if tss["state"] == "INITIALIZED" => Health {
                reachable: true,
                certified: true,
                tss_serial: tss["serial_number"].as_str().map(str::to_string),
                message: String::new(),
            },
            Ok(tss) => Health {
                reachable: true,
                certified: true,
                tss_serial: tss["serial_number"].as_str().map(str::to_string),
                message: format!(
                    "the TSS is {}, not INITIALIZED: finish its setup in fiskaly's dashboard",
                    tss["state"].as_str().unwrap_or("unknown")
                ),
            },
            Err(error) => Health {
                reachable: false,
                certified: true,
                tss_serial: None,
                message: error.to_string(),
            },
        }
    }
}
