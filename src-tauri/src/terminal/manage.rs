//! The manager screens: reports, catalogue, staff, wallets, terminals, sync
//! status and settings. Every method checks the logged-in staff member's
//! current role in the ledger (a role changed meanwhile counts at once);
//! the rules themselves are the ledger's.

use std::path::Path;

use tapster_ledger::model::{Category, Product, Role, Staff};
use tapster_ledger::money::VatRate;
use tapster_ledger::rules::Action;
use tapster_ledger::store::audit::{actions, changed_fields};
use tapster_ledger::store::{
    Authorisation, NewStaff, PayoutRequest, ReportFilter, SalesReport, TillAudit,
};
use tapster_ledger::{CategoryId, Cents, ProductId, StaffId, TerminalId, Timestamp, TokenId};
use tapster_print::csv::CsvStyle;
use tapster_print::pdf::ReportHeading;
use tapster_print::{PaperWidth, PrinterUri, ReceiptFormat};

use super::{category_views, key, lock, role, tender_in, token, Terminal};
use crate::config::{read_settings, write_settings};
use crate::error::{AppError, ErrorCode};
use crate::view;

pub(super) fn invalid(message: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::InvalidInput, message)
}

pub(super) fn role_in(role: view::Role) -> Role {
    match role {
        view::Role::Cashier => Role::Cashier,
        view::Role::Supervisor => Role::Supervisor,
        view::Role::Manager => Role::Manager,
    }
}

fn row(row: &tapster_ledger::store::AmountRow) -> view::ReportRow {
    view::ReportRow {
        key: row.key.clone(),
        label: row.label.clone(),
        count: row.count,
        amount_cents: row.amount.0,
    }
}

fn count_row(label: &str, row: &tapster_ledger::store::CountRow) -> view::ReportRow {
    view::ReportRow {
        key: label.into(),
        label: label.into(),
        count: row.count,
        amount_cents: row.amount.0,
    }
}

fn vat_label(rate: VatRate) -> String {
    let points = rate.basis_points();
    if points.is_multiple_of(100) {
        format!("{} %", points / 100)
    } else {
        format!("{},{:02} %", points / 100, points % 100)
    }
}

/// A product id from its name: `Helles 0,5 l` → `helles-0-5-l-3f9a`.
/// A new product's id: from its name and the form's creation key, so that
/// saving the same new product again (the answer was lost) names the same
/// product; without a key, a random one.
fn product_id_for(name: &str, creation_key: Option<&str>) -> Result<ProductId, AppError> {
    let random = tapster_ledger::IdempotencyKey::random();
    let key = creation_key
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .unwrap_or(random.as_str());
    if key.len() > 200 {
        return Err(invalid("the creation key is longer than 200 characters"));
    }
    ProductId::new(tapster_ledger::ids::slug_for_key(name, key, 24))
        .map_err(|e| invalid(e.to_string()))
}

fn product_form(p: &Product) -> view::ProductForm {
    view::ProductForm {
        id: Some(p.id.to_string()),
        creation_key: None,
        name: p.name.clone(),
        subtitle: p.subtitle.clone(),
        category: p.category.to_string(),
        price_cents: p.price.0,
        vat_basis_points: p.vat_rate.basis_points(),
        background: p.background.as_str().into(),
        text_colour: p.text_colour.as_str().into(),
        sale_price_cents: p.sale_price.map(|c| c.0),
        on_sale: p.on_sale,
        use_stock: p.use_stock,
        stock: p.stock,
        available_from_ms: p.available_from.map(|t| t.0),
        available_until_ms: p.available_until.map(|t| t.0),
        deposit_product: p.deposit_product.as_ref().map(ToString::to_string),
        returnable: p.returnable,
        archived: p.archived,
        thumbnail_url: p.thumbnail_url.clone(),
        ribbon_colour: p.ribbon_colour.as_ref().map(|c| c.as_str().into()),
        sale_text: p.sale_text.clone(),
        description: p.description.clone(),
    }
}

