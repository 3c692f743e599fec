//! The manager's passes screen: batches of QR passes (vouchers,
//! discounts, allowances) live on the event's server; a connected till's
//! manager makes them, prints their sheet and blocks a lost one through
//! the staff session. The rules are the ledger's (`passes`), the words
//! the print crate's.

use std::collections::BTreeMap;

use tapster_api::walletapp::{ImportPasses, ManagedPass, NewPassBatch};
use tapster_ledger::passes::{AllowancePeriod, Benefit, Discount};
use tapster_ledger::rules::Action;
use tapster_ledger::{Cents, ProductId};

use super::remote::server_error;
use super::Terminal;
use crate::error::{AppError, ErrorCode};
use crate::view;

fn invalid(message: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::InvalidInput, message)
}

fn language(language: view::Language) -> tapster_print::Language {
    match language {
        view::Language::De => tapster_print::Language::De,
        view::Language::En => tapster_print::Language::En,
    }
}

/// The form's choice as the ledger's benefit.
pub(super) fn benefit_of(form: &view::PassBatchForm) -> Result<Benefit, AppError> {
    let product =
        |id: &str| ProductId::new(id.trim()).map_err(|e| invalid(format!("product: {}", e.reason)));
    let benefit = match form.kind {
        view::PassKind::Voucher => Benefit::Voucher {
            value: Cents(form.amount_cents),
        },
        view::PassKind::AmountOff => Benefit::Discount {
            discount: Discount::Amount {
                amount: Cents(form.amount_cents),
            },
        },
        view::PassKind::PercentOff => Benefit::Discount {
            discount: Discount::Percent {
                percent: u8::try_from(form.percent)
                    .map_err(|_| invalid("percent must be 1 to 100"))?,
            },
        },
        view::PassKind::FreeProduct => Benefit::Discount {
            discount: Discount::FreeProduct {
                product: product(form.products.first().map_or("", String::as_str))?,
            },
        },
        view::PassKind::Allowance => Benefit::Allowance {
            count: u32::try_from(form.allowance_count)
                .map_err(|_| invalid("count must be 1 to 100"))?,
            per: match form.allowance_per {
                view::AllowancePer::Day => AllowancePeriod::Day,
                view::AllowancePer::Event => AllowancePeriod::Event,
            },
            products: form
                .products
                .iter()
                .map(|p| product(p))
                .collect::<Result<_, _>>()?,
        },
    };
    benefit
        .validate()
        .map_err(|e| invalid(format!("{} {}", e.field, e.reason)))?;
    Ok(benefit)
}

/// The event's passes by batch, newest batch first.
fn batches(
    passes: Vec<ManagedPass>,
    language: tapster_print::Language,
    currency: &str,
) -> Vec<view::PassBatchLine> {
    let mut by_batch: BTreeMap<String, view::PassBatchLine> = BTreeMap::new();
    for pass in passes {
        let line = by_batch
            .entry(pass.batch.clone())
            .or_insert_with(|| view::PassBatchLine {
                batch: pass.batch.clone(),
                title: pass.info.pass_title.clone(),
                subtitle: pass.info.pass_subtitle.clone(),
                pass_type: pass.info.pass_type.clone(),
                gives: tapster_print::describe_benefit(&pass.info.benefit, language, currency),
                count: 0,
                redeemed: 0,
                blocked: Vec::new(),
                valid_from_ms: pass.info.valid_from,
                valid_until_ms: pass.info.valid_until,
            });
        line.count += 1;
        line.redeemed += i64::from(pass.redeemed);
        if pass.info.blocked {
            line.blocked.push(pass.info.pass_identifier.clone());
        }
    }
    // Batch ids carry a time-ordered uuid: newest first.
    by_batch.into_values().rev().collect()
}

