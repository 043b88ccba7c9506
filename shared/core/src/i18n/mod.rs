//! The product's words in the reader's language (English and Simplified Chinese).
//!
//! Error texts are written once, in English, where they arise; the HTTP edge renders a
//! problem in the caller's language (`Accept-Language`) from a catalogue keyed by the
//! English text exactly as the source writes it, placeholders included (the gettext way:
//! no call site changes when a text is translated, and a text without a translation
//! still reads, in English). A test checks that every message the source can produce has
//! its translation. Mails pick their language from the recipient's locale instead.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

/// A language the product speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lang {
    #[default]
    En,
    Zh,
}

impl Lang {
    /// The language of a stored locale such as `zh-CN` or `en-GB` (English unless Chinese).
    pub fn of_locale(locale: &str) -> Lang {
        let primary = locale.split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("zh") {
            Lang::Zh
        } else {
            Lang::En
        }
    }

    /// The best language an `Accept-Language` header asks for (RFC 9110 12.5.4): the
    /// supported one with the highest weight, the earlier one on a tie; English when the
    /// header names none the product speaks.
    pub fn from_accept_language(header: &str) -> Lang {
        let mut best: Option<(Lang, u16)> = None;
        for range in header.split(',') {
            let mut parts = range.split(';');
            let tag = parts.next().unwrap_or_default().trim();
            let weight = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(parse_weight)
                .unwrap_or(1000);
            let primary = tag.split('-').next().unwrap_or_default();
            let lang = if primary.eq_ignore_ascii_case("zh") {
                Lang::Zh
            } else if primary.eq_ignore_ascii_case("en") {
                Lang::En
            } else {
                continue;
            };
            if weight > 0 && best.is_none_or(|(_, w)| weight > w) {
                best = Some((lang, weight));
            }
        }
        best.map_or(Lang::En, |(lang, _)| lang)
    }

    /// The language tag of the texts rendered (for `Content-Language`).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh-CN",
        }
    }

    /// `en` or `zh` from two spellings of a text.
    pub fn pick<T>(self, en: T, zh: T) -> T {
        match self {
            Lang::En => en,
            Lang::Zh => zh,
        }
    }
}

/// A `q` value as thousandths, `None` when malformed (then the range keeps weight 1).
fn parse_weight(q: &str) -> Option<u16> {
    let (int, frac) = q.split_once('.').unwrap_or((q, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac: u16 = format!("{frac:0<3}").parse().ok()?;
    match int {
        "0" => Some(frac),
        "1" if frac == 0 => Some(1000),
        _ => None,
    }
}

/// `text` (an English message) in `lang`: its translation when the catalogue has one,
/// with the values the English text carried put in their places; else `text` itself.
pub fn translate(text: &str, lang: Lang) -> Cow<'_, str> {
    match lang {
        Lang::En => Cow::Borrowed(text),
        Lang::Zh => ZH.render(text, 1),
    }
}

static ZH: LazyLock<Catalogue> =
    LazyLock::new(|| Catalogue::parse(include_str!("zh-CN.json")).expect("zh-CN.json is valid"));

/// A piece of a text: literal words, or a placeholder.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    /// A `{…}` of a Rust format string: its name (empty when positional), or in a
    /// translation, the name or index of the English text's placeholder it repeats.
    Hole(String),
}

/// Splits a format string as `format!` reads it: `{{` and `}}` are braces, `{name:spec}`
/// a placeholder. `None` when a brace is unbalanced.
fn pieces(template: &str) -> Option<Vec<Piece>> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                text.push('}');
            }
            '{' => {
                let mut inner = String::new();
                loop {
                    match chars.next()? {
                        '}' => break,
                        '{' => return None,
                        c => inner.push(c),
                    }
                }
                let name = inner.split(':').next().unwrap_or_default().trim();
                if !text.is_empty() {
                    out.push(Piece::Text(std::mem::take(&mut text)));
                }
                out.push(Piece::Hole(name.to_owned()));
            }
            '}' => return None,
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        out.push(Piece::Text(text));
    }
    Some(out)
}

/// One English text with placeholders and its translation.
#[derive(Debug)]
struct Pattern {
    /// The literal texts around the placeholders: one more than there are placeholders.
    literals: Vec<String>,
    names: Vec<String>,
    /// The translation; its holes index into the English placeholders.
    target: Vec<Result<String, usize>>,
}

#[derive(Debug, Default)]
struct Catalogue {
    exact: HashMap<String, String>,
    /// Most specific (longest literal text) first.
    patterns: Vec<Pattern>,
}

