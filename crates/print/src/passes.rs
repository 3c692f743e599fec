//! Printable QR passes: drink vouchers, discounts and staff allowances that
//! event managers hand out on paper or send as an image.
//!
//! A pass is its code; the QR encodes exactly the code, nothing else, so any
//! scanner (the till's camera, a keyboard-wedge scanner) reads what staff
//! would otherwise type from the text under it. Tapster's own codes
//! (`TAP-…`: upper-case letters, digits, `-`) fit QR's alphanumeric mode,
//! which makes the symbol a version smaller than byte mode; imported codes
//! of other systems are printed in byte mode. Error correction level M
//! survives a crease or a drop of beer (about 15 % of the symbol).
//!
//! - [`pass_png`]: the QR alone, with its quiet zone, as a PNG.
//! - [`pass_sheet_pdf`]: A4 sheets of cards to cut out, 3 × 4 per page: QR
//!   as vector rectangles (sharp at any size), the code as text, title,
//!   subtitle and note.

use printpdf::{
    LineDashPattern, LinePoint, Mm, Op, PaintMode, Point, Polygon, PolygonRing, WindingOrder,
};
use qrcode::bits::Bits;
use qrcode::types::QrError;
use qrcode::{EcLevel, QrCode, Version};
use serde::{Deserialize, Serialize};

use crate::i18n::Language;
use crate::pdf::{black, grey, Align, Canvas, Weight, PAGE_HEIGHT, PAGE_WIDTH};
use crate::PrintError;

/// The longest code a pass may have, in characters.
pub const MAX_CODE_CHARS: usize = 64;
/// The QR's quiet zone in modules, as the QR standard asks.
const QUIET_ZONE: usize = 4;
/// The largest module `pass_png` draws; beyond it the image only gets big.
const MAX_MODULE_PX: u32 = 50;
/// ECI designator for UTF-8, so scanners read non-ASCII codes right.
const ECI_UTF8: u32 = 26;

/// One pass as it is printed on a card.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassPrint {
    /// What the QR encodes and the text under it: `TAP-7Q2M9X4K8C1V5B3N6Z0R2T4W8Y`,
    /// or an imported code (any printable text up to 64 characters).
    pub code: String,
    /// The big line: `Freigetränk`, `10 % Rabatt`, `Crew-Verpflegung`.
    pub title: String,
    /// The line under it: the product, the booth or the holder.
    pub subtitle: String,
    /// A preformatted small line such as the validity window or the value;
    /// may be empty.
    pub note: String,
}

/// The QR symbol of a code: `width` × `width` modules, dark ones `true`.
struct Symbol {
    width: usize,
    dark: Vec<bool>,
}

impl Symbol {
    fn of(code: &str) -> Result<Symbol, PrintError> {
        check_code(code).map_err(PrintError::BadPass)?;
        let qr = encode(code)?;
        let dark = qr
            .to_colors()
            .into_iter()
            .map(|c| c == qrcode::Color::Dark)
            .collect();
        Ok(Symbol {
            width: qr.width(),
            dark,
        })
    }

    fn is_dark(&self, x: usize, y: usize) -> bool {
        self.dark[y * self.width + x]
    }

    /// Each row's dark modules as runs `(row, first column, length)`: one
    /// rectangle per run keeps a card's QR at a few hundred rectangles.
    fn runs(&self) -> Vec<(usize, usize, usize)> {
        let mut runs = Vec::new();
        for y in 0..self.width {
            let mut x = 0;
            while x < self.width {
                if !self.is_dark(x, y) {
                    x += 1;
                    continue;
                }
                let start = x;
                while x < self.width && self.is_dark(x, y) {
                    x += 1;
                }
                runs.push((y, start, x - start));
            }
        }
        runs
    }
}

/// Why a code cannot be printed, in words a manager can act on.
fn check_code(code: &str) -> Result<(), String> {
    let count = code.chars().count();
    if count == 0 {
        return Err("its code is empty".into());
    }
    if count > MAX_CODE_CHARS {
        return Err(format!(
            "its code has {count} characters; at most {MAX_CODE_CHARS} fit"
        ));
    }
    if let Some(position) = code.chars().position(char::is_control) {
        return Err(format!(
            "its code has an invisible control character at position {}",
            position + 1
        ));
    }
    if code.starts_with(char::is_whitespace) || code.ends_with(char::is_whitespace) {
        // Nobody could see the space on paper, so nobody could type it.
        return Err("its code starts or ends with a space".into());
    }
    Ok(())
}