impl Terminal {
    /// What a scanned (or typed) pass code is, asked of the server with
    /// this till's token: passes are redeemed once for the whole event.
    /// Without the server, a discount or allowance pass is known from the
    /// pass feed this till took in (vouchers need the server).
    pub async fn scan_pass(&self, code: &str) -> Result<view::ScannedPass, AppError> {
        self.staff()?;
        let code = tapster_ledger::passes::PassCode::parse(code)
            .map_err(|e| invalid(format!("{} {}", e.field, e.reason)))?;
        let syncer = self.passes_syncer()?;
        let now = self.clock.now();
        // How often it counts as used: by the server, or by what this
        // till knows from the pass feed and its own uses.
        let (pass, used) = match syncer.client().pass_info(code.as_str()).await {
            Ok(info) => {
                let pass = info
                    .pass()
                    .map_err(|e| invalid(format!("{} {}", e.field, e.reason)))?;
                let used = pass.limit().saturating_sub(info.redemptions_left);
                (pass, used)
            }
            Err(error) if error.is_transient() => {
                self.ledger.known_pass(&code, now)?.ok_or_else(|| {
                    AppError::new(
                        ErrorCode::ServerUnreachable,
                        "the server cannot be reached and this till does not know this pass; vouchers need the server",
                    )
                })?
            }
            Err(error) => return Err(server_error(error)),
        };
        pass.check_redeemable(now, used)
            .map_err(|refusal| AppError::new(ErrorCode::PassRefused, refusal.to_string()))?;
        let left = pass.limit().saturating_sub(used);
        let gives = {
            let reader = self.reader();
            let currency = reader.settings()?.currency;
            tapster_print::describe_benefit_named(
                &pass.benefit,
                language(self.options.language),
                &currency,
                |id| {
                    reader
                        .product(id)
                        .ok()
                        .flatten()
                        .map_or_else(|| id.to_string(), |product| product.name)
                },
            )
        };
        // Kept for the cart (offline, this till then lets it go at most as
        // often as the pass allows).
        let applicable = !matches!(pass.benefit, Benefit::Voucher { .. });
        if applicable {
            super::lock(&self.scanned_passes).insert(code.to_string(), pass.clone());
        }
        Ok(view::ScannedPass {
            applicable,
            code: code.to_string(),
            code_masked: code.masked(),
            creditable: matches!(pass.benefit, Benefit::Voucher { .. }),
            gives,
            title: pass.title,
            subtitle: pass.subtitle,
            pass_type: pass.benefit.pass_type().as_str().into(),
            redemptions_left: i64::from(left),
        })
    }

    /// Redeems a voucher onto the wristband on the reader as promo credit.
    /// The server decides (once for the whole event); its wallet becomes
    /// the one this till knows. A retry reuses `idempotency_key`.
    pub async fn redeem_voucher(
        &self,
        code: &str,
        token_id: &str,
        idempotency_key: &str,
    ) -> Result<view::VoucherCredited, AppError> {
        let staff = self.staff()?;
        let code = tapster_ledger::passes::PassCode::parse(code)
            .map_err(|e| invalid(format!("{} {}", e.field, e.reason)))?;
        let token = super::token(token_id)?;
        let key = super::key(idempotency_key)?;
        let syncer = self.passes_syncer()?;
        self.take_band_tap(&token)?;
        let answer = syncer
            .client()
            .redeem_voucher(&token, code.as_str(), &key)
            .await
            .map_err(server_error)?;
        let snapshot = tapster_sync::passes::snapshot_of(&answer).map_err(server_error)?;
        self.ledger
            .apply_wallet_snapshot(&snapshot, self.clock.now())?;
        let wallet = self.reader().wallet(&token)?;
        tracing::info!(staff = %staff.id, pass = %code.masked(), wristband = %token.masked(),
            credited = answer.credited, "voucher credited");
        Ok(view::VoucherCredited {
            title: answer.pass.pass_title,
            token_masked: token.masked(),
            credited_cents: answer.credited,
            balance_cents: wallet
                .as_ref()
                .map_or(answer.wallet.balance, |w| w.available.0),
            promo_cents: wallet
                .as_ref()
                .map_or(answer.wallet.promo_balance, |w| w.promo.0),
        })
    }

    fn passes_syncer(&self) -> Result<std::sync::Arc<tapster_sync::Syncer>, AppError> {
        self.syncer.clone().ok_or_else(|| {
            AppError::new(
                ErrorCode::ServerOwned,
                "passes are redeemed by the event's server; this till runs standalone",
            )
        })
    }

    /// The event's passes, by batch (connected tills only: passes live on
    /// the server, where every device redeems them).
    pub async fn passes_on_server(&self) -> Result<view::PassesView, AppError> {
        if !self.is_connected() {
            self.manager(Action::ChangeSettings)?;
            return Err(AppError::new(
                ErrorCode::ServerOwned,
                "passes live on the event's server, where every till redeems them; this till runs standalone",
            ));
        }
        // The codes are as good as cash: managers only.
        let session = self.require_server_session(Action::ChangeSettings)?;
        let passes = session.passes(None).await.map_err(server_error)?;
        let currency = self.reader().settings()?.currency;
        Ok(view::PassesView {
            batches: batches(passes, language(self.options.language), &currency),
        })
    }

