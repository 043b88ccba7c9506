//! CSV cells and spreadsheet formulas (OWASP "CSV Injection"): a cell whose text starts
//! with `=`, `+`, `-`, `@`, a tab or a carriage return is read as a formula by Excel,
//! LibreOffice and Google Sheets. Every CSV the product writes passes its text cells
//! through [`neutralise`], which puts a single quote (the spreadsheet's "this is text"
//! mark) before such a text; an import of a file takes the mark off again with
//! [`restore`], so an exported file imports back as it was. Separators and quotes inside
//! a cell cannot start a new cell: the `csv` writer quotes such cells (RFC 4180).

/// The first characters that make a spreadsheet read a cell as a formula.
const TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

fn starts_formula(text: &str) -> bool {
    text.starts_with(TRIGGERS)
}

/// `text` made safe to open in a spreadsheet: prefixed with `'` if it would start a
/// formula (`+8613800138000` becomes `'+8613800138000`).
pub fn neutralise(text: String) -> String {
    if starts_formula(&text) {
        format!("'{text}")
    } else {
        text
    }
}

/// The cell of an imported file as it was before [`neutralise`]: a `'` before a formula
/// character is the text mark a spreadsheet (or our export) added, not part of the value.
pub fn restore(text: &str) -> &str {
    match text.strip_prefix('\'') {
        Some(rest) if starts_formula(rest) => rest,
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_that_would_start_a_formula_are_marked_as_text() {
        for text in ["=1+1", "+8613800138000", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralise(text.into()), format!("'{text}"));
            assert_eq!(restore(&neutralise(text.into())), text);
        }
        for text in ["Ada", "", " =1", "'quoted", "1-2", "李雷"] {
            assert_eq!(neutralise(text.into()), text);
            assert_eq!(restore(text), text);
        }
    }
}
