//! Text for a thermal printer: which characters a code page can print, what
//! replaces the others, and fixed-width columns that stay aligned.
//!
//! Receipt text is sanitised here before it reaches the `escpos` crate, so
//! the bytes sent are always the code page's own: the crate would otherwise
//! fall back to raw UTF-8 for a character its table lacks.

use serde::{Deserialize, Serialize};

/// The character table a printer is switched to (`ESC t n`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodePage {
    /// Windows-1252 (`ESC t 16` on Epson): €, German umlauts and ß.
    #[default]
    Wpc1252,
    /// For printers without Windows-1252: plain ASCII, with € written as
    /// `EUR` and umlauts as `ae`, `oe`, `ue`, `ss`.
    Ascii,
}

impl CodePage {
    pub fn parse(value: &str) -> Option<CodePage> {
        match value.to_ascii_lowercase().as_str() {
            "wpc1252" | "cp1252" | "windows-1252" | "1252" => Some(CodePage::Wpc1252),
            "ascii" | "pc437" => Some(CodePage::Ascii),
            _ => None,
        }
    }

    /// Whether the printer prints `c` as itself on this page.
    pub fn can_print(self, c: char) -> bool {
        match self {
            CodePage::Ascii => (' '..='~').contains(&c),
            CodePage::Wpc1252 => {
                (' '..='~').contains(&c)
                    || ('\u{A0}'..='\u{FF}').contains(&c)
                    || WPC1252_ROW_8_9.contains(&c)
            }
        }
    }
}

/// The printable characters Windows-1252 puts at 0x80–0x9F.
const WPC1252_ROW_8_9: &[char] = &[
    '€', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 'Ž', '‘', '’', '“', '”', '•', '–',
    '—', '˜', '™', 'š', '›', 'œ', 'ž', 'Ÿ',
];

/// What a character the page lacks is printed as.
fn replacement(c: char) -> &'static str {
    match c {
        '€' => "EUR",
        'ä' => "ae",
        'ö' => "oe",
        'ü' => "ue",
        'Ä' => "Ae",
        'Ö' => "Oe",
        'Ü' => "Ue",
        'ß' => "ss",
        'à' | 'á' | 'â' | 'ã' | 'å' => "a",
        'è' | 'é' | 'ê' | 'ë' => "e",
        'ì' | 'í' | 'î' | 'ï' => "i",
        'ò' | 'ó' | 'ô' | 'õ' | 'ø' => "o",
        'ù' | 'ú' | 'û' => "u",
        'ç' => "c",
        'ñ' => "n",
        'É' => "E",
        '×' => "x",
        '•' | '·' => "*",
        '–' | '—' | '‐' | '‑' | '−' => "-",
        '‘' | '’' | '‚' | '´' | '`' => "'",
        '“' | '”' | '„' | '«' | '»' => "\"",
        '…' => "...",
        '°' => "o",
        '\u{A0}' | '\u{202F}' | '\t' => " ",
        _ => "?",
    }
}

/// `text` with every character the page cannot print replaced, and control
/// characters dropped, so nothing but the page's own bytes is ever sent.
pub fn sanitize(text: &str, page: CodePage) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if page.can_print(c) {
            out.push(c);
        } else if c.is_control() && c != '\t' {
            continue;
        } else {
            let replaced = replacement(c);
            // A replacement may itself be unprintable (`×` on ASCII is `x`,
            // fine; `…` on ASCII is `...`, fine); check anyway.
            out.extend(replaced.chars().filter(|r| page.can_print(*r)));
        }
    }
    out
}

/// `text` as it is when the page can print every character of it (the
/// case for laid-out receipts: no copy), else [`sanitize`]d.
pub fn printable(text: &str, page: CodePage) -> std::borrow::Cow<'_, str> {
    if text.chars().all(|c| page.can_print(c)) {
        std::borrow::Cow::Borrowed(text)
    } else {
        std::borrow::Cow::Owned(sanitize(text, page))
    }
}

/// The number of printer columns `text` takes (one per character: the
/// code pages here are single-byte).
pub fn columns(text: &str) -> usize {
    text.chars().count()
}

/// Cuts `text` to at most `width` columns.
pub fn cut(text: &str, width: usize) -> String {
    text.chars().take(width).collect()
}

/// Breaks `text` into lines of at most `width` columns, at spaces where it
/// can and inside a word only when the word alone is too long. Leading
/// spaces are kept as an indent on every line.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let indent = text.len() - text.trim_start_matches(' ').len();
    let indent = if indent + 8 <= width { indent } else { 0 };
    let prefix = " ".repeat(indent);
    let width = width.saturating_sub(indent).max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let used = columns(&line);
            let gap = usize::from(used > 0);
            if used + gap + word.len() <= width {
                if gap == 1 {
                    line.push(' ');
                }
                line.extend(word.iter());
                break;
            }
            if used > 0 {
                lines.push(std::mem::take(&mut line));
                continue;
            }
            // A word longer than a whole line: cut it.
            let rest = word.split_off(width);
            lines.push(word.iter().collect());
            word = rest;
            if word.is_empty() {
                break;
            }
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    if indent > 0 {
        for line in &mut lines {
            line.insert_str(0, &prefix);
        }
    }
    lines
}

