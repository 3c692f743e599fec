//! Sales reports and Z reports as A4 PDFs, with the fonts embedded so €
//! and umlauts look the same in every viewer and printer.
//!
//! A small flow layout: blocks are placed top-down and a new page starts
//! when one does not fit; page numbers are written once the page count is
//! known. Amounts come from the ledger's report as they are, so the PDF's
//! totals are the ledger's.

use jiff::tz::TimeZone;
use printpdf::{
    Color, FontId, Line, LinePoint, Mm, Op, PaintMode, ParsedFont, PdfDocument, PdfFontHandle,
    PdfPage, PdfSaveOptions, Point, Pt, Rect, Rgb, TextItem, WindingOrder,
};
use tapster_ledger::settlement::{Settlement, VendorLine};
use tapster_ledger::store::{AmountRow, SalesReport, ZReport};
use tapster_ledger::{Cents, Timestamp};

use crate::i18n::{Language, Texts};
use crate::layouts::{category_name, kind_or_tender_label};
use crate::PrintError;

const REGULAR_TTF: &[u8] = include_bytes!("../fonts/DejaVuSans-Latin.ttf");
const BOLD_TTF: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold-Latin.ttf");

/// A4 portrait, in mm.
pub(crate) const PAGE_WIDTH: f32 = 210.0;
pub(crate) const PAGE_HEIGHT: f32 = 297.0;
const MARGIN: f32 = 18.0;
const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;
/// Below this the footer lives.
const BOTTOM: f32 = 20.0;
const BODY_SIZE: f32 = 9.5;
const ROW_HEIGHT: f32 = 5.2;
const CHART_HEIGHT: f32 = 55.0;

/// What a report says about itself in its heading.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportHeading {
    pub event_name: String,
    pub currency: String,
    pub generated_at: Timestamp,
    /// The filter in words, e.g. `("Kasse", "Bar Nord")`, after the period.
    pub filter: Vec<(String, String)>,
    pub language: Language,
    pub time_zone: TimeZone,
}

pub(crate) fn black() -> Color {
    Color::Rgb(Rgb::new(0.0, 0.0, 0.0, None))
}

pub(crate) fn grey(level: f32) -> Color {
    Color::Rgb(Rgb::new(level, level, level, None))
}

fn accent() -> Color {
    Color::Rgb(Rgb::new(0.85, 0.55, 0.12, None))
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Weight {
    Regular,
    Bold,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Right,
}

pub(crate) struct Font {
    id: FontId,
    parsed: ParsedFont,
}

impl Font {
    fn load(doc: &mut PdfDocument, bytes: &[u8], name: &str) -> Result<Font, PrintError> {
        let mut warnings = Vec::new();
        let mut parsed = ParsedFont::from_bytes(bytes, 0, &mut warnings)
            .ok_or_else(|| PrintError::Report(format!("the embedded font {name} is damaged")))?;
        parsed.font_name = Some(name.to_string());
        let id = doc.add_font(&parsed);
        Ok(Font { id, parsed })
    }

    /// Width in mm of `text` at `size` pt, as the viewer will advance it.
    pub(crate) fn width(&self, text: &str, size: f32) -> f32 {
        let units = f32::from(self.parsed.units_per_em.max(1));
        let thousandths: f32 = text
            .chars()
            .map(|c| {
                let width = self
                    .parsed
                    .lookup_glyph_index(u32::from(c))
                    .and_then(|g| self.parsed.get_glyph_width(g))
                    .unwrap_or(0);
                // The PDF's width table truncates to whole thousandths.
                (f32::from(width) * 1000.0 / units).trunc()
            })
            .sum();
        Pt(thousandths * size / 1000.0).into_mm()
    }
}

trait IntoMm {
    fn into_mm(self) -> f32;
}

impl IntoMm for Pt {
    fn into_mm(self) -> f32 {
        self.0 / 2.834_646
    }
}

/// A table column: title, width in mm, alignment.
pub(crate) struct Column<'a> {
    pub title: &'a str,
    pub width: f32,
    pub align: Align,
}

