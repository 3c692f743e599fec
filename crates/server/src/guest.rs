//! The guest pages' side of the books: the codes printed on wristbands,
//! guests signing in with them (or by tapping a genuine band), their
//! sessions, the wallet as a guest sees it, and blocking a lost band.
//! [`crate::portal`] serves the pages over this.
//!
//! - A code is stored only as HMAC-SHA256 under the event's guest secret
//!   ([`ServerStore::issue_guest_codes`]); it is shown once, when made.
//! - A wrong code counts against the client's address (kept as a keyed
//!   hash too): after [`FREE_TRIES`] wrong ones in an hour each further
//!   try must wait twice as long as the one before, up to an hour, and is
//!   answered 429 with `Retry-After` without looking at the code. A right
//!   code does not reset the count (someone with one band of their own
//!   could otherwise reset it between guesses); an hour without a wrong
//!   one does. The count is in the database, so it holds across server
//!   processes.
//! - An unknown code, the code of a blocked band and the code of a band
//!   whose balance moved to a new one (blocked too) get the same answer.
//! - A session is a random cookie value (stored as its SHA-256) that lives
//!   [`SESSION_LIFE_MS`] from sign-in, with a form token every change must
//!   carry; blocking the band ends every session of it.

use ring::hmac;
use tapster_ledger::guest_code::GuestCode;
use tapster_ledger::model::Line;
use tapster_ledger::payout_request::{
    PayoutRequest, PayoutRequestError, PayoutSettings, TypedRequest,
};
use tapster_ledger::{Cents, TokenId};

use crate::db::{params, Connection, OptionalExtension};
use crate::error::ServerError;
use crate::store::{next_cursor, random_id, random_token, token_hash, ServerStore};

/// Wrong codes an address may try in an hour before it has to wait.
pub const FREE_TRIES: i64 = 5;
/// How long a guest stays signed in.
pub const SESSION_LIFE_MS: i64 = 30 * 60 * 1000;
/// The longest wait after wrong codes.
const LONGEST_WAIT_MS: i64 = 60 * 60 * 1000;
/// Wrong codes older than this are forgotten.
const FAILURE_MEMORY_MS: i64 = 60 * 60 * 1000;
/// Wrong codes per event and hour from all addresses together before the
/// manager is alerted. Guests mistype; at a large event a few hundred an
/// hour are honest. Many addresses guessing a little each are not.
pub const FAILURE_BUDGET: i64 = 300;
const HOUR_MS: i64 = 60 * 60 * 1000;
/// Entries the history shows.
const HISTORY_LIMIT: i64 = 500;

/// How a sign-in went.
#[derive(Debug)]
pub enum SignIn {
    /// The cookie's value and the session's form token.
    Signed(GuestSession),
    /// Unknown, blocked or replaced: the same answer for all three.
    Refused,
    /// Not a code at all (a typo in its form; nothing was looked up).
    Malformed,
    /// Too many wrong codes from this address: try again in this many
    /// seconds.
    Wait { seconds: u64 },
}

/// A guest's session.
#[derive(Clone)]
pub struct GuestSession {
    /// The cookie's value: the only copy, the database keeps its hash.
    pub cookie: String,
    pub token: TokenId,
    /// The form token every change must carry.
    pub csrf: String,
}

impl std::fmt::Debug for GuestSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuestSession")
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

pub use tapster_api::payouts::IssuedCode;

/// What a guest sees of their wallet.
#[derive(Debug, Clone)]
pub struct GuestAccount {
    pub token: TokenId,
    /// No wallet yet: the band was never topped up or paired.
    pub paired: bool,
    /// Paid money: what a payout can give back.
    pub paid_cents: i64,
    /// Promo credit (vouchers): spendable, never paid out.
    pub promo_cents: i64,
    /// Cups and other deposit items out, with their names.
    pub deposits: Vec<(String, i64)>,
    /// Latest first.
    pub history: Vec<GuestEntry>,
    /// Tills with sales not sent to the server yet (their last heartbeat
    /// said so): the history may lack a sale made there.
    pub unsynced_bars: Vec<String>,
}