/// Characters of QR's alphanumeric mode (ISO/IEC 18004, table 5).
fn is_alphanumeric(code: &str) -> bool {
    code.bytes().all(|b| {
        matches!(b, b'0'..=b'9' | b'A'..=b'Z' | b' ' | b'$' | b'%' | b'*' | b'+' | b'-' | b'.' | b'/' | b':')
    })
}

/// The smallest symbol at level M: alphanumeric mode when the code allows
/// it, else bytes (UTF-8, announced by ECI when it is not plain ASCII).
fn encode(code: &str) -> Result<QrCode, PrintError> {
    let failed = |e: QrError| PrintError::Render(format!("the QR code could not be made: {e}"));
    for version in 1..=40 {
        let mut bits = Bits::new(Version::Normal(version));
        let pushed = if is_alphanumeric(code) {
            bits.push_alphanumeric_data(code.as_bytes())
        } else if code.is_ascii() {
            bits.push_byte_data(code.as_bytes())
        } else {
            bits.push_eci_designator(ECI_UTF8)
                .and_then(|()| bits.push_byte_data(code.as_bytes()))
        }
        .and_then(|()| bits.push_terminator(EcLevel::M));
        match pushed {
            Ok(()) => return QrCode::with_bits(bits, EcLevel::M).map_err(failed),
            Err(QrError::DataTooLong) => continue,
            Err(e) => return Err(failed(e)),
        }
    }
    Err(failed(QrError::DataTooLong))
}

/// The QR of `code` alone as a PNG: black on white, 1 bit per pixel,
/// `module_px` pixels per module and the 4-module quiet zone around it.
pub fn pass_png(code: &str, module_px: u32) -> Result<Vec<u8>, PrintError> {
    if !(1..=MAX_MODULE_PX).contains(&module_px) {
        return Err(PrintError::BadPass(format!(
            "the QR module size must be 1 to {MAX_MODULE_PX} pixels, not {module_px}"
        )));
    }
    let symbol = Symbol::of(code)?;
    let modules = symbol.width + 2 * QUIET_ZONE;
    let side_px = u32::try_from(modules)
        .ok()
        .and_then(|m| m.checked_mul(module_px))
        .ok_or_else(|| PrintError::Render("the QR image would be too large".into()))?;
    let side = side_px as usize;
    let scale = module_px as usize;
    let row_bytes = side.div_ceil(8);
    // In 1-bit greyscale a set bit is white.
    let mut pixels = vec![0xFF_u8; row_bytes * side];
    for py in 0..side {
        for px in 0..side {
            let (mx, my) = (px / scale, py / scale);
            let inside = (QUIET_ZONE..QUIET_ZONE + symbol.width).contains(&mx)
                && (QUIET_ZONE..QUIET_ZONE + symbol.width).contains(&my);
            if inside && symbol.is_dark(mx - QUIET_ZONE, my - QUIET_ZONE) {
                pixels[py * row_bytes + px / 8] &= !(0x80 >> (px % 8));
            }
        }
    }
    let mut out = Vec::new();
    let failed = |e: png::EncodingError| PrintError::Render(format!("the PNG failed: {e}"));
    let mut encoder = png::Encoder::new(&mut out, side_px, side_px);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    let mut writer = encoder.write_header().map_err(failed)?;
    writer.write_image_data(&pixels).map_err(failed)?;
    writer.finish().map_err(failed)?;
    Ok(out)
}

