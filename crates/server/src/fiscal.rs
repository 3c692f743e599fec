//! Fiscal signing on the server (the design is `tapster_fiscal`'s): each
//! event's device, set up by the manager; tills ask it to sign each
//! receipt right after they commit the sale, and the answer — a signature
//! or an outage — is kept once per entry. A till transaction that reaches
//! the server without one was made while its till could not ask: an
//! outage too. The manager sees the outages as windows per till.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use serde::{Deserialize, Serialize};
use tapster_api::fiscal::{
    Business, FiscalScheme, FiscalSetup, FiscalStatus, OutageWindow, SignReceipt, Signing,
};
use tapster_fiscal::dsfinvk;
use tapster_fiscal::fiskaly::{FiskalyConfig, FiskalyTse, PRODUCTION};
use tapster_fiscal::simulated::{generate_key, SimulatedTse};
use tapster_fiscal::{sign_or_outage, ProcessData, Tse};
use tapster_ledger::model::{EntryKind, FiscalSigning};

use crate::db::{params, Connection, OptionalExtension};
use crate::error::ServerError;
use crate::store::{AuthenticatedTerminal, ServerStore};

/// How long after a sale its till may still ask for a signature: a TSE
/// signs at the time of the transaction, not hours later when an offline
/// till is back.
pub const SIGN_WINDOW_MS: i64 = 120_000;

/// A device whose request failed slowly (a timeout: the cloud or the
/// line to it is down) is not asked again for this long: each till's
/// receipt would wait out the same timeout otherwise. A fast failure (a
/// refusal, a 5xx) rests nothing.
pub const REST_AFTER_SLOW_FAILURE: Duration = Duration::from_secs(30);
/// A failure that took at least this long counts as slow.
const SLOW_FAILURE: Duration = Duration::from_secs(1);

/// Each event's device, opened on first use and kept, and the devices
/// resting after a slow failure.
#[derive(Default)]
pub struct Devices {
    /// By event: the set-up's revision and its device.
    open: Mutex<HashMap<String, OpenDevice>>,
    resting: Mutex<HashMap<String, (Instant, String)>>,
    /// Receipts being signed now, by event and entry: one signature each.
    signing: Mutex<std::collections::HashSet<(String, String)>>,
}

/// A device as opened: the set-up revision it is of, and the device.
type OpenDevice = (i64, Arc<dyn Tse>);

/// A receipt claimed for signing; released when dropped.
struct Claim<'a> {
    devices: &'a Devices,
    key: (String, String),
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if let Ok(mut signing) = self.devices.signing.lock() {
            signing.remove(&self.key);
        }
    }
}

impl Devices {
    /// The device of the set-up `revision`, if it is the one open.
    fn get(&self, event: &str, revision: i64) -> Option<Arc<dyn Tse>> {
        let open = self.open.lock().ok()?;
        let (open_revision, device) = open.get(event)?;
        (*open_revision == revision).then(|| device.clone())
    }

    fn put(&self, event: &str, revision: i64, device: Arc<dyn Tse>) {
        if let Ok(mut devices) = self.open.lock() {
            devices.insert(event.to_string(), (revision, device));
        }
    }

    /// Claims a receipt for signing; `None` while another request signs it.
    fn claim(&self, event: &str, entry: &str) -> Option<Claim<'_>> {
        let key = (event.to_string(), entry.to_string());
        let mut signing = self.signing.lock().ok()?;
        signing
            .insert(key.clone())
            .then_some(Claim { devices: self, key })
    }

    fn forget(&self, event: &str) {
        if let Ok(mut devices) = self.open.lock() {
            devices.remove(event);
        }
        if let Ok(mut resting) = self.resting.lock() {
            resting.remove(event);
        }
    }

    /// Why the event's device is resting, while it is.
    fn resting(&self, event: &str) -> Option<String> {
        let resting = self.resting.lock().ok()?;
        let (until, reason) = resting.get(event)?;
        (Instant::now() < *until).then(|| reason.clone())
    }

    fn rest(&self, event: &str, reason: &str) {
        if let Ok(mut resting) = self.resting.lock() {
            resting.insert(
                event.to_string(),
                (Instant::now() + REST_AFTER_SLOW_FAILURE, reason.to_string()),
            );
        }
    }
}

