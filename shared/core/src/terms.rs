//! Search terms: what a record is found by, and how a query is cut into words.
//!
//! Text is folded (lower case, full-width ASCII to ASCII) and cut into words at anything
//! that is not a letter or digit. Words in scripts written without spaces (Chinese,
//! Japanese, Korean) are indexed by every suffix, so a prefix search finds them by any
//! substring: `腾讯科技` is found by `讯科`. Emails and phone numbers are also indexed
//! whole, which is what exact lookups use.

use std::collections::{BTreeMap, BTreeSet};

/// Most distinct terms one record is indexed by. Index entries are written in the
/// record's transaction (at most 100 writes, an update may drop and add every term), so
/// the bound keeps every write of a record within one transaction.
pub const MAX_TERMS: usize = 36;
/// Longest term, in characters; longer words are indexed (and searched) by their start.
pub const MAX_TERM_CHARS: usize = 24;
/// Characters of a run of CJK text whose suffixes are indexed.
pub const MAX_CJK_RUN: usize = 20;
/// Most words a query is cut into.
pub const MAX_QUERY_WORDS: usize = 5;

/// Whether `c` belongs to a script written without spaces between words.
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // Hiragana, Katakana
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xF900..=0xFAFF    // CJK compatibility ideographs
        | 0x20000..=0x2FA1F) // CJK extensions B..F, compatibility supplement
}

/// Lower case, with full-width ASCII (common in CJK input) as plain ASCII.
pub fn fold(text: &str) -> String {
    text.chars()
        .map(|c| match c as u32 {
            0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            0x3000 => ' ',
            _ => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

fn truncate(word: &str) -> String {
    word.chars().take(MAX_TERM_CHARS).collect()
}

/// The runs of `text` a search compares: words of letters and digits, each CJK stretch
/// on its own. `true` marks a CJK run.
fn runs(text: &str) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    let mut current = String::new();
    let mut current_cjk = false;
    for c in fold(text).chars() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                out.push((std::mem::take(&mut current), current_cjk));
            }
            continue;
        }
        let cjk = is_cjk(c);
        if !current.is_empty() && cjk != current_cjk {
            out.push((std::mem::take(&mut current), current_cjk));
        }
        current_cjk = cjk;
        current.push(c);
    }
    if !current.is_empty() {
        out.push((current, current_cjk));
    }
    out
}

/// The terms of a record, each with the fields it comes from, in the order they were
/// added: when a record has more than [`MAX_TERMS`], the first ones are kept, so fields
/// are added most important first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Terms {
    order: Vec<String>,
    fields: BTreeMap<String, BTreeSet<String>>,
}

impl Terms {
    pub fn new() -> Self {
        Self::default()
    }

    fn add(&mut self, field: &str, term: String) {
        if term.is_empty() {
            return;
        }
        if let Some(fields) = self.fields.get_mut(&term) {
            fields.insert(field.to_owned());
        } else if self.order.len() < MAX_TERMS {
            self.order.push(term.clone());
            self.fields.insert(term, BTreeSet::from([field.to_owned()]));
        }
    }

    /// A value found by exact lookup and by prefix, kept whole (an email address, a
    /// phone number's digits).
    pub fn exact(&mut self, field: &str, value: &str) {
        self.add(field, fold(value));
    }

    /// Every word of `text`; CJK runs by every suffix.
    pub fn text(&mut self, field: &str, text: &str) {
        for (run, cjk) in runs(text) {
            if cjk {
                let chars: Vec<char> = run.chars().take(MAX_CJK_RUN).collect();
                for start in 0..chars.len() {
                    self.add(field, truncate(&chars[start..].iter().collect::<String>()));
                }
            } else {
                self.add(field, truncate(&run));
            }
        }
    }

    /// An email address: whole (for lookups), and its local part and domain by word.
    pub fn email(&mut self, field: &str, address: &str) {
        self.exact(field, address);
        if let Some((local, domain)) = address.split_once('@') {
            self.add(field, truncate(&fold(local)));
            self.text(field, local);
            self.add(field, truncate(&fold(domain)));
            self.text(field, domain);
        }
    }

    /// A phone number in E.164: its digits whole (for lookups), and without the country
    /// code, as people type it.
    pub fn phone(&mut self, field: &str, e164: &str) {
        let digits: String = e164.chars().filter(char::is_ascii_digit).collect();
        self.exact(field, &digits);
        if let Some((national, dialled)) = national_terms(e164) {
            self.add(field, national);
            self.add(field, dialled);
        }
    }

    /// Every term, for the index.
    pub fn all(&self) -> BTreeSet<String> {
        self.order.iter().cloned().collect()
    }

    /// Terms of custom values, by field key (`custom.<key>`), after every other field.
    pub fn custom(&mut self, custom: &serde_json::Map<String, serde_json::Value>) {
        for (key, value) in custom {
            let field = format!("custom.{key}");
            let texts: Vec<&str> = match value {
                serde_json::Value::String(s) => vec![s],
                serde_json::Value::Array(items) => {
                    items.iter().filter_map(serde_json::Value::as_str).collect()
                }
                _ => Vec::new(),
            };
            for text in texts {
                self.text(&field, text);
            }
        }
    }

    /// The terms that come from at least one field outside `excluded` (a custom field
    /// `custom.<key>` is also excluded with `custom` as a whole).
    pub fn visible(&self, excluded: &BTreeSet<String>) -> BTreeSet<String> {
        // A custom field's terms go with `custom` as a whole too.
        let shown = |f: &String| {
            !(excluded.contains(f) || (f.starts_with("custom.") && excluded.contains("custom")))
        };
        self.fields
            .iter()
            .filter(|(_, fields)| fields.iter().any(shown))
            .map(|(t, _)| t.clone())
            .collect()
    }
}