/// The product a form describes. What the form does not edit (vendor,
/// recipe, points, sold out here) stays as the product has it.
fn product_from_form(
    form: &view::ProductForm,
    id: ProductId,
    existing: Option<&Product>,
) -> Result<Product, AppError> {
    let colour =
        |value: &str| tapster_ledger::model::Colour::new(value).map_err(|e| invalid(e.to_string()));
    let optional = |value: &Option<String>| {
        value
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    Ok(Product {
        id,
        name: form.name.trim().to_string(),
        subtitle: optional(&form.subtitle),
        category: CategoryId::new(&form.category).map_err(|e| invalid(e.to_string()))?,
        price: Cents(form.price_cents),
        vat_rate: VatRate(form.vat_basis_points),
        background: colour(&form.background)?,
        text_colour: colour(&form.text_colour)?,
        sale_price: form.sale_price_cents.map(Cents),
        on_sale: form.on_sale,
        use_stock: form.use_stock,
        stock: form.stock,
        available_from: form.available_from_ms.map(Timestamp),
        available_until: form.available_until_ms.map(Timestamp),
        archived: form.archived,
        deposit_product: optional(&form.deposit_product)
            .map(ProductId::new)
            .transpose()
            .map_err(|e| invalid(e.to_string()))?,
        returnable: form.returnable,
        thumbnail_url: optional(&form.thumbnail_url),
        ribbon_colour: optional(&form.ribbon_colour)
            .map(|c| colour(&c))
            .transpose()?,
        sale_text: optional(&form.sale_text),
        description: optional(&form.description),
        ..existing.cloned().unwrap_or_else(|| {
            Product::new(
                ProductId::new("unsaved").expect("a valid id"),
                "",
                CategoryId::new("unsaved").expect("a valid id"),
                Cents::ZERO,
                VatRate(0),
            )
        })
    })
}

/// Moves the item at `from` by `offset` places, stopping at either end:
/// the grid's ◀ ▶ and the categories' alike.
fn move_by<T>(list: &mut Vec<T>, from: usize, offset: i32) {
    let last = list.len().saturating_sub(1) as i64;
    let to = (from as i64 + i64::from(offset)).clamp(0, last) as usize;
    let moved = list.remove(from);
    list.insert(to, moved);
}

/// A product's record: created with its fields, archived or restored, or
/// changed with the fields that changed.
fn product_audit(before: Option<&Product>, after: &Product) -> TillAudit {
    let audit = match before {
        None => TillAudit::new(
            actions::PRODUCT_CREATED,
            serde_json::to_value(after).unwrap_or_default(),
        ),
        Some(before) if before.archived != after.archived => TillAudit::new(
            if after.archived {
                actions::PRODUCT_ARCHIVED
            } else {
                actions::PRODUCT_RESTORED
            },
            serde_json::json!({ "name": after.name }),
        ),
        Some(before) => TillAudit::new(actions::PRODUCT_CHANGED, changed_fields(before, after)),
    };
    audit.subject(after.id.as_str())
}

/// What the trail shows of a staff member: name, role, whether active,
/// the badge masked. Never the PIN.
fn staff_fields(staff: Staff) -> serde_json::Map<String, serde_json::Value> {
    let mut fields = serde_json::Map::new();
    fields.insert("name".into(), serde_json::json!(staff.name));
    fields.insert("role".into(), serde_json::json!(staff.role.as_str()));
    fields.insert("active".into(), serde_json::json!(staff.active));
    fields.insert(
        "badge".into(),
        serde_json::json!(staff.badge.map(|b| b.masked())),
    );
    fields
}

fn staff_member(s: &Staff) -> view::StaffMember {
    view::StaffMember {
        id: s.id.to_string(),
        name: s.name.clone(),
        role: role(s.role),
        badge_masked: s.badge.as_ref().map(|b| b.masked()),
        active: s.active,
    }
}

/// The id of the staff member a form saves: theirs, or a new one.
pub(super) fn staff_member_id(form: &view::StaffForm) -> Result<StaffId, AppError> {
    let id = match form.id.as_deref().filter(|id| !id.is_empty()) {
        Some(id) => id.to_string(),
        None => format!(
            "s-{}",
            product_id_for(&form.name, form.creation_key.as_deref())?
        ),
    };
    StaffId::new(id).map_err(|e| invalid(e.to_string()))
}

/// The event's part of the settings form: receipt texts, offline limits.
pub(super) fn apply_event_settings(
    settings: &mut tapster_ledger::model::EventSettings,
    form: &view::SettingsForm,
) {
    settings.receipt_header = form.receipt_header.clone();
    settings.receipt_footer = form.receipt_footer.clone();
    settings.offline.per_sale_limit = Cents(form.offline_per_sale_cents);
    settings.offline.wallet_cap = Cents(form.offline_wallet_cap_cents);
    settings.offline.terminal_cap = Cents(form.offline_terminal_cap_cents);
    settings.offline.pass_cap = Cents(form.offline_pass_cap_cents);
    settings.band_policy = if form.genuine_bands_required {
        tapster_ledger::model::BandPolicy::GenuineRequired
    } else {
        tapster_ledger::model::BandPolicy::UidOnly
    };
}

fn parse_pin(pin: &str) -> Result<tapster_ledger::pin::Pin, AppError> {
    tapster_ledger::pin::Pin::new(pin).map_err(|e| invalid(e.to_string()))
}

fn paper_mm(width: PaperWidth) -> u32 {
    match width {
        PaperWidth::Mm58 => 58,
        PaperWidth::Mm80 => 80,
    }
}

fn language_code(language: view::Language) -> &'static str {
    match language {
        view::Language::De => "de",
        view::Language::En => "en",
    }
}

fn printer_uri(value: &str) -> Result<PrinterUri, AppError> {
    value
        .trim()
        .parse::<PrinterUri>()
        .map_err(|e| AppError::new(ErrorCode::PrinterProblem, e.to_string()))
}

impl Terminal {
    /// First start of a till that runs an event of its own (no server): the
    /// event's name and its first manager, who then logs in and sets up
    /// products and staff in the manager screens. Only while the till has
    /// never been set up.
    pub fn setup_standalone(
        &self,
        event_name: &str,
        manager_name: &str,
        pin: &str,
    ) -> Result<view::Session, AppError> {
        if !self.needs_setup()? {
            return Err(AppError::new(
                ErrorCode::RoleNotPermitted,
                "this till is already set up",
            ));
        }
        let name = event_name.trim();
        if name.is_empty() || name.chars().count() > 80 {
            return Err(invalid("the event needs a name (up to 80 characters)"));
        }
        let pin = parse_pin(pin)?;
        let mut settings = self.reader().settings()?;
        settings.name = name.to_string();
        self.ledger.update_settings(&settings)?;
        let form = view::StaffForm {
            creation_key: None,
            id: None,
            name: manager_name.trim().to_string(),
            role: view::Role::Manager,
            pin: None,
            active: true,
        };
        let manager = self.ledger.add_staff(&NewStaff {
            id: staff_member_id(&form)?,
            name: form.name,
            role: Role::Manager,
            pin,
            badge: None,
        })?;
        tracing::info!(event = name, manager = %manager.id, "standalone event set up");
        self.session()
    }

    /// The logged-in staff member, if their role (as the ledger knows it
    /// now) allows `action`.
    pub(super) fn manager(&self, action: Action) -> Result<Staff, AppError> {
        let staff = self.staff()?;
        Ok(self.ledger.check_staff_may(&staff.id, action)?)
    }

    /// Catalogue, staff and event settings belong to the server when the
    /// till is connected: it sends them with every catalogue pull and would
    /// overwrite a change made here.
    fn edits_stay_local(&self) -> Result<(), AppError> {
        if self.is_connected() {
            return Err(AppError::new(
                ErrorCode::ServerOwned,
                "this event is run from its server: change it there (tills get it with the next sync)",
            ));
        }
        Ok(())
    }