/// `left` and `right` on one line of `width` columns, `right` flush right.
/// When both do not fit, `left` wraps and `right` ends its last line.
pub fn two_columns(left: &str, right: &str, width: usize) -> Vec<String> {
    let right_len = columns(right);
    if right_len >= width {
        let mut lines = wrap(left, width);
        lines.extend(wrap(right, width));
        return lines;
    }
    let mut lines = wrap(left, width);
    let last = lines.pop().unwrap_or_default();
    if columns(&last) + 1 + right_len <= width || last.is_empty() {
        let pad = width - columns(&last) - right_len;
        lines.push(format!("{last}{}{right}", " ".repeat(pad)));
    } else {
        lines.push(last);
        lines.push(format!("{right:>width$}"));
    }
    lines
}

/// Cells right-aligned into fixed widths (the first left-aligned), for
/// tables such as the VAT breakdown. Cells too long for their width are cut.
pub fn table_row(cells: &[&str], widths: &[usize]) -> String {
    let mut line = String::new();
    for (index, (cell, &width)) in cells.iter().zip(widths).enumerate() {
        // Right-aligned cells keep a space before them.
        let room = if index == 0 {
            width
        } else {
            width.saturating_sub(1)
        };
        let cell = cut(cell, room);
        let pad = " ".repeat(width - columns(&cell));
        if index == 0 {
            line.push_str(&cell);
            line.push_str(&pad);
        } else {
            line.push_str(&pad);
            line.push_str(&cell);
        }
    }
    line
}

/// `text` centred in `width` columns (without trailing spaces).
pub fn centre(text: &str, width: usize) -> String {
    let len = columns(text);
    if len >= width {
        return text.to_string();
    }
    format!("{}{text}", " ".repeat((width - len) / 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wpc1252_keeps_euro_umlauts_and_hyphens() {
        let text = "Weißwein – 4,50 € für Jürgen -";
        assert_eq!(
            sanitize(text, CodePage::Wpc1252),
            "Weißwein – 4,50 € für Jürgen -"
        );
        assert_eq!(
            sanitize(text, CodePage::Ascii),
            "Weisswein - 4,50 EUR fuer Juergen -"
        );
    }

    #[test]
    fn characters_outside_the_page_are_replaced_not_sent_raw() {
        assert_eq!(sanitize("Bier 🍺 ok", CodePage::Wpc1252), "Bier ? ok");
        assert_eq!(sanitize("a\u{7}b\nc", CodePage::Wpc1252), "abc");
        assert_eq!(
            sanitize("Łódź", CodePage::Wpc1252),
            "?ódź".replace('ź', "?")
        );
        for c in sanitize("€äöüÄÖÜß•×Łx", CodePage::Wpc1252).chars() {
            assert!(CodePage::Wpc1252.can_print(c), "{c}");
        }
    }

    #[test]
    fn printable_copies_only_what_needs_cleaning() {
        assert!(matches!(
            printable("4,50 € Weißwein", CodePage::Wpc1252),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(printable("a\u{1b}b", CodePage::Wpc1252), "ab");
    }

    #[test]
    fn wrap_breaks_at_spaces_and_cuts_long_words() {
        assert_eq!(
            wrap("Aperol Spritz mit Eis", 10),
            ["Aperol", "Spritz mit", "Eis"]
        );
        assert_eq!(
            wrap("Donaudampfschifffahrt", 8),
            ["Donaudam", "pfschiff", "fahrt"]
        );
        assert_eq!(wrap("", 8), [""]);
        assert_eq!(
            wrap("   je 5,00 € pro Stück", 15),
            ["   je 5,00 €", "   pro Stück"]
        );
    }

    #[test]
    fn two_columns_keep_the_right_edge() {
        assert_eq!(two_columns("Bier", "4,50 €", 16), ["Bier      4,50 €"]);
        let lines = two_columns("2 × Sehr langer Produktname", "9,00 €", 20);
        assert_eq!(lines, ["2 × Sehr langer", "Produktname   9,00 €"]);
        let lines = two_columns("2 × Sehr langer Produktnamenzusatz", "9,00 €", 20);
        assert_eq!(
            lines,
            [
                "2 × Sehr langer",
                "Produktnamenzusatz",
                "              9,00 €"
            ]
        );
        assert_eq!(
            columns(lines.last().unwrap()),
            20,
            "the price ends at the edge"
        );
    }

    #[test]
    fn table_rows_align_right() {
        assert_eq!(
            table_row(&["19 %", "10,08", "1,92"], &[6, 8, 6]),
            "19 %     10,08  1,92"
        );
    }
}