/// One transaction of the wallet.
#[derive(Debug, Clone)]
pub struct GuestEntry {
    /// `sale`, `top_up`, `cancel`, `deposit_return`, `payout`, `adjustment`.
    pub kind: String,
    pub tender: String,
    /// Signed, as the balance moved.
    pub amount: i64,
    /// The till's name; none for the desk's own bookings.
    pub bar: Option<String>,
    /// In the event's time zone, `DD.MM.YYYY hh:mm`.
    pub at: String,
    pub lines: Vec<Line>,
    /// Made while the till was offline and sent later.
    pub offline: bool,
    /// A payout run's booking: `sepa_transfer`, `payout_fee` or
    /// `donation` (see [`crate::payout_run`]).
    pub tag: Option<String>,
}

impl ServerStore {
    /// New codes for these bands (a band's earlier code stops working).
    pub fn issue_guest_codes(
        &self,
        event: &str,
        tokens: &[TokenId],
    ) -> Result<Vec<IssuedCode>, ServerError> {
        if tokens.is_empty() || tokens.len() > 10_000 {
            return Err(ServerError::invalid(
                "token_ids",
                "must list 1 to 10,000 wristbands",
            ));
        }
        let (event, tokens, now) = (event.to_string(), tokens.to_vec(), self.now());
        self.write(move |conn| {
            Self::ensure_event(conn, &event)?;
            let key = guest_key(conn, &event, now.0)?;
            let mut issued = Vec::with_capacity(tokens.len());
            for token in &tokens {
                let code = GuestCode::generate();
                conn.execute(
                    "DELETE FROM guest_codes WHERE event_id = ?1 AND token_id = ?2",
                    params![event, token.as_str()],
                )?;
                conn.execute(
                    "INSERT INTO guest_codes (code_hash, event_id, token_id, created_at) VALUES (?1, ?2, ?3, ?4)",
                    params![keyed(&key, "code", code.as_str()), event, token.as_str(), now.0],
                )?;
                issued.push(IssuedCode {
                    token_id: token.to_string(),
                    code: code.grouped(),
                });
            }
            tracing::info!(event, bands = issued.len(), "guest codes issued");
            Ok(issued)
        })
    }

    /// Signs a guest in with the code on their band; `address` is the
    /// client's (counted, never stored as it is).
    pub fn guest_sign_in(
        &self,
        event: &str,
        typed: &str,
        address: &str,
    ) -> Result<SignIn, ServerError> {
        let code = GuestCode::parse(typed);
        let (event, address, now) = (event.to_string(), address.to_string(), self.now().0);
        self.write(move |conn| {
            let Some(key) = existing_guest_key(conn, &event)? else {
                // No code was ever made for this event (or no such event):
                // the answer of a wrong code, counted nowhere.
                return Ok(match code {
                    Ok(_) => SignIn::Refused,
                    Err(_) => SignIn::Malformed,
                });
            };
            let address = keyed(&key, "address", &address);
            if let Some(seconds) = must_wait(conn, &event, &address, now)? {
                return Ok(SignIn::Wait { seconds });
            }
            let Ok(code) = code else {
                return Ok(SignIn::Malformed);
            };
            let token: Option<String> = conn
                .query_row(
                    "SELECT token_id FROM guest_codes WHERE code_hash = ?1 AND event_id = ?2",
                    params![keyed(&key, "code", code.as_str()), event],
                    |r| r.get(0),
                )
                .optional()?;
            let token = match token {
                Some(token) if !band_blocked(conn, &event, &token)? => token,
                _ => {
                    count_failure(conn, &event, &address, now)?;
                    return Ok(SignIn::Refused);
                }
            };
            Ok(SignIn::Signed(start_session(
                conn, &event, &token, &address, now,
            )?))
        })
    }