// The sheet: A4 portrait, 3 × 4 cards between a header and a footer line.
const COLUMNS: usize = 3;
const ROWS: usize = 4;
const PER_PAGE: usize = COLUMNS * ROWS;
const SIDE: f32 = 10.0;
const GRID_TOP: f32 = 21.0;
const GRID_BOTTOM: f32 = 283.0;
const CARD_WIDTH: f32 = (PAGE_WIDTH - 2.0 * SIDE) / COLUMNS as f32;
const CARD_HEIGHT: f32 = (GRID_BOTTOM - GRID_TOP) / ROWS as f32;
/// Room for text inside a card.
const CARD_TEXT_WIDTH: f32 = CARD_WIDTH - 7.0;
/// The room for the QR with its quiet zone, from the card's top.
const QR_TOP: f32 = 1.0;
const QR_SLOT: f32 = 40.0;
/// The symbol (without quiet zone) is never narrower, so phones and till
/// scanners read it at arm's length.
const MIN_SYMBOL: f32 = 25.0;
/// 1/150 inch. Modules and their origin on this grid are whole dots on
/// 300 and 600 dpi printers and whole pixels at 150 dpi: every module
/// prints the same size, with no grey half-dots at its edges.
const DOT: f32 = 25.4 / 150.0;
/// Code text: one size for the whole sheet, the largest at which the codes
/// fit on one line; a code too long even at the smallest wraps.
const CODE_SIZES: [f32; 5] = [9.0, 8.5, 8.0, 7.5, 7.0];
const CODE_WRAP_SIZE: f32 = 7.0;
/// Lines under the QR, in mm from one baseline to the next.
const CODE_LINE: f32 = 2.9;
const TITLE_GAP: f32 = 5.2;
const SUBTITLE_GAP: f32 = 4.6;
const NOTE_GAP: f32 = 4.2;

/// The passes as A4 sheets of cards to cut out, with the event's name and
/// "Seite n von m" on every page. Every code is checked before anything is
/// drawn; an error names the pass by its position.
pub fn pass_sheet_pdf(
    event_name: &str,
    passes: &[PassPrint],
    language: Language,
) -> Result<Vec<u8>, PrintError> {
    let t = language.texts();
    if passes.is_empty() {
        return Err(PrintError::BadPass("no passes were chosen".into()));
    }
    let mut canvas = Canvas::new(&format!("{event_name} · {}", t.passes), event_name, None)?;
    let which = |index: usize, pass: &PassPrint| {
        format!(
            "pass {} of {} (\"{}\")",
            index + 1,
            passes.len(),
            pass.title
        )
    };
    let mut symbols = Vec::with_capacity(passes.len());
    for (index, pass) in passes.iter().enumerate() {
        check_code(&pass.code)
            .map_err(|reason| PrintError::BadPass(format!("{}: {reason}", which(index, pass))))?;
        if !canvas.can_show(&pass.code, Weight::Regular) {
            return Err(PrintError::BadPass(format!(
                "{}: its code has characters the sheet's font cannot show, \
                 so nobody could type it",
                which(index, pass)
            )));
        }
        symbols.push(Symbol::of(&pass.code)?);
    }

    let code_size = CODE_SIZES
        .into_iter()
        .find(|&size| {
            passes.iter().all(|pass| {
                let width = |size| canvas.regular.width(&pass.code, size);
                width(size) <= CARD_TEXT_WIDTH || width(CODE_WRAP_SIZE) > CARD_TEXT_WIDTH
            })
        })
        .unwrap_or(CODE_WRAP_SIZE);

    let pages = passes.len().div_ceil(PER_PAGE);
    for (page, chunk) in passes.chunks(PER_PAGE).enumerate() {
        canvas.new_page();
        page_frame(&mut canvas, event_name, language, page, pages);
        cut_lines(&mut canvas, chunk.len());
        let codes: Vec<(f32, Vec<String>)> = chunk
            .iter()
            .map(|pass| code_lines(&canvas, &pass.code, code_size))
            .collect();
        for (slot, pass) in chunk.iter().enumerate() {
            let left = SIDE + (slot % COLUMNS) as f32 * CARD_WIDTH;
            let top = GRID_TOP + (slot / COLUMNS) as f32 * CARD_HEIGHT;
            let symbol = &symbols[page * PER_PAGE + slot];
            // Titles line up across a row even when one code wraps.
            let row = slot - slot % COLUMNS;
            let code_rows = codes[row..(row + COLUMNS).min(codes.len())]
                .iter()
                .map(|(_, lines)| lines.len())
                .max()
                .unwrap_or(1);
            card(
                &mut canvas,
                (left, top),
                pass,
                symbol,
                &codes[slot],
                code_rows,
            );
        }
    }
    tracing::debug!(passes = passes.len(), pages, "pass sheet drawn");
    canvas.save()
}

