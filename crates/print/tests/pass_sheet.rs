//! A sheet of QR passes rendered by poppler (`pdftoppm`) the way a printer
//! would, then scanned with `rqrr`: every card's QR reads back as its code,
//! and the code is on the card as text.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use tapster_print::passes::{pass_sheet_pdf, PassPrint, MAX_CODE_CHARS};
use tapster_print::Language;

/// 14 passes: two pages of 12 cards. Tapster codes (alphanumeric mode), an
/// imported lower-case code and one with umlauts and € (byte mode), and
/// the longest code allowed (its text wraps on the card).
fn passes() -> Vec<PassPrint> {
    let symbols = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut passes: Vec<PassPrint> = (0..11u32)
        .map(|n| {
            // Distinct, random-looking Tapster codes: 26 characters after "TAP-".
            let mut state = 0x9E37_79B9_u32.wrapping_mul(n + 1);
            let body: String = (0..26)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    char::from(symbols[(state % 32) as usize])
                })
                .collect();
            PassPrint {
                code: format!("TAP-{body}"),
                title: if n % 3 == 0 {
                    "Freigetränk".into()
                } else {
                    "2 € Rabatt".into()
                },
                subtitle: format!("Bar Nord · Helfer {}", n + 1),
                note: "gültig 12.07. 10:00–14.07. 06:00".into(),
            }
        })
        .collect();
    passes.push(PassPrint {
        code: "coupon-7f3a9b".into(),
        title: "Partner-Gutschein mit einem sehr langen Titel, der nicht passt".into(),
        subtitle: "Brauerei Würzburg".into(),
        note: String::new(),
    });
    passes.push(PassPrint {
        code: "Gutschein Größe L – 12€".into(),
        title: "Crew-Verpflegung".into(),
        subtitle: "Küche".into(),
        note: "1 Mahlzeit pro Tag".into(),
    });
    let long: String = "Ext-Voucher/2026/QmX9-w7Lz".repeat(3);
    passes.push(PassPrint {
        code: long[..MAX_CODE_CHARS].to_string(),
        title: "Importiert".into(),
        subtitle: String::new(),
        note: "valid 12.07.–14.07.".into(),
    });
    passes
}

fn out_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("passes")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(program: &str, args: &[&std::ffi::OsStr]) -> String {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} from poppler-utils (scripts/setup.sh): {e}"));
    assert!(output.status.success(), "{program}: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

/// Renders every page at 150 dpi and returns each page's PNG path, in order.
fn render(pdf: &Path) -> Vec<PathBuf> {
    let dir = pdf.parent().unwrap();
    run(
        "pdftoppm",
        &[
            "-r".as_ref(),
            "150".as_ref(),
            "-png".as_ref(),
            pdf.as_ref(),
            dir.join("page").as_ref(),
        ],
    );
    let mut pages: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "png"))
        .collect();
    pages.sort();
    pages
}

/// A rendered page as 8-bit grey.
struct Page {
    width: usize,
    height: usize,
    grey: Vec<u8>,
}

fn load_page(path: &Path) -> Page {
    let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let mut decoder = png::Decoder::new(file);
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().unwrap();
    let mut buffer = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut buffer).unwrap();
    let channels = match frame.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        other => panic!("unexpected page colour type {other:?}"),
    };
    let grey = buffer[..frame.buffer_size()]
        .chunks(channels)
        .map(|px| match px {
            [r, g, b, ..] => {
                ((299 * u32::from(*r) + 587 * u32::from(*g) + 114 * u32::from(*b)) / 1000) as u8
            }
            [v, ..] => *v,
            [] => unreachable!(),
        })
        .collect();
    Page {
        width: frame.width as usize,
        height: frame.height as usize,
        grey,
    }
}

// Where the sheet puts its cards (`passes.rs`): 3 × 4 between 10 mm side
// margins, from 21 mm to 283 mm below the top edge.
const COLUMNS: usize = 3;
const ROWS: usize = 4;
const CARD_WIDTH: f64 = 190.0 / 3.0;
const CARD_HEIGHT: f64 = 262.0 / 4.0;
const DPI: f64 = 150.0;

/// Every QR code rqrr finds in card `slot` of a page, decoded. Each card
/// is scanned on its own, as it is once cut out: rqrr scanning the whole
/// sheet pairs finder patterns of neighbouring cards (their spacing is
/// nearly square) and loses codes, which is rqrr's limit, not the sheet's.
fn scan_card(page: &Page, slot: usize) -> Vec<String> {
    let px = |mm: f64| (mm * DPI / 25.4).round() as usize;
    let left = px(10.0 + (slot % COLUMNS) as f64 * CARD_WIDTH);
    let top = px(21.0 + (slot / COLUMNS) as f64 * CARD_HEIGHT);
    let right = px(10.0 + (slot % COLUMNS + 1) as f64 * CARD_WIDTH).min(page.width);
    let bottom = px(21.0 + (slot / COLUMNS + 1) as f64 * CARD_HEIGHT).min(page.height);
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(right - left, bottom - top, |x, y| {
            page.grey[(top + y) * page.width + left + x]
        });
    image
        .detect_grids()
        .into_iter()
        .map(|grid| {
            grid.decode()
                .unwrap_or_else(|e| panic!("the QR on card {} does not decode: {e}", slot + 1))
                .1
        })
        .collect()
}

