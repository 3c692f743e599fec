//! Passes on the server: batches of QR codes made or imported by a
//! manager, looked up and redeemed by devices (seed 003's `scan/info` and
//! `scan`), blocked, exported, counted. Whether a pass can be redeemed is
//! the ledger's rule ([`tapster_ledger::passes`]); the server applies it
//! inside the one writer, so of any number of simultaneous scans of a
//! code exactly as many win as the pass allows.

use crate::db::{params, Connection, OptionalExtension};
use tapster_api::walletapp::{NewPassBatch, PassBatch, PassInfo, RedemptionRow};
use tapster_api::PassFeed;
use tapster_ledger::passes::{Benefit, KnownPass, Pass, PassCode, PassRefusal};
use tapster_ledger::{IdempotencyKey, Timestamp};

use crate::audit::{self, Audit};
use crate::error::ServerError;
use crate::store::ServerStore;
use serde_json::json;
use tapster_api::audit::AuditAction;

/// At most this many passes per batch or import.
pub const MAX_BATCH: u32 = 10_000;
/// The most passes one sheet (`GET manage/passes/sheet.pdf`) prints: a
/// batch's worth.
pub const MAX_SHEET: usize = MAX_BATCH as usize;

/// A pass and how it stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredPass {
    pub pass: Pass,
    pub batch: String,
    pub user_identifier: Option<String>,
    pub user_first_name: Option<String>,
    /// Redemptions that count now (an allowance: in its period).
    pub counted: u32,
    pub redeemed_total: u32,
}

impl StoredPass {
    pub fn info(&self) -> PassInfo {
        PassInfo {
            pass_identifier: self.pass.code.to_string(),
            pass_type: self.pass.benefit.pass_type().as_str().into(),
            pass_installed: false,
            user_identifier: self.user_identifier.clone(),
            user_first_name: self.user_first_name.clone(),
            pass_title: self.pass.title.clone(),
            pass_subtitle: self.pass.subtitle.clone(),
            reference: self.pass.reference.clone(),
            benefit: self.pass.benefit.clone(),
            redemptions_left: self.pass.limit().saturating_sub(self.counted),
            valid_from: self.pass.valid_from.map(|t| t.0),
            valid_until: self.pass.valid_until.map(|t| t.0),
            blocked: self.pass.blocked,
            max_redemptions: self.pass.max_redemptions,
            external: self.pass.external,
        }
    }
}

/// A scan that did not redeem: why, and the pass as it stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    pub refusal: PassRefusal,
    pub pass: Box<StoredPass>,
}

/// A pass to import: a third party's code and what it gives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedPass {
    pub code: PassCode,
    pub reference: Option<String>,
    pub user_first_name: Option<String>,
}

fn check_title(title: &str, subtitle: &str) -> Result<(), ServerError> {
    if title.trim().is_empty() || title.chars().count() > 80 {
        return Err(ServerError::invalid("title", "must be 1 to 80 characters"));
    }
    if subtitle.chars().count() > 120 {
        return Err(ServerError::invalid(
            "subtitle",
            "must be at most 120 characters",
        ));
    }
    Ok(())
}

/// The ledger's rules for a batch's limit and window, as the API's error.
fn check_limit_and_window(
    max: Option<u32>,
    from: Option<i64>,
    until: Option<i64>,
) -> Result<u32, ServerError> {
    let input = |e: tapster_ledger::error::InputError| ServerError::invalid(e.field, e.reason);
    tapster_ledger::passes::check_window(from.map(Timestamp), until.map(Timestamp))
        .map_err(input)?;
    tapster_ledger::passes::redemption_limit(max).map_err(input)
}