fn page_frame(
    canvas: &mut Canvas,
    event_name: &str,
    language: Language,
    page: usize,
    pages: usize,
) {
    let t = language.texts();
    let right = format!("{} · {} {} {} {}", t.passes, t.page, page + 1, t.of, pages);
    let right_width = canvas.regular.width(&right, 9.0);
    let event = canvas.fit(
        event_name,
        13.0,
        PAGE_WIDTH - 2.0 * SIDE - right_width - 6.0,
        Weight::Bold,
    );
    canvas.text_at(SIDE, 15.0, &event, 13.0, Weight::Bold, Align::Left);
    canvas.text_at(
        PAGE_WIDTH - SIDE,
        15.0,
        &right,
        9.0,
        Weight::Regular,
        Align::Right,
    );
    canvas.text_at(
        SIDE,
        GRID_BOTTOM + 5.5,
        t.cut_along_lines,
        7.5,
        Weight::Regular,
        Align::Left,
    );
    canvas.text_at(
        PAGE_WIDTH - SIDE,
        GRID_BOTTOM + 5.5,
        "Tapster",
        7.5,
        Weight::Regular,
        Align::Right,
    );
}

/// Dashed lines around the cards on this page (and only around them, so
/// a last page with two passes has no empty frames).
fn cut_lines(canvas: &mut Canvas, cards: usize) {
    let in_row = |row: usize| cards.saturating_sub(row * COLUMNS).min(COLUMNS);
    let rows = cards.div_ceil(COLUMNS);
    canvas.ops().push(Op::SetLineDashPattern {
        dash: LineDashPattern::new(0.0, &[3.0, 2.0]),
    });
    for boundary in 0..=rows {
        // The row above is at least as full as the row below.
        let width = in_row(boundary.saturating_sub(1)).max(in_row(boundary));
        let top = GRID_TOP + boundary as f32 * CARD_HEIGHT;
        canvas.line(
            (SIDE, top),
            (SIDE + width as f32 * CARD_WIDTH, top),
            0.4,
            grey(0.55),
        );
    }
    for boundary in 0..=COLUMNS {
        let touching = (0..rows)
            .filter(|&row| in_row(row) >= boundary.max(1))
            .count();
        if touching == 0 {
            continue;
        }
        let x = SIDE + boundary as f32 * CARD_WIDTH;
        canvas.line(
            (x, GRID_TOP),
            (x, GRID_TOP + touching as f32 * CARD_HEIGHT),
            0.4,
            grey(0.55),
        );
    }
    canvas.ops().push(Op::SetLineDashPattern {
        dash: LineDashPattern::solid(),
    });
}

/// Module size in dots for a symbol `width` modules wide: as large as the
/// slot allows, but the symbol at least `MIN_SYMBOL` wide.
fn module_dots(width: usize) -> f32 {
    let fits = (QR_SLOT / (width + 2 * QUIET_ZONE) as f32 / DOT).floor();
    let least = (MIN_SYMBOL / width as f32 / DOT).ceil();
    fits.max(least).max(1.0)
}

fn snap(mm: f32) -> f32 {
    (mm / DOT).round() * DOT
}

