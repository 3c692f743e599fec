//! The Fiscal tab on a connected till (Germany's TSE): the device the
//! event's server signs receipts with, its health and the outages per
//! till, the business's details, and the tax auditors' DSFinV-K export.
//! Everything lives on the server; managers only (the server checks the
//! staff session's role again).

use std::path::Path;

use tapster_api::fiscal::{Business, FiscalScheme, FiscalSetup, FiscalStatus, FiskalyAccess};
use tapster_ledger::rules::Action;

use super::manage::invalid;
use super::remote::server_error;
use super::Terminal;
use crate::error::{AppError, ErrorCode};
use crate::view;

impl Terminal {
    pub async fn fiscal_on_server(&self) -> Result<view::FiscalView, AppError> {
        let session = self.fiscal_session()?;
        let status = session.fiscal_status().await.map_err(server_error)?;
        Ok(fiscal_view(status))
    }

    pub async fn save_fiscal_on_server(
        &self,
        form: &view::FiscalForm,
    ) -> Result<view::FiscalView, AppError> {
        let setup = setup_of(form)?;
        let session = self.fiscal_session()?;
        let status = session.save_fiscal(&setup).await.map_err(server_error)?;
        tracing::info!(scheme = %form.scheme, "fiscal device set up on the server");
        Ok(fiscal_view(status))
    }

    /// Saves the DSFinV-K export of business days `from` to `to` (dates,
    /// both included; empty: all) where the save dialog chose.
    pub async fn save_dsfinvk(
        &self,
        from: &str,
        to: &str,
        path: &Path,
    ) -> Result<view::Exported, AppError> {
        let day = |value: &str| -> Result<Option<String>, AppError> {
            let value = value.trim();
            if value.is_empty() {
                return Ok(None);
            }
            value
                .parse::<jiff::civil::Date>()
                .map(|d| Some(d.to_string()))
                .map_err(|_| invalid(format!("not a date: {value}")))
        };
        let (from, to) = (day(from)?, day(to)?);
        if let (Some(from), Some(to)) = (&from, &to) {
            if from > to {
                return Err(invalid("the first day comes after the last"));
            }
        }
        let session = self.fiscal_session()?;
        let zip = session
            .dsfinvk_zip(from.as_deref(), to.as_deref())
            .await
            .map_err(server_error)?;
        tracing::info!(bytes = zip.len(), "DSFinV-K export saved");
        self.save_export(&zip, view::ExportFormat::Zip, path)
    }

    fn fiscal_session(&self) -> Result<tapster_sync::ManagerSession, AppError> {
        if !self.is_connected() {
            self.manager(Action::ChangeSettings)?;
            return Err(AppError::new(
                ErrorCode::ServerOwned,
                "receipts are signed through the event's server; this till runs standalone",
            ));
        }
        self.require_server_session(Action::ChangeSettings)
    }
}

fn fiscal_view(status: FiscalStatus) -> view::FiscalView {
    let health = status.health.as_ref();
    let b = status.business;
    view::FiscalView {
        scheme: scheme_name(status.scheme).into(),
        certified: health.is_some_and(|h| h.certified),
        reachable: health.map(|h| h.reachable),
        health_message: health.map(|h| h.message.clone()).unwrap_or_default(),
        tss_serial: health
            .and_then(|h| h.tss_serial.clone())
            .unwrap_or_default(),
        since_ms: status.since,
        signed: status.signed,
        unsigned: status.unsigned,
        outages: status
            .outages
            .into_iter()
            .map(|o| view::OutageLine {
                till: o.terminal_name,
                from_ms: o.from,
                to_ms: o.to,
                receipts: o.transactions,
                reason: o.reason,
            })
            .collect(),
        business: view::BusinessForm {
            name: b.name,
            street: b.street,
            postcode: b.postcode,
            city: b.city,
            country: b.country,
            tax_number: b.tax_number,
            vat_id: b.vat_id,
        },
    }
}

fn scheme_name(scheme: FiscalScheme) -> &'static str {
    match scheme {
        FiscalScheme::Off => "off",
        FiscalScheme::Simulated => "simulated",
        FiscalScheme::Fiskaly => "fiskaly",
    }
}

/// The form as the server's setup; the server checks it again.
fn setup_of(form: &view::FiscalForm) -> Result<FiscalSetup, AppError> {
    let scheme = match form.scheme.as_str() {
        "off" => FiscalScheme::Off,
        "simulated" => FiscalScheme::Simulated,
        "fiskaly" => FiscalScheme::Fiskaly,
        other => return Err(invalid(format!("no such fiscal device: {other}"))),
    };
    let fiskaly = match scheme {
        FiscalScheme::Fiskaly => {
            let field = |value: &str| value.trim().to_string();
            let access = FiskalyAccess {
                base_url: Some(field(&form.fiskaly_base_url)).filter(|u| !u.is_empty()),
                api_key: field(&form.fiskaly_api_key),
                api_secret: field(&form.fiskaly_api_secret),
                tss_id: field(&form.fiskaly_tss_id),
            };
            if access.api_key.is_empty() || access.api_secret.is_empty() || access.tss_id.is_empty()
            {
                return Err(invalid(
                    "fiskaly needs its API key, API secret and TSS id (the secret is never shown again: enter it anew)",
                ));
            }
            Some(access)
        }
        _ => None,
    };
    let b = &form.business;
    let business = Business {
        name: b.name.trim().into(),
        street: b.street.trim().into(),
        postcode: b.postcode.trim().into(),
        city: b.city.trim().into(),
        country: b.country.trim().to_uppercase(),
        tax_number: b.tax_number.trim().into(),
        vat_id: b.vat_id.trim().into(),
    };
    business
        .check()
        .map_err(|(_, reason)| invalid(format!("{}: {reason}", "business")))?;
    Ok(FiscalSetup {
        scheme,
        fiskaly,
        business: Some(business),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(scheme: &str) -> view::FiscalForm {
        view::FiscalForm {
            scheme: scheme.into(),
            fiskaly_api_key: String::new(),
            fiskaly_api_secret: String::new(),
            fiskaly_tss_id: String::new(),
            fiskaly_base_url: String::new(),
            business: view::BusinessForm {
                country: "deu".into(),
                ..view::BusinessForm::default()
            },
        }
    }

    #[test]
    fn the_form_needs_fiskalys_access_and_a_known_scheme() {
        assert_eq!(
            setup_of(&form("simulated")).unwrap().scheme,
            FiscalScheme::Simulated
        );
        assert_eq!(
            setup_of(&form("simulated"))
                .unwrap()
                .business
                .unwrap()
                .country,
            "DEU"
        );
        assert!(setup_of(&form("fiskaly")).is_err(), "no secret given");
        assert!(setup_of(&form("rksv")).is_err());
        let mut full = form("fiskaly");
        full.fiskaly_api_key = "key".into();
        full.fiskaly_api_secret = "secret".into();
        full.fiskaly_tss_id = "tss".into();
        let setup = setup_of(&full).unwrap();
        assert_eq!(
            setup.fiskaly.unwrap().base_url,
            None,
            "production by default"
        );
    }
}