/// A PDF being drawn: the document, its embedded fonts and the pages so
/// far. Every PDF Tapster makes (reports, pass sheets) draws through this,
/// in mm measured from the page's top-left corner, on A4 portrait.
pub(crate) struct Canvas {
    doc: PdfDocument,
    pub(crate) regular: Font,
    pub(crate) bold: Font,
    pages: Vec<Vec<Op>>,
}

impl Canvas {
    /// A document with the fonts loaded and no pages yet. `created` is the
    /// creation date in its metadata; without it the output depends only on
    /// what is drawn.
    pub(crate) fn new(
        title: &str,
        author: &str,
        created: Option<Timestamp>,
    ) -> Result<Canvas, PrintError> {
        let mut doc = PdfDocument::new(title);
        doc.metadata.info.author = author.to_string();
        doc.metadata.info.creator = "Tapster".into();
        doc.metadata.info.producer = "Tapster".into();
        doc.metadata.info.subject = title.to_string();
        if let Some(Ok(at)) = created.map(|at| jiff::Timestamp::from_millisecond(at.0)) {
            if let Ok(date) = printpdf::DateTime::from_unix_timestamp(at.as_second()) {
                doc.metadata.info.creation_date = date;
                doc.metadata.info.modification_date = date;
            }
        }
        let regular = Font::load(&mut doc, REGULAR_TTF, "DejaVuSans")?;
        let bold = Font::load(&mut doc, BOLD_TTF, "DejaVuSans-Bold")?;
        Ok(Canvas {
            doc,
            regular,
            bold,
            pages: Vec::new(),
        })
    }

    pub(crate) fn new_page(&mut self) {
        self.pages.push(Vec::new());
    }

    pub(crate) fn ops(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.new_page();
        }
        self.pages.last_mut().expect("a page was just opened")
    }

    pub(crate) fn font(&self, weight: Weight) -> &Font {
        match weight {
            Weight::Regular => &self.regular,
            Weight::Bold => &self.bold,
        }
    }

    /// Whether the embedded font can show every character of `text`.
    pub(crate) fn can_show(&self, text: &str, weight: Weight) -> bool {
        let font = &self.font(weight).parsed;
        text.chars().all(|c| {
            c == ' '
                || font
                    .lookup_glyph_index(u32::from(c))
                    .is_some_and(|g| g != 0)
        })
    }

    /// Text with its baseline `top` mm below the page's top edge.
    pub(crate) fn text_at(
        &mut self,
        x: f32,
        top: f32,
        text: &str,
        size: f32,
        weight: Weight,
        align: Align,
    ) {
        let font = self.font(weight);
        let x = match align {
            Align::Left => x,
            Align::Right => x - font.width(text, size),
        };
        let handle = PdfFontHandle::External(font.id.clone());
        self.ops().extend([
            Op::StartTextSection,
            Op::SetFont {
                font: handle,
                size: Pt(size),
            },
            Op::SetTextCursor {
                pos: Point::new(Mm(x), Mm(PAGE_HEIGHT - top)),
            },
            Op::ShowText {
                items: vec![TextItem::Text(text.to_string())],
            },
            Op::EndTextSection,
        ]);
    }

    /// Cuts `text` with an ellipsis so it fits `width` mm in `weight`.
    pub(crate) fn fit(&self, text: &str, size: f32, width: f32, weight: Weight) -> String {
        let font = self.font(weight);
        if font.width(text, size) <= width {
            return text.to_string();
        }
        let mut cut: String = text.to_string();
        while !cut.is_empty() && font.width(&format!("{cut}…"), size) > width {
            cut.pop();
        }
        format!("{cut}…")
    }

    pub(crate) fn rectangle(&mut self, x: f32, top: f32, width: f32, height: f32, colour: Color) {
        self.ops().extend([
            Op::SetFillColor { col: colour },
            Op::DrawRectangle {
                rectangle: Rect {
                    x: Mm(x).into(),
                    y: Mm(PAGE_HEIGHT - top - height).into(),
                    width: Mm(width).into(),
                    height: Mm(height).into(),
                    mode: Some(PaintMode::Fill),
                    winding_order: Some(WindingOrder::NonZero),
                },
            },
            Op::SetFillColor { col: black() },
        ]);
    }

    /// A straight line from `from` to `to` (x, top in mm).
    pub(crate) fn line(&mut self, from: (f32, f32), to: (f32, f32), thickness: f32, colour: Color) {
        let point = |(x, top): (f32, f32)| LinePoint {
            p: Point::new(Mm(x), Mm(PAGE_HEIGHT - top)),
            bezier: false,
        };
        self.ops().extend([
            Op::SetOutlineColor { col: colour },
            Op::SetOutlineThickness { pt: Pt(thickness) },
            Op::DrawLine {
                line: Line {
                    points: vec![point(from), point(to)],
                    is_closed: false,
                },
            },
        ]);
    }

    /// Draws on every page once the page count is known (page numbers):
    /// `draw(canvas, index, count)` with that page open.
    pub(crate) fn on_every_page(&mut self, mut draw: impl FnMut(&mut Canvas, usize, usize)) {
        let count = self.pages.len();
        let pages = std::mem::take(&mut self.pages);
        let mut done = Vec::with_capacity(count);
        for (index, ops) in pages.into_iter().enumerate() {
            self.pages.push(ops);
            draw(self, index, count);
            done.extend(self.pages.pop());
        }
        self.pages = done;
    }

    /// The finished PDF.
    pub(crate) fn save(mut self) -> Result<Vec<u8>, PrintError> {
        let pages = self
            .pages
            .into_iter()
            .map(|ops| PdfPage::new(Mm(PAGE_WIDTH), Mm(PAGE_HEIGHT), ops))
            .collect();
        let mut warnings = Vec::new();
        let options = PdfSaveOptions {
            optimize: true,
            subset_fonts: false,
            secure: true,
            image_optimization: None,
        };
        let bytes = self.doc.with_pages(pages).save(&options, &mut warnings);
        if let Some(problem) = warnings
            .iter()
            .find(|w| matches!(w.severity, printpdf::PdfParseErrorSeverity::Error))
        {
            return Err(PrintError::Report(problem.msg.clone()));
        }
        Ok(bytes)
    }
}