fn sheet(name: &str, passes: &[PassPrint], language: Language) -> PathBuf {
    let bytes = pass_sheet_pdf("Sommerfest Würzburg 2026", passes, language).unwrap();
    let pdf = out_dir(name).join("sheet.pdf");
    std::fs::write(&pdf, bytes).unwrap();
    pdf
}

fn page_count(pdf: &Path) -> usize {
    let info = run("pdfinfo", &[pdf.as_ref()]);
    info.lines()
        .find_map(|line| line.strip_prefix("Pages:"))
        .expect("pdfinfo reports the page count")
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn every_qr_on_the_sheet_scans_back_to_its_code() {
    let passes = passes();
    let pdf = sheet("de", &passes, Language::De);
    assert_eq!(page_count(&pdf), 2);

    let pages = render(&pdf);
    assert_eq!(pages.len(), 2);
    let mut decoded = Vec::new();
    for (page_index, path) in pages.iter().enumerate() {
        let page = load_page(path);
        for slot in 0..COLUMNS * ROWS {
            let found = scan_card(&page, slot);
            // Cards are filled in order; the last page's empty places stay empty.
            let expected: Vec<String> = passes
                .get(page_index * COLUMNS * ROWS + slot)
                .map(|pass| pass.code.clone())
                .into_iter()
                .collect();
            assert_eq!(found, expected, "page {} card {}", page_index + 1, slot + 1);
            decoded.extend(found);
        }
    }
    let decoded: BTreeSet<String> = decoded.into_iter().collect();
    let expected: BTreeSet<String> = passes.iter().map(|p| p.code.clone()).collect();
    assert_eq!(expected.len(), 14, "the test's codes are distinct");
    assert_eq!(decoded, expected);
}

#[test]
fn the_cards_carry_the_code_as_text_and_the_pages_are_numbered() {
    let passes = passes();
    for (language, page_word, of) in [(Language::De, "Seite", "von"), (Language::En, "Page", "of")]
    {
        let pdf = sheet(&format!("{language:?}-text"), &passes, language);
        let text = run(
            "pdftotext",
            &[
                "-enc".as_ref(),
                "UTF-8".as_ref(),
                pdf.as_ref(),
                "-".as_ref(),
            ],
        );
        let pages: Vec<&str> = text
            .split('\u{c}')
            .filter(|p| !p.trim().is_empty())
            .collect();
        assert_eq!(pages.len(), 2);
        for (index, page) in pages.iter().enumerate() {
            assert!(page.contains("Sommerfest Würzburg 2026"), "{page}");
            assert!(
                page.contains(&format!("{page_word} {} {of} 2", index + 1)),
                "{page}"
            );
        }
        // Wrapped codes come back in pieces; without line breaks every code
        // is there whole, so staff can type it when a scanner fails.
        let joined: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        for pass in &passes {
            let code: String = pass.code.chars().filter(|c| !c.is_whitespace()).collect();
            assert!(joined.contains(&code), "{} is not printed", pass.code);
            assert!(text.contains(&pass.subtitle), "{}", pass.subtitle);
            assert!(text.contains(&pass.note), "{}", pass.note);
        }
        assert!(text.contains("Freigetränk") && text.contains("Crew-Verpflegung"));
        // A title too long for the card is cut with an ellipsis, not overprinted.
        assert!(text.contains("Partner-Gutschein mit"));
        assert!(!text.contains("der nicht passt"));
    }
}

#[test]
fn a_thousand_passes_make_eighty_four_pages() {
    let template = &passes()[0];
    let passes: Vec<PassPrint> = (0..1_000)
        .map(|n| PassPrint {
            code: format!("TAP-{n:026}"),
            ..template.clone()
        })
        .collect();
    let pdf = sheet("thousand", &passes, Language::En);
    assert_eq!(page_count(&pdf), 84);
    // The last page holds the last four passes, in order.
    let dir = pdf.parent().unwrap();
    run(
        "pdftoppm",
        &[
            "-r".as_ref(),
            "150".as_ref(),
            "-png".as_ref(),
            "-singlefile".as_ref(),
            "-f".as_ref(),
            "84".as_ref(),
            pdf.as_ref(),
            dir.join("last").as_ref(),
        ],
    );
    let page = load_page(&dir.join("last.png"));
    for slot in 0..COLUMNS * ROWS {
        let expected: Vec<String> = passes
            .get(83 * COLUMNS * ROWS + slot)
            .map(|pass| pass.code.clone())
            .into_iter()
            .collect();
        assert_eq!(scan_card(&page, slot), expected, "card {}", slot + 1);
    }
    // Vector QR codes, merged into runs and compressed: about 2 kB a pass.
    let size = std::fs::metadata(&pdf).unwrap().len();
    assert!(size < 3_000_000, "{size} bytes");
}