    pub(super) fn report_filter(
        &self,
        query: &view::ReportQuery,
    ) -> Result<ReportFilter, AppError> {
        let id = |value: &Option<String>| {
            value
                .as_deref()
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        Ok(ReportFilter {
            from: query.from_ms.map(Timestamp),
            until: query.until_ms.map(Timestamp),
            terminal: id(&query.terminal)
                .map(TerminalId::new)
                .transpose()
                .map_err(|e| invalid(e.to_string()))?,
            staff: id(&query.cashier)
                .map(StaffId::new)
                .transpose()
                .map_err(|e| invalid(e.to_string()))?,
            shift: None,
        })
    }

    fn local_report(&self, query: &view::ReportQuery) -> Result<SalesReport, AppError> {
        if query.source == view::ReportSource::Event {
            return Err(AppError::new(
                ErrorCode::ServerOwned,
                "the whole event's report needs a connection to the server",
            ));
        }
        let filter = self.report_filter(query)?;
        Ok(self.reader().sales_report(&filter)?)
    }

    /// Sales for a period, terminal and cashier from this till's ledger.
    pub fn manager_report(&self, query: &view::ReportQuery) -> Result<view::Report, AppError> {
        self.manager(Action::ViewReports)?;
        let report = self.local_report(query)?;
        self.report_view(query, &report, Vec::new())
    }

    /// The report screen's view of `report`; `known_terminals` (the
    /// server's) are offered in the filter besides the report's own.
    pub(super) fn report_view(
        &self,
        query: &view::ReportQuery,
        report: &SalesReport,
        known_terminals: Vec<view::Choice>,
    ) -> Result<view::Report, AppError> {
        let event_available = self.server_session()?.is_some();
        let reader = self.reader();
        let cashiers = reader
            .staff()?
            .iter()
            .map(|s| view::Choice {
                id: s.id.to_string(),
                name: s.name.clone(),
            })
            .collect();
        let this = reader.terminal(&self.options.terminal)?;
        let mut terminals: Vec<view::Choice> = report
            .by_terminal
            .iter()
            .map(|r| view::Choice {
                id: r.key.clone(),
                name: r.label.clone(),
            })
            .collect();
        for known in known_terminals
            .into_iter()
            .chain(std::iter::once(view::Choice {
                id: this.id.to_string(),
                name: this.friendly_name.clone(),
            }))
        {
            if !terminals.iter().any(|t| t.id == known.id) {
                terminals.push(known);
            }
        }
        Ok(view::Report {
            query: query.clone(),
            generated_at_ms: self.clock.now().0,
            sales_count: report.sales_count,
            revenue_cents: report.revenue.0,
            revenue_net_cents: Some(report.revenue_net.0),
            vat_cents: Some(report.vat_total.0),
            by_product: report
                .by_product
                .iter()
                .map(|p| view::ReportRow {
                    key: p.product.clone(),
                    label: p.name.clone(),
                    count: p.quantity,
                    amount_cents: p.gross.0,
                })
                .collect(),
            by_category: report.by_category.iter().map(row).collect(),
            by_vat_rate: report
                .by_vat_rate
                .iter()
                .map(|v| view::VatLine {
                    rate: vat_label(v.rate),
                    gross_cents: v.gross.0,
                    net_cents: v.net.0,
                    vat_cents: v.vat.0,
                })
                .collect(),
            by_hour: report
                .by_hour
                .iter()
                .map(|h| view::HourBar {
                    start_ms: h.hour_start.0,
                    count: h.sales,
                    amount_cents: h.gross.0,
                })
                .collect(),
            by_cashier: report.by_staff.iter().map(row).collect(),
            by_terminal: report.by_terminal.iter().map(row).collect(),
            sales_by_tender: report.sales_by_tender.iter().map(row).collect(),
            top_ups_by_tender: report.top_ups_by_tender.iter().map(row).collect(),
            cancellations: report.cancellations.iter().map(row).collect(),
            deposits_issued: count_row("deposits_issued", &report.deposits_issued),
            deposits_returned: count_row("deposits_returned", &report.deposits_returned),
            payouts: count_row("payouts", &report.payouts),
            vouchers_credited: count_row("vouchers_credited", &report.vouchers_credited),
            promo_spent: count_row("promo_spent", &report.promo_spent),
            terminals,
            cashiers,
            event_available,
        })
    }

    /// Writes the report as PDF or CSV (the crate `tapster-print`'s) to a
    /// path the manager chose in the save dialog.
    pub fn export_report(
        &self,
        query: &view::ReportQuery,
        format: view::ExportFormat,
        path: &Path,
    ) -> Result<view::Exported, AppError> {
        self.manager(Action::ViewReports)?;
        let report = self.local_report(query)?;
        self.write_export(&report, format, path)
    }

    /// Writes `report` as PDF or CSV to `path`.
    pub(super) fn write_export(
        &self,
        report: &SalesReport,
        format: view::ExportFormat,
        path: &Path,
    ) -> Result<view::Exported, AppError> {
        let settings = self.reader().settings()?;
        let language = match self.options.language {
            view::Language::De => tapster_print::Language::De,
            view::Language::En => tapster_print::Language::En,
        };
        let time_zone = self.options.receipt_format.time_zone.clone();
        let bytes = match format {
            view::ExportFormat::Pdf => {
                let mut filter = Vec::new();
                let reader = self.reader();
                if let Some(terminal) = &report.filter.terminal {
                    let name = reader
                        .terminal(terminal)
                        .map_or_else(|_| terminal.to_string(), |t| t.friendly_name);
                    filter.push((language.texts().terminal.to_string(), name));
                }
                if let Some(staff) = &report.filter.staff {
                    let name = reader
                        .staff()?
                        .into_iter()
                        .find(|s| &s.id == staff)
                        .map_or_else(|| staff.to_string(), |s| s.name);
                    filter.push((language.texts().cashier.to_string(), name));
                }
                tapster_print::pdf::sales_report_pdf(
                    report,
                    ReportHeading {
                        event_name: settings.name,
                        currency: settings.currency,
                        generated_at: self.clock.now(),
                        filter,
                        language,
                        time_zone,
                    },
                )?
            }
            view::ExportFormat::Xml | view::ExportFormat::Zip => {
                return Err(invalid("a report is saved as PDF or CSV"));
            }
            view::ExportFormat::Csv => {
                let style = match language {
                    tapster_print::Language::De => CsvStyle::Semicolon,
                    tapster_print::Language::En => CsvStyle::Comma,
                };
                tapster_print::csv::sales_report_csv(
                    report,
                    language,
                    style,
                    &settings.currency,
                    &time_zone,
                )
                .into_bytes()
            }
        };
        let exported = self.save_export(&bytes, format, path)?;
        tracing::info!(path = %path.display(), bytes = bytes.len(), "report exported");
        Ok(exported)
    }

    /// Saves `bytes` (a report, a sheet of passes) at `path` as the save
    /// dialog chose it ([`Self::export_target`]'s rules), through a
    /// temporary file beside it: a half-written file never sits under the
    /// chosen name.
    pub(super) fn save_export(
        &self,
        bytes: &[u8],
        format: view::ExportFormat,
        path: &Path,
    ) -> Result<view::Exported, AppError> {
        let target = self.export_target(path, format)?;
        let dir = target.parent().unwrap_or(Path::new("/"));
        let write = || -> std::io::Result<()> {
            let mut file = tempfile::NamedTempFile::new_in(dir)?;
            std::io::Write::write_all(&mut file, bytes)?;
            file.as_file().sync_all()?;
            file.persist(&target).map_err(|e| e.error)?;
            Ok(())
        };
        write().map_err(|e| {
            AppError::new(ErrorCode::SaveFailed, format!("{}: {e}", target.display()))
        })?;
        Ok(view::Exported {
            path: target.display().to_string(),
            bytes: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
        })
    }

    /// Where a report may go: a `.pdf` or `.csv` file (as its format) the
    /// save dialog chose, not a directory or device, and nowhere in the
    /// app's own data or config — an export never replaces a ledger or a
    /// settings file, whatever path the page sends.
    fn export_target(
        &self,
        path: &Path,
        format: view::ExportFormat,
    ) -> Result<std::path::PathBuf, AppError> {
        if !path.is_absolute() {
            return Err(invalid("choose where to save the report"));
        }
        let extension = match format {
            view::ExportFormat::Pdf => "pdf",
            view::ExportFormat::Csv => "csv",
            view::ExportFormat::Xml => "xml",
            view::ExportFormat::Zip => "zip",
        };
        if !path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case(extension))
        {
            return Err(invalid(format!(
                "a {extension} report is saved as a .{extension} file"
            )));
        }
        let save_failed = |e: std::io::Error| {
            AppError::new(ErrorCode::SaveFailed, format!("{}: {e}", path.display()))
        };
        let parent = path
            .parent()
            .ok_or_else(|| invalid("choose where to save the report"))?;
        let dir = parent.canonicalize().map_err(save_failed)?;
        let name = path
            .file_name()
            .ok_or_else(|| invalid("choose where to save the report"))?;
        let target = dir.join(name);
        if let Ok(meta) = std::fs::symlink_metadata(&target) {
            if !meta.is_file() {
                return Err(invalid("a report replaces only a file"));
            }
        }
        for own in [&self.options.data_dir, &self.options.config_dir] {
            if let Ok(own) = own.canonicalize() {
                if dir.starts_with(&own) {
                    return Err(invalid("reports are not saved among the app's own files"));
                }
            }
        }
        Ok(target)
    }