struct Layout {
    canvas: Canvas,
    /// Distance from the top of the page, in mm.
    y: f32,
    heading: ReportHeading,
    title: String,
}

impl Layout {
    fn new(title: &str, heading: ReportHeading) -> Result<Layout, PrintError> {
        let canvas = Canvas::new(title, &heading.event_name, Some(heading.generated_at))?;
        let mut layout = Layout {
            canvas,
            y: 0.0,
            heading,
            title: title.to_string(),
        };
        layout.new_page();
        Ok(layout)
    }

    fn texts(&self) -> &'static Texts {
        self.heading.language.texts()
    }

    fn money(&self, amount: Cents) -> String {
        self.heading.language.money(amount, &self.heading.currency)
    }

    fn when(&self, at: Timestamp) -> String {
        self.heading.language.date_time(at, &self.heading.time_zone)
    }

    fn new_page(&mut self) {
        self.canvas.new_page();
        self.y = MARGIN;
        let title = format!("{} · {}", self.heading.event_name, self.title);
        self.text_at(
            MARGIN,
            self.y + 4.0,
            &title,
            8.0,
            Weight::Regular,
            Align::Left,
        );
        self.y += 9.0;
    }

    /// Starts a new page unless `height` mm still fit on this one.
    fn ensure(&mut self, height: f32) {
        if self.y + height > PAGE_HEIGHT - BOTTOM {
            self.new_page();
        }
    }

    fn text_at(&mut self, x: f32, top: f32, text: &str, size: f32, weight: Weight, align: Align) {
        self.canvas.text_at(x, top, text, size, weight, align);
    }

    fn fit(&self, text: &str, size: f32, width: f32, weight: Weight) -> String {
        self.canvas.fit(text, size, width, weight)
    }

    /// Text cut to fit between `x` and the right margin.
    fn text_fitted(&mut self, x: f32, top: f32, text: &str, size: f32, weight: Weight) {
        let fitted = self.fit(text, size, PAGE_WIDTH - MARGIN - x, weight);
        self.text_at(x, top, &fitted, size, weight, Align::Left);
    }

    fn rectangle(&mut self, x: f32, top: f32, width: f32, height: f32, colour: Color) {
        self.canvas.rectangle(x, top, width, height, colour);
    }

    fn rule(&mut self, top: f32, thickness: f32) {
        self.canvas.line(
            (MARGIN, top),
            (PAGE_WIDTH - MARGIN, top),
            thickness,
            grey(0.6),
        );
    }

    fn heading_block(&mut self, title: &str, period: (Option<Timestamp>, Option<Timestamp>)) {
        let t = self.texts();
        self.y += 6.0;
        self.text_fitted(MARGIN, self.y, title, 18.0, Weight::Bold);
        self.y += 8.0;
        let event = self.heading.event_name.clone();
        self.text_fitted(MARGIN, self.y, &event, 11.0, Weight::Regular);
        self.y += 7.0;
        let period_text = match period {
            (None, None) => t.whole_event.to_string(),
            (from, until) => format!(
                "{} {} {}",
                from.map_or_else(|| "…".to_string(), |at| self.when(at)),
                t.until,
                until.map_or_else(|| "…".to_string(), |at| self.when(at)),
            ),
        };
        let mut facts = vec![(t.period.to_string(), period_text)];
        facts.extend(self.heading.filter.iter().cloned());
        facts.push((t.printed.to_string(), self.when(self.heading.generated_at)));
        for (label, value) in facts {
            self.text_at(
                MARGIN,
                self.y,
                &format!("{label}:"),
                BODY_SIZE,
                Weight::Bold,
                Align::Left,
            );
            self.text_at(
                MARGIN + 32.0,
                self.y,
                &value,
                BODY_SIZE,
                Weight::Regular,
                Align::Left,
            );
            self.y += ROW_HEIGHT;
        }
        self.y += 2.0;
        self.rule(self.y, 0.8);
        self.y += 6.0;
    }

    /// A section's title, on the page where `content` mm of what follows
    /// still fit (a title never ends a page alone).
    fn section_title_with(&mut self, title: &str, content: f32) {
        self.ensure(7.0 + content);
        self.y += 4.0;
        self.text_at(MARGIN, self.y, title, 12.0, Weight::Bold, Align::Left);
        self.y += 3.0;
    }

    fn section_title(&mut self, title: &str) {
        self.ensure(7.0 + 3.0 * ROW_HEIGHT + 1.0);
        self.y += 4.0;
        self.text_at(MARGIN, self.y, title, 12.0, Weight::Bold, Align::Left);
        self.y += 3.0;
    }

    /// Big figures side by side: label above, value below.
    fn key_figures(&mut self, figures: &[(String, String)]) {
        self.ensure(18.0);
        let width = CONTENT_WIDTH / figures.len().max(1) as f32;
        self.rectangle(MARGIN, self.y, CONTENT_WIDTH, 16.0, grey(0.93));
        for (index, (label, value)) in figures.iter().enumerate() {
            let x = MARGIN + 3.0 + index as f32 * width;
            let label = self.fit(label, 8.5, width - 5.0, Weight::Regular);
            self.text_at(x, self.y + 5.5, &label, 8.5, Weight::Regular, Align::Left);
            // Big sums get a smaller size before they are cut.
            let size = if self.canvas.bold.width(value, 13.0) > width - 5.0 {
                10.0
            } else {
                13.0
            };
            let value = self.fit(value, size, width - 5.0, Weight::Bold);
            self.text_at(x, self.y + 12.5, &value, size, Weight::Bold, Align::Left);
        }
        self.y += 20.0;
    }

    /// A table with a shaded header row; repeats the header on a new page.
    fn table(&mut self, columns: &[Column<'_>], rows: &[Vec<String>], total: Option<Vec<String>>) {
        let header = |layout: &mut Layout| {
            layout.rectangle(
                MARGIN,
                layout.y,
                CONTENT_WIDTH,
                ROW_HEIGHT + 1.0,
                grey(0.85),
            );
            let mut x = MARGIN;
            for column in columns {
                let (at, align) = match column.align {
                    Align::Left => (x + 1.5, Align::Left),
                    Align::Right => (x + column.width - 1.5, Align::Right),
                };
                layout.text_at(at, layout.y + 4.3, column.title, 8.5, Weight::Bold, align);
                x += column.width;
            }
            layout.y += ROW_HEIGHT + 1.0;
        };
        self.ensure(3.0 * ROW_HEIGHT);
        header(self);
        let all = rows
            .iter()
            .map(|r| (r, Weight::Regular))
            .chain(total.iter().map(|r| (r, Weight::Bold)));
        for (index, (row, weight)) in all.enumerate() {
            if self.y + ROW_HEIGHT > PAGE_HEIGHT - BOTTOM {
                self.new_page();
                header(self);
            }
            if weight == Weight::Bold {
                self.rule(self.y + 0.2, 0.6);
            } else if index % 2 == 1 {
                self.rectangle(MARGIN, self.y, CONTENT_WIDTH, ROW_HEIGHT, grey(0.96));
            }
            let mut x = MARGIN;
            for (column, cell) in columns.iter().zip(row) {
                let cell = self.fit(cell, BODY_SIZE, column.width - 3.0, weight);
                let (at, align) = match column.align {
                    Align::Left => (x + 1.5, Align::Left),
                    Align::Right => (x + column.width - 1.5, Align::Right),
                };
                self.text_at(at, self.y + 3.9, &cell, BODY_SIZE, weight, align);
                x += column.width;
            }
            self.y += ROW_HEIGHT;
        }
        self.y += 3.0;
    }

    /// Gross revenue per hour as bars, with the hour under each bar and the
    /// largest value on the axis.
    fn bar_chart(&mut self, bars: &[(String, Cents)]) {
        let height = CHART_HEIGHT;
        self.ensure(height + 14.0);
        let top = self.y + 2.0;
        let chart_left = MARGIN + 22.0;
        let chart_width = CONTENT_WIDTH - 22.0;
        let base = top + height;
        let max = bars.iter().map(|(_, v)| v.0).max().unwrap_or(0).max(1);
        let max_label = self
            .heading
            .language
            .money(Cents(max), &self.heading.currency);
        self.text_at(
            chart_left - 2.0,
            top + 3.0,
            &max_label,
            7.5,
            Weight::Regular,
            Align::Right,
        );
        self.text_at(
            chart_left - 2.0,
            base,
            "0",
            7.5,
            Weight::Regular,
            Align::Right,
        );
        // Grid lines at the top and the base.
        for at in [top, base] {
            self.canvas.line(
                (chart_left, at),
                (chart_left + chart_width, at),
                0.4,
                grey(0.75),
            );
        }
        let slot = chart_width / bars.len().max(1) as f32;
        let bar_width = (slot * 0.7).min(14.0);
        // Label every bar when the labels fit, else every n-th.
        let widest = bars
            .iter()
            .map(|(label, _)| self.canvas.regular.width(label, 7.5))
            .fold(0.0f32, f32::max);
        let label_every = (((widest + 2.0) / slot).ceil() as usize).max(1);
        for (index, (label, value)) in bars.iter().enumerate() {
            let x = chart_left + index as f32 * slot + (slot - bar_width) / 2.0;
            // Ratio of two integer amounts; only the bar's drawn height is a float.
            let bar_height = height * (value.0.max(0) as f32 / max as f32);
            if bar_height > 0.0 {
                self.rectangle(x, base - bar_height, bar_width, bar_height, accent());
            }
            if index % label_every == 0 {
                let centre = x + bar_width / 2.0;
                let width = self.canvas.regular.width(label, 7.5);
                self.text_at(
                    centre - width / 2.0,
                    base + 4.0,
                    label,
                    7.5,
                    Weight::Regular,
                    Align::Left,
                );
            }
        }
        self.y = base + 9.0;
    }

    fn amount_table(&mut self, title: &str, rows: &[AmountRow], first: &str) {
        if rows.is_empty() {
            return;
        }
        let t = self.texts();
        self.section_title(title);
        let body: Vec<Vec<String>> = rows
            .iter()
            .map(|row| {
                vec![
                    kind_or_tender_label(t, &row.key, &row.label),
                    self.heading.language.count(row.count),
                    self.money(row.amount),
                ]
            })
            .collect();
        let columns = [
            Column {
                title: first,
                width: CONTENT_WIDTH - 70.0,
                align: Align::Left,
            },
            Column {
                title: t.count,
                width: 30.0,
                align: Align::Right,
            },
            Column {
                title: t.amount,
                width: 40.0,
                align: Align::Right,
            },
        ];
        self.table(&columns, &body, None);
    }

    fn finish(mut self) -> Result<Vec<u8>, PrintError> {
        let t = self.texts();
        let generated = self.when(self.heading.generated_at);
        self.canvas.on_every_page(|canvas, index, count| {
            canvas.line(
                (MARGIN, PAGE_HEIGHT - 14.0),
                (PAGE_WIDTH - MARGIN, PAGE_HEIGHT - 14.0),
                0.4,
                grey(0.6),
            );
            let footer = format!("{} {} {} {}", t.page, index + 1, t.of, count);
            let left = format!("Tapster · {} {generated}", t.printed);
            canvas.text_at(
                MARGIN,
                PAGE_HEIGHT - 9.5,
                &left,
                8.0,
                Weight::Regular,
                Align::Left,
            );
            canvas.text_at(
                PAGE_WIDTH - MARGIN,
                PAGE_HEIGHT - 9.5,
                &footer,
                8.0,
                Weight::Regular,
                Align::Right,
            );
        });
        self.canvas.save()
    }
}