    /// Signs a guest in by a tap of their genuine band on the phone (its
    /// SUN link, verified and never accepted twice). A link that does not
    /// verify counts as a wrong code.
    pub fn guest_tap_sign_in(
        &self,
        event: &str,
        picc: &str,
        mac: &str,
        address: &str,
    ) -> Result<SignIn, ServerError> {
        let now = self.now().0;
        {
            let conn = self.reader()?;
            if let Some(key) = existing_guest_key(&conn, event)? {
                let hashed = keyed(&key, "address", address);
                if let Some(seconds) = must_wait(&conn, event, &hashed, now)? {
                    return Ok(SignIn::Wait { seconds });
                }
            }
        }
        let tap = self.resolve_sun_link(event, picc, mac);
        let (event, address) = (event.to_string(), address.to_string());
        self.write(move |conn| {
            match Self::ensure_event(conn, &event) {
                Err(ServerError::NotFound(_)) => return Ok(SignIn::Refused),
                Err(other) => return Err(other),
                Ok(_) => {}
            }
            let key = guest_key(conn, &event, now)?;
            let address = keyed(&key, "address", &address);
            let token = match tap {
                Ok(tap) if !band_blocked(conn, &event, tap.token.as_str())? => tap.token,
                Ok(_) | Err(ServerError::InvalidParameters { .. } | ServerError::NotFound(_)) => {
                    count_failure(conn, &event, &address, now)?;
                    return Ok(SignIn::Refused);
                }
                Err(other) => return Err(other),
            };
            Ok(SignIn::Signed(start_session(
                conn,
                &event,
                token.as_str(),
                &address,
                now,
            )?))
        })
    }