pub(crate) fn load(
    conn: &Connection,
    event: &str,
    code: &str,
    now: Timestamp,
) -> Result<Option<StoredPass>, ServerError> {
    let row = conn
        .prepare_cached(
            "SELECT code, benefit, batch, title, subtitle, valid_from, valid_until, max_redemptions,
                    blocked, reference, external, user_identifier, user_first_name
             FROM passes WHERE event_id = ?1 AND code = ?2",
        )?
        .query_row(params![event, code], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<i64>>(5)?,
                r.get::<_, Option<i64>>(6)?,
                r.get::<_, i64>(7)?,
                r.get::<_, bool>(8)?,
                r.get::<_, Option<String>>(9)?,
                r.get::<_, bool>(10)?,
                r.get::<_, Option<String>>(11)?,
                r.get::<_, Option<String>>(12)?,
            ))
        })
        .optional()?;
    let Some((
        code,
        benefit,
        batch,
        title,
        subtitle,
        from,
        until,
        max,
        blocked,
        reference,
        external,
        user_id,
        user_name,
    )) = row
    else {
        return Ok(None);
    };
    let bad = |what: &str| ServerError::Internal(format!("a stored pass has a bad {what}"));
    let benefit: Benefit = serde_json::from_str(&benefit).map_err(|_| bad("benefit"))?;
    let pass = Pass {
        code: PassCode::parse(&code).map_err(|_| bad("code"))?,
        benefit,
        title,
        subtitle,
        valid_from: from.map(Timestamp),
        valid_until: until.map(Timestamp),
        max_redemptions: u32::try_from(max).map_err(|_| bad("limit"))?,
        blocked,
        reference,
        external,
    };
    let count = |since: i64| -> Result<u32, ServerError> {
        let n: i64 = conn
            .prepare_cached(
                "SELECT COUNT(*) FROM pass_redemptions WHERE event_id = ?1 AND code = ?2 AND at >= ?3",
            )?
            .query_row(params![event, code, since], |r| r.get(0))?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    };
    let counted = count(pass.counted_since(now).0)?;
    let redeemed_total = count(i64::MIN)?;
    Ok(Some(StoredPass {
        pass,
        batch,
        user_identifier: user_id,
        user_first_name: user_name,
        counted,
        redeemed_total,
    }))
}

/// Moves a changed pass to the event's next pass-feed version, so tills
/// hear of it.
pub(crate) fn bump(tx: &Connection, event: &str, code: &str) -> Result<(), ServerError> {
    tx.prepare_cached(
        "UPDATE passes SET version = (SELECT COALESCE(MAX(version), 0) + 1 FROM passes WHERE event_id = ?1)
         WHERE event_id = ?1 AND code = ?2",
    )?
    .execute(params![event, code])?;
    Ok(())
}