fn card(
    canvas: &mut Canvas,
    (left, top): (f32, f32),
    pass: &PassPrint,
    symbol: &Symbol,
    (code_size, code_lines): &(f32, Vec<String>),
    code_rows: usize,
) {
    let centre = left + CARD_WIDTH / 2.0;
    let module = module_dots(symbol.width) * DOT;
    let box_side = (symbol.width + 2 * QUIET_ZONE) as f32 * module;
    let box_left = snap(centre - box_side / 2.0);
    let box_top = snap(top + QR_TOP + (QR_SLOT - box_side) / 2.0);
    draw_symbol(canvas, box_left, box_top, module, symbol);

    // The code under the QR, whole: wrapped if need be, never cut.
    let first = top + QR_TOP + QR_SLOT + 2.6;
    for (index, line) in code_lines.iter().enumerate() {
        let baseline = first + index as f32 * CODE_LINE;
        centred(canvas, centre, baseline, line, *code_size, Weight::Regular);
    }
    let mut baseline = first + (code_rows.max(1) - 1) as f32 * CODE_LINE + TITLE_GAP;
    let title_size = [11.5, 10.5, 9.5]
        .into_iter()
        .find(|&size| canvas.bold.width(&pass.title, size) <= CARD_TEXT_WIDTH)
        .unwrap_or(9.5);
    let title = canvas.fit(&pass.title, title_size, CARD_TEXT_WIDTH, Weight::Bold);
    centred(canvas, centre, baseline, &title, title_size, Weight::Bold);
    baseline += SUBTITLE_GAP;
    let subtitle = canvas.fit(&pass.subtitle, 8.5, CARD_TEXT_WIDTH, Weight::Regular);
    centred(canvas, centre, baseline, &subtitle, 8.5, Weight::Regular);
    baseline += NOTE_GAP;
    let note = canvas.fit(&pass.note, 8.0, CARD_TEXT_WIDTH, Weight::Regular);
    canvas.ops().push(Op::SetFillColor { col: grey(0.3) });
    centred(canvas, centre, baseline, &note, 8.0, Weight::Regular);
    canvas.ops().push(Op::SetFillColor { col: black() });
}

/// The code's lines: one at `size` when it fits, else as many as it takes
/// at `CODE_WRAP_SIZE`.
fn code_lines(canvas: &Canvas, code: &str, size: f32) -> (f32, Vec<String>) {
    if canvas.regular.width(code, size) <= CARD_TEXT_WIDTH {
        return (size, vec![code.to_string()]);
    }
    let size = CODE_WRAP_SIZE;
    let mut lines = vec![String::new()];
    for c in code.chars() {
        let line = lines.last_mut().expect("there is always a line");
        line.push(c);
        if canvas.regular.width(line, size) > CARD_TEXT_WIDTH {
            line.pop();
            lines.push(c.to_string());
        }
    }
    (size, lines)
}

fn centred(canvas: &mut Canvas, centre: f32, top: f32, text: &str, size: f32, weight: Weight) {
    if text.is_empty() {
        return;
    }
    let width = canvas.font(weight).width(text, size);
    canvas.text_at(centre - width / 2.0, top, text, size, weight, Align::Left);
}