/// A device's access as stored (`fiscal_devices.secret`).
#[derive(Serialize, Deserialize)]
#[serde(tag = "scheme", rename_all = "snake_case")]
enum Secret {
    /// Never set up: nothing to keep.
    Off,
    /// The simulated device's PKCS#8 key, base64.
    Simulated {
        key: String,
    },
    Fiskaly(FiskalyConfig),
}

/// Why a transaction with no signature row was not signed.
const NOT_ASKED: &str = "the till could not reach the server to sign (offline)";

impl ServerStore {
    /// Sets the event's fiscal device up (or switches signing off). The
    /// tills learn it with their next catalogue pull. A simulated device
    /// keeps its key when set up again.
    pub fn set_fiscal_device(
        &self,
        event: &str,
        setup: FiscalSetup,
    ) -> Result<FiscalStatus, ServerError> {
        let fiskaly = match setup.scheme {
            FiscalScheme::Fiskaly => {
                let access = setup.fiskaly.ok_or_else(|| {
                    ServerError::invalid("fiskaly", "needs api_key, api_secret and tss_id")
                })?;
                for (field, value) in [
                    ("fiskaly.api_key", &access.api_key),
                    ("fiskaly.api_secret", &access.api_secret),
                    ("fiskaly.tss_id", &access.tss_id),
                ] {
                    if value.trim().is_empty() || value.len() > 200 {
                        return Err(ServerError::invalid(field, "must be 1 to 200 characters"));
                    }
                }
                let config = FiskalyConfig {
                    base_url: access.base_url.unwrap_or_else(|| PRODUCTION.into()),
                    api_key: access.api_key,
                    api_secret: access.api_secret,
                    tss_id: access.tss_id,
                };
                // Refuses a plain-HTTP address before anything is stored.
                FiskalyTse::new(config.clone())
                    .map_err(|e| ServerError::invalid("fiskaly.base_url", e.to_string()))?;
                Some(config)
            }
            _ if setup.fiskaly.is_some() => {
                return Err(ServerError::invalid(
                    "fiskaly",
                    "is only for the scheme 'fiskaly'",
                ))
            }
            _ => None,
        };
        let new_key = match setup.scheme {
            FiscalScheme::Simulated => Some(
                base64::engine::general_purpose::STANDARD
                    .encode(generate_key().map_err(|e| ServerError::Internal(e.to_string()))?),
            ),
            _ => None,
        };
        if let Some(business) = &setup.business {
            business
                .check()
                .map_err(|(field, reason)| ServerError::invalid(field, reason))?;
        }
        let business = setup
            .business
            .map(|b| serde_json::to_string(&b).map_err(json_error))
            .transpose()?;
        let (event_id, now) = (event.to_string(), self.clock.now().0);
        let scheme = setup.scheme;
        self.write(move |conn| {
            let mut settings = Self::ensure_event(conn, &event_id)?;
            let existing: Option<(String, String, i64, String)> = conn
                .prepare_cached(
                    "SELECT scheme, secret, since, business FROM fiscal_devices
                     WHERE event_id = ?1",
                )?
                .query_row([&event_id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .optional()?;
            let kept: Option<Secret> = existing
                .as_ref()
                .map(|(_, secret, _, _)| serde_json::from_str(secret).map_err(json_error))
                .transpose()?;
            // Signing that starts now counts its outages from now.
            let since = match &existing {
                Some((kind, _, since, _)) if kind != "off" => *since,
                _ => now,
            };
            let secret = match (scheme, fiskaly, new_key, kept) {
                // Off keeps a simulated device's key for later.
                (FiscalScheme::Off, _, _, Some(kept)) => kept,
                (FiscalScheme::Off, _, _, None) => Secret::Off,
                (FiscalScheme::Fiskaly, Some(config), _, _) => Secret::Fiskaly(config),
                (FiscalScheme::Simulated, _, _, Some(kept @ Secret::Simulated { .. })) => kept,
                (FiscalScheme::Simulated, _, Some(key), _) => Secret::Simulated { key },
                _ => return Err(ServerError::Internal("fiscal setup out of step".into())),
            };
            let kind = match scheme {
                FiscalScheme::Off => "off",
                FiscalScheme::Simulated => "simulated",
                FiscalScheme::Fiskaly => "fiskaly",
            };
            let business = business
                .or(existing.map(|(_, _, _, business)| business))
                .unwrap_or_else(|| "{}".into());
            conn.execute(
                "INSERT INTO fiscal_devices (event_id, scheme, secret, since, business)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (event_id) DO UPDATE SET scheme = excluded.scheme,
                     secret = excluded.secret, since = excluded.since,
                     business = excluded.business,
                     revision = fiscal_devices.revision + 1",
                params![
                    event_id,
                    kind,
                    serde_json::to_string(&secret).map_err(json_error)?,
                    since,
                    business
                ],
            )?;
            // The scheme only: never the device's credentials or key.
            let audit = crate::audit::Audit::new(
                tapster_api::audit::AuditAction::FiscalDeviceChanged,
                serde_json::json!({ "scheme": kind }),
            );
            crate::audit::record(conn, &event_id, now, audit)?;
            settings.fiscal_signing = match scheme {
                FiscalScheme::Off => FiscalSigning::Off,
                FiscalScheme::Simulated => FiscalSigning::Simulated,
                FiscalScheme::Fiskaly => FiscalSigning::Certified,
            };
            conn.execute(
                "UPDATE events SET settings = ?2 WHERE id = ?1",
                params![
                    event_id,
                    serde_json::to_string(&settings).map_err(json_error)?
                ],
            )?;
            Ok(())
        })?;
        self.fiscal_devices.forget(event);
        tracing::info!(event, scheme = ?setup.scheme, "fiscal device set up");
        self.fiscal_status(event)
    }

    /// The event's device, if it signs.
    fn fiscal_device(&self, event: &str) -> Result<Option<Arc<dyn Tse>>, ServerError> {
        // One indexed read per receipt: another server process on the same
        // database may have changed the device.
        let conn = self.reader()?;
        let stored: Option<(String, i64)> = conn
            .prepare_cached(
                "SELECT secret, revision FROM fiscal_devices
                 WHERE event_id = ?1 AND scheme <> 'off'",
            )?
            .query_row([event], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((secret, revision)) = stored else {
            return Ok(None);
        };
        if let Some(device) = self.fiscal_devices.get(event, revision) {
            return Ok(Some(device));
        }
        let device: Arc<dyn Tse> = match serde_json::from_str(&secret).map_err(json_error)? {
            Secret::Off => return Ok(None),
            Secret::Simulated { key } => {
                let key = base64::engine::general_purpose::STANDARD
                    .decode(key)
                    .map_err(|e| ServerError::Internal(e.to_string()))?;
                // It goes on counting where it stood.
                let (number, counter): (Option<i64>, Option<i64>) = conn
                    .prepare_cached(
                        "SELECT MAX(tx_number), MAX(signature_counter) FROM fiscal_signatures
                         WHERE event_id = ?1 AND signed = 1",
                    )?
                    .query_row([event], |r| Ok((r.get(0)?, r.get(1)?)))?;
                let clock = self.clock.clone();
                let counters = (
                    u64::try_from(number.unwrap_or(0)).unwrap_or(0),
                    u64::try_from(counter.unwrap_or(0)).unwrap_or(0),
                );
                Arc::new(
                    SimulatedTse::restore(
                        &key,
                        counters,
                        Box::new(move || clock.now().0.div_euclid(1000)),
                    )
                    .map_err(|e| ServerError::Internal(e.to_string()))?,
                )
            }
            Secret::Fiskaly(config) => {
                Arc::new(FiskalyTse::new(config).map_err(|e| ServerError::Internal(e.to_string()))?)
            }
        };
        self.fiscal_devices.put(event, revision, device.clone());
        Ok(Some(device))
    }

    /// Signs a till's receipt, or records why it could not be; asked again
    /// for the same entry, the first answer.
    pub fn sign_receipt(
        &self,
        terminal: &AuthenticatedTerminal,
        request: &SignReceipt,
    ) -> Result<Signing, ServerError> {
        let entry = &request.entry;
        if terminal.scanner || entry.terminal.as_str() != terminal.id {
            return Err(ServerError::Forbidden(
                "a till has only its own receipts signed".into(),
            ));
        }
        if entry.kind == EntryKind::Adjustment && entry.token.is_some() {
            return Err(ServerError::invalid(
                "entry.kind",
                "an adjustment on a wristband is the server's bookkeeping, not a till's transaction",
            ));
        }
        let event = terminal.event_id.clone();
        let entry_id = entry.id.to_string();
        if let Some(stored) = self.stored_signing(&event, &entry_id)? {
            return Ok(stored);
        }
        let Some(_claim) = self.fiscal_devices.claim(&event, &entry_id) else {
            return Err(ServerError::Conflict(
                "this receipt is being signed by another request: ask again in a moment".into(),
            ));
        };
        // Signed once, even when two requests came close together.
        if let Some(stored) = self.stored_signing(&event, &entry_id)? {
            return Ok(stored);
        }
        // What a cancellation cancels, from the books when they know it.
        let cancelled_kind = match entry.reverses {
            Some(original) => self
                .kind_of_entry(&event, &original.to_string())?
                .or(request.cancelled_kind),
            None => request.cancelled_kind,
        };
        let data = ProcessData::of_entry(entry, cancelled_kind)
            .map_err(|e| ServerError::invalid("entry", e.to_string()))?;
        let device = self.fiscal_device(&event)?.ok_or_else(|| {
            ServerError::Conflict("this event signs nothing: no fiscal device is set up".into())
        })?;
        let late = self.clock.now().0.saturating_sub(entry.terminal_time.0);
        let signing = if late > SIGN_WINDOW_MS {
            Signing::Outage {
                reason: format!(
                    "asked {} s after the sale: a TSE signs at the time of the transaction",
                    late / 1000
                ),
            }
        } else if let Some(reason) = self.fiscal_devices.resting(&event) {
            Signing::Outage {
                reason: format!(
                    "not asked: the TSE did not answer a moment ago ({reason}); it is asked again within {} s",
                    REST_AFTER_SLOW_FAILURE.as_secs()
                ),
            }
        } else {
            let started = Instant::now();
            let signing = sign_or_outage(device.as_ref(), &terminal.id, &data);
            if let Signing::Outage { reason } = &signing {
                if started.elapsed() >= SLOW_FAILURE {
                    tracing::warn!(event = %event, "the TSE answered too slowly: not asked for a while");
                    self.fiscal_devices.rest(&event, reason);
                }
            }
            signing
        };
        let (signed, number, counter) = match &signing {
            Signing::Signed(signed) => (
                1_i64,
                i64::try_from(signed.number).ok(),
                i64::try_from(signed.signature_counter).ok(),
            ),
            Signing::Outage { .. } => (0, None, None),
        };
        let json = serde_json::to_string(&signing).map_err(json_error)?;
        let entry_json = serde_json::to_string(entry).map_err(json_error)?;
        let (terminal_id, now) = (terminal.id.clone(), self.clock.now().0);
        let (event_w, entry_w) = (event.clone(), entry_id.clone());
        // One row by its key: it needs no other write's lock.
        self.write_shared(move |conn| {
            conn.execute(
                "INSERT INTO fiscal_signatures (event_id, entry_id, terminal_id, signed,
                     tx_number, signature_counter, signing, entry, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (event_id, entry_id) DO NOTHING",
                params![
                    event_w,
                    entry_w,
                    terminal_id,
                    signed,
                    number,
                    counter,
                    json,
                    entry_json,
                    now
                ],
            )?;
            Ok(())
        })?;
        // Two requests for one entry at once: the first one kept stands.
        Ok(self.stored_signing(&event, &entry_id)?.unwrap_or(signing))
    }

    /// The kind of a till's entry as the books have it.
    fn kind_of_entry(&self, event: &str, entry: &str) -> Result<Option<EntryKind>, ServerError> {
        let kind: Option<String> = self
            .reader()?
            .prepare_cached(
                "SELECT kind FROM transactions WHERE event_id = ?1
                   AND (entry_id = ?2 OR id = (SELECT transaction_id FROM transaction_entries
                                               WHERE event_id = ?1 AND entry_id = ?2))",
            )?
            .query_row([event, entry], |r| r.get(0))
            .optional()?;
        kind.map(|kind| from_books(&kind)).transpose()
    }

    fn stored_signing(&self, event: &str, entry: &str) -> Result<Option<Signing>, ServerError> {
        let json: Option<String> = self
            .reader()?
            .prepare_cached(
                "SELECT signing FROM fiscal_signatures WHERE event_id = ?1 AND entry_id = ?2",
            )?
            .query_row([event, entry], |r| r.get(0))
            .optional()?;
        json.map(|json| serde_json::from_str(&json).map_err(json_error))
            .transpose()
    }

    /// The device, whether it can sign now (asks it), and the till
    /// transactions since it was set up that were not signed, as windows
    /// per till.
    pub fn fiscal_status(&self, event: &str) -> Result<FiscalStatus, ServerError> {
        let conn = self.reader()?;
        Self::ensure_event(&conn, event)?;
        let device: Option<(String, i64, String)> = conn
            .prepare_cached(
                "SELECT scheme, since, business FROM fiscal_devices WHERE event_id = ?1",
            )?
            .query_row([event], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let business: Business = match &device {
            Some((_, _, business)) => serde_json::from_str(business).map_err(json_error)?,
            None => Business::default(),
        };
        let (scheme, since) = match device {
            Some((scheme, since, _)) if scheme != "off" => (scheme, since),
            _ => {
                return Ok(FiscalStatus {
                    scheme: FiscalScheme::Off,
                    since: None,
                    health: None,
                    signed: 0,
                    unsigned: 0,
                    outages: Vec::new(),
                    business,
                })
            }
        };
        let scheme = if scheme == "fiskaly" {
            FiscalScheme::Fiskaly
        } else {
            FiscalScheme::Simulated
        };
        let transactions = till_transactions(&conn, event, since)?;
        drop(conn);
        // A resting device is not asked: it did not answer a moment ago.
        let health = match self.fiscal_devices.resting(event) {
            Some(reason) => Some(tapster_fiscal::Health {
                reachable: false,
                certified: scheme == FiscalScheme::Fiskaly,
                tss_serial: None,
                message: format!("did not answer a moment ago: {reason}"),
            }),
            None => self.fiscal_device(event)?.map(|device| device.health()),
        };
        let mut status = FiscalStatus {
            scheme,
            since: Some(since),
            health,
            signed: 0,
            unsigned: 0,
            outages: Vec::new(),
            business,
        };
        let mut open: Option<OutageWindow> = None;
        for t in transactions {
            let outage = match &t.signing {
                Some(Signing::Signed(_)) => None,
                Some(Signing::Outage { reason }) => Some(reason.clone()),
                None => Some(NOT_ASKED.to_string()),
            };
            match outage {
                None => {
                    status.signed += 1;
                    status.outages.extend(open.take());
                }
                Some(reason) => {
                    status.unsigned += 1;
                    match &mut open {
                        Some(window) if window.terminal_id == t.terminal_id => {
                            window.to = t.at;
                            window.transactions += 1;
                        }
                        _ => {
                            status.outages.extend(open.take());
                            open = Some(OutageWindow {
                                terminal_id: t.terminal_id,
                                terminal_name: t.terminal_name,
                                from: t.at,
                                to: t.at,
                                transactions: 1,
                                reason,
                            });
                        }
                    }
                }
            }
        }
        status.outages.extend(open);
        Ok(status)
    }
}

impl ServerStore {
    /// The DSFinV-K export of the event's tills for the business days
    /// `from` to `to` (both included; all when not given), as a ZIP.
    pub fn dsfinvk_export(
        &self,
        event: &str,
        from: Option<jiff::civil::Date>,
        to: Option<jiff::civil::Date>,
    ) -> Result<Vec<u8>, ServerError> {
        if let (Some(from), Some(to)) = (from, to) {
            if from > to {
                return Err(ServerError::invalid("from", "must not be after 'to'"));
            }
        }
        let conn = self.reader()?;
        let settings = Self::ensure_event(&conn, event)?;
        let zone = jiff::tz::TimeZone::get(&settings.time_zone)
            .map_err(|e| ServerError::Internal(e.to_string()))?;
        let stored: Option<(String, String)> = conn
            .prepare_cached("SELECT scheme, business FROM fiscal_devices WHERE event_id = ?1")?
            .query_row([event], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let (signs, mut business) = match stored {
            Some((scheme, business)) => (
                scheme != "off",
                serde_json::from_str::<Business>(&business).map_err(json_error)?,
            ),
            None => (false, Business::default()),
        };
        if business.name.is_empty() {
            business.name = settings.name.clone();
        }
        let staff: HashMap<String, String> = conn
            .prepare_cached("SELECT id, name FROM staff WHERE event_id = ?1")?
            .query_map([event], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let transactions = export_transactions(&conn, event, &staff)?;
        drop(conn);
        let from = from.map(|day| dsfinvk::day_start(day, &zone));
        let to = to
            .map(|day| {
                day.tomorrow()
                    .map_err(|e| ServerError::invalid("to", e.to_string()))
            })
            .transpose()?
            .map(|day| dsfinvk::day_start(day, &zone));
        dsfinvk::zip(&dsfinvk::Export {
            business: &business,
            currency: &settings.currency,
            zone: &zone,
            software_version: env!("CARGO_PKG_VERSION"),
            signs,
            transactions: &transactions,
            from,
            to,
        })
        .map_err(|e| ServerError::Internal(e.to_string()))
    }
}

/// Every till transaction of the event in the export's shape: the till's
/// receipt number, time and cashier from its ledger entry where the server
/// has it (a batch, or the entry it was asked to sign).
fn export_transactions(
    conn: &Connection,
    event: &str,
    staff: &HashMap<String, String>,
) -> Result<Vec<dsfinvk::Transaction>, ServerError> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.id, t.terminal_id, t.kind, t.tender, t.amount, t.lines, t.sequence,
                COALESCE(t.terminal_time, t.created_at), t.staff_id, t.reverses,
                CASE WHEN t.wallet_id IS NULL THEN 0 ELSE 1 END,
                COALESCE(t.entry_id, te.entry_id), s.signing, s.entry, t.seq,
                CASE WHEN t.terminal_time IS NULL THEN 0 ELSE 1 END
         FROM transactions t
         LEFT JOIN transaction_entries te ON te.transaction_id = t.id
         LEFT JOIN fiscal_signatures s
                ON s.event_id = t.event_id AND s.entry_id = COALESCE(t.entry_id, te.entry_id)
         WHERE t.event_id = ?1 AND t.terminal_id IS NOT NULL
           AND (t.kind <> 'adjustment' OR t.wallet_id IS NULL)
         ORDER BY t.seq",
    )?;
    struct Row {
        id: String,
        till: String,
        kind: String,
        tender: String,
        amount: i64,
        lines: String,
        sequence: Option<i64>,
        at: i64,
        staff: Option<String>,
        reverses: Option<String>,
        on_band: i64,
        entry_id: Option<String>,
        signing: Option<String>,
        entry: Option<String>,
        seq: i64,
        till_time: i64,
    }
    let rows = stmt.query_map([event], |r| {
        Ok(Row {
            id: r.get(0)?,
            till: r.get(1)?,
            kind: r.get(2)?,
            tender: r.get(3)?,
            amount: r.get(4)?,
            lines: r.get(5)?,
            sequence: r.get(6)?,
            at: r.get(7)?,
            staff: r.get(8)?,
            reverses: r.get(9)?,
            on_band: r.get(10)?,
            entry_id: r.get(11)?,
            signing: r.get(12)?,
            entry: r.get(13)?,
            seq: r.get(14)?,
            till_time: r.get(15)?,
        })
    })?;
    let mut out = Vec::new();
    let mut kinds: HashMap<String, EntryKind> = HashMap::new();
    for row in rows {
        let row = row?;
        let kind: EntryKind = from_books(&row.kind)?;
        let entry: Option<tapster_ledger::model::Entry> = row
            .entry
            .as_deref()
            .map(|json| serde_json::from_str(json).map_err(json_error))
            .transpose()?;
        let staff_id = row
            .staff
            .or_else(|| entry.as_ref().map(|e| e.staff.to_string()))
            .unwrap_or_default();
        let id = row.entry_id.unwrap_or(row.id);
        kinds.insert(id.clone(), kind);
        out.push(dsfinvk::Transaction {
            till: row.till,
            number: row
                .sequence
                .or_else(|| entry.as_ref().map(|e| e.sequence))
                .unwrap_or(row.seq),
            kind,
            tender: from_books(&row.tender)?,
            amount: tapster_ledger::Cents(row.amount),
            lines: serde_json::from_str(&row.lines).map_err(json_error)?,
            on_band: row.on_band == 1,
            staff_name: staff.get(&staff_id).cloned().unwrap_or_default(),
            staff_id,
            at: match (&entry, row.till_time) {
                (Some(entry), 0) => entry.terminal_time,
                _ => tapster_ledger::Timestamp(row.at),
            },
            cancels: row.reverses.map(|original| (original, EntryKind::Sale)),
            signing: row
                .signing
                .as_deref()
                .map(|json| serde_json::from_str(json).map_err(json_error))
                .transpose()?,
            id,
        });
    }
    // What a cancellation cancels, once every transaction is known.
    for t in &mut out {
        if let Some((original, kind)) = &mut t.cancels {
            *kind = kinds.get(original).copied().unwrap_or(EntryKind::Sale);
        }
    }
    Ok(out)
}

/// A till's transaction as the fiscal view sees it.
struct TillTransaction {
    terminal_id: String,
    terminal_name: String,
    /// The till's time, ms.
    at: i64,
    signing: Option<Signing>,
}

/// The transactions tills booked since `since` (those that reached the
/// server with their ledger entry), per till in time order, with what the
/// device answered for each.
fn till_transactions(
    conn: &Connection,
    event: &str,
    since: i64,
) -> Result<Vec<TillTransaction>, ServerError> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.terminal_id, COALESCE(tm.friendly_name, t.terminal_id),
                COALESCE(t.terminal_time, t.created_at), s.signing
         FROM transactions t
         LEFT JOIN transaction_entries te ON te.transaction_id = t.id
         LEFT JOIN fiscal_signatures s
                ON s.event_id = t.event_id AND s.entry_id = COALESCE(t.entry_id, te.entry_id)
         LEFT JOIN terminals tm ON tm.event_id = t.event_id AND tm.id = t.terminal_id
         WHERE t.event_id = ?1 AND t.terminal_id IS NOT NULL
           AND (t.kind <> 'adjustment' OR t.wallet_id IS NULL)
           AND COALESCE(t.entry_id, te.entry_id) IS NOT NULL
           AND COALESCE(t.terminal_time, t.created_at) >= ?2
         ORDER BY t.terminal_id, COALESCE(t.terminal_time, t.created_at), t.seq",
    )?;
    let rows = stmt.query_map(params![event, since], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, Option<String>>(3)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (terminal_id, terminal_name, at, signing) = row?;
        out.push(TillTransaction {
            terminal_id,
            terminal_name,
            at,
            signing: signing
                .map(|json| serde_json::from_str(&json).map_err(json_error))
                .transpose()?,
        });
    }
    Ok(out)
}

/// A kind or tender as the books store it.
fn from_books<T: std::str::FromStr>(text: &str) -> Result<T, ServerError> {
    text.parse()
        .map_err(|_| ServerError::Internal(format!("'{text}' in the books")))
}

fn json_error(error: serde_json::Error) -> ServerError {
    ServerError::Internal(error.to_string())
}