impl Catalogue {
    fn parse(json: &str) -> Result<Self, String> {
        let entries: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(json).map_err(|e| e.to_string())?;
        let mut catalogue = Catalogue::default();
        for (english, translated) in entries {
            let translated = translated
                .as_str()
                .ok_or_else(|| format!("{english:?}: the translation is not a string"))?;
            let source = pieces(&english).ok_or_else(|| format!("{english:?}: braces"))?;
            let mut literals = vec![String::new()];
            let mut names = Vec::new();
            for piece in source {
                match piece {
                    Piece::Text(t) => literals.last_mut().expect("never empty").push_str(&t),
                    Piece::Hole(name) => {
                        if !names.is_empty() && literals.last().is_some_and(String::is_empty) {
                            return Err(format!("{english:?}: two placeholders touch"));
                        }
                        names.push(name);
                        literals.push(String::new());
                    }
                }
            }
            let mut positional = 0;
            let mut target = Vec::new();
            for piece in pieces(translated).ok_or_else(|| format!("{translated:?}: braces"))? {
                target.push(match piece {
                    Piece::Text(t) => Ok(t),
                    Piece::Hole(name) => Err(if name.is_empty() {
                        positional += 1;
                        positional - 1
                    } else if let Ok(index) = name.parse::<usize>() {
                        index
                    } else {
                        names.iter().position(|n| *n == name).ok_or_else(|| {
                            format!("{translated:?}: {{{name}}} is not in {english:?}")
                        })?
                    }),
                });
            }
            if let Some(Err(i)) = target
                .iter()
                .find(|p| matches!(p, Err(i) if *i >= names.len()))
            {
                return Err(format!(
                    "{translated:?}: placeholder {i} is not in {english:?}"
                ));
            }
            if names.is_empty() {
                catalogue
                    .exact
                    .insert(literals.remove(0), translated.into());
            } else {
                catalogue.patterns.push(Pattern {
                    literals,
                    names,
                    target,
                });
            }
        }
        catalogue
            .patterns
            .sort_by_key(|p| std::cmp::Reverse(p.literals.iter().map(String::len).sum::<usize>()));
        Ok(catalogue)
    }

    /// `text` translated; values in placeholders are themselves translated `depth` levels
    /// down (a serde message inside "The body is not valid JSON: {inner}.").
    fn render<'a>(&self, text: &'a str, depth: u8) -> Cow<'a, str> {
        if let Some(found) = self.exact.get(text) {
            return Cow::Owned(found.clone());
        }
        for pattern in &self.patterns {
            let mut values = Vec::with_capacity(pattern.names.len());
            if fill(&pattern.literals, text, &mut values) {
                let mut out = String::new();
                for piece in &pattern.target {
                    match piece {
                        Ok(t) => out.push_str(t),
                        Err(i) => match depth {
                            0 => out.push_str(values[*i]),
                            _ => out.push_str(&self.render(values[*i], depth - 1)),
                        },
                    }
                }
                return Cow::Owned(out);
            }
        }
        Cow::Borrowed(text)
    }
}

/// Whether `text` is `literals` with something non-empty between each two; the
/// somethings go to `values` (shortest first, backtracking when the rest does not fit).
fn fill<'a>(literals: &[String], text: &'a str, values: &mut Vec<&'a str>) -> bool {
    let Some(rest) = text.strip_prefix(literals[0].as_str()) else {
        return false;
    };
    match literals {
        [_] => rest.is_empty(),
        [_, last] => {
            let ok = rest.len() > last.len() && rest.ends_with(last.as_str());
            if ok {
                values.push(&rest[..rest.len() - last.len()]);
            }
            ok
        }
        [_, next, ..] => {
            let mut from = rest.chars().next().map_or(rest.len() + 1, char::len_utf8);
            while let Some(at) = rest.get(from..).and_then(|r| r.find(next.as_str())) {
                let at = from + at;
                values.push(&rest[..at]);
                if fill(&literals[1..], &rest[at..], values) {
                    return true;
                }
                values.pop();
                from = at + rest[at..].chars().next().map_or(1, char::len_utf8);
            }
            false
        }
        [] => false,
    }
}

/// Whether `locale` looks like a BCP 47 tag (`en`, `zh-CN`, `zh-Hans-CN`).
pub fn valid_locale(locale: &str) -> bool {
    let mut parts = locale.split('-');
    let lang_ok = parts
        .next()
        .is_some_and(|l| (2..=3).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_lowercase()));
    lang_ok
        && locale.len() <= 35
        && parts.all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests;
