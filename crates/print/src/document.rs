//! A receipt laid out for one paper width: lines of text with a style, QR
//! codes, and what the printer should do around them. The same document is
//! sent to a printer ([`crate::escpos`]) or shown as an on-screen preview
//! ([`Receipt::preview`]).

use serde::{Deserialize, Serialize};

use crate::text::{self, CodePage};

/// Thermal paper: 58 mm rolls print 32 columns, 80 mm rolls 48 (font A).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PaperWidth {
    #[serde(rename = "58")]
    Mm58,
    #[default]
    #[serde(rename = "80")]
    Mm80,
}

impl PaperWidth {
    pub fn parse(value: &str) -> Option<PaperWidth> {
        match value.trim_end_matches("mm") {
            "58" => Some(PaperWidth::Mm58),
            "80" => Some(PaperWidth::Mm80),
            _ => None,
        }
    }

    pub fn columns(self) -> usize {
        match self {
            PaperWidth::Mm58 => 32,
            PaperWidth::Mm80 => 48,
        }
    }

    /// QR module size in dots: the code fills about half the paper.
    pub fn qr_module(self) -> u8 {
        match self {
            PaperWidth::Mm58 => 5,
            PaperWidth::Mm80 => 6,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Align {
    #[default]
    Left,
    Centre,
    Right,
}

/// Character size: `Tall` doubles the height and keeps the columns; `Large`
/// doubles both and halves the columns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Size {
    #[default]
    Normal,
    Tall,
    Large,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Style {
    pub align: Align,
    pub bold: bool,
    pub size: Size,
    /// White on black, for what must not be overlooked (cancellations).
    pub inverted: bool,
}

impl Style {
    pub const PLAIN: Style = Style {
        align: Align::Left,
        bold: false,
        size: Size::Normal,
        inverted: false,
    };
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Block {
    /// One printed line, already fitted to the paper's columns.
    Line { text: String, style: Style },
    /// A QR code (model 2, error correction M), centred.
    Qr { payload: String },
    /// Blank lines.
    Feed { lines: u8 },
}

/// A laid-out receipt; build it with [`ReceiptBuilder`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub width: PaperWidth,
    pub code_page: CodePage,
    pub blocks: Vec<Block>,
    /// Open the cash drawer when this receipt prints (cash tender).
    pub open_drawer: bool,
}

impl Receipt {
    /// The receipt as plain text, one line per printed line (QR codes as
    /// `[QR: payload]`): for on-screen previews and tests.
    pub fn preview(&self) -> String {
        let columns = self.width.columns();
        let mut out = String::new();
        for block in &self.blocks {
            match block {
                Block::Line { text, style } => {
                    let width = match style.size {
                        Size::Large => columns / 2,
                        _ => columns,
                    };
                    let line = match style.align {
                        Align::Left => text.clone(),
                        Align::Centre => text::centre(text, width),
                        Align::Right => format!("{text:>width$}"),
                    };
                    out.push_str(line.trim_end());
                    out.push('\n');
                }
                Block::Qr { payload } => {
                    out.push_str(&text::centre(&format!("[QR: {payload}]"), columns));
                    out.push('\n');
                }
                Block::Feed { lines } => {
                    for _ in 0..*lines {
                        out.push('\n');
                    }
                }
            }
        }
        out
    }

    /// The text of every line, without styles: what a test looks for.
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.blocks.iter().filter_map(|block| match block {
            Block::Line { text, .. } => Some(text.as_str()),
            _ => None,
        })
    }
}

/// Lays text out for one paper width and code page, wrapping what is too
/// long, so every line of the result fits.
pub struct ReceiptBuilder {
    receipt: Receipt,
}

impl ReceiptBuilder {
    pub fn new(width: PaperWidth, code_page: CodePage) -> Self {
        ReceiptBuilder {
            receipt: Receipt {
                width,
                code_page,
                blocks: Vec::new(),
                open_drawer: false,
            },
        }
    }

    pub fn columns(&self) -> usize {
        self.receipt.width.columns()
    }

    fn push_line(&mut self, text: String, style: Style) {
        self.receipt.blocks.push(Block::Line { text, style });
    }

    /// Text in `style`, wrapped to the columns its size leaves.
    pub fn text(&mut self, text: &str, style: Style) -> &mut Self {
        let width = match style.size {
            Size::Large => self.columns() / 2,
            _ => self.columns(),
        };
        let clean = text::sanitize(text, self.receipt.code_page);
        for line in text::wrap(&clean, width) {
            self.push_line(line, style);
        }
        self
    }

    pub fn plain(&mut self, text: &str) -> &mut Self {
        self.text(text, Style::PLAIN)
    }

    pub fn centred(&mut self, text: &str) -> &mut Self {
        self.text(
            text,
            Style {
                align: Align::Centre,
                ..Style::PLAIN
            },
        )
    }

    /// A heading: centred, bold, double height.
    pub fn title(&mut self, text: &str) -> &mut Self {
        self.text(
            text,
            Style {
                align: Align::Centre,
                bold: true,
                size: Size::Tall,
                inverted: false,
            },
        )
    }

    /// Each line of a multi-line text (receipt header or footer), centred.
    pub fn paragraph(&mut self, text: &str) -> &mut Self {
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            self.centred(line);
        }
        self
    }

    /// `left` and `right` on one line, `right` flush right.
    pub fn row(&mut self, left: &str, right: &str) -> &mut Self {
        self.row_styled(left, right, Style::PLAIN)
    }

    pub fn row_styled(&mut self, left: &str, right: &str, style: Style) -> &mut Self {
        let width = match style.size {
            Size::Large => self.columns() / 2,
            _ => self.columns(),
        };
        let page = self.receipt.code_page;
        let (left, right) = (text::sanitize(left, page), text::sanitize(right, page));
        for line in text::two_columns(&left, &right, width) {
            self.push_line(line, style);
        }
        self
    }

    fn widths(&self, shares: &[usize]) -> Vec<usize> {
        let columns = self.columns();
        let total: usize = shares.iter().sum::<usize>().max(1);
        let mut widths: Vec<usize> = shares.iter().map(|s| s * columns / total).collect();
        let used: usize = widths.iter().sum();
        if let Some(first) = widths.first_mut() {
            *first += columns - used;
        }
        widths
    }

    /// Whether every cell fits its column with a space before it.
    pub fn table_fits(&self, cells: &[&str], shares: &[usize]) -> bool {
        let widths = self.widths(shares);
        cells
            .iter()
            .zip(&widths)
            .enumerate()
            .all(|(index, (cell, width))| {
                let room = if index == 0 {
                    *width
                } else {
                    width.saturating_sub(1)
                };
                text::columns(cell) <= room
            })
    }

    /// A table row: the first cell left, the others right-aligned, in
    /// widths given as shares of the paper's columns. Check
    /// [`ReceiptBuilder::table_fits`] first: a cell too wide is cut.
    pub fn table(&mut self, cells: &[&str], shares: &[usize]) -> &mut Self {
        let widths = self.widths(shares);
        let page = self.receipt.code_page;
        let cells: Vec<String> = cells.iter().map(|c| text::sanitize(c, page)).collect();
        let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
        let line = text::table_row(&cells, &widths);
        self.push_line(line, Style::PLAIN);
        self
    }

    /// A full-width line of `-` (or `=` for a strong rule).
    pub fn rule(&mut self, strong: bool) -> &mut Self {
        let c = if strong { "=" } else { "-" };
        let line = c.repeat(self.columns());
        self.push_line(line, Style::PLAIN);
        self
    }

    pub fn qr(&mut self, payload: &str) -> &mut Self {
        self.receipt.blocks.push(Block::Qr {
            payload: payload.to_string(),
        });
        self
    }

    pub fn feed(&mut self, lines: u8) -> &mut Self {
        self.receipt.blocks.push(Block::Feed { lines });
        self
    }

    pub fn open_drawer(&mut self, open: bool) -> &mut Self {
        self.receipt.open_drawer = open;
        self
    }

    pub fn build(self) -> Receipt {
        self.receipt
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_fits_the_paper() {
        for width in [PaperWidth::Mm58, PaperWidth::Mm80] {
            let mut b = ReceiptBuilder::new(width, CodePage::Wpc1252);
            b.title("Sommerfest am Donaudampfschifffahrtsgesellschaftskapitänsufer")
                .row(
                    "3 × Ein sehr, sehr langer Produktname mit Zusatz",
                    "1.234,50 €",
                )
                .table(&["19 %", "10,08", "1,92", "12,00"], &[2, 3, 3, 3])
                .rule(true);
            let receipt = b.build();
            for line in receipt.lines() {
                assert!(text::columns(line) <= width.columns(), "{line:?}");
            }
            let preview = receipt.preview();
            assert!(preview.contains("1.234,50 €"));
        }
    }
}