    /// Makes a batch of passes on the server.
    pub async fn create_passes_on_server(
        &self,
        form: &view::PassBatchForm,
        idempotency_key: &str,
    ) -> Result<view::PassesView, AppError> {
        let session = self.require_server_session(Action::ChangeSettings)?;
        let batch = NewPassBatch {
            count: u32::try_from(form.count).map_err(|_| invalid("count must be 1 to 10,000"))?,
            title: form.title.clone(),
            subtitle: form.subtitle.clone(),
            benefit: benefit_of(form)?,
            valid_from: form.valid_from_ms,
            valid_until: form.valid_until_ms,
            max_redemptions: Some(
                u32::try_from(form.max_redemptions)
                    .map_err(|_| invalid("max redemptions must be 1 to 1000"))?,
            ),
            // A double tap or a retry after a lost answer makes one batch.
            idempotency_key: Some(super::key(idempotency_key)?.to_string()),
        };
        let made = session.create_passes(&batch).await.map_err(server_error)?;
        tracing::info!(batch = %made.batch, count = made.codes.len(), "passes made on the server");
        self.passes_on_server().await
    }

    /// Imports a ticket shop's codes (a CSV with a `code` column, optional
    /// `reference` and `first_name`), each giving what `form` says (its
    /// count is the file's); all or none.
    pub async fn import_passes_on_server(
        &self,
        form: &view::PassBatchForm,
        csv: &str,
    ) -> Result<view::PassesView, AppError> {
        let session = self.require_server_session(Action::ChangeSettings)?;
        if csv.len() > 2_000_000 {
            return Err(invalid("the file is larger than 2 MB"));
        }
        let import = ImportPasses {
            title: form.title.clone(),
            subtitle: form.subtitle.clone(),
            benefit: benefit_of(form)?,
            valid_from: form.valid_from_ms,
            valid_until: form.valid_until_ms,
            max_redemptions: Some(
                u32::try_from(form.max_redemptions)
                    .map_err(|_| invalid("max redemptions must be 1 to 1000"))?,
            ),
            csv: csv.to_string(),
        };
        let made = session.import_passes(&import).await.map_err(server_error)?;
        tracing::info!(batch = %made.batch, count = made.codes.len(), "passes imported on the server");
        self.passes_on_server().await
    }

    /// Blocks (or unblocks) one pass by its code (typed or scanned).
    pub async fn set_pass_blocked_on_server(
        &self,
        code: &str,
        blocked: bool,
    ) -> Result<view::PassesView, AppError> {
        let session = self.require_server_session(Action::ChangeSettings)?;
        let code = tapster_ledger::passes::PassCode::parse(code)
            .map_err(|e| invalid(format!("{} {}", e.field, e.reason)))?;
        session
            .set_pass_blocked(code.as_str(), blocked)
            .await
            .map_err(server_error)?;
        tracing::info!(pass = %code.masked(), blocked, "pass block changed on the server");
        self.passes_on_server().await
    }

    /// Saves a batch's sheet of pass cards (PDF) where the save dialog
    /// chose.
    pub async fn save_pass_sheet(
        &self,
        batch: &str,
        path: &std::path::Path,
    ) -> Result<view::Exported, AppError> {
        let session = self.require_server_session(Action::ChangeSettings)?;
        let language = match self.options.language {
            view::Language::De => "de",
            view::Language::En => "en",
        };
        let pdf = session
            .pass_sheet(batch, language)
            .await
            .map_err(server_error)?;
        self.save_export(&pdf, view::ExportFormat::Pdf, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(kind: view::PassKind) -> view::PassBatchForm {
        view::PassBatchForm {
            count: 10,
            title: "Freigetränk".into(),
            subtitle: String::new(),
            kind,
            amount_cents: 500,
            percent: 10,
            allowance_count: 3,
            allowance_per: view::AllowancePer::Day,
            products: vec!["beer".into()],
            valid_from_ms: None,
            valid_until_ms: None,
            max_redemptions: 1,
        }
    }

    #[test]
    fn the_form_becomes_the_ledgers_benefit() {
        assert_eq!(
            benefit_of(&form(view::PassKind::Voucher)).unwrap(),
            Benefit::Voucher { value: Cents(500) }
        );
        assert!(matches!(
            benefit_of(&form(view::PassKind::Allowance)).unwrap(),
            Benefit::Allowance { count: 3, .. }
        ));
        let mut bad = form(view::PassKind::PercentOff);
        bad.percent = 300;
        assert_eq!(benefit_of(&bad).unwrap_err().code, ErrorCode::InvalidInput);
        let mut none = form(view::PassKind::Allowance);
        none.products.clear();
        assert!(benefit_of(&none).is_err());
        let mut zero = form(view::PassKind::Voucher);
        zero.amount_cents = 0;
        assert!(benefit_of(&zero).is_err());
    }
}