/// A number's national terms: its national number, and its digits as dialled at home,
/// trunk prefix included (`010 6552 9988` in China). A search computes the terms of
/// every record it finds, and parsing and formatting its numbers was 29% of a search's
/// time (perf), so the terms of the numbers seen last are kept.
fn national_terms(e164: &str) -> Option<(String, String)> {
    type Kept = std::collections::HashMap<String, Option<(String, String)>>;
    static KEPT: std::sync::Mutex<Option<Kept>> = std::sync::Mutex::new(None);
    const MAX_KEPT: usize = 50_000;
    let kept = || KEPT.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(terms) = kept().as_ref().and_then(|k| k.get(e164)) {
        return terms.clone();
    }
    let terms = phonenumber::parse(None, e164).ok().map(|parsed| {
        let dialled = parsed
            .format()
            .mode(phonenumber::Mode::National)
            .to_string();
        (parsed.national().value().to_string(), phone_term(&dialled))
    });
    let mut guard = kept();
    let kept = guard.get_or_insert_with(Kept::new);
    if kept.len() >= MAX_KEPT {
        kept.clear();
    }
    kept.insert(e164.to_owned(), terms.clone());
    terms
}

/// The lookup form of an email or phone value, as [`Terms::exact`] and [`Terms::phone`]
/// index it.
pub fn exact_term(value: &str) -> String {
    fold(value)
}

/// The digits of an E.164 number, as [`Terms::phone`] indexes it whole.
pub fn phone_term(e164: &str) -> String {
    e164.chars().filter(char::is_ascii_digit).collect()
}

/// The words of a search query, at most [`MAX_QUERY_WORDS`]. A query that looks like a
/// phone number (digits with spaces, dashes, dots, brackets or a leading `+`) is one word
/// of its digits.
pub fn query_words(q: &str) -> Vec<String> {
    let folded = fold(q);
    let phone_like = folded
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().".contains(c))
        && folded.chars().filter(char::is_ascii_digit).count() >= 3;
    if phone_like {
        return vec![truncate(&phone_term(&folded))];
    }
    let mut words: Vec<String> = Vec::new();
    for (run, _) in runs(&folded) {
        let word = truncate(&run);
        if !words.contains(&word) {
            words.push(word);
        }
    }
    words.truncate(MAX_QUERY_WORDS);
    words
}

/// Whether every word is the start of some term.
pub fn matches_all(words: &[String], terms: &BTreeSet<String>) -> bool {
    words.iter().all(|w| {
        terms
            .range(w.clone()..)
            .next()
            .is_some_and(|t| t.starts_with(w.as_str()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn chinese_names_are_found_by_any_substring() {
        let mut t = Terms::new();
        t.text("name", "深圳腾讯科技");
        let all = t.all();
        for q in ["深圳", "腾讯", "讯科", "科技", "技"] {
            assert!(matches_all(&query_words(q), &all), "{q}");
        }
        assert!(!matches_all(&query_words("腾科"), &all));
    }

    #[test]
    fn latin_words_are_found_by_prefix_in_any_case_and_width() {
        let mut t = Terms::new();
        t.text("name", "Ada  Lovelace-King");
        let all = t.all();
        assert_eq!(all, set(&["ada", "king", "lovelace"]));
        assert!(matches_all(&query_words("LOVE ad"), &all));
        assert!(
            matches_all(&query_words("ＡＤＡ"), &all),
            "full-width input"
        );
        assert!(
            !matches_all(&query_words("ovelace"), &all),
            "prefix, not infix"
        );
    }

    #[test]
    fn mixed_scripts_split_into_runs() {
        let mut t = Terms::new();
        t.text("name", "Acme中国");
        assert_eq!(t.all(), set(&["acme", "中国", "国"]));
        assert_eq!(query_words("acme国"), ["acme", "国"]);
    }

    #[test]
    fn emails_and_phones_are_found_whole_and_by_their_parts() {
        let mut t = Terms::new();
        t.email("emails", "ada.lovelace@example.com");
        t.phone("phones", "+8613812345678");
        let all = t.all();
        for q in [
            "ada.lovelace@example.com",
            "lovelace",
            "example.com",
            "138 1234",
            "+86 138",
            "8613812345678",
        ] {
            assert!(matches_all(&query_words(q), &all), "{q}");
        }
        assert!(all.contains(&exact_term("Ada.Lovelace@Example.com")));
        assert!(all.contains(&phone_term("+8613812345678")));
    }

    #[test]
    fn hidden_fields_contribute_no_visible_terms() {
        let mut t = Terms::new();
        t.text("name", "Ada");
        t.text("notes", "ada secret");
        let hidden = set(&["notes"]);
        assert_eq!(t.visible(&hidden), set(&["ada"]));
        assert_eq!(t.visible(&BTreeSet::new()), set(&["ada", "secret"]));
    }

    #[test]
    fn a_record_has_at_most_max_terms_and_the_first_are_kept() {
        let mut t = Terms::new();
        t.exact("emails", "first@example.com");
        let many: Vec<String> = (0..100).map(|i| format!("w{i}")).collect();
        t.text("notes", &many.join(" "));
        assert_eq!(t.all().len(), MAX_TERMS);
        assert!(t.all().contains("first@example.com"));
        let long = "x".repeat(100);
        let mut t = Terms::new();
        t.text("name", &long);
        assert_eq!(
            t.all().iter().next().unwrap().chars().count(),
            MAX_TERM_CHARS
        );
        assert!(matches_all(&query_words(&long), &t.all()));
    }
}
