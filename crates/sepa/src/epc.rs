//! The character set every SEPA bank accepts (EPC217-08, the basic Latin
//! set): `a-z A-Z 0-9 / - ? : ( ) . , ' +` and the space. Anything else
//! is transliterated the way the German banking industry recommends
//! (Ä → Ae, ß → ss, & → +) or, for other scripts, to its Latin reading.

/// Whether `c` is in the EPC's basic Latin set.
pub fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || " /-?:().,'+".contains(c)
}

/// `text` in the EPC's set: German letters written out, other letters
/// without their accents or in their Latin reading, the rest replaced.
/// Runs of spaces become one; the result is trimmed.
pub fn transliterate(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            'Ä' => out.push_str("Ae"),
            'Ö' => out.push_str("Oe"),
            'Ü' => out.push_str("Ue"),
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            'ẞ' => out.push_str("SS"),
            '&' => out.push('+'),
            '"' | '`' | '‘' | '’' | '‚' | '“' | '”' | '„' | '´' => out.push('\''),
            '_' | '–' | '—' => out.push('-'),
            c if allowed(c) => out.push(c),
            c if c.is_whitespace() || c.is_control() => out.push(' '),
            c => {
                let latin = deunicode::deunicode_char(c).unwrap_or("");
                if latin.is_empty() {
                    out.push('.');
                }
                for l in latin.chars() {
                    out.push(if allowed(l) { l } else { '.' });
                }
            }
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// [`transliterate`]d and cut to at most `max` characters (the set is
/// ASCII, so characters are bytes).
pub fn fit(text: &str, max: usize) -> String {
    let mut out = transliterate(text);
    out.truncate(max);
    out.truncate(out.trim_end().len());
    out
}

/// Whether `id` may identify a message, a payment or a transfer: 1 to 35
/// characters of the set, not starting or ending with `/`, no `//`
/// (EPC's rule for references).
pub fn valid_id(id: &str) -> bool {
    (1..=35).contains(&id.len())
        && id.chars().all(|c| allowed(c) && c != ' ')
        && !id.starts_with('/')
        && !id.ends_with('/')
        && !id.contains("//")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn german_names_are_written_out() {
        assert_eq!(
            transliterate("Jürgen Müller-Größe"),
            "Juergen Mueller-Groesse"
        );
        assert_eq!(transliterate("ÄÖÜ äöü ß"), "AeOeUe aeoeue ss");
        assert_eq!(transliterate("Tom & Jerry GmbH"), "Tom + Jerry GmbH");
    }

    #[test]
    fn other_accents_and_scripts_get_their_latin_reading() {
        assert_eq!(transliterate("François Żółć"), "Francois Zolc");
        assert_eq!(transliterate("Ørsted Æbeltoft"), "Orsted AEbeltoft");
        assert_eq!(transliterate("Σωκράτης"), "Sokrates");
        assert_eq!(transliterate("  a \t b\n"), "a b");
        assert_eq!(transliterate("50 €"), "50 EUR");
    }

    #[test]
    fn fitting_cuts_after_transliterating() {
        let name = "Ü".repeat(40);
        let fitted = fit(&name, 70);
        assert_eq!(fitted.len(), 70);
        assert!(fitted.starts_with("UeUe"));
        assert_eq!(fit("ab          cd", 3), "ab");
    }

    #[test]
    fn ids_follow_the_reference_rules() {
        assert!(valid_id("TAPSTER-PR7QK2M9-00001"));
        for bad in ["", "/x", "x/", "a//b", "a b", "Ä", &"x".repeat(36)] {
            assert!(!valid_id(bad), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn whatever_goes_in_only_the_set_comes_out(text in "\\PC{0,80}") {
            let out = fit(&text, 70);
            prop_assert!(out.len() <= 70);
            prop_assert!(out.chars().all(allowed), "{:?}", out);
            prop_assert!(!out.starts_with(' ') && !out.ends_with(' '));
        }
    }
}