/// Every table of a sales report, in the order a manager reads them.
fn sales_sections(layout: &mut Layout, report: &SalesReport) {
    let t = layout.texts();
    layout.key_figures(&[
        (
            t.sales.to_string(),
            layout.heading.language.count(report.sales_count),
        ),
        (
            format!("{} ({})", t.revenue, t.gross),
            layout.money(report.revenue),
        ),
        (t.net.to_string(), layout.money(report.revenue_net)),
        (t.vat.to_string(), layout.money(report.vat_total)),
    ]);

    layout.section_title(t.vat);
    let rows: Vec<Vec<String>> = report
        .by_vat_rate
        .iter()
        .map(|row| {
            vec![
                layout.heading.language.vat_rate(row.rate),
                layout.money(row.net),
                layout.money(row.vat),
                layout.money(row.gross),
            ]
        })
        .collect();
    let total = vec![
        t.total.to_string(),
        layout.money(report.revenue_net),
        layout.money(report.vat_total),
        layout.money(report.revenue),
    ];
    let money_column = |title| Column {
        title,
        width: 40.0,
        align: Align::Right,
    };
    layout.table(
        &[
            Column {
                title: t.rate,
                width: CONTENT_WIDTH - 120.0,
                align: Align::Left,
            },
            money_column(t.net),
            money_column(t.vat),
            money_column(t.gross),
        ],
        &rows,
        Some(total),
    );

    if !report.by_hour.is_empty() {
        layout.section_title_with(t.by_hour, CHART_HEIGHT + 14.0);
        // Hours are labelled "20"; the first hour of each further day
        // carries its date ("18.07. 00") so nights over midnight and
        // multi-day festivals read right.
        let zone = layout.heading.time_zone.clone();
        let mut last_day = None;
        let bars: Vec<(String, Cents)> = report
            .by_hour
            .iter()
            .map(|row| {
                let hour = layout.heading.language.hour_label(row.hour_start, &zone);
                let day = jiff::Timestamp::from_millisecond(row.hour_start.0)
                    .ok()
                    .map(|at| at.to_zoned(zone.clone()).date());
                let label = match (last_day, day) {
                    (Some(previous), Some(today)) if previous != today => {
                        format!("{} {hour}", today.strftime("%d.%m."))
                    }
                    _ => hour,
                };
                last_day = day.or(last_day);
                (label, row.gross)
            })
            .collect();
        layout.bar_chart(&bars);
    }

    if !report.by_product.is_empty() {
        layout.section_title(t.products);
        let rows: Vec<Vec<String>> = report
            .by_product
            .iter()
            .map(|row| {
                vec![
                    row.name.clone(),
                    category_name(report, &row.category),
                    layout.heading.language.count(row.quantity),
                    layout.money(row.gross),
                ]
            })
            .collect();
        layout.table(
            &[
                Column {
                    title: t.product,
                    width: CONTENT_WIDTH - 105.0,
                    align: Align::Left,
                },
                Column {
                    title: t.category,
                    width: 45.0,
                    align: Align::Left,
                },
                Column {
                    title: t.quantity,
                    width: 20.0,
                    align: Align::Right,
                },
                money_column(t.gross),
            ],
            &rows,
            None,
        );
    }
    layout.amount_table(t.categories, &report.by_category, t.category);
    layout.amount_table(t.by_cashier, &report.by_staff, t.cashier);
    layout.amount_table(t.by_terminal, &report.by_terminal, t.terminal);
    layout.amount_table(t.sales_by_tender, &report.sales_by_tender, t.paid_with);
    layout.amount_table(t.top_ups, &report.top_ups_by_tender, t.paid_with);
    layout.amount_table(t.cancellations, &report.cancellations, t.kind_cancel);
    let others = [
        (t.deposits_issued, report.deposits_issued),
        (t.deposits_returned, report.deposits_returned),
        (t.payouts, report.payouts),
        (t.vouchers_credited, report.vouchers_credited),
        (t.promo_spent, report.promo_spent),
    ];
    let rows: Vec<AmountRow> = others
        .iter()
        .map(|(label, row)| AmountRow {
            key: String::new(),
            label: label.to_string(),
            count: row.count,
            amount: row.amount,
        })
        .collect();
    layout.amount_table(&format!("{} / {}", t.deposit, t.payouts), &rows, t.amount);
}