/// The symbol as one filled path of rectangles, one per run of dark
/// modules in a row; one path so viewers draw no seams between rows.
fn draw_symbol(canvas: &mut Canvas, left: f32, top: f32, module: f32, symbol: &Symbol) {
    let origin_x = left + QUIET_ZONE as f32 * module;
    let origin_top = top + QUIET_ZONE as f32 * module;
    let point = |x: f32, top: f32| LinePoint {
        p: Point::new(Mm(x), Mm(PAGE_HEIGHT - top)),
        bezier: false,
    };
    let rings = symbol
        .runs()
        .into_iter()
        .map(|(row, column, length)| {
            let x0 = origin_x + column as f32 * module;
            let x1 = origin_x + (column + length) as f32 * module;
            let y0 = origin_top + row as f32 * module;
            let y1 = origin_top + (row + 1) as f32 * module;
            PolygonRing {
                points: vec![point(x0, y0), point(x1, y0), point(x1, y1), point(x0, y1)],
            }
        })
        .collect();
    canvas.ops().extend([
        Op::SetFillColor { col: black() },
        Op::DrawPolygon {
            polygon: Polygon {
                rings,
                mode: PaintMode::Fill,
                winding_order: WindingOrder::NonZero,
            },
        },
    ]);
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAP: &str = "TAP-7Q2M9X4K8C1V5B3N6Z0R2T4W8Y";

    /// The PNG read back with the png crate: side length and 8-bit grey.
    fn decode_png(bytes: &[u8]) -> (usize, Vec<u8>) {
        let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        decoder.set_transformations(png::Transformations::EXPAND);
        let mut reader = decoder.read_info().unwrap();
        let info = reader.info();
        assert_eq!(info.color_type, png::ColorType::Grayscale);
        assert_eq!(info.bit_depth, png::BitDepth::One);
        assert_eq!(info.width, info.height);
        let mut buffer = vec![0; reader.output_buffer_size().unwrap()];
        let frame = reader.next_frame(&mut buffer).unwrap();
        assert_eq!(frame.bit_depth, png::BitDepth::Eight);
        buffer.truncate(frame.buffer_size());
        (frame.width as usize, buffer)
    }

    /// Every QR rqrr finds in a PNG: (version, error-correction level, text).
    fn scan(bytes: &[u8]) -> Vec<(usize, u16, String)> {
        let (side, grey) = decode_png(bytes);
        let mut image =
            rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| grey[y * side + x]);
        image
            .detect_grids()
            .into_iter()
            .map(|grid| {
                let (meta, text) = grid.decode().unwrap();
                (meta.version.0, meta.ecc_level, text)
            })
            .collect()
    }

    #[test]
    fn the_png_scans_back_to_the_code() {
        let long = "Partner-Voucher/2026/ab-Z".repeat(3);
        let long = &long[..MAX_CODE_CHARS];
        for (code, module_px) in [
            (TAP, 4),
            ("coupon-7f3a9b", 3),
            ("Gutschein Größe L – 12€", 5),
            (long, 2),
            ("1", 2),
        ] {
            let png = pass_png(code, module_px).unwrap();
            let found = scan(&png);
            assert_eq!(found.len(), 1, "{code}");
            // rqrr reports the format's raw level bits: 0 is M.
            assert_eq!(found[0].1, 0, "{code}: level M");
            assert_eq!(found[0].2, code);
        }
    }

    #[test]
    fn tapster_codes_use_alphanumeric_mode_and_others_bytes() {
        // 30 characters fit version 2-M only in alphanumeric mode (38
        // characters; bytes: 26), so the version tells the mode.
        assert_eq!(scan(&pass_png(TAP, 3).unwrap())[0].0, 2);
        let lower = TAP.to_lowercase();
        let found = scan(&pass_png(&lower, 3).unwrap());
        assert_eq!(found[0].0, 3);
        assert_eq!(found[0].2, lower);
    }

    #[test]
    fn the_png_has_the_quiet_zone_and_the_asked_module_size() {
        // 1 px modules (too small for rqrr to find) and an odd size whose
        // rows do not end on a byte.
        for module_px in [1, 7] {
            pixels_match_the_symbol(TAP, module_px);
            pixels_match_the_symbol("coupon-7f3a9b", module_px);
        }
    }

    fn pixels_match_the_symbol(code: &str, module_px: u32) {
        let symbol = Symbol::of(code).unwrap();
        let (side, grey) = decode_png(&pass_png(code, module_px).unwrap());
        let scale = module_px as usize;
        assert_eq!(side, (symbol.width + 2 * QUIET_ZONE) * scale);
        let quiet = QUIET_ZONE * scale;
        for y in 0..side {
            for x in 0..side {
                let value = grey[y * side + x];
                let in_quiet_zone =
                    x < quiet || y < quiet || x >= side - quiet || y >= side - quiet;
                let expected = if in_quiet_zone {
                    255
                } else if symbol.is_dark(x / scale - QUIET_ZONE, y / scale - QUIET_ZONE) {
                    0
                } else {
                    255
                };
                assert_eq!(value, expected, "pixel {x},{y}");
            }
        }
    }

    #[test]
    fn runs_cover_exactly_the_dark_modules() {
        let symbol = Symbol::of(TAP).unwrap();
        let runs = symbol.runs();
        let mut covered = vec![false; symbol.dark.len()];
        for &(row, column, length) in &runs {
            assert!(length > 0);
            for x in column..column + length {
                assert!(!covered[row * symbol.width + x], "runs overlap");
                covered[row * symbol.width + x] = true;
            }
            // Maximal: the modules left and right of a run are light.
            assert!(column == 0 || !symbol.is_dark(column - 1, row));
            assert!(column + length == symbol.width || !symbol.is_dark(column + length, row));
        }
        assert_eq!(covered, symbol.dark);
        assert!(runs.len() < symbol.dark.iter().filter(|d| **d).count());
    }

    #[test]
    fn unprintable_codes_and_sizes_are_refused() {
        let too_long = "A".repeat(MAX_CODE_CHARS + 1);
        for (code, words) in [
            ("", "empty"),
            (too_long.as_str(), "65 characters"),
            ("TAP-1\n2", "control character at position 6"),
            (" TAP-1", "space"),
            ("TAP-1 ", "space"),
        ] {
            let error = pass_png(code, 4).unwrap_err();
            assert_eq!(error.code(), "bad_pass");
            assert!(error.to_string().contains(words), "{error}");
        }
        assert!(pass_png(&"A".repeat(MAX_CODE_CHARS), 4).is_ok());
        for module_px in [0, MAX_MODULE_PX + 1] {
            assert_eq!(pass_png(TAP, module_px).unwrap_err().code(), "bad_pass");
        }
    }

    #[test]
    fn the_sheet_names_the_pass_it_cannot_print() {
        let pass = |code: &str, title: &str| PassPrint {
            code: code.into(),
            title: title.into(),
            subtitle: String::new(),
            note: String::new(),
        };
        let error = pass_sheet_pdf("Fest", &[], Language::De).unwrap_err();
        assert_eq!(error.code(), "bad_pass");
        let passes = [
            pass(TAP, "Freigetränk"),
            pass("TAP-2", "Freigetränk"),
            pass("TAP-\u{7}", "Crew"),
        ];
        let error = pass_sheet_pdf("Fest", &passes, Language::En).unwrap_err();
        assert!(
            error.to_string().contains("pass 3 of 3 (\"Crew\")"),
            "{error}"
        );
        // A code the font has no glyphs for could not be typed from paper.
        let passes = [pass("TAP-票券", "Ticket")];
        let error = pass_sheet_pdf("Fest", &passes, Language::En).unwrap_err();
        assert!(error.to_string().contains("cannot show"), "{error}");
        assert!(pass_png("TAP-票券", 2).is_ok());
    }

    #[test]
    fn long_codes_wrap_instead_of_being_cut() {
        let canvas = Canvas::new("test", "test", None).unwrap();
        let (_, lines) = code_lines(&canvas, TAP, 8.0);
        assert_eq!(lines, [TAP]);
        // The widest code there can be still fits the card in three lines.
        let wide = "W".repeat(MAX_CODE_CHARS);
        let (size, lines) = code_lines(&canvas, &wide, 9.0);
        assert_eq!(size, CODE_WRAP_SIZE);
        assert_eq!(lines.len(), 3);
        assert_eq!(lines.concat(), wide);
        for line in &lines {
            assert!(canvas.regular.width(line, size) <= CARD_TEXT_WIDTH);
        }
        let last_baseline =
            QR_TOP + QR_SLOT + 2.6 + 2.0 * CODE_LINE + TITLE_GAP + SUBTITLE_GAP + NOTE_GAP;
        assert!(last_baseline + 1.0 < CARD_HEIGHT, "{last_baseline}");
    }

    #[test]
    fn symbols_are_at_least_25_mm_and_fit_their_slot() {
        for code in [
            "TAP-1",
            TAP,
            &"A".repeat(MAX_CODE_CHARS),
            &"ü".repeat(MAX_CODE_CHARS),
        ] {
            let symbol = Symbol::of(code).unwrap();
            let module = module_dots(symbol.width) * DOT;
            let side = symbol.width as f32 * module;
            let with_quiet_zone = (symbol.width + 2 * QUIET_ZONE) as f32 * module;
            assert!(side >= MIN_SYMBOL, "{code}: {side} mm");
            assert!(
                with_quiet_zone <= QR_SLOT + 2.0,
                "{code}: {with_quiet_zone} mm"
            );
        }
    }
}