    /// Every product (archived last), categories and this till's grid.
    pub fn catalogue_admin(&self) -> Result<view::CatalogueAdmin, AppError> {
        self.manager(Action::ManageCatalogue)?;
        let reader = self.reader();
        let mut products = reader.products(true)?;
        products.sort_by_key(|p| p.archived);
        let mut vat_rates: Vec<u32> = [700, 1900]
            .into_iter()
            .chain(products.iter().map(|p| p.vat_rate.basis_points()))
            .collect();
        vat_rates.sort_unstable();
        vat_rates.dedup();
        Ok(view::CatalogueAdmin {
            categories: category_views(&reader)?,
            products: products.iter().map(product_form).collect(),
            layout: reader
                .terminal(&self.options.terminal)?
                .layout
                .iter()
                .map(ToString::to_string)
                .collect(),
            vat_rates,
            edits_go_to_server: self.is_connected(),
        })
    }

    /// Creates or changes a product; a new, sellable product is put at the
    /// end of this till's grid.
    /// The product a form describes, and whether it is new.
    pub(super) fn product_from_form_checked(
        &self,
        form: &view::ProductForm,
    ) -> Result<(Product, bool), AppError> {
        let existing = match form.id.as_deref().filter(|id| !id.is_empty()) {
            Some(id) => {
                let id = ProductId::new(id).map_err(|e| invalid(e.to_string()))?;
                let known = self.reader().product(&id)?;
                Some(known.ok_or_else(|| {
                    AppError::new(ErrorCode::UnknownProduct, format!("no product '{id}'"))
                })?)
            }
            None => None,
        };
        let (id, existing) = match existing {
            Some(product) => (product.id.clone(), Some(product)),
            None => {
                // A save of this new product again: the same product.
                let id = product_id_for(&form.name, form.creation_key.as_deref())?;
                let again = self.reader().product(&id)?;
                (id, again)
            }
        };
        let product = product_from_form(form, id, existing.as_ref())?;
        product.validate().map_err(|e| invalid(e.to_string()))?;
        Ok((product, existing.is_none()))
    }

    pub fn save_product(&self, form: &view::ProductForm) -> Result<view::CatalogueAdmin, AppError> {
        let staff = self.manager(Action::ManageCatalogue)?;
        self.edits_stay_local()?;
        let (product, new) = self.product_from_form_checked(form)?;
        let before = self.reader().product(&product.id)?;
        self.ledger.upsert_product(&product)?;
        self.audit_here(&staff.id, product_audit(before.as_ref(), &product));
        if new && !product.returnable {
            let mut terminal = self.ledger.terminal()?;
            if !terminal.layout.is_empty() && !terminal.layout.contains(&product.id) {
                terminal.layout.push(product.id.clone());
                self.ledger.upsert_terminal(&terminal)?;
            }
        }
        tracing::info!(staff = %staff.id, product = %product.id, archived = product.archived, "product saved");
        self.catalogue_admin()
    }

