//! The Payouts tab on a connected till: the organiser's settings for the
//! payouts guests ask for on their pages, the runs that pay them by SEPA
//! transfer, what nobody claimed, and the guest pages' wrong-code alarms.
//! Everything lives on the event's server; managers only (the server
//! checks the staff session's role again).

use std::path::Path;

use tapster_api::payouts::{NewPayoutRun, PayoutRun};
use tapster_ledger::payout_request::{DebtorAccount, PayoutSettings, Unclaimed};
use tapster_ledger::rules::Action;
use tapster_ledger::Cents;

use super::manage::invalid;
use super::remote::server_error;
use super::Terminal;
use crate::error::{AppError, ErrorCode};
use crate::view;

impl Terminal {
    /// The Payouts tab's view, from the server.
    pub async fn payouts_on_server(&self) -> Result<view::PayoutsView, AppError> {
        if !self.is_connected() {
            self.manager(Action::RunPayouts)?;
            return Err(AppError::new(
                ErrorCode::ServerOwned,
                "payouts are made on the event's server, where the guests ask for them; this till runs standalone",
            ));
        }
        let session = self.require_server_session(Action::RunPayouts)?;
        // Four reads at once: the tab answers in one round trip's time.
        let (settings, runs, unclaimed, security) = tokio::try_join!(
            session.payout_settings(),
            session.payout_runs(),
            session.unclaimed_balances(),
            session.guest_security(),
        )
        .map_err(server_error)?;
        Ok(view::PayoutsView {
            settings: settings_form(&settings),
            runs: runs.into_iter().map(run_line).collect(),
            unclaimed_bands: unclaimed.bands,
            unclaimed_cents: unclaimed.total_cents,
            unclaimed_requested: unclaimed.requested_bands,
            deadline_passed: unclaimed.deadline_passed,
            wrong_codes_this_hour: security.this_hour,
            wrong_code_budget: security.budget_per_hour,
            alarms: security
                .alarms
                .into_iter()
                .map(|a| format!("{} · {}", a.hour, a.failures))
                .collect(),
        })
    }

    pub async fn save_payout_settings_on_server(
        &self,
        form: &view::PayoutSettingsForm,
    ) -> Result<view::PayoutsView, AppError> {
        let settings = settings_of(form)?;
        let session = self.require_server_session(Action::RunPayouts)?;
        session
            .save_payout_settings(&settings)
            .await
            .map_err(server_error)?;
        tracing::info!("payout settings saved on the server");
        self.payouts_on_server().await
    }

    /// A new run. The server refuses with its warnings (unsent sales,
    /// requests still open) unless the form accepts them.
    pub async fn create_payout_run_on_server(
        &self,
        form: &view::NewPayoutRunForm,
    ) -> Result<view::PayoutsView, AppError> {
        let asked = NewPayoutRun {
            max_count: form
                .max_count
                .map(|n| u32::try_from(n).map_err(|_| invalid("at most how many bands: 1 or more")))
                .transpose()?,
            max_cents: form.max_cents.map(Cents),
            execution_date: form
                .execution_date
                .as_deref()
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .map(String::from),
            accept_warnings: form.accept_warnings,
        };
        let session = self.require_server_session(Action::RunPayouts)?;
        let run = session
            .create_payout_run(&asked)
            .await
            .map_err(server_error)?;
        tracing::info!(run = %run.id, bands = run.bands, "payout run made on the server");
        self.payouts_on_server().await
    }

    /// `done` (the bank has paid) or `revoke`.
    pub async fn end_payout_run_on_server(
        &self,
        run: &str,
        done: bool,
    ) -> Result<view::PayoutsView, AppError> {
        let session = self.require_server_session(Action::RunPayouts)?;
        let how = if done { "done" } else { "revoke" };
        session
            .end_payout_run(run, how)
            .await
            .map_err(server_error)?;
        tracing::info!(run, how, "payout run ended on the server");
        self.payouts_on_server().await
    }