/// What a pass gives, in a line a guest or a cashier understands:
/// "5,00 € Guthaben", "10 % Rabatt", "3 × pro Tag: beer, water".
pub fn describe_benefit(
    benefit: &tapster_ledger::passes::Benefit,
    language: Language,
    currency: &str,
) -> String {
    describe_benefit_named(benefit, language, currency, |product| product.to_string())
}

/// [`describe_benefit`] with products by their names ("1 × Bier 0,5 l
/// gratis"), where the catalogue is at hand.
pub fn describe_benefit_named(
    benefit: &tapster_ledger::passes::Benefit,
    language: Language,
    currency: &str,
    name: impl Fn(&tapster_ledger::ProductId) -> String,
) -> String {
    use tapster_ledger::passes::{AllowancePeriod, Benefit, Discount};
    let de = language == Language::De;
    match benefit {
        Benefit::Voucher { value } => {
            let amount = language.money(*value, currency);
            if de {
                format!("{amount} Guthaben")
            } else {
                format!("{amount} credit")
            }
        }
        Benefit::Discount {
            discount: Discount::Percent { percent },
        } => {
            if de {
                format!("{percent} % Rabatt")
            } else {
                format!("{percent} % off")
            }
        }
        Benefit::Discount {
            discount: Discount::Amount { amount },
        } => {
            let amount = language.money(*amount, currency);
            if de {
                format!("{amount} Rabatt")
            } else {
                format!("{amount} off")
            }
        }
        Benefit::Discount {
            discount: Discount::FreeProduct { product },
        } => {
            let product = name(product);
            if de {
                format!("1 × {product} gratis")
            } else {
                format!("1 × {product} free")
            }
        }
        Benefit::Allowance {
            count,
            per,
            products,
        } => {
            let list = products.iter().map(&name).collect::<Vec<_>>().join(", ");
            let per = match (per, de) {
                (AllowancePeriod::Day, true) => "pro Tag",
                (AllowancePeriod::Day, false) => "a day",
                (AllowancePeriod::Event, true) => "insgesamt",
                (AllowancePeriod::Event, false) => "in all",
            };
            format!("{count} × {per}: {list}")
        }
    }
}