    /// The event's name, if there is such an event.
    pub fn guest_event_name(&self, event: &str) -> Result<Option<String>, ServerError> {
        let conn = self.reader()?;
        match Self::ensure_event(&conn, event) {
            Ok(settings) => Ok(Some(settings.name)),
            Err(ServerError::NotFound(_)) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// The session behind a cookie, if it is one of this event's and alive
    /// (and its band not blocked since).
    pub fn guest_session(
        &self,
        event: &str,
        cookie: &str,
    ) -> Result<Option<GuestSession>, ServerError> {
        let conn = self.reader()?;
        let found: Option<(String, String)> = conn
            .query_row(
                "SELECT token_id, csrf FROM guest_sessions
                 WHERE token_hash = ?1 AND event_id = ?2 AND expires_at > ?3",
                params![token_hash(cookie), event, self.now().0],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((token, csrf)) = found else {
            return Ok(None);
        };
        if band_blocked(&conn, event, &token)? {
            return Ok(None);
        }
        let token = TokenId::parse(&token).map_err(|e| ServerError::Internal(e.to_string()))?;
        Ok(Some(GuestSession {
            cookie: cookie.to_string(),
            token,
            csrf,
        }))
    }

    /// Ends a session.
    pub fn guest_sign_out(&self, cookie: &str) -> Result<(), ServerError> {
        let hash = token_hash(cookie);
        self.write(move |conn| {
            conn.execute(
                "DELETE FROM guest_sessions WHERE token_hash = ?1",
                params![hash],
            )?;
            Ok(())
        })
    }

    /// The wallet as its guest sees it.
    pub fn guest_account(&self, event: &str, token: &TokenId) -> Result<GuestAccount, ServerError> {
        let conn = self.reader()?;
        let conn = conn.unchecked_transaction()?;
        let zone = Self::ensure_event(&conn, event)?.zone();
        let unsynced_bars = crate::store::unsynced_tills(&conn, event)?
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        let Some(wallet) = Self::wallet_row(&conn, event, token)? else {
            return Ok(GuestAccount {
                token: token.clone(),
                paired: false,
                paid_cents: 0,
                promo_cents: 0,
                deposits: Vec::new(),
                history: Vec::new(),
                unsynced_bars,
            });
        };
        let mut deposits = Vec::new();
        let counted = conn
            .prepare_cached(
                "SELECT product_id, count FROM wallet_deposits WHERE wallet_id = ?1 AND count > 0
                 ORDER BY product_id",
            )?
            .query_map(params![wallet.id], |r| {
                Ok((r.get::<_, String>(0)?, r.get(1)?))
            })?
            .collect::<crate::db::Result<Vec<(String, i64)>>>()?;
        for (product, count) in counted {
            let name = tapster_ledger::ProductId::new(product.as_str())
                .ok()
                .and_then(|id| Self::product_of(&conn, event, &id).ok().flatten())
                .map_or(product, |p| p.name);
            deposits.push((name, count));
        }
        let history = conn
            .prepare_cached(
                "SELECT t.kind, t.tender, t.amount, t.lines, t.created_at, t.offline, tm.friendly_name, t.tag
                 FROM transactions t
                 LEFT JOIN terminals tm ON tm.event_id = t.event_id AND tm.id = t.terminal_id
                 WHERE t.wallet_id = ?1 ORDER BY t.seq DESC LIMIT ?2",
            )?
            .query_map(params![wallet.id, HISTORY_LIMIT], |r| {
                let lines: String = r.get(3)?;
                Ok(GuestEntry {
                    kind: r.get(0)?,
                    tender: r.get(1)?,
                    amount: r.get(2)?,
                    lines: serde_json::from_str(&lines).unwrap_or_default(),
                    at: tapster_api::api_timestamp_in(r.get(4)?, &zone).readable,
                    offline: r.get(5)?,
                    bar: r.get(6)?,
                    tag: r.get(7)?,
                })
            })?
            .collect::<crate::db::Result<Vec<_>>>()?;
        Ok(GuestAccount {
            token: token.clone(),
            paired: true,
            // What a payout may give back: the ledger's rule.
            paid_cents: tapster_ledger::promo::payable(
                Cents(wallet.balance),
                Cents(wallet.promo_balance),
            )
            .0,
            promo_cents: wallet.promo_balance,
            deposits,
            history,
            unsynced_bars,
        })
    }

    /// Blocks the band of `session` at once (the tills learn it from the
    /// wallet feed) and ends all its sessions. A band never topped up gets
    /// an empty, blocked wallet, so nobody can start using it.
    pub fn guest_block(
        &self,
        event: &str,
        session: &GuestSession,
        address: &str,
    ) -> Result<(), ServerError> {
        let (event, token, address, now) = (
            event.to_string(),
            session.token.to_string(),
            address.to_string(),
            self.now().0,
        );
        self.write(move |conn| {
            let key = guest_key(conn, &event, now)?;
            let cursor = next_cursor(conn, &event)?;
            let changed = conn.execute(
                "UPDATE wallets SET blocked = 1, cursor = ?3 WHERE event_id = ?1 AND token_id = ?2",
                params![event, token, cursor],
            )?;
            if changed == 0 {
                conn.execute(
                    "INSERT INTO wallets (event_id, id, token_id, created_at, balance, blocked, cursor)
                     VALUES (?1, ?2, ?3, ?4, 0, 1, ?5)",
                    params![event, random_id("wal_"), token, now, cursor],
                )?;
            }
            crate::payout_run::keep_blocked(conn, &event, &token)?;
            conn.execute(
                "DELETE FROM guest_sessions WHERE event_id = ?1 AND token_id = ?2",
                params![event, token],
            )?;
            log(conn, &event, &token, "blocked", &keyed(&key, "address", &address), now)?;
            tracing::info!(event, token_id = %token, "band blocked by its guest");
            // The guest's own band is who acted; their address stays in
            // the guest log, keyed, not here.
            let audit = crate::audit::Audit::new(
                tapster_api::audit::AuditAction::WalletBlocked,
                serde_json::json!({ "by": "guest" }),
            );
            let guest = crate::audit::Actor::Guest { token: token.clone() };
            crate::audit::record_as(conn, &event, now, &guest, audit.wallet(token.as_str()))?;
            Ok(())
        })
    }
}

/// A band's payout request as stored.
#[derive(Debug, Clone)]
pub struct StoredPayoutRequest {
    pub request: PayoutRequest,
    /// Taken by a payout run: no longer editable.
    pub in_run: bool,
}

/// Why a payout request was not saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayoutRefusal {
    Invalid(PayoutRequestError),
    /// The organiser's window for requests has closed.
    Closed,
    /// A payout run has taken the request.
    InRun,
}

impl ServerStore {
    /// The organiser's payout settings (the defaults until saved).
    pub fn payout_settings(&self, event: &str) -> Result<PayoutSettings, ServerError> {
        let conn = self.reader()?;
        Self::ensure_event(&conn, event)?;
        payout_settings_of(&conn, event)
    }

    pub fn save_payout_settings(
        &self,
        event: &str,
        settings: &PayoutSettings,
    ) -> Result<PayoutSettings, ServerError> {
        settings
            .validate()
            .map_err(|e| ServerError::invalid(e.field, e.reason))?;
        let text =
            serde_json::to_string(settings).map_err(|e| ServerError::Internal(e.to_string()))?;
        let (event, saved, now) = (event.to_string(), settings.clone(), self.now().0);
        self.write(move |conn| {
            Self::ensure_event(conn, &event)?;
            let before = payout_settings_of(conn, &event)?;
            let audit = crate::audit::Audit::new(
                tapster_api::audit::AuditAction::PayoutSettingsChanged,
                crate::audit::changed_fields(&before, &saved),
            );
            crate::audit::record(conn, &event, now, audit)?;
            conn.execute(
                "INSERT INTO payout_settings (event_id, settings) VALUES (?1, ?2)
                 ON CONFLICT (event_id) DO UPDATE SET settings = excluded.settings",
                params![event, text],
            )?;
            tracing::info!(event, "payout settings saved");
            Ok(saved)
        })
    }

    /// The band's payout request, if it made one.
    pub fn guest_payout_request(
        &self,
        event: &str,
        token: &TokenId,
    ) -> Result<Option<StoredPayoutRequest>, ServerError> {
        let conn = self.reader()?;
        let row: Option<(String, String, String, String, Option<String>)> = conn
            .query_row(
                "SELECT account_holder, iban, email, donation, run_id FROM payout_requests
                 WHERE event_id = ?1 AND token_id = ?2",
                params![event, token.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?;
        row.map(|(account_holder, iban, email, donation, run)| {
            Ok(StoredPayoutRequest {
                request: PayoutRequest {
                    account_holder,
                    iban,
                    email,
                    donation: serde_json::from_str(&donation)
                        .map_err(|e| ServerError::Internal(e.to_string()))?,
                },
                in_run: run.is_some(),
            })
        })
        .transpose()
    }

    /// Saves (or changes) the payout request of the session's band.
    pub fn save_guest_payout_request(
        &self,
        event: &str,
        session: &GuestSession,
        typed: &TypedRequest<'_>,
        address: &str,
    ) -> Result<Result<PayoutRequest, PayoutRefusal>, ServerError> {
        let settings = self.payout_settings(event)?;
        let request = match PayoutRequest::check(
            typed,
            &settings.countries,
            settings.donation_target.is_some(),
        ) {
            Ok(request) => request,
            Err(error) => return Ok(Err(PayoutRefusal::Invalid(error))),
        };
        let now = self.now().0;
        if settings.closes_at.is_some_and(|closes| now >= closes) {
            return Ok(Err(PayoutRefusal::Closed));
        }
        let donation = serde_json::to_string(&request.donation)
            .map_err(|e| ServerError::Internal(e.to_string()))?;
        let (event, token, address) = (
            event.to_string(),
            session.token.to_string(),
            address.to_string(),
        );
        self.write(move |conn| {
            let taken: Option<Option<String>> = conn
                .query_row(
                    "SELECT run_id FROM payout_requests WHERE event_id = ?1 AND token_id = ?2",
                    params![event, token],
                    |r| r.get(0),
                )
                .optional()?;
            if matches!(taken, Some(Some(_))) {
                return Ok(Err(PayoutRefusal::InRun));
            }
            conn.execute(
                "INSERT INTO payout_requests
                     (event_id, token_id, account_holder, iban, email, donation, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
                 ON CONFLICT (event_id, token_id) DO UPDATE SET
                     account_holder = excluded.account_holder, iban = excluded.iban,
                     email = excluded.email, donation = excluded.donation,
                     updated_at = excluded.updated_at",
                params![
                    event,
                    token,
                    request.account_holder,
                    request.iban,
                    request.email,
                    donation,
                    now
                ],
            )?;
            let key = guest_key(conn, &event, now)?;
            log(conn, &event, &token, "payout_requested", &keyed(&key, "address", &address), now)?;
            tracing::info!(event, token_id = %token, "payout requested");
            Ok(Ok(request))
        })
    }
}

pub(crate) fn payout_settings_of(
    conn: &Connection,
    event: &str,
) -> Result<PayoutSettings, ServerError> {
    let saved: Option<String> = conn
        .query_row(
            "SELECT settings FROM payout_settings WHERE event_id = ?1",
            params![event],
            |r| r.get(0),
        )
        .optional()?;
    match saved {
        Some(text) => serde_json::from_str(&text).map_err(|e| ServerError::Internal(e.to_string())),
        None => Ok(PayoutSettings::default()),
    }
}

/// The event's guest secret, made on first use.
fn guest_key(conn: &Connection, event: &str, now: i64) -> Result<hmac::Key, ServerError> {
    if let Some(key) = existing_guest_key(conn, event)? {
        return Ok(key);
    }
    let mut secret = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
    conn.execute(
        "INSERT INTO guest_secrets (event_id, secret, created_at) VALUES (?1, ?2, ?3)",
        params![event, secret.to_vec(), now],
    )?;
    Ok(hmac::Key::new(hmac::HMAC_SHA256, &secret))
}

fn existing_guest_key(conn: &Connection, event: &str) -> Result<Option<hmac::Key>, ServerError> {
    let secret: Option<Vec<u8>> = conn
        .query_row(
            "SELECT secret FROM guest_secrets WHERE event_id = ?1",
            params![event],
            |r| r.get(0),
        )
        .optional()?;
    Ok(secret.map(|s| hmac::Key::new(hmac::HMAC_SHA256, &s)))
}

/// `value` hashed under the event's key, for one `purpose`.
fn keyed(key: &hmac::Key, purpose: &str, value: &str) -> String {
    let mut context = hmac::Context::with_key(key);
    context.update(purpose.as_bytes());
    context.update(b"\0");
    context.update(value.as_bytes());
    hex::encode(context.sign().as_ref())
}

/// Blocked, or moved to a new band (which blocks the old one).
/// The band is blocked for its guest: lost, or replaced. A band a payout
/// run froze (or paid out) is blocked for the tills only: its guest still
/// signs in to see the payout.
fn band_blocked(conn: &Connection, event: &str, token: &str) -> Result<bool, ServerError> {
    Ok(conn
        .query_row(
            "SELECT w.blocked = 1 AND NOT EXISTS (
                 SELECT 1 FROM payout_run_items i JOIN payout_runs p ON p.id = i.run_id
                 WHERE i.wallet_id = w.id AND i.was_blocked = 0
                   AND p.state IN ('pending', 'exported', 'done'))
             FROM wallets w WHERE w.event_id = ?1 AND w.token_id = ?2",
            params![event, token],
            |r| r.get::<_, bool>(0),
        )
        .optional()?
        .unwrap_or(false))
}

/// Seconds this address must still wait, if it must.
fn must_wait(
    conn: &Connection,
    event: &str,
    address: &str,
    now: i64,
) -> Result<Option<u64>, ServerError> {
    let until: Option<i64> = conn
        .query_row(
            "SELECT blocked_until FROM guest_failures WHERE event_id = ?1 AND address_hash = ?2",
            params![event, address],
            |r| r.get(0),
        )
        .optional()?;
    Ok(until
        .filter(|until| *until > now)
        .map(|until| ((until - now + 999) / 1000) as u64))
}

/// One more wrong code from this address, and the wait it earns.
fn count_failure(
    conn: &Connection,
    event: &str,
    address: &str,
    now: i64,
) -> Result<(), ServerError> {
    let earlier: Option<(i64, i64)> = conn
        .query_row(
            "SELECT failures, last_at FROM guest_failures WHERE event_id = ?1 AND address_hash = ?2",
            params![event, address],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let failures = match earlier {
        Some((failures, last_at)) if now - last_at < FAILURE_MEMORY_MS => failures + 1,
        _ => 1,
    };
    conn.execute(
        "INSERT INTO guest_failures (event_id, address_hash, failures, last_at, blocked_until)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (event_id, address_hash) DO UPDATE SET failures = excluded.failures,
             last_at = excluded.last_at, blocked_until = excluded.blocked_until",
        params![event, address, failures, now, now + wait_after(failures)],
    )?;
    if failures == FREE_TRIES + 1 {
        tracing::warn!(
            event,
            failures,
            "guest pages: an address keeps trying wrong codes"
        );
    }
    let (hour_failures, alarmed): (i64, Option<i64>) = conn.query_row(
        "INSERT INTO guest_failure_hours (event_id, hour, failures) VALUES (?1, ?2, 1)
         ON CONFLICT (event_id, hour) DO UPDATE SET failures = guest_failure_hours.failures + 1
         RETURNING failures, alarmed_at",
        params![event, now / HOUR_MS],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if hour_failures >= FAILURE_BUDGET && alarmed.is_none() {
        conn.execute(
            "UPDATE guest_failure_hours SET alarmed_at = ?3 WHERE event_id = ?1 AND hour = ?2",
            params![event, now / HOUR_MS, now],
        )?;
        tracing::error!(
            event,
            failures = hour_failures,
            budget = FAILURE_BUDGET,
            "guest pages: wrong codes past this hour's budget, from many addresses: someone may be guessing codes"
        );
    }
    Ok(())
}

pub use tapster_api::payouts::{GuestAlarm, GuestSecurity};

impl ServerStore {
    /// Wrong codes this hour and the hours that raised an alarm.
    pub fn guest_security(&self, event: &str) -> Result<GuestSecurity, ServerError> {
        let conn = self.reader()?;
        let zone = Self::ensure_event(&conn, event)?.zone();
        let now = self.now().0;
        let this_hour = conn
            .query_row(
                "SELECT failures FROM guest_failure_hours WHERE event_id = ?1 AND hour = ?2",
                params![event, now / HOUR_MS],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0);
        let readable = |millis: i64| tapster_api::api_timestamp_in(millis, &zone).readable;
        let alarms = conn
            .prepare_cached(
                "SELECT hour, failures, alarmed_at FROM guest_failure_hours
                 WHERE event_id = ?1 AND alarmed_at IS NOT NULL ORDER BY hour DESC LIMIT 50",
            )?
            .query_map(params![event], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })?
            .collect::<crate::db::Result<Vec<_>>>()?
            .into_iter()
            .map(|(hour, failures, at)| GuestAlarm {
                hour: readable(hour * HOUR_MS),
                failures,
                alarmed_at: readable(at),
            })
            .collect();
        Ok(GuestSecurity {
            budget_per_hour: FAILURE_BUDGET,
            this_hour,
            alarms,
        })
    }
}

/// The wait after `failures` wrong codes: none for the first
/// [`FREE_TRIES`], then 1 s, 2 s, 4 s … up to an hour.
pub fn wait_after(failures: i64) -> i64 {
    if failures < FREE_TRIES {
        return 0;
    }
    let doublings = (failures - FREE_TRIES).min(20) as u32;
    (1000i64 << doublings).min(LONGEST_WAIT_MS)
}

fn start_session(
    conn: &Connection,
    event: &str,
    token: &str,
    address: &str,
    now: i64,
) -> Result<GuestSession, ServerError> {
    let (cookie, csrf) = (random_token(), random_token());
    // The band's expired sessions go; other bands' go at their next sign-in.
    conn.execute(
        "DELETE FROM guest_sessions WHERE event_id = ?1 AND token_id = ?2 AND expires_at <= ?3",
        params![event, token, now],
    )?;
    conn.execute(
        "INSERT INTO guest_sessions (token_hash, event_id, token_id, csrf, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            token_hash(&cookie),
            event,
            token,
            csrf,
            now,
            now + SESSION_LIFE_MS
        ],
    )?;
    log(conn, event, token, "signed_in", address, now)?;
    Ok(GuestSession {
        cookie,
        token: TokenId::parse(token).map_err(|e| ServerError::Internal(e.to_string()))?,
        csrf,
    })
}

fn log(
    conn: &Connection,
    event: &str,
    token: &str,
    action: &str,
    address: &str,
    now: i64,
) -> Result<(), ServerError> {
    conn.execute(
        "INSERT INTO guest_log (event_id, token_id, action, address_hash, at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![event, token, action, address, now],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_after_the_free_tries_up_to_an_hour() {
        assert_eq!(wait_after(1), 0);
        assert_eq!(wait_after(FREE_TRIES - 1), 0);
        assert_eq!(wait_after(FREE_TRIES), 1000);
        assert_eq!(wait_after(FREE_TRIES + 1), 2000);
        assert_eq!(wait_after(FREE_TRIES + 3), 8000);
        assert_eq!(wait_after(FREE_TRIES + 40), LONGEST_WAIT_MS);
    }

    #[test]
    fn hashes_depend_on_key_purpose_and_value() {
        let a = hmac::Key::new(hmac::HMAC_SHA256, &[1; 32]);
        let b = hmac::Key::new(hmac::HMAC_SHA256, &[2; 32]);
        assert_eq!(keyed(&a, "code", "X"), keyed(&a, "code", "X"));
        assert_ne!(keyed(&a, "code", "X"), keyed(&b, "code", "X"));
        assert_ne!(keyed(&a, "code", "X"), keyed(&a, "address", "X"));
        assert_ne!(keyed(&a, "code", "X"), keyed(&a, "code", "Y"));
        assert!(!keyed(&a, "code", "7QK2M9XD4HNB").contains("7QK2"));
    }
}