/// The sales report as a PDF.
pub fn sales_report_pdf(
    report: &SalesReport,
    heading: ReportHeading,
) -> Result<Vec<u8>, PrintError> {
    let t = heading.language.texts();
    let mut layout = Layout::new(t.sales_report, heading)?;
    layout.heading_block(t.sales_report, (report.filter.from, report.filter.until));
    sales_sections(&mut layout, report);
    layout.finish()
}

/// A vendor's settlement for a period: the figures, VAT per rate, the
/// organiser's cut, then every line so the vendor can check it.
pub fn settlement_pdf(
    vendor_name: &str,
    period: (Option<Timestamp>, Option<Timestamp>),
    settlement: &Settlement,
    lines: &[VendorLine],
    heading: ReportHeading,
) -> Result<Vec<u8>, PrintError> {
    let t = heading.language.texts();
    let title = format!("{} – {vendor_name}", t.settlement);
    let mut layout = Layout::new(&title, heading)?;
    if !layout.heading.filter.iter().any(|(l, _)| l == t.vendor) {
        layout
            .heading
            .filter
            .push((t.vendor.to_string(), vendor_name.to_string()));
    }
    layout.heading_block(&title, period);
    let figures = [
        (t.gross.to_string(), layout.money(settlement.gross)),
        (
            t.commission.to_string(),
            layout.money(settlement.commission),
        ),
        (t.payable.to_string(), layout.money(settlement.payable)),
    ];
    layout.key_figures(&figures);
    let rate = tapster_ledger::VatRate(u32::try_from(settlement.commission_rate_bp).unwrap_or(0));
    let summary = vec![
        vec![t.sales.to_string(), layout.money(settlement.sales)],
        vec![
            t.cancellations.to_string(),
            layout.money(settlement.cancellations),
        ],
        vec![t.gross.to_string(), layout.money(settlement.gross)],
        vec![
            format!("{} ({rate})", t.commission),
            layout.money(settlement.commission.checked_neg().unwrap_or(Cents::ZERO)),
        ],
        vec![
            t.fixed_fee.to_string(),
            layout.money(settlement.fixed_fee.checked_neg().unwrap_or(Cents::ZERO)),
        ],
    ];
    layout.section_title(t.settlement);
    let two = |title| {
        [
            Column {
                title,
                width: CONTENT_WIDTH - 40.0,
                align: Align::Left,
            },
            Column {
                title: t.amount,
                width: 40.0,
                align: Align::Right,
            },
        ]
    };
    layout.table(
        &two(t.settlement),
        &summary,
        Some(vec![
            t.payable.to_string(),
            layout.money(settlement.payable),
        ]),
    );
    layout.section_title(t.vat);
    let vat_rows: Vec<Vec<String>> = settlement
        .vat
        .iter()
        .map(|v| {
            vec![
                v.rate.to_string(),
                layout.money(v.net),
                layout.money(v.vat),
                layout.money(v.gross),
            ]
        })
        .collect();
    let quarter = CONTENT_WIDTH / 4.0;
    layout.table(
        &[
            Column {
                title: t.rate,
                width: quarter,
                align: Align::Left,
            },
            Column {
                title: t.net,
                width: quarter,
                align: Align::Right,
            },
            Column {
                title: t.vat,
                width: quarter,
                align: Align::Right,
            },
            Column {
                title: t.gross,
                width: quarter,
                align: Align::Right,
            },
        ],
        &vat_rows,
        None,
    );
    layout.section_title(t.lines_sold);
    let mut rows = Vec::with_capacity(lines.len());
    for line in lines {
        let gross = line.gross()?;
        let mut name = line.name.clone();
        if line.cancellation {
            name = format!("{name} ({})", t.kind_cancel);
        }
        rows.push(vec![
            layout.when(Timestamp(line.at)),
            line.transaction_id.clone(),
            name,
            line.quantity.to_string(),
            layout.money(line.unit_price),
            line.vat_rate.to_string(),
            layout.money(gross),
        ]);
    }
    let columns = [
        (t.time, 28.0, Align::Left),
        (t.transaction, 38.0, Align::Left),
        (
            t.product,
            CONTENT_WIDTH - 28.0 - 38.0 - 12.0 - 22.0 - 16.0 - 24.0,
            Align::Left,
        ),
        (t.quantity, 12.0, Align::Right),
        (t.unit_price, 22.0, Align::Right),
        (t.vat, 16.0, Align::Right),
        (t.gross, 24.0, Align::Right),
    ]
    .map(|(title, width, align)| Column {
        title,
        width,
        align,
    });
    let total = vec![
        t.total.to_string(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        layout.money(settlement.gross),
    ];
    layout.table(&columns, &rows, Some(total));
    layout.finish()
}

/// A shift's Z report (X report while open) as a PDF.
pub fn z_report_pdf(report: &ZReport, heading: ReportHeading) -> Result<Vec<u8>, PrintError> {
    let t = heading.language.texts();
    let title = match &report.shift.closed {
        Some(close) => format!("{} #{}", t.z_report, close.z_number),
        None => t.x_report.to_string(),
    };
    let mut layout = Layout::new(&title, heading)?;
    for (label, value) in [
        (t.terminal, &report.terminal_name),
        (t.cashier, &report.staff_name),
    ] {
        if !layout.heading.filter.iter().any(|(l, _)| l == label) {
            layout
                .heading
                .filter
                .push((label.to_string(), value.clone()));
        }
    }
    let closed = report.shift.closed.as_ref().map(|c| c.closed_at);
    layout.heading_block(&title, (Some(report.shift.opened_at), closed));
    let mut cash = vec![
        vec![t.float.to_string(), layout.money(report.float)],
        vec![
            t.cash_movements.to_string(),
            layout.money(report.cash_movements),
        ],
        vec![
            t.expected_cash.to_string(),
            layout.money(report.expected_cash),
        ],
    ];
    if let Some(counted) = report.counted_cash {
        cash.push(vec![t.counted_cash.to_string(), layout.money(counted)]);
    }
    let difference = report
        .difference
        .map(|d| vec![t.difference.to_string(), layout.money(d)]);
    layout.section_title(t.cash_count);
    layout.table(
        &[
            Column {
                title: t.cash_count,
                width: CONTENT_WIDTH - 40.0,
                align: Align::Left,
            },
            Column {
                title: t.amount,
                width: 40.0,
                align: Align::Right,
            },
        ],
        &cash,
        difference,
    );
    sales_sections(&mut layout, &report.sales);
    layout.finish()
}