    /// A new category or a renamed one.
    pub(super) fn category_to_save(
        &self,
        id: Option<&str>,
        name: &str,
        creation_key: Option<&str>,
    ) -> Result<Category, AppError> {
        let categories = self.reader().categories()?;
        Ok(match id.filter(|id| !id.is_empty()) {
            Some(id) => {
                let mut known = categories
                    .into_iter()
                    .find(|c| c.id.as_str() == id)
                    .ok_or_else(|| invalid(format!("no category '{id}'")))?;
                known.name = name.trim().to_string();
                known
            }
            None => {
                let slug = product_id_for(name, creation_key)?;
                Category {
                    id: CategoryId::new(format!("c-{slug}")).map_err(|e| invalid(e.to_string()))?,
                    name: name.trim().to_string(),
                    position: categories.iter().map(|c| c.position).max().unwrap_or(0) + 1,
                }
            }
        })
    }

    pub fn save_category(
        &self,
        id: Option<&str>,
        name: &str,
        creation_key: Option<&str>,
    ) -> Result<view::CatalogueAdmin, AppError> {
        let staff = self.manager(Action::ManageCatalogue)?;
        self.edits_stay_local()?;
        let category = self.category_to_save(id, name, creation_key)?;
        self.ledger.upsert_category(&category)?;
        let detail = serde_json::json!({ "name": category.name, "position": category.position });
        self.audit_here(
            &staff.id,
            TillAudit::new(actions::CATEGORY_SAVED, detail).subject(category.id.as_str()),
        );
        self.catalogue_admin()
    }

    /// The categories' order with `category` moved by `offset` places.
    pub(super) fn category_order_moved(
        &self,
        category: &str,
        offset: i32,
    ) -> Result<Vec<CategoryId>, AppError> {
        let mut order: Vec<CategoryId> = self
            .reader()
            .categories()?
            .into_iter()
            .map(|c| c.id)
            .collect();
        let from = order
            .iter()
            .position(|c| c.as_str() == category)
            .ok_or_else(|| invalid(format!("no category '{category}'")))?;
        move_by(&mut order, from, offset);
        Ok(order)
    }

    /// Moves a category by `offset` places on every till's grid.
    pub fn move_category(
        &self,
        category: &str,
        offset: i32,
    ) -> Result<view::CatalogueAdmin, AppError> {
        let manager = self.manager(Action::ManageCatalogue)?;
        self.edits_stay_local()?;
        let order = self.category_order_moved(category, offset)?;
        self.ledger.reorder_categories(&order)?;
        let names: Vec<&str> = order.iter().map(CategoryId::as_str).collect();
        self.audit_here(
            &manager.id,
            TillAudit::new(
                actions::CATEGORIES_REORDERED,
                serde_json::json!({ "order": names }),
            ),
        );
        tracing::info!(by = %manager.id, category, offset, "category moved");
        self.catalogue_admin()
    }

    /// Removes a category that holds no product, archived ones included.
    pub fn remove_category(&self, category: &str) -> Result<view::CatalogueAdmin, AppError> {
        let manager = self.manager(Action::ManageCatalogue)?;
        self.edits_stay_local()?;
        let id = CategoryId::new(category).map_err(|e| invalid(e.to_string()))?;
        let name = self
            .reader()
            .categories()?
            .into_iter()
            .find(|c| c.id == id)
            .map(|c| c.name);
        self.ledger.remove_category(&id)?;
        self.audit_here(
            &manager.id,
            TillAudit::new(
                actions::CATEGORY_REMOVED,
                serde_json::json!({ "name": name }),
            )
            .subject(id.as_str()),
        );
        tracing::info!(by = %manager.id, category, "category removed");
        self.catalogue_admin()
    }

    /// This till's grid with `product` moved by `offset` places.
    pub(super) fn layout_moved(
        &self,
        product: &str,
        offset: i32,
    ) -> Result<Vec<ProductId>, AppError> {
        let mut layout = self.ledger.terminal()?.layout;
        if layout.is_empty() {
            // The grid so far was "every product": it becomes explicit.
            layout = self
                .reader()
                .products(false)?
                .into_iter()
                .filter(|p| !p.returnable)
                .map(|p| p.id)
                .collect();
        }
        let from = layout
            .iter()
            .position(|p| p.as_str() == product)
            .ok_or_else(|| {
                AppError::new(
                    ErrorCode::UnknownProduct,
                    "this product is not on this till's grid",
                )
            })?;
        move_by(&mut layout, from, offset);
        Ok(layout)
    }

    /// Moves a product on this till's grid by `offset` places.
    pub fn move_in_layout(
        &self,
        product: &str,
        offset: i32,
    ) -> Result<view::CatalogueAdmin, AppError> {
        self.manager(Action::ManageCatalogue)?;
        self.edits_stay_local()?;
        let layout = self.layout_moved(product, offset)?;
        let mut terminal = self.ledger.terminal()?;
        terminal.layout = layout;
        self.ledger.upsert_terminal(&terminal)?;
        self.catalogue_admin()
    }

    pub fn staff_list(&self) -> Result<Vec<view::StaffMember>, AppError> {
        self.manager(Action::ManageStaff)?;
        Ok(self.reader().staff()?.iter().map(staff_member).collect())
    }