/// A pass's validity window in the event's time zone: "gültig bis
/// 14.07.2026 06:00" / "valid 2026-07-12 10:00 – 2026-07-14 06:00"; empty
/// when it has none.
pub fn describe_window(
    from: Option<tapster_ledger::Timestamp>,
    until: Option<tapster_ledger::Timestamp>,
    language: Language,
    zone: &jiff::tz::TimeZone,
) -> String {
    let at = |t| language.date_time(t, zone);
    let de = language == Language::De;
    match (from, until) {
        (None, None) => String::new(),
        (Some(from), Some(until)) => {
            format!(
                "{} {} – {}",
                if de { "gültig" } else { "valid" },
                at(from),
                at(until)
            )
        }
        (Some(from), None) => format!(
            "{} {}",
            if de { "gültig ab" } else { "valid from" },
            at(from)
        ),
        (None, Some(until)) => format!(
            "{} {}",
            if de { "gültig bis" } else { "valid until" },
            at(until)
        ),
    }
}

#[cfg(test)]
mod description_tests {
    use super::*;
    use tapster_ledger::passes::{AllowancePeriod, Benefit, Discount};
    use tapster_ledger::{Cents, ProductId, Timestamp};

    #[test]
    fn benefits_and_windows_read_as_a_cashier_says_them() {
        let voucher = Benefit::Voucher { value: Cents(500) };
        assert_eq!(
            describe_benefit(&voucher, Language::De, "EUR").replace('\u{a0}', " "),
            "5,00 € Guthaben"
        );
        assert!(describe_benefit(&voucher, Language::En, "EUR").ends_with("credit"));
        let percent = Benefit::Discount {
            discount: Discount::Percent { percent: 10 },
        };
        assert_eq!(describe_benefit(&percent, Language::En, "EUR"), "10 % off");
        let allowance = Benefit::Allowance {
            count: 3,
            per: AllowancePeriod::Day,
            products: vec![
                ProductId::new("beer").unwrap(),
                ProductId::new("water").unwrap(),
            ],
        };
        assert_eq!(
            describe_benefit(&allowance, Language::De, "EUR"),
            "3 × pro Tag: beer, water"
        );
        let utc = jiff::tz::TimeZone::UTC;
        assert_eq!(describe_window(None, None, Language::De, &utc), "");
        assert_eq!(
            describe_window(None, Some(Timestamp(0)), Language::De, &utc),
            "gültig bis 01.01.1970 00:00"
        );
    }
}
