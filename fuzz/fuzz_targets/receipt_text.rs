//! Any text on a receipt, for either paper width and code page: laid out
//! and rendered to ESC/POS without a panic; every laid-out line fits the
//! paper, and every character sent is one the printer's code page has.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tapster_print::document::ReceiptBuilder;
use tapster_print::text::{columns, sanitize, wrap};
use tapster_print::{CodePage, PaperWidth};

fuzz_target!(|text: &str| {
    for width in [PaperWidth::Mm58, PaperWidth::Mm80] {
        for page in [CodePage::Wpc1252, CodePage::Ascii] {
            let clean = sanitize(text, page);
            assert!(
                clean.chars().all(|c| page.can_print(c) || c == '\n'),
                "{clean:?}"
            );
            for line in wrap(&clean, width.columns()) {
                assert!(columns(&line) <= width.columns(), "{line:?}");
            }
            let mut receipt = ReceiptBuilder::new(width, page);
            receipt
                .title(text)
                .paragraph(text)
                .row(text, text)
                .centred(text);
            let receipt = receipt.build();
            for line in receipt.lines() {
                assert!(columns(line) <= width.columns(), "{line:?}");
            }
            tapster_print::escpos::render(&receipt).expect("any text renders");
        }
    }
});