    /// Adds a staff member or changes one (name, role, active, a new PIN).
    pub fn save_staff(&self, form: &view::StaffForm) -> Result<Vec<view::StaffMember>, AppError> {
        let manager = self.manager(Action::ManageStaff)?;
        self.edits_stay_local()?;
        let pin = form
            .pin
            .as_deref()
            .filter(|p| !p.is_empty())
            .map(parse_pin)
            .transpose()?;
        match form.id.as_deref().filter(|id| !id.is_empty()) {
            Some(id) => {
                let id = StaffId::new(id).map_err(|e| invalid(e.to_string()))?;
                let before = self.reader().staff()?.into_iter().find(|s| s.id == id);
                let after = self.ledger.update_staff(
                    &id,
                    form.name.trim(),
                    role_in(form.role),
                    form.active,
                )?;
                if let Some(pin) = &pin {
                    self.ledger.set_staff_pin(&id, pin)?;
                }
                // Never the PIN: only that it changed.
                let mut changed =
                    changed_fields(&before.map(staff_fields), &Some(staff_fields(after)));
                if let (Some(fields), true) = (changed.as_object_mut(), pin.is_some()) {
                    fields.insert("pin_changed".into(), serde_json::json!(true));
                }
                if changed.as_object().is_some_and(|f| !f.is_empty()) {
                    self.audit_here(
                        &manager.id,
                        TillAudit::new(actions::STAFF_CHANGED, changed).subject(id.as_str()),
                    );
                }
                tracing::info!(by = %manager.id, staff = %id, pin_reset = pin.is_some(), "staff member changed");
            }
            None => {
                let pin = pin.ok_or_else(|| invalid("a new staff member needs a PIN"))?;
                let id = staff_member_id(form)?;
                // The same form saved again (its creation key names the same
                // member): made once.
                let made = self.reader().staff()?.into_iter().find(|s| s.id == id);
                if made.is_some_and(|m| m.name == form.name.trim() && m.role == role_in(form.role))
                {
                    return Ok(self.reader().staff()?.iter().map(staff_member).collect());
                }
                self.ledger.add_staff(&NewStaff {
                    id: id.clone(),
                    name: form.name.trim().to_string(),
                    role: role_in(form.role),
                    pin,
                    badge: None,
                })?;
                if !form.active {
                    self.ledger.set_staff_active(&id, false)?;
                }
                let mut fields = staff_fields(Staff {
                    id: id.clone(),
                    name: form.name.trim().to_string(),
                    role: role_in(form.role),
                    badge: None,
                    active: form.active,
                });
                fields.remove("badge");
                self.audit_here(
                    &manager.id,
                    TillAudit::new(actions::STAFF_CREATED, serde_json::Value::Object(fields))
                        .subject(id.as_str()),
                );
                tracing::info!(by = %manager.id, staff = %id, "staff member added");
            }
        }
        self.refresh_session_staff()?;
        Ok(self.reader().staff()?.iter().map(staff_member).collect())
    }

    /// Gives staff member `id` the badge just tapped on the reader (`badge`),
    /// or takes theirs away (`None`).
    pub fn set_staff_badge(
        &self,
        id: &str,
        badge: Option<&str>,
    ) -> Result<Vec<view::StaffMember>, AppError> {
        let manager = self.manager(Action::ManageStaff)?;
        self.edits_stay_local()?;
        let id = StaffId::new(id).map_err(|e| invalid(e.to_string()))?;
        let badge = self.tapped_badge(badge)?;
        let before = self
            .reader()
            .staff()?
            .into_iter()
            .find(|s| s.id == id)
            .and_then(|s| s.badge.map(|b| b.masked()));
        self.ledger.set_staff_badge(&id, badge.as_ref())?;
        let after = badge.as_ref().map(TokenId::masked);
        if before != after {
            self.audit_here(
                &manager.id,
                TillAudit::new(
                    actions::STAFF_CHANGED,
                    serde_json::json!({ "badge": [before, after] }),
                )
                .subject(id.as_str()),
            );
        }
        tracing::info!(by = %manager.id, staff = %id, badge = ?badge.as_ref().map(TokenId::masked), "staff badge set");
        Ok(self.reader().staff()?.iter().map(staff_member).collect())
    }

    /// A badge to give: it was tapped on this till's reader just now, so a
    /// manager cannot pair a UID they only read off a receipt.
    pub(super) fn tapped_badge(&self, badge: Option<&str>) -> Result<Option<TokenId>, AppError> {
        badge
            .map(|b| {
                let badge = token(b)?;
                self.take_tap(&badge)?;
                Ok(badge)
            })
            .transpose()
    }

    /// Whoever is logged in has the role the ledger gives them now.
    pub(super) fn refresh_session_staff(&self) -> Result<(), AppError> {
        let staff = self.reader().staff()?;
        if let Some(active) = lock(&self.session).as_mut() {
            if let Some(me) = staff.into_iter().find(|s| s.id == active.staff.id) {
                active.staff = me;
            }
        }
        Ok(())
    }

    /// A wristband as a supervisor sees it: no tap needed (it may be lost).
    pub fn manage_wallet(&self, token_id: &str) -> Result<view::Wallet, AppError> {
        self.manager(Action::ManageWallets)?;
        self.wallet(token_id)
    }

    pub fn set_wallet_blocked(
        &self,
        token_id: &str,
        blocked: bool,
    ) -> Result<view::Wallet, AppError> {
        let staff = self.manager(Action::ManageWallets)?;
        let token = token(token_id)?;
        self.ledger.set_wallet_blocked(&token, blocked)?;
        let action = if blocked {
            actions::WALLET_BLOCKED
        } else {
            actions::WALLET_UNBLOCKED
        };
        self.audit_here(
            &staff.id,
            TillAudit::new(action, serde_json::json!({})).wallet(token.as_str()),
        );
        tracing::info!(staff = %staff.id, wristband = %token.masked(), blocked, "wristband block changed");
        self.wallet(token_id)
    }

