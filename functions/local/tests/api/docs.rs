//! The docs are true: every problem `type` the code can answer is listed in
//! `docs/errors.md`, and every setting the code reads is listed by `crm --help` and in
//! the README.

use std::path::Path;

/// The string literals that follow `needle` in `text` (after optional white space).
fn literals_after<'a>(text: &'a str, needle: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(needle) {
        rest = &rest[at + needle.len()..];
        let trimmed = rest.trim_start();
        if let Some(body) = trimmed.strip_prefix('"')
            && let Some(end) = body.find('"')
        {
            out.push(&body[..end]);
        }
    }
    out
}

fn sources(dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "tests") {
                continue;
            }
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(std::fs::read_to_string(&path).unwrap());
        }
    }
}

#[test]
fn every_problem_type_is_documented() {
    let root = crate::support::repo_root();
    let docs = std::fs::read_to_string(root.join("docs/errors.md")).unwrap();
    let mut texts = Vec::new();
    for library in ["shared/core/src", "shared/engine/src", "shared/src"] {
        sources(&root.join(library), &mut texts);
    }
    sources(&root.join("functions"), &mut texts);
    let mut kinds = Vec::new();
    for text in &texts {
        // `Error::conflict("kind", ...)` (`ApiError` at the edge), `Conflict { kind: "...",
        // .. }` and the fixed kinds of `Error::kind`.
        kinds.extend(literals_after(text, "Error::conflict("));
        kinds.extend(
            literals_after(text, "kind: ").into_iter().filter(|k| {
                k.contains('-') && k.chars().all(|c| c.is_ascii_lowercase() || c == '-')
            }),
        );
        if text.contains("pub fn kind(&self)") {
            let body = &text[text.find("pub fn kind(&self)").unwrap()..];
            let body = &body[..body.find("\n    }\n").unwrap()];
            kinds.extend(literals_after(body, "=> "));
        }
    }
    kinds.sort();
    kinds.dedup();
    assert!(kinds.len() > 20, "found only {kinds:?}");
    let missing: Vec<_> = kinds
        .iter()
        .filter(|k| !docs.contains(&format!("`{k}`")) && !docs.contains(&format!(":{k}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "problem types missing from docs/errors.md: {missing:?}"
    );
}

#[test]
fn every_setting_is_listed_by_crm_help_and_in_the_readme() {
    let root = crate::support::repo_root();
    let mut texts = Vec::new();
    for library in ["shared/core/src", "shared/engine/src", "shared/src"] {
        sources(&root.join(library), &mut texts);
    }
    sources(&root.join("functions"), &mut texts);
    let mut read: Vec<String> = Vec::new();
    for text in &texts {
        let mut rest = text.as_str();
        while let Some(at) = rest.find("\"CRM_") {
            rest = &rest[at + 1..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            if !read.contains(&name) {
                read.push(name);
            }
        }
    }
    assert!(read.len() > 20, "found the settings: {read:?}");
    let listed: Vec<&str> = shared::config::SETTINGS.iter().map(|s| s.0).collect();
    for name in &read {
        assert!(
            listed.contains(&name.as_str()),
            "{name} is read but not in SETTINGS"
        );
    }
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_crm"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(help.status.success());
    let help = String::from_utf8(help.stdout).unwrap();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    for name in listed {
        assert!(help.contains(name), "crm --help does not list {name}");
        assert!(
            readme.contains(&format!("`{name}`")),
            "the README does not list {name}"
        );
    }
}
