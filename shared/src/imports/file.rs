//! Reading an uploaded CSV file: its encoding (UTF-8, with or without BOM, or GBK), its
//! delimiter (comma or semicolon), its header, and how its columns map to record fields.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::fields::{Definitions, Kind};
use crate::terms::fold;
use crate::validation::Errors;

/// Most data rows one file may hold.
pub const MAX_ROWS: usize = 100_000;
/// Most columns one file may hold.
pub const MAX_COLUMNS: usize = 200;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Encoding {
    #[serde(rename = "utf-8")]
    Utf8,
    #[serde(rename = "gbk")]
    Gbk,
}

/// The file's text: UTF-8 (a BOM is dropped) when it is valid UTF-8 or asked for, GBK
/// (the usual encoding of spreadsheets saved on Chinese Windows) otherwise or when asked.
pub fn decode(bytes: &[u8], asked: Option<Encoding>) -> Result<(String, Encoding), String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let utf8 = std::str::from_utf8(bytes).ok();
    match (asked, utf8) {
        (Some(Encoding::Utf8) | None, Some(text)) => Ok((text.to_owned(), Encoding::Utf8)),
        (Some(Encoding::Utf8), None) => Err("the file is not valid UTF-8".into()),
        (Some(Encoding::Gbk) | None, _) => {
            let (text, _, bad) = encoding_rs::GBK.decode(bytes);
            if bad {
                Err("the file is neither UTF-8 nor GBK".into())
            } else {
                Ok((text.into_owned(), Encoding::Gbk))
            }
        }
    }
}

/// The delimiter of `text`: the one of `,` and `;` its first line holds more of.
pub fn sniff_delimiter(text: &str) -> u8 {
    let first = text.lines().next().unwrap_or_default();
    let commas = first.matches(',').count();
    let semicolons = first.matches(';').count();
    if semicolons > commas { b';' } else { b',' }
}

/// The header and data rows of `text`.
pub fn parse(text: &str, delimiter: u8) -> Result<(Vec<String>, Vec<Vec<String>>), String> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut rows = reader.records();
    let header: Vec<String> = match rows.next() {
        Some(Ok(record)) => record
            .iter()
            .map(|h| crate::spreadsheet::restore(h.trim()).to_owned())
            .collect(),
        Some(Err(e)) => return Err(format!("the header cannot be read: {e}")),
        None => return Err("the file is empty".into()),
    };
    if header.iter().all(String::is_empty) {
        return Err("the first line must name the columns".into());
    }
    if header.len() > MAX_COLUMNS {
        return Err(format!("at most {MAX_COLUMNS} columns"));
    }
    let mut data = Vec::new();
    for (i, record) in rows.enumerate() {
        let record = record.map_err(|e| format!("line {} cannot be read: {e}", i + 2))?;
        if record.iter().all(|c| c.trim().is_empty()) {
            data.push(Vec::new()); // kept, so row numbers match the file's lines
            continue;
        }
        // A cell our export (or a spreadsheet) marked as text comes back as it was.
        data.push(
            record
                .iter()
                .map(|c| crate::spreadsheet::restore(c).to_owned())
                .collect(),
        );
        if data.len() > MAX_ROWS {
            return Err(format!("at most {MAX_ROWS} rows"));
        }
    }
    Ok((header, data))
}

/// The fields a column can fill, per object (custom fields are `custom.<key>`; a custom
/// object's records have only a name besides them).
fn targets(object: &str) -> &'static [&'static str] {
    match object {
        "contacts" => &[
            "name",
            "email",
            "phone",
            "company_name",
            "title",
            "tags",
            "lifecycle_stage",
            "source",
            "notes",
            "street",
            "city",
            "region",
            "postal_code",
            "country",
            "national_id",
            "card_number",
            "bank_account",
            "date_of_birth",
        ],
        "companies" => &[
            "name",
            "legal_name",
            "industry",
            "size_band",
            "country",
            "province",
            "city",
            "district",
            "address",
            "website",
            "phone",
            "tags",
            "lifecycle_stage",
            "notes",
        ],
        _ => &["name"],
    }
}