    /// Books unclaimed paid money as the settings say, once requests have
    /// closed.
    pub async fn settle_unclaimed_on_server(&self) -> Result<view::PayoutsView, AppError> {
        let session = self.require_server_session(Action::RunPayouts)?;
        let settled = session.settle_unclaimed().await.map_err(server_error)?;
        tracing::info!(bands = settled.bands, rule = %settled.rule, "unclaimed money booked on the server");
        self.payouts_on_server().await
    }

    /// Makes codes for the guest pages of the wristbands listed in
    /// `tokens` (one per line) and saves them where the save dialog chose,
    /// as CSV: token id, code as printed, and the link for the band's QR
    /// code when `portal_url` (the pages' public address) is given. The
    /// codes are shown nowhere else and never logged; a band's earlier
    /// code stops working.
    pub async fn save_guest_codes(
        &self,
        tokens: &str,
        portal_url: &str,
        path: &Path,
    ) -> Result<view::Exported, AppError> {
        let session = self.require_server_session(Action::RunPayouts)?;
        let mut bands = Vec::new();
        for line in tokens.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let token = tapster_ledger::TokenId::parse(line)
                .map_err(|_| invalid(format!("not a wristband id: {line}")))?;
            bands.push(token.to_string());
        }
        if bands.is_empty() {
            return Err(invalid("list the wristbands, one id per line"));
        }
        let portal = portal_url.trim();
        if !portal.is_empty() && !portal.starts_with("https://") {
            return Err(invalid("the guest pages' address starts with https://"));
        }
        let event = self
            .syncer
            .as_ref()
            .and_then(|s| {
                s.client()
                    .base()
                    .split("/api/v1/events/")
                    .nth(1)
                    .map(str::to_string)
            })
            .ok_or_else(|| invalid("this till is not connected to an event's server"))?;
        let codes = session.guest_codes(bands).await.map_err(server_error)?;
        let style = match self.options.language {
            view::Language::De => tapster_print::csv::CsvStyle::Semicolon,
            view::Language::En => tapster_print::csv::CsvStyle::Comma,
        };
        let mut rows = vec![vec!["token_id".to_string(), "code".into(), "link".into()]];
        for issued in &codes {
            let link = if portal.is_empty() {
                String::new()
            } else {
                tapster_ledger::guest_code::portal_link(portal, &event, &issued.code)
            };
            rows.push(vec![issued.token_id.clone(), issued.code.clone(), link]);
        }
        let csv = tapster_print::csv::table(style, &rows);
        tracing::info!(
            bands = codes.len(),
            "guest codes made on the server and saved"
        );
        self.save_export(csv.as_bytes(), view::ExportFormat::Csv, path)
    }

    /// Saves a run's SEPA file (XML; the run becomes exported) or its
    /// bands (CSV) where the save dialog chose.
    pub async fn save_payout_run_file(
        &self,
        run: &str,
        format: view::ExportFormat,
        path: &Path,
    ) -> Result<view::Exported, AppError> {
        let session = self.require_server_session(Action::RunPayouts)?;
        let (file, style) = match (format, self.options.language) {
            (view::ExportFormat::Xml, _) => ("sepa.xml", None),
            (view::ExportFormat::Csv, view::Language::De) => ("bands.csv", Some("semicolon")),
            (view::ExportFormat::Csv, view::Language::En) => ("bands.csv", Some("comma")),
            (view::ExportFormat::Pdf | view::ExportFormat::Zip, _) => {
                return Err(invalid("a payout run is saved as a SEPA file (XML) or CSV"))
            }
        };
        let bytes = session
            .payout_run_file(run, file, style)
            .await
            .map_err(server_error)?;
        self.save_export(&bytes, format, path)
    }
}

fn settings_form(settings: &PayoutSettings) -> view::PayoutSettingsForm {
    let text = |t: &Option<String>| t.clone().unwrap_or_default();
    view::PayoutSettingsForm {
        debtor_name: settings
            .debtor
            .as_ref()
            .map(|d| d.name.clone())
            .unwrap_or_default(),
        debtor_iban: settings
            .debtor
            .as_ref()
            .map(|d| d.iban.clone())
            .unwrap_or_default(),
        donation_target: text(&settings.donation_target),
        remittance: text(&settings.remittance),
        page_text: text(&settings.page_text),
        fee_cents: settings.fee_cents.0,
        minimum_cents: settings.minimum_cents.0,
        closes_at_ms: settings.closes_at,
        countries: settings.countries.join(" "),
        unclaimed: match settings.unclaimed {
            Unclaimed::Retain => "retain",
            Unclaimed::Donate => "donate",
        }
        .to_string(),
    }
}

