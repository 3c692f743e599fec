//! The TypeScript declarations of [`crate::view`] and [`crate::error`],
//! written to `ui/src/lib/bindings.ts`. The test `bindings_are_current`
//! fails when that file is stale; `TAPSTER_UPDATE_BINDINGS=1 cargo test -p
//! tapster-app bindings` rewrites it.

use ts_rs::TS;

use crate::error::{AppError, ErrorCode};
use crate::view::*;

/// Every declaration, in a stable order.
pub fn typescript() -> String {
    // Amounts are cents well inside 2^53: plain numbers in TypeScript.
    let cfg = ts_rs::Config::default().with_large_int("number");
    let declarations = [
        ErrorCode::decl(&cfg),
        AppError::decl(&cfg),
        Role::decl(&cfg),
        Tender::decl(&cfg),
        Language::decl(&cfg),
        Cashier::decl(&cfg),
        ShiftInfo::decl(&cfg),
        DemoInfo::decl(&cfg),
        DemoStaff::decl(&cfg),
        DemoWristband::decl(&cfg),
        Session::decl(&cfg),
        Category::decl(&cfg),
        Product::decl(&cfg),
        Catalog::decl(&cfg),
        StockWarning::decl(&cfg),
        StockView::decl(&cfg),
        StockLocation::decl(&cfg),
        InventoryItemView::decl(&cfg),
        StockRowView::decl(&cfg),
        SoldOutView::decl(&cfg),
        VendorView::decl(&cfg),
        ProductName::decl(&cfg),
        MovementForm::decl(&cfg),
        CountForm::decl(&cfg),
        InventoryItemForm::decl(&cfg),
        VendorForm::decl(&cfg),
        CartItem::decl(&cfg),
        QuoteLine::decl(&cfg),
        TipChoice::decl(&cfg),
        BillView::decl(&cfg),
        BillPaymentView::decl(&cfg),
        BillStep::decl(&cfg),
        Quote::decl(&cfg),
        Receipt::decl(&cfg),
        Done::decl(&cfg),
        RecentEntry::decl(&cfg),
        DepositHeld::decl(&cfg),
        Wallet::decl(&cfg),
        ShiftClosed::decl(&cfg),
        Connectivity::decl(&cfg),
        ReaderState::decl(&cfg),
        PrinterState::decl(&cfg),
        Status::decl(&cfg),
        Notice::decl(&cfg),
        Tap::decl(&cfg),
        CustomerView::decl(&cfg),
        CustomerLine::decl(&cfg),
        ServerCheck::decl(&cfg),
        ServerFields::decl(&cfg),
        ReportSource::decl(&cfg),
        ReportQuery::decl(&cfg),
        ReportRow::decl(&cfg),
        VatLine::decl(&cfg),
        HourBar::decl(&cfg),
        Choice::decl(&cfg),
        Report::decl(&cfg),
        ExportFormat::decl(&cfg),
        PayoutsView::decl(&cfg),
        FiscalView::decl(&cfg),
        StartupFailure::decl(&cfg),
        AuditForm::decl(&cfg),
        AuditView::decl(&cfg),
        AuditRow::decl(&cfg),
        OutageLine::decl(&cfg),
        BusinessForm::decl(&cfg),
        FiscalForm::decl(&cfg),
        PayoutSettingsForm::decl(&cfg),
        PayoutRunLine::decl(&cfg),
        NewPayoutRunForm::decl(&cfg),
        Exported::decl(&cfg),
        ProductForm::decl(&cfg),
        CatalogueAdmin::decl(&cfg),
        StaffMember::decl(&cfg),
        StaffForm::decl(&cfg),
        TerminalInfo::decl(&cfg),
        RejectedLine::decl(&cfg),
        RefusedBand::decl(&cfg),
        EncodingStation::decl(&cfg),
        PassKind::decl(&cfg),
        AllowancePer::decl(&cfg),
        PassBatchForm::decl(&cfg),
        PassBatchLine::decl(&cfg),
        PassesView::decl(&cfg),
        ScannedLine::decl(&cfg),
        ScannedPass::decl(&cfg),
        VoucherCredited::decl(&cfg),
        EncodedBand::decl(&cfg),
        OverdrawnLine::decl(&cfg),
        SyncOverview::decl(&cfg),
        SettingsForm::decl(&cfg),
        SettingsView::decl(&cfg),
        SettingsSaved::decl(&cfg),
    ];
    let mut out = String::from(
        "// Generated from src-tauri/src/view.rs and error.rs by the `bindings_are_current` test.\n// Do not edit: run `TAPSTER_UPDATE_BINDINGS=1 cargo test -p tapster-app bindings`.\n\n",
    );
    for declaration in declarations {
        out.push_str("export ");
        out.push_str(&declaration);
        out.push_str("\n\n");
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn bindings_are_current() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib/bindings.ts");
        let generated = super::typescript();
        if std::env::var_os("TAPSTER_UPDATE_BINDINGS").is_some() {
            std::fs::write(&path, &generated).unwrap();
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "ui/src/lib/bindings.ts is stale: run `TAPSTER_UPDATE_BINDINGS=1 cargo test -p tapster-app bindings`"
        );
    }
}
