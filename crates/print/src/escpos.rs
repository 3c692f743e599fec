//! A [`Receipt`] as ESC/POS bytes, written with the `escpos` crate.
//!
//! Rendering only produces bytes; sending them is [`crate::printer`]'s job,
//! so a receipt is rendered (and can fail) before any printer is involved.

use std::cell::RefCell;
use std::rc::Rc;

use escpos::driver::Driver;
use escpos::printer::Printer;
use escpos::printer_options::PrinterOptions;
use escpos::utils::{
    JustifyMode, PageCode, Protocol, QRCodeCorrectionLevel, QRCodeModel, QRCodeOption,
};

use crate::document::{Align, Block, Receipt, Size, Style};
use crate::text::CodePage;
use crate::PrintError;

/// `ESC p 0 25 250`: a 50 ms pulse on drawer pin 2, then 500 ms off. The
/// `escpos` crate's own drawer command leaves out the two timing bytes, so a
/// printer would take the next two bytes of the receipt for them.
pub const DRAWER_KICK: &[u8] = &[0x1B, b'p', 0, 25, 250];

/// Collects what the `escpos` printer writes.
#[derive(Clone, Default)]
struct Buffer(Rc<RefCell<Vec<u8>>>);

impl Driver for Buffer {
    fn name(&self) -> String {
        "buffer".into()
    }

    fn write(&self, data: &[u8]) -> escpos::errors::Result<()> {
        self.0.borrow_mut().extend_from_slice(data);
        Ok(())
    }

    fn read(&self, _buf: &mut [u8]) -> escpos::errors::Result<usize> {
        Ok(0)
    }

    fn flush(&self) -> escpos::errors::Result<()> {
        Ok(())
    }
}

fn page_code(page: CodePage) -> Option<PageCode> {
    match page {
        CodePage::Wpc1252 => Some(PageCode::WPC1252),
        // Plain ASCII prints the same on every table: leave the printer's.
        CodePage::Ascii => None,
    }
}

fn justify(align: Align) -> JustifyMode {
    match align {
        Align::Left => JustifyMode::LEFT,
        Align::Centre => JustifyMode::CENTER,
        Align::Right => JustifyMode::RIGHT,
    }
}

fn scale(size: Size) -> (u8, u8) {
    match size {
        Size::Normal => (1, 1),
        Size::Tall => (1, 2),
        Size::Large => (2, 2),
    }
}

fn failed(error: escpos::errors::PrinterError) -> PrintError {
    PrintError::Render(error.to_string())
}

/// The receipt as the bytes an ESC/POS printer expects: initialise, select
/// the code page, the lines with their styles, QR codes, feed and cut. The
/// drawer pulse comes first when asked for, so the drawer opens while the
/// receipt prints.
pub fn render(receipt: &Receipt) -> Result<Vec<u8>, PrintError> {
    let buffer = Buffer::default();
    let options = PrinterOptions::new(
        page_code(receipt.code_page),
        None,
        u8::try_from(receipt.width.columns()).unwrap_or(48),
    );
    let mut printer = Printer::new(buffer.clone(), Protocol::default(), Some(options));
    printer.init().map_err(failed)?;
    if receipt.open_drawer {
        printer.custom(DRAWER_KICK).map_err(failed)?;
    }
    let mut current = Style::PLAIN;
    for block in &receipt.blocks {
        match block {
            Block::Line { text, style } => {
                if style.align != current.align {
                    printer.justify(justify(style.align)).map_err(failed)?;
                }
                if style.bold != current.bold {
                    printer.bold(style.bold).map_err(failed)?;
                }
                if style.size != current.size {
                    let (w, h) = scale(style.size);
                    printer.size(w, h).map_err(failed)?;
                }
                if style.inverted != current.inverted {
                    printer.reverse(style.inverted).map_err(failed)?;
                }
                current = *style;
                // Laid-out text is already clean; a receipt built by hand may
                // not be: never let raw UTF-8 or control bytes through.
                let clean = crate::text::printable(text, receipt.code_page);
                printer.write(&clean).map_err(failed)?;
                printer.custom(b"\n").map_err(failed)?;
            }
            Block::Qr { payload } => {
                if current.align != Align::Centre {
                    printer.justify(JustifyMode::CENTER).map_err(failed)?;
                    current.align = Align::Centre;
                }
                let option = QRCodeOption::new(
                    QRCodeModel::Model2,
                    receipt.width.qr_module(),
                    QRCodeCorrectionLevel::M,
                );
                printer.qrcode_option(payload, option).map_err(failed)?;
            }
            Block::Feed { lines } => {
                printer.feeds(*lines).map_err(failed)?;
            }
        }
    }
    printer
        .reset_size()
        .and_then(|p| p.bold(false))
        .and_then(|p| p.reverse(false))
        .and_then(|p| p.justify(JustifyMode::LEFT))
        .and_then(|p| p.feeds(4))
        .and_then(|p| p.print_cut())
        .map_err(failed)?;
    drop(printer);
    let bytes = buffer.0.take();
    Ok(bytes)
}

/// The bytes that only open the cash drawer, without printing anything.
pub fn drawer_kick() -> Vec<u8> {
    DRAWER_KICK.to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{PaperWidth, ReceiptBuilder};

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn euro_and_umlauts_go_out_as_windows_1252_bytes() {
        let mut b = ReceiptBuilder::new(PaperWidth::Mm58, CodePage::Wpc1252);
        b.plain("Weißwein für Jörg: 4,50 € - ok");
        let bytes = render(&b.build()).unwrap();
        assert!(contains(&bytes, &[0x1B, b't', 16]), "selects WPC1252");
        assert!(contains(
            &bytes,
            b"Wei\xDFwein f\xFCr J\xF6rg: 4,50 \x80 - ok\n"
        ));
        // No UTF-8 sequence of €, ß, ü or ö anywhere.
        for utf8 in ["€", "ß", "ü", "ö"] {
            assert!(!contains(&bytes, utf8.as_bytes()), "{utf8} sent as UTF-8");
        }
        assert!(bytes.ends_with(&[0x1D, b'V', b'A', 0]), "ends with a cut");
    }

    #[test]
    fn the_drawer_pulse_has_its_timing_bytes_and_comes_first() {
        let mut b = ReceiptBuilder::new(PaperWidth::Mm80, CodePage::Wpc1252);
        b.plain("Bar").open_drawer(true);
        let bytes = render(&b.build()).unwrap();
        let kick = bytes.windows(5).position(|w| w == DRAWER_KICK).unwrap();
        let text = bytes.windows(3).position(|w| w == b"Bar").unwrap();
        assert!(kick < text);
        let mut b = ReceiptBuilder::new(PaperWidth::Mm80, CodePage::Wpc1252);
        b.plain("Karte");
        assert!(!contains(&render(&b.build()).unwrap(), &[0x1B, b'p']));
    }

    #[test]
    fn qr_codes_carry_their_payload() {
        let mut b = ReceiptBuilder::new(PaperWidth::Mm80, CodePage::Wpc1252);
        b.qr("0192f3a4-entry");
        let bytes = render(&b.build()).unwrap();
        assert!(contains(&bytes, b"0192f3a4-entry"));
        assert!(contains(&bytes, &[0x1D, b'(', b'k']));
    }
}