    /// Pays out a wristband's whole balance; the wristband must be on the
    /// reader (the guest hands it over).
    /// Pays a wristband's balance out. A connected till asks the server,
    /// which holds the balance (a band paid out here cannot be paid out
    /// again elsewhere); without an answer in time its offline limits
    /// decide, as for a sale.
    pub async fn payout_wallet(
        &self,
        token_id: &str,
        tender: view::Tender,
        idempotency_key: &str,
    ) -> Result<view::Done, AppError> {
        let staff = self.manager(Action::PayOut)?;
        let token = token(token_id)?;
        self.take_tap(&token)?;
        let request = PayoutRequest {
            key: key(idempotency_key)?,
            staff: staff.id,
            token,
            tender: tender_in(tender),
        };
        let recorded = match &self.syncer {
            Some(syncer) => {
                let online = *lock(&self.sync_online);
                syncer
                    .authorise_payout(&request, online)
                    .await
                    .map_err(AppError::from)?
            }
            None => self.ledger.payout(&request, Authorisation::ThisLedger)?,
        };
        self.finish_async(&recorded.entry).await
    }

    /// Moving a balance needs the server, which holds the wallets.
    pub fn move_wallet(&self, from: &str, to: &str) -> Result<view::Wallet, AppError> {
        self.manager(Action::ManageWallets)?;
        let (from, to) = (token(from)?, token(to)?);
        if from == to {
            return Err(invalid("the new wristband is the same as the old one"));
        }
        self.take_tap(&to)?;
        Err(AppError::new(
            ErrorCode::ServerOwned,
            "moving a balance to a new wristband needs the event's server: on a standalone till pay the old one out and top up the new one",
        ))
    }

    /// The event's terminals as this till knows them.
    pub fn terminals(&self) -> Result<Vec<view::TerminalInfo>, AppError> {
        self.manager(Action::ViewReports)?;
        let this = self.ledger.terminal()?;
        let pending = self.ledger.pending_count()?;
        Ok(vec![view::TerminalInfo {
            id: this.id.to_string(),
            name: this.friendly_name,
            permission: this.permission.as_str().to_string(),
            this_till: true,
            last_seen_ms: Some(self.clock.now().0),
            version: Some(env!("CARGO_PKG_VERSION").to_string()),
            pending: Some(if self.syncer.is_some() { pending } else { 0 }),
            archived: false,
        }])
    }

    /// Entries waiting for the server, and those it refused, with reasons.
    pub fn sync_overview(&self) -> Result<view::SyncOverview, AppError> {
        self.manager(Action::ViewReports)?;
        let status = self.status();
        let reader = self.reader();
        // One query, not one per entry: the sync screen asks every 5 s.
        let lines = |decided: Vec<(
            tapster_ledger::model::Entry,
            String,
            tapster_ledger::Timestamp,
        )>| {
            decided
                .into_iter()
                .map(|(entry, reason, at)| view::RejectedLine {
                    terminal: entry.terminal.to_string(),
                    receipt_number: Some(entry.sequence),
                    kind: entry.kind.to_string(),
                    amount_cents: Some(entry.amount.0),
                    reason,
                    at_ms: at.0,
                })
                .collect::<Vec<_>>()
        };
        let rejected = lines(reader.rejected_entries(500)?);
        let uncertain = lines(reader.uncertain_entries(500)?);
        let kept_locally = lines(reader.kept_locally_entries(500)?);
        let attention = reader.sync_attention()?;
        let uid_only = reader.settings()?.band_policy == tapster_ledger::model::BandPolicy::UidOnly;
        drop(reader);
        let refused_bands = self
            .ledger
            .band_refusals(200)?
            .into_iter()
            .map(|r| view::RefusedBand {
                token_masked: tapster_ledger::TokenId::parse(&r.token)
                    .map_or_else(|_| "••••".into(), |t| t.masked()),
                terminal: r.terminal,
                token: r.token,
                reason: r.reason,
                at_ms: r.at.0,
            })
            .collect();
        Ok(view::SyncOverview {
            connectivity: status.connectivity,
            pending: if self.syncer.is_some() {
                self.ledger.pending_count()?
            } else {
                0
            },
            oldest_pending_ms: if self.syncer.is_some() {
                self.ledger.oldest_pending_time()?.map(|t| t.0)
            } else {
                None
            },
            rejected,
            uncertain,
            uncertain_total_cents: attention.uncertain_amount.0,
            kept_locally,
            kept_locally_total_cents: attention.kept_locally_amount.0,
            overdrawn: Vec::new(),
            from_server: false,
            offline_exposure_cents: self.ledger.offline_exposure()?.0,
            refused_bands,
            uid_only,
        })
    }

    /// The device settings the app runs with now.
    fn running_form(&self) -> Result<view::SettingsForm, AppError> {
        let event = self.reader().settings()?;
        Ok(view::SettingsForm {
            language: self.options.language,
            printer: self.options.printer.as_ref().map(ToString::to_string),
            paper_mm: paper_mm(self.options.receipt_format.width),
            reader: self.options.pcsc_reader.clone(),
            lock_after_secs: self.options.lock_after.as_secs() as i64,
            confirm_wallet_payments: self.options.confirm_wallet_payments,
            receipt_header: event.receipt_header,
            receipt_footer: event.receipt_footer,
            offline_per_sale_cents: event.offline.per_sale_limit.0,
            offline_wallet_cap_cents: event.offline.wallet_cap.0,
            offline_terminal_cap_cents: event.offline.terminal_cap.0,
            offline_pass_cap_cents: event.offline.pass_cap.0,
            genuine_bands_required: event.band_policy
                == tapster_ledger::model::BandPolicy::GenuineRequired,
        })
    }

    /// The settings as saved: the settings file over what runs now.
    fn settings_view(&self) -> Result<view::SettingsView, AppError> {
        let file = read_settings(&self.options.config_dir)
            .map_err(|e| AppError::new(ErrorCode::Internal, format!("{e:#}")))?;
        let running = self.running_form()?;
        let form = view::SettingsForm {
            language: match file.lang.as_deref() {
                Some("en") => view::Language::En,
                Some("de") => view::Language::De,
                _ => running.language,
            },
            printer: file.printer.or(running.printer),
            paper_mm: match file.paper.as_deref() {
                Some("58") => 58,
                Some("80") => 80,
                _ => running.paper_mm,
            },
            reader: file.reader.or(running.reader),
            lock_after_secs: file
                .lock_after
                .and_then(|s| i64::try_from(s).ok())
                .unwrap_or(running.lock_after_secs),
            confirm_wallet_payments: file
                .confirm_payments
                .unwrap_or(running.confirm_wallet_payments),
            ..running
        };
        Ok(view::SettingsView {
            form,
            readers: tapster_nfc::pcsc_reader::reader_names().unwrap_or_default(),
            event_settings_from_server: self.is_connected(),
            config_file: self
                .options
                .config_dir
                .join("tapster.toml")
                .display()
                .to_string(),
            pinned: self.pinned.clone(),
        })
    }