/// The form as the server's settings, checked by the ledger's rule first.
fn settings_of(form: &view::PayoutSettingsForm) -> Result<PayoutSettings, AppError> {
    let text = |t: &str| Some(t.trim().to_string()).filter(|t| !t.is_empty());
    let debtor = match (text(&form.debtor_name), text(&form.debtor_iban)) {
        (Some(name), Some(iban)) => Some(DebtorAccount { name, iban }),
        (None, None) => None,
        _ => {
            return Err(invalid(
                "name both the holder and the IBAN of the organiser's account",
            ))
        }
    };
    let countries: Vec<String> = form
        .countries
        .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .filter(|c| !c.is_empty())
        .map(str::to_ascii_uppercase)
        .collect();
    let settings = PayoutSettings {
        countries: if countries.is_empty() {
            PayoutSettings::default().countries
        } else {
            countries
        },
        donation_target: text(&form.donation_target),
        closes_at: form.closes_at_ms,
        minimum_cents: Cents(form.minimum_cents),
        fee_cents: Cents(form.fee_cents),
        debtor,
        remittance: text(&form.remittance),
        page_text: text(&form.page_text),
        unclaimed: match form.unclaimed.as_str() {
            "donate" => Unclaimed::Donate,
            "retain" => Unclaimed::Retain,
            _ => return Err(invalid("unclaimed money is retained or donated")),
        },
    };
    settings
        .validate()
        .map_err(|e| invalid(format!("{} {}", e.field, e.reason)))?;
    Ok(settings)
}

fn run_line(run: PayoutRun) -> view::PayoutRunLine {
    view::PayoutRunLine {
        state: run.state.as_str().to_string(),
        id: run.id,
        created_at: run.created_at,
        execution_date: run.execution_date,
        bands: run.bands,
        transfers: run.transfers,
        transfer_cents: run.transfer_cents,
        fee_cents: run.fee_cents,
        donation_cents: run.donation_cents,
        total_cents: run.total_cents,
        warnings: run.warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> view::PayoutSettingsForm {
        settings_form(&PayoutSettings::default())
    }

    #[test]
    fn the_form_round_trips_the_settings() {
        let mut edited = form();
        edited.debtor_name = " Festival GmbH ".into();
        edited.debtor_iban = "DE89 3704 0044 0532 0130 00".into();
        edited.countries = "de, at".into();
        edited.fee_cents = 150;
        let settings = settings_of(&edited).unwrap();
        assert_eq!(settings.countries, vec!["DE", "AT"]);
        assert_eq!(settings.debtor.as_ref().unwrap().name, "Festival GmbH");
        assert_eq!(settings.donation_target, None);
        let again = settings_form(&settings);
        assert_eq!(again.countries, "DE AT");
        assert_eq!(again.fee_cents, 150);
    }

    #[test]
    fn half_an_account_or_a_bad_iban_is_refused_before_the_server() {
        let mut edited = form();
        edited.debtor_name = "Festival".into();
        assert_eq!(
            settings_of(&edited).unwrap_err().code,
            ErrorCode::InvalidInput
        );
        edited.debtor_iban = "DE00 1234".into();
        assert!(settings_of(&edited)
            .unwrap_err()
            .message
            .contains("debtor.iban"));
        edited.debtor_iban = "DE89370400440532013000".into();
        edited.unclaimed = "burn".into();
        assert_eq!(
            settings_of(&edited).unwrap_err().code,
            ErrorCode::InvalidInput
        );
        edited.unclaimed = "donate".into();
        assert!(
            settings_of(&edited)
                .unwrap_err()
                .message
                .contains("unclaimed"),
            "donating needs a cause"
        );
        edited.unclaimed = "retain".into();
        edited.fee_cents = -1;
        assert!(settings_of(&edited).unwrap_err().message.contains("fee"));
    }
}