/// Header names recognised without a mapping (compared folded), beyond the field names.
fn alias(object: &str, header: &str) -> Option<&'static str> {
    let h = fold(header.trim()).replace([' ', '-'], "_");
    if !matches!(object, "contacts" | "companies") {
        // A custom object's fields are found by their keys and labels.
        return matches!(h.as_str(), "名称" | "姓名" | "名字" | "标题" | "title").then_some("name");
    }
    let contact = object == "contacts";
    Some(match h.as_str() {
        "姓名" | "名字" | "联系人" | "full_name" => "name",
        "名称" | "公司名称" | "企业名称" | "company" if !contact => "name",
        "邮箱" | "电子邮件" | "电子邮箱" | "e_mail" | "emails" | "email_address" if contact => {
            "email"
        }
        "电话" | "手机" | "手机号" | "手机号码" | "联系电话" | "mobile" | "phones" | "tel" => {
            "phone"
        }
        "公司" | "公司名称" | "company" | "organization" if contact => "company_name",
        "职位" | "职务" | "job_title" => "title",
        "标签" => "tags",
        "备注" => "notes",
        "来源" => "source",
        "国家" => "country",
        "省" | "省份" | "state" => {
            if contact {
                "region"
            } else {
                "province"
            }
        }
        "城市" | "市" => "city",
        "区" | "区县" => "district",
        "地址" if !contact => "address",
        "地址" | "address" | "街道" => "street",
        "邮编" | "zip" => "postal_code",
        "行业" => "industry",
        "规模" | "size" => "size_band",
        "网站" | "网址" | "url" => "website",
        "阶段" | "stage" => "lifecycle_stage",
        "法定名称" | "注册名称" => "legal_name",
        _ => return None,
    })
}

/// Which field each column fills: the caller's `mapping` (header -> field), else a header
/// that names a field (or a known alias, or a custom field's key or label). Columns that
/// map to nothing are ignored. Errors name `map[<header>]`.
pub fn mapping(
    object: &str,
    header: &[String],
    asked: &BTreeMap<String, String>,
    defs: &Definitions,
    errors: &mut Errors,
) -> BTreeMap<usize, String> {
    let targets = targets(object);
    let reported = errors.len();
    let is_target = |f: &str| {
        targets.contains(&f)
            || f.strip_prefix("custom.")
                .is_some_and(|k| defs.active(k).is_some())
    };
    for (column, field) in asked {
        if !header.iter().any(|h| h == column) {
            errors.add(format!("map[{column}]"), "is not a column of the file");
        } else if !is_target(field) {
            errors.add(
                format!("map[{column}]"),
                format!("{field} is not a field a column can fill"),
            );
        }
    }
    let mut out = BTreeMap::new();
    for (i, h) in header.iter().enumerate() {
        let field = match asked.get(h) {
            Some(field) => Some(field.clone()),
            None => {
                let folded = fold(h).replace([' ', '-'], "_");
                if targets.contains(&folded.as_str()) {
                    Some(folded)
                } else if let Some(def) = defs
                    .fields
                    .iter()
                    .find(|d| !d.removed && (d.key == folded || fold(&d.label) == fold(h)))
                {
                    Some(format!("custom.{}", def.key))
                } else {
                    alias(object, h).map(str::to_owned)
                }
            }
        };
        if let Some(field) = field.filter(|f| is_target(f)) {
            out.insert(i, field);
        }
    }
    if errors.len() == reported && !out.values().any(|f| f == "name") {
        errors.add("map", "no column fills `name`, which every record needs");
    }
    out
}