    pub fn settings(&self) -> Result<view::SettingsView, AppError> {
        self.manager(Action::ChangeSettings)?;
        self.settings_view()
    }

    /// Refuses a form with a bad printer, paper or lock time, before
    /// anything is written.
    pub(super) fn check_device_settings(&self, form: &view::SettingsForm) -> Result<(), AppError> {
        if let Some(printer) = form
            .printer
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            printer_uri(printer)?;
        }
        if form.paper_mm != 58 && form.paper_mm != 80 {
            return Err(invalid(format!(
                "paper must be 58 or 80 mm, not {}",
                form.paper_mm
            )));
        }
        if !(10..=3600).contains(&form.lock_after_secs) {
            return Err(invalid("lock after 10 seconds to 1 hour without a touch"));
        }
        Ok(())
    }

    /// The form changes the event's receipt texts or offline limits.
    pub(super) fn event_settings_changed(
        &self,
        form: &view::SettingsForm,
    ) -> Result<bool, AppError> {
        let current = self.running_form()?;
        Ok(form.receipt_header != current.receipt_header
            || form.receipt_footer != current.receipt_footer
            || form.offline_per_sale_cents != current.offline_per_sale_cents
            || form.offline_wallet_cap_cents != current.offline_wallet_cap_cents
            || form.offline_terminal_cap_cents != current.offline_terminal_cap_cents
            || form.offline_pass_cap_cents != current.offline_pass_cap_cents
            || form.genuine_bands_required != current.genuine_bands_required)
    }

    /// Device settings go to `tapster.toml` (they apply after a restart);
    /// receipt texts and offline limits to the event (at once).
    pub fn save_settings(
        &self,
        form: &view::SettingsForm,
    ) -> Result<view::SettingsSaved, AppError> {
        let staff = self.manager(Action::ChangeSettings)?;
        self.check_device_settings(form)?;
        if self.event_settings_changed(form)? {
            self.edits_stay_local()?;
            let before = self.reader().settings()?;
            let mut event = before.clone();
            apply_event_settings(&mut event, form);
            self.ledger.update_settings(&event)?;
            self.audit_here(
                &staff.id,
                TillAudit::new(actions::SETTINGS_CHANGED, changed_fields(&before, &event)),
            );
        }
        self.write_device_settings(form)
    }

    /// Writes the device settings to `tapster.toml`.
    pub(super) fn write_device_settings(
        &self,
        form: &view::SettingsForm,
    ) -> Result<view::SettingsSaved, AppError> {
        let staff = self.manager(Action::ChangeSettings)?;
        let printer = form
            .printer
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(printer_uri)
            .transpose()?;
        let paper = form.paper_mm.to_string();
        let current = self.running_form()?;
        let dir = &self.options.config_dir;
        let failed = |e: anyhow::Error| AppError::new(ErrorCode::SaveFailed, format!("{e:#}"));
        let mut file = read_settings(dir).map_err(failed)?;
        let reader = form
            .reader
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string);
        file.printer = printer.as_ref().map(ToString::to_string);
        file.paper = Some(paper);
        file.lang = Some(language_code(form.language).into());
        file.reader = reader;
        file.lock_after = Some(form.lock_after_secs as u64);
        file.confirm_payments = Some(form.confirm_wallet_payments);
        write_settings(dir, &file).map_err(failed)?;
        let pinned = |field: &str| self.pinned.iter().any(|p| p == field);
        let restart_needed = [
            ("printer", form.printer != current.printer),
            ("paper_mm", form.paper_mm != current.paper_mm),
            ("language", form.language != current.language),
            ("reader", form.reader != current.reader),
            (
                "lock_after_secs",
                form.lock_after_secs != current.lock_after_secs,
            ),
            (
                "confirm_wallet_payments",
                form.confirm_wallet_payments != current.confirm_wallet_payments,
            ),
        ]
        .into_iter()
        .any(|(field, changed)| changed && !pinned(field));
        tracing::info!(staff = %staff.id, restart_needed, "settings saved");
        Ok(view::SettingsSaved {
            view: self.settings_view()?,
            restart_needed,
        })
    }

    /// Prints a test receipt on `printer` straight away (not through the
    /// queue, so a printer not yet saved can be tried).
    pub fn test_print(&self, printer: &str, paper: u32) -> Result<(), AppError> {
        self.manager(Action::ChangeSettings)?;
        let uri = printer_uri(printer)?;
        let format = ReceiptFormat {
            width: if paper == 58 {
                PaperWidth::Mm58
            } else {
                PaperWidth::Mm80
            },
            ..self.options.receipt_format.clone()
        };
        let receipt = tapster_print::sample::test_receipt(&format, self.clock.now())?;
        let bytes = tapster_print::escpos::render(&receipt)?;
        send_once(&uri, &bytes)
    }

    /// Opens the drawer on `printer`, for a manager setting up a till.
    pub fn test_drawer(&self, printer: &str) -> Result<(), AppError> {
        self.manager(Action::ChangeSettings)?;
        send_once(
            &printer_uri(printer)?,
            &tapster_print::escpos::drawer_kick(),
        )
    }
}

fn send_once(uri: &PrinterUri, bytes: &[u8]) -> Result<(), AppError> {
    let problem = |e: tapster_print::printer::SendError| {
        AppError::new(ErrorCode::PrinterProblem, format!("{uri}: {e}"))
    };
    let mut connection =
        tapster_print::printer::connect(uri, tapster_print::printer::Timeouts::default())
            .map_err(problem)?;
    connection.send(bytes).map_err(problem)
}