/// Counts one redemption of `code` at `terminal` (at the bar or booth it
/// stands at now), with the device's key and, for a voucher, the
/// transaction that credited it.
pub(crate) fn record_redemption(
    tx: &Connection,
    event: &str,
    code: &str,
    terminal: &str,
    key: Option<&str>,
    transaction_id: Option<&str>,
    now: Timestamp,
) -> Result<(), ServerError> {
    let location: Option<String> = tx
        .query_row(
            "SELECT location_id FROM terminals WHERE event_id = ?1 AND id = ?2",
            params![event, terminal],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    tx.execute(
        "INSERT INTO pass_redemptions (event_id, code, terminal_id, location_id, at, idempotency_key, transaction_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![event, code, terminal, location, now.0, key, transaction_id],
    )?;
    bump(tx, event, code)
}

fn insert(
    conn: &Connection,
    event: &str,
    pass: &Pass,
    batch: &str,
    user_first_name: Option<&str>,
    now: i64,
) -> Result<(), ServerError> {
    let benefit =
        serde_json::to_string(&pass.benefit).map_err(|e| ServerError::Internal(e.to_string()))?;
    let inserted = conn.execute(
        "INSERT INTO passes (event_id, code, pass_type, benefit, batch, title, subtitle, valid_from, valid_until,
                             max_redemptions, reference, external, user_first_name, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
         ON CONFLICT (event_id, code) DO NOTHING",
        params![
            event,
            pass.code.as_str(),
            pass.benefit.pass_type().as_str(),
            benefit,
            batch,
            pass.title,
            pass.subtitle,
            pass.valid_from.map(|t| t.0),
            pass.valid_until.map(|t| t.0),
            i64::from(pass.max_redemptions),
            pass.reference,
            pass.external,
            user_first_name,
            now
        ],
    )?;
    if inserted == 0 {
        return Err(ServerError::Conflict(format!(
            "the code {} exists already; nothing was imported",
            pass.code
        )));
    }
    bump(conn, event, pass.code.as_str())
}

impl ServerStore {
    /// A batch of `count` new passes with random codes, all or none.
    pub fn create_passes(
        &self,
        event: &str,
        batch: NewPassBatch,
    ) -> Result<PassBatch, ServerError> {
        if batch.count == 0 || batch.count > MAX_BATCH {
            return Err(ServerError::invalid(
                "count",
                format!("must be 1 to {MAX_BATCH}"),
            ));
        }
        check_title(&batch.title, &batch.subtitle)?;
        let max =
            check_limit_and_window(batch.max_redemptions, batch.valid_from, batch.valid_until)?;
        batch
            .benefit
            .validate()
            .map_err(|e| ServerError::invalid(e.field, e.reason))?;
        let key = batch
            .idempotency_key
            .clone()
            .map(IdempotencyKey::new)
            .transpose()
            .map_err(|e| ServerError::invalid("idempotency_key", e.reason))?;
        let hash = crate::store::request_hash(&(
            batch.count,
            &batch.title,
            &batch.subtitle,
            &batch.benefit,
            batch.valid_from,
            batch.valid_until,
            batch.max_redemptions,
        ))?;
        let (event, now) = (event.to_string(), self.clock.now().0);
        let id = format!("batch-{}", uuid::Uuid::now_v7());
        let made = self.write(move |tx| {
            Self::ensure_event(tx, &event)?;
            if let Some(key) = &key {
                let earlier: Option<(String, String)> = tx
                    .query_row(
                        "SELECT request_hash, batch FROM pass_batch_keys
                         WHERE event_id = ?1 AND idempotency_key = ?2",
                        params![event, key.as_str()],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?;
                if let Some((earlier_hash, batch)) = earlier {
                    if earlier_hash != hash {
                        return Err(ServerError::IdempotencyConflict(key.to_string()));
                    }
                    let codes = tx
                        .prepare(&format!(
                            "SELECT code FROM passes WHERE event_id = ?1 AND batch = ?2 ORDER BY {}",
                            made_order(tx)
                        ))?
                        .query_map(params![event, batch], |r| r.get(0))?
                        .collect::<crate::db::Result<_>>()?;
                    return Ok(PassBatch { batch, codes });
                }
                tx.execute(
                    "INSERT INTO pass_batch_keys (event_id, idempotency_key, request_hash, batch)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![event, key.as_str(), hash, id],
                )?;
            }
            let mut codes = Vec::with_capacity(batch.count as usize);
            for _ in 0..batch.count {
                let pass = Pass {
                    code: PassCode::generate(),
                    benefit: batch.benefit.clone(),
                    title: batch.title.trim().to_string(),
                    subtitle: batch.subtitle.trim().to_string(),
                    valid_from: batch.valid_from.map(Timestamp),
                    valid_until: batch.valid_until.map(Timestamp),
                    max_redemptions: max,
                    blocked: false,
                    reference: None,
                    external: false,
                };
                insert(tx, &event, &pass, &id, None, now)?;
                codes.push(pass.code.to_string());
            }
            // What the batch gives, never its codes.
            let audit = Audit::new(AuditAction::PassesCreated, json!({
                "count": codes.len(),
                "title": batch.title.trim(),
                "benefit": batch.benefit,
                "max_redemptions": max,
            }));
            audit::record(tx, &event, now, audit.subject(id.as_str()))?;
            Ok(PassBatch { batch: id, codes })
        })?;
        tracing::info!(batch = %made.batch, count = made.codes.len(), "passes made");
        Ok(made)
    }

    /// Third parties' codes (a ticket shop's), all giving what `template`
    /// gives; all or none (a code that exists already refuses the import).
    pub fn import_passes(
        &self,
        event: &str,
        template: NewPassBatch,
        codes: Vec<ImportedPass>,
    ) -> Result<PassBatch, ServerError> {
        if codes.is_empty() || codes.len() > MAX_BATCH as usize {
            return Err(ServerError::invalid(
                "codes",
                format!("must be 1 to {MAX_BATCH}"),
            ));
        }
        check_title(&template.title, &template.subtitle)?;
        let max = check_limit_and_window(
            template.max_redemptions,
            template.valid_from,
            template.valid_until,
        )?;
        template
            .benefit
            .validate()
            .map_err(|e| ServerError::invalid(e.field, e.reason))?;
        let (event, now) = (event.to_string(), self.clock.now().0);
        let id = format!("import-{}", uuid::Uuid::now_v7());
        self.write(move |tx| {
            Self::ensure_event(tx, &event)?;
            let mut out = Vec::with_capacity(codes.len());
            for imported in codes {
                let pass = Pass {
                    code: imported.code,
                    benefit: template.benefit.clone(),
                    title: template.title.trim().to_string(),
                    subtitle: template.subtitle.trim().to_string(),
                    valid_from: template.valid_from.map(Timestamp),
                    valid_until: template.valid_until.map(Timestamp),
                    max_redemptions: max,
                    blocked: false,
                    reference: imported.reference,
                    external: true,
                };
                insert(
                    tx,
                    &event,
                    &pass,
                    &id,
                    imported.user_first_name.as_deref(),
                    now,
                )?;
                out.push(pass.code.to_string());
            }
            let audit = Audit::new(
                AuditAction::PassesImported,
                json!({
                    "count": out.len(),
                    "title": template.title.trim(),
                    "benefit": template.benefit,
                    "max_redemptions": max,
                }),
            );
            audit::record(tx, &event, now, audit.subject(id.as_str()))?;
            Ok(PassBatch {
                batch: id,
                codes: out,
            })
        })
    }

    /// A pass as it stands now.
    pub fn pass(&self, event: &str, code: &str) -> Result<StoredPass, ServerError> {
        let conn = self.reader()?;
        Self::ensure_event(&conn, event)?;
        load(&conn, event, code, self.clock.now())?
            .ok_or_else(|| ServerError::NotFound("this pass".into()))
    }

    /// Redeems a pass at `terminal`: the ledger's rule decides, inside the
    /// writer, so two scans of a single-use code cannot both win.
    /// With `key`, a retry of the same scan gets the first answer again
    /// (the key used for another code is refused).
    pub fn redeem_pass(
        &self,
        event: &str,
        code: &str,
        terminal: &str,
        key: Option<&IdempotencyKey>,
    ) -> Result<Result<StoredPass, Refused>, ServerError> {
        let (event, code, terminal, now) = (
            event.to_string(),
            code.to_string(),
            terminal.to_string(),
            self.clock.now(),
        );
        let key = key.map(|k| k.as_str().to_string());
        let outcome = self.write(move |tx| {
            Self::ensure_event(tx, &event)?;
            let stored = load(tx, &event, &code, now)?
                .ok_or_else(|| ServerError::NotFound("this pass".into()))?;
            if let Some(key) = &key {
                let earlier: Option<String> = tx
                    .query_row(
                        "SELECT code FROM pass_redemptions
                         WHERE event_id = ?1 AND terminal_id = ?2 AND idempotency_key = ?3",
                        params![event, terminal, key],
                        |r| r.get(0),
                    )
                    .optional()?;
                match earlier {
                    Some(earlier) if earlier == code => return Ok(Ok(stored)),
                    Some(_) => return Err(ServerError::IdempotencyConflict(key.clone())),
                    None => {}
                }
            }
            if let Err(refusal) = stored.pass.check_redeemable(now, stored.counted) {
                return Ok(Err(Refused {
                    refusal,
                    pass: Box::new(stored),
                }));
            }
            record_redemption(tx, &event, &code, &terminal, key.as_deref(), None, now)?;
            Ok(Ok(load(tx, &event, &code, now)?.expect("just redeemed")))
        })?;
        match &outcome {
            Ok(stored) => tracing::info!(pass = %stored.pass.code.masked(), "pass redeemed"),
            Err(refused) => {
                tracing::info!(pass = %refused.pass.pass.code.masked(), refusal = %refused.refusal, "pass refused")
            }
        }
        Ok(outcome)
    }

    /// Blocks (or unblocks) a pass: a lost or misused code.
    pub fn set_pass_blocked(
        &self,
        event: &str,
        code: &str,
        blocked: bool,
    ) -> Result<StoredPass, ServerError> {
        let (e, c, now) = (event.to_string(), code.to_string(), self.clock.now().0);
        self.write(move |tx| {
            let changed = tx.execute(
                "UPDATE passes SET blocked = ?3 WHERE event_id = ?1 AND code = ?2",
                params![e, c, blocked],
            )?;
            if changed == 0 {
                return Err(ServerError::NotFound("this pass".into()));
            }
            let action = if blocked {
                AuditAction::PassBlocked
            } else {
                AuditAction::PassUnblocked
            };
            audit::record(
                tx,
                &e,
                now,
                Audit::new(action, json!({})).subject(c.as_str()),
            )?;
            bump(tx, &e, &c)
        })?;
        self.pass(event, code)
    }

    /// Every pass (of `batch`, if given), in the order they were made.
    pub fn passes(&self, event: &str, batch: Option<&str>) -> Result<Vec<StoredPass>, ServerError> {
        let conn = self.reader()?;
        Self::ensure_event(&conn, event)?;
        let codes: Vec<String> = conn
            .prepare_cached(&format!(
                "SELECT code FROM passes WHERE event_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR batch = ?2)
                 ORDER BY created_at, {}",
                made_order(&conn)
            ))?
            .query_map(params![event, batch], |r| r.get(0))?
            .collect::<crate::db::Result<_>>()?;
        let now = self.clock.now();
        codes
            .iter()
            .map(|code| {
                load(&conn, event, code, now)?
                    .ok_or_else(|| ServerError::Internal("a pass vanished".into()))
            })
            .collect()
    }

    /// The passes as CSV (for a mail merge or a ticket shop): one row each.
    pub fn passes_csv(&self, event: &str, batch: Option<&str>) -> Result<String, ServerError> {
        let mut out = csv::Writer::from_writer(Vec::new());
        let csv_err = |e: csv::Error| ServerError::Internal(e.to_string());
        out.write_record([
            "code",
            "pass_type",
            "title",
            "subtitle",
            "valid_from",
            "valid_until",
            "max_redemptions",
            "redeemed",
            "blocked",
            "reference",
            "batch",
        ])
        .map_err(csv_err)?;
        for stored in self.passes(event, batch)? {
            let pass = &stored.pass;
            let time = |t: Option<Timestamp>| t.map(|t| t.0.to_string()).unwrap_or_default();
            out.write_record([
                pass.code.as_str(),
                pass.benefit.pass_type().as_str(),
                &pass.title,
                &pass.subtitle,
                &time(pass.valid_from),
                &time(pass.valid_until),
                &pass.max_redemptions.to_string(),
                &stored.redeemed_total.to_string(),
                if pass.blocked { "1" } else { "0" },
                pass.reference.as_deref().unwrap_or(""),
                &stored.batch,
            ])
            .map_err(csv_err)?;
        }
        let bytes = out
            .into_inner()
            .map_err(|e| ServerError::Internal(e.to_string()))?;
        String::from_utf8(bytes).map_err(|e| ServerError::Internal(e.to_string()))
    }

    /// The discount and allowance passes changed after pass-feed version
    /// `since`, in version order, by code digest: what an offline till
    /// needs to take them off a cart (vouchers need the server anyway).
    pub fn pass_feed(&self, event: &str, since: i64, limit: u32) -> Result<PassFeed, ServerError> {
        let limit = limit.clamp(1, 1000) as usize;
        let reader = self.reader()?;
        // One snapshot for the page.
        let conn = reader.unchecked_transaction()?;
        Self::ensure_event(&conn, event)?;
        let rows: Vec<(String, i64)> = conn
            .prepare_cached(
                "SELECT code, version FROM passes
                 WHERE event_id = ?1 AND version > ?2 AND pass_type <> 'voucher'
                 ORDER BY version LIMIT ?3",
            )?
            .query_map(params![event, since, limit as i64 + 1], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<crate::db::Result<_>>()?;
        let more = rows.len() > limit;
        let now = self.clock.now();
        let passes = rows
            .iter()
            .take(limit)
            .map(|(code, version)| {
                let stored = load(&conn, event, code, now)?
                    .ok_or_else(|| ServerError::Internal("a pass vanished".into()))?;
                let pass = stored.pass;
                Ok(KnownPass {
                    code_digest: pass.code.digest(),
                    benefit: pass.benefit,
                    title: pass.title,
                    subtitle: pass.subtitle,
                    valid_from: pass.valid_from,
                    valid_until: pass.valid_until,
                    max_redemptions: pass.max_redemptions,
                    blocked: pass.blocked,
                    external: pass.external,
                    used: stored.counted,
                    version: *version,
                })
            })
            .collect::<Result<Vec<_>, ServerError>>()?;
        Ok(PassFeed {
            next_version: passes.last().map_or(since, |p| p.version),
            passes,
            more,
        })
    }

    /// Redemptions by pass type, location and device.
    pub fn redemption_report(&self, event: &str) -> Result<Vec<RedemptionRow>, ServerError> {
        let conn = self.reader()?;
        Self::ensure_event(&conn, event)?;
        let mut stmt = conn.prepare_cached(
            "SELECT p.pass_type, l.address, r.terminal_id, COUNT(*)
             FROM pass_redemptions r
             JOIN passes p ON p.event_id = r.event_id AND p.code = r.code
             LEFT JOIN locations l ON l.event_id = r.event_id AND l.identifier = r.location_id
             WHERE r.event_id = ?1
             GROUP BY p.pass_type, l.address, r.terminal_id
             ORDER BY p.pass_type, l.address, r.terminal_id",
        )?;
        let rows = stmt.query_map([event], |r| {
            Ok(RedemptionRow {
                pass_type: r.get(0)?,
                location: r.get(1)?,
                terminal_id: r.get(2)?,
                redemptions: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<crate::db::Result<_>>()?)
    }
}

/// The passes (of `batch`) as A4 sheets of cards to cut out.
pub fn sheet(
    store: &ServerStore,
    event: &str,
    batch: Option<&str>,
    language: tapster_print::Language,
) -> Result<Vec<u8>, ServerError> {
    let settings = store.settings(event)?;
    let passes = store.passes(event, batch)?;
    if passes.is_empty() {
        return Err(ServerError::invalid("batch", "has no passes"));
    }
    // One request, one bounded piece of work: a sheet holds a batch's
    // worth at most (each card's QR code takes milliseconds to make).
    if passes.len() > MAX_SHEET {
        return Err(ServerError::invalid(
            "batch",
            format!(
                "{} passes are more than one sheet holds (at most {MAX_SHEET}); print them batch by batch (?batch=)",
                passes.len()
            ),
        ));
    }
    // The event's time zone, as on every time shown to people.
    let zone = settings.zone();
    let cards: Vec<tapster_print::PassPrint> = passes
        .iter()
        .map(|stored| {
            let pass = &stored.pass;
            let gives =
                tapster_print::describe_benefit(&pass.benefit, language, &settings.currency);
            let window =
                tapster_print::describe_window(pass.valid_from, pass.valid_until, language, &zone);
            tapster_print::PassPrint {
                code: pass.code.to_string(),
                title: pass.title.clone(),
                subtitle: if pass.subtitle.is_empty() {
                    gives.clone()
                } else {
                    pass.subtitle.clone()
                },
                note: match (pass.subtitle.is_empty(), window.is_empty()) {
                    (true, _) => window,
                    (false, true) => gives,
                    (false, false) => format!("{gives} · {window}"),
                },
            }
        })
        .collect();
    tapster_print::pass_sheet_pdf(&settings.name, &cards, language)
        .map_err(|e| ServerError::invalid("passes", e.to_string()))
}

/// Reads an import: a CSV with a `code` column and optional `reference`
/// and `first_name` columns (a header row is required).
pub fn parse_import(text: &str) -> Result<Vec<ImportedPass>, ServerError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| ServerError::invalid("csv", e.to_string()))?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let code_at =
        column("code").ok_or_else(|| ServerError::invalid("csv", "needs a 'code' column"))?;
    let (reference_at, name_at) = (column("reference"), column("first_name"));
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (n, record) in reader.records().enumerate() {
        let record = record.map_err(|e| ServerError::invalid("csv", e.to_string()))?;
        let line = n + 2;
        let code = PassCode::parse(record.get(code_at).unwrap_or(""))
            .map_err(|e| ServerError::invalid("csv", format!("line {line}: {e}")))?;
        if !seen.insert(code.clone()) {
            return Err(ServerError::invalid(
                "csv",
                format!("line {line}: the code appears twice"),
            ));
        }
        let optional = |at: Option<usize>| {
            at.and_then(|i| record.get(i))
                .filter(|v| !v.is_empty())
                .map(|v| v.chars().take(120).collect::<String>())
        };
        out.push(ImportedPass {
            code,
            reference: optional(reference_at),
            user_first_name: optional(name_at),
        });
    }
    Ok(out)
}

/// The column that orders passes as they were made: SQLite's rowid, a
/// numbered column on PostgreSQL (which has no stable row order).
fn made_order(conn: &Connection) -> &'static str {
    match conn.engine() {
        crate::db::Engine::Sqlite => "rowid",
        crate::db::Engine::Postgres => "made",
    }
}