/// Splits a cell holding several values (tags, options, emails).
fn split_list(cell: &str) -> Vec<String> {
    cell.split([',', ';', '|', '，', '；'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A custom value as its field's type wants it; text it cannot read is passed on as
/// is, for validation to report.
fn custom_value(kind: Kind, cell: &str) -> Value {
    match kind {
        Kind::Number => cell
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| Value::String(cell.into()), Value::Number),
        Kind::Boolean => match fold(cell).as_str() {
            "true" | "yes" | "y" | "1" | "是" => Value::Bool(true),
            "false" | "no" | "n" | "0" | "否" => Value::Bool(false),
            _ => Value::String(cell.into()),
        },
        Kind::MultiSelect => {
            Value::Array(split_list(cell).into_iter().map(Value::String).collect())
        }
        Kind::Money => {
            // `1250.50 CNY`: an amount in major units and a currency, read exactly (no
            // floating point) in the currency's own minor units.
            let mut parts = cell.split_whitespace();
            let (amount, currency) = (parts.next(), parts.next().map(str::to_ascii_uppercase));
            match (amount, currency, parts.next()) {
                (Some(amount), Some(currency), None) => {
                    match crate::money::minor_units(amount, &currency) {
                        Some(minor) => {
                            serde_json::json!({ "amount_minor": minor, "currency": currency })
                        }
                        None => Value::String(cell.into()),
                    }
                }
                _ => Value::String(cell.into()),
            }
        }
        Kind::Text | Kind::Date | Kind::SingleSelect | Kind::Relation => Value::String(cell.into()),
    }
}

/// One data row as the JSON body of a new record (`NewContact`, `NewCompany`); empty
/// cells are left out.
pub fn row_input(
    object: &str,
    row: &[String],
    mapping: &BTreeMap<usize, String>,
    defs: &Definitions,
) -> Map<String, Value> {
    let mut out = Map::new();
    let nested = |out: &mut Map<String, Value>, parent: &str, field: &str, value: &str| {
        let entry = out
            .entry(parent.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(map) = entry {
            map.insert(field.into(), Value::String(value.into()));
        }
    };
    for (column, field) in mapping {
        let Some(cell) = row.get(*column).map(|c| c.trim()).filter(|c| !c.is_empty()) else {
            continue;
        };
        let push = |out: &mut Map<String, Value>, list: &str, item: Value| {
            let entry = out
                .entry(list.to_owned())
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(items) = entry {
                items.push(item);
            }
        };
        match (object, field.as_str()) {
            ("contacts", "email") => {
                for address in split_list(cell) {
                    push(
                        &mut out,
                        "emails",
                        serde_json::json!({ "address": address }),
                    );
                }
            }
            ("contacts", "phone") => {
                for number in cell
                    .split([';', '|', '；'])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                {
                    push(&mut out, "phones", serde_json::json!({ "number": number }));
                }
            }
            (_, "tags") => {
                for tag in split_list(cell) {
                    push(&mut out, "tags", Value::String(tag));
                }
            }
            ("contacts", f @ ("street" | "city" | "region" | "postal_code" | "country")) => {
                nested(&mut out, "address", f, cell);
            }
            ("companies", f @ ("country" | "province" | "city" | "district")) => {
                nested(&mut out, "region", f, cell);
            }
            (_, f) => match f.strip_prefix("custom.") {
                Some(key) => {
                    let kind = defs.active(key).map_or(Kind::Text, |d| d.kind);
                    let custom = out
                        .entry("custom")
                        .or_insert_with(|| Value::Object(Map::new()));
                    if let Value::Object(map) = custom {
                        map.insert(key.into(), custom_value(kind, cell));
                    }
                }
                None => {
                    out.insert(f.into(), Value::String(cell.into()));
                }
            },
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gbk_and_utf8_with_a_bom_both_read() {
        let (gbk, _, _) = encoding_rs::GBK.encode("姓名,电话\n王小明,13800138000\n");
        let (text, enc) = decode(&gbk, None).unwrap();
        assert_eq!(enc, Encoding::Gbk);
        assert!(text.starts_with("姓名"));
        let (text, enc) = decode("\u{feff}name\nAda\n".as_bytes(), None).unwrap();
        assert_eq!((text.as_str(), enc), ("name\nAda\n", Encoding::Utf8));
        assert!(decode(&gbk, Some(Encoding::Utf8)).is_err());
    }

    #[test]
    fn semicolons_are_sniffed_and_quoted_cells_keep_their_delimiters() {
        let text = "name;tags\n\"Doe; Jane\";a,b\n";
        assert_eq!(sniff_delimiter(text), b';');
        let (header, rows) = parse(text, b';').unwrap();
        assert_eq!(header, ["name", "tags"]);
        assert_eq!(rows, [vec!["Doe; Jane".to_owned(), "a,b".to_owned()]]);
    }

    #[test]
    fn headers_map_by_name_alias_or_custom_label_and_rows_become_bodies() {
        let defs = Definitions::default();
        let header: Vec<String> = ["姓名", "Email", "电话", "城市", "Ignored"]
            .map(String::from)
            .to_vec();
        let mut errors = Errors::new();
        let map = mapping("contacts", &header, &BTreeMap::new(), &defs, &mut errors);
        assert!(errors.is_empty());
        assert_eq!(map.len(), 4);
        let row: Vec<String> = ["王小明", "a@x.cn; b@x.cn", "138 0013 8000", "深圳", "zzz"]
            .map(String::from)
            .to_vec();
        let body = row_input("contacts", &row, &map, &defs);
        assert_eq!(
            Value::Object(body),
            serde_json::json!({"name": "王小明",
                "emails": [{"address": "a@x.cn"}, {"address": "b@x.cn"}],
                "phones": [{"number": "138 0013 8000"}], "address": {"city": "深圳"}})
        );
        let mut errors = Errors::new();
        let asked = BTreeMap::from([("Nope".to_owned(), "name".to_owned())]);
        mapping("contacts", &header[1..], &asked, &defs, &mut errors);
        assert_eq!(
            errors.len(),
            1,
            "the unknown column (the missing name goes unsaid)"
        );
    }
}
