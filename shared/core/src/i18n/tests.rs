use std::collections::BTreeSet;

use syn::visit::Visit;

use super::*;
use crate::source_files::rust_files;

#[test]
fn the_language_is_the_best_weighted_one_the_product_speaks() {
    for (header, lang) in [
        ("zh-CN,zh;q=0.9,en;q=0.8", Lang::Zh),
        ("en-US,en;q=0.9,zh-CN;q=0.8", Lang::En),
        ("fr-FR, zh-TW;q=0.5", Lang::Zh),
        ("de, fr", Lang::En),
        ("en;q=0.2, zh;q=0.7", Lang::Zh),
        ("zh;q=0, en;q=0.1", Lang::En),
        ("ZH-hans", Lang::Zh),
        ("zh;q=bogus, en;q=0.5", Lang::Zh),
        ("", Lang::En),
    ] {
        assert_eq!(Lang::from_accept_language(header), lang, "{header}");
    }
    assert_eq!(Lang::of_locale("zh-CN"), Lang::Zh);
    assert_eq!(Lang::of_locale("zh_TW"), Lang::Zh);
    assert_eq!(Lang::of_locale("en-GB"), Lang::En);
    assert_eq!(Lang::of_locale(""), Lang::En);
}

#[test]
fn texts_are_rendered_with_the_values_they_carried() {
    let catalogue = Catalogue::parse(
        r#"{
            "must not be empty": "不能为空",
            "must be at most {max} characters": "最多 {max} 个字符",
            "{a} comes before {b}": "{b} 在 {a} 之后",
            "The body is not valid JSON: {inner}.": "请求体不是有效的 JSON：{inner}。",
            "expected {}": "应为 {0}",
            "at most {{ {n} }} entries": "最多 {{ {n} }} 项"
        }"#,
    )
    .unwrap();
    let zh = |text| catalogue.render(text, 1).into_owned();
    assert_eq!(zh("must not be empty"), "不能为空");
    assert_eq!(zh("must be at most 200 characters"), "最多 200 个字符");
    assert_eq!(zh("x comes before y"), "y 在 x 之后");
    assert_eq!(
        zh("The body is not valid JSON: expected a value."),
        "请求体不是有效的 JSON：应为 a value。"
    );
    assert_eq!(zh("at most { 3 } entries"), "最多 { 3 } 项");
    assert_eq!(zh("something else"), "something else");
    assert_eq!(
        zh("must be at most  characters"),
        "must be at most  characters"
    );
    assert_eq!(
        translate("must not be empty", Lang::En),
        "must not be empty"
    );
}

#[test]
fn a_catalogue_that_cannot_be_rendered_is_refused() {
    for bad in [
        r#"{"a {x} b": "甲 {y} 乙"}"#,
        r#"{"a {x}{y} b": "甲"}"#,
        r#"{"a {x b": "甲"}"#,
        r#"{"a {x} b": "甲 {3}"}"#,
        r#"{"a": 1}"#,
    ] {
        assert!(Catalogue::parse(bad).is_err(), "{bad}");
    }
    Catalogue::parse(include_str!("zh-CN.json")).expect("the shipped catalogue");
}

/// Every message the product's source can put in a problem (its details, field messages,
/// refusals passed through helpers) has its Chinese translation. A new message without
/// one fails here with the list of those missing; `TRANSLATIONS_TODO=<file>` writes them
/// out as a JSON object to fill in.
#[test]
fn every_message_of_the_source_has_a_chinese_translation() {
    let root = crate::source_files::root();
    let mut files = Vec::new();
    for library in ["shared/core/src", "shared/engine/src", "shared/src"] {
        rust_files(&root.join(library), false, &mut files);
    }
    for entry in std::fs::read_dir(root.join("functions")).unwrap() {
        rust_files(&entry.unwrap().path().join("src"), false, &mut files);
    }
    let mut found = Messages::default();
    for file in &files {
        let source = std::fs::read_to_string(file).unwrap();
        let parsed = syn::parse_file(&source).unwrap_or_else(|e| panic!("{file:?}: {e}"));
        found.visit_file(&parsed);
    }
    assert!(
        found.0.len() > 200,
        "the scan finds the messages: {}",
        found.0.len()
    );
    let catalogue: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(include_str!("zh-CN.json")).unwrap();
    let missing: BTreeSet<&String> = found
        .0
        .iter()
        .filter(|m| !catalogue.contains_key(*m))
        .collect();
    if let Ok(out) = std::env::var("TRANSLATIONS_TODO") {
        let todo: serde_json::Map<String, serde_json::Value> = missing
            .iter()
            .map(|m| ((*m).clone(), serde_json::Value::String(String::new())))
            .collect();
        std::fs::write(out, serde_json::to_string_pretty(&todo).unwrap()).unwrap();
    }
    assert!(
        missing.is_empty(),
        "{} messages have no translation in shared/core/src/i18n/zh-CN.json:\n{}",
        missing.len(),
        missing
            .iter()
            .map(|m| format!("  {m:?}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The messages of the source, found where they are made:
/// - the argument of an error constructor (`Error::NotFound(…)`, `validation(field, …)`,
///   `conflict(kind, …)`, a field error's `.add(field, …)`), literal or `format!`;
/// - a `message:` or `detail:` member;
/// - the texts of the problem type's own titles and details;
/// - any other sentence handed to a function (a capital letter first, a full stop last),
///   which is how helpers such as the throttle receive their refusals.
#[derive(Default)]
struct Messages(BTreeSet<String>);

/// Constructors whose argument at the index is a message.
const MAKERS: &[(&str, usize)] = &[
    ("BadRequest", 0),
    ("Unauthenticated", 0),
    ("Forbidden", 0),
    ("CrossSiteRequest", 0),
    ("NotFound", 0),
    ("PreconditionFailed", 0),
    ("UnsupportedMediaType", 0),
    ("validation", 1),
    ("conflict", 1),
];

impl Messages {
    fn message(&mut self, expr: &syn::Expr) {
        if let Some(text) = text_of(expr) {
            self.0.insert(text);
        }
    }

    fn sentence(&mut self, expr: &syn::Expr) {
        if let Some(text) = text_of(expr)
            && text.starts_with(|c: char| c.is_ascii_uppercase())
            && text.contains(' ')
            && (text.ends_with('.') || text.ends_with('?'))
        {
            self.0.insert(text);
        }
    }
}

/// The text of a literal, `"…".into()` (or `to_owned`, `to_string`, `String::from`) or
/// the format string of `format!(…)`.
fn text_of(expr: &syn::Expr) -> Option<String> {
    match expr {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => Some(s.value()),
        syn::Expr::MethodCall(call)
            if ["into", "to_owned", "to_string"].contains(&call.method.to_string().as_str()) =>
        {
            text_of(&call.receiver)
        }
        syn::Expr::Call(call) if path_ends(&call.func, "from") => {
            call.args.first().and_then(text_of)
        }
        syn::Expr::Macro(m) if m.mac.path.is_ident("format") => {
            let first = m.mac.tokens.clone().into_iter().next()?;
            syn::parse2::<syn::LitStr>(first.into())
                .ok()
                .map(|s| s.value())
        }
        syn::Expr::Paren(p) => text_of(&p.expr),
        _ => None,
    }
}

fn path_ends(func: &syn::Expr, name: &str) -> bool {
    matches!(func, syn::Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == name))
}

fn is_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("test")
            || (a.path().is_ident("cfg") && a.parse_args::<syn::Ident>().is_ok_and(|i| i == "test"))
    })
}

impl<'ast> Visit<'ast> for Messages {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if !is_test(&m.attrs) {
            syn::visit::visit_item_mod(self, m);
        }
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        if !is_test(&f.attrs) {
            syn::visit::visit_item_fn(self, f);
        }
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        // The problem type's own titles and details.
        if ["title", "detail"].contains(&f.sig.ident.to_string().as_str()) {
            let mut all = AllTexts(&mut self.0);
            all.visit_block(&f.block);
        }
        syn::visit::visit_impl_item_fn(self, f);
    }

    // Doc comments are attributes; they are not messages.
    fn visit_attribute(&mut self, _: &'ast syn::Attribute) {}

    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        for (name, index) in MAKERS {
            if path_ends(&call.func, name)
                && let Some(arg) = call.args.iter().nth(*index)
            {
                self.message(arg);
            }
        }
        for arg in &call.args {
            self.sentence(arg);
        }
        syn::visit::visit_expr_call(self, call);
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        let method = call.method.to_string();
        if method == "add" && call.args.len() == 2 {
            self.message(&call.args[1]);
        }
        if !["expect", "context"].contains(&method.as_str()) {
            for arg in &call.args {
                self.sentence(arg);
            }
        }
        syn::visit::visit_expr_method_call(self, call);
    }

    fn visit_field_value(&mut self, field: &'ast syn::FieldValue) {
        if let syn::Member::Named(name) = &field.member
            && (name == "message" || name == "detail")
        {
            self.message(&field.expr);
        }
        syn::visit::visit_field_value(self, field);
    }

    fn visit_expr_macro(&mut self, m: &'ast syn::ExprMacro) {
        // The arguments of `format!(…)` and `vec![…]` are expressions too.
        if (m.mac.path.is_ident("format") || m.mac.path.is_ident("vec"))
            && let Ok(args) = m.mac.parse_body_with(
                syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated,
            )
        {
            for arg in &args {
                self.visit_expr(arg);
            }
        }
        syn::visit::visit_expr_macro(self, m);
    }
}

/// Every text in a block (the arms of `title` and `detail`).
struct AllTexts<'a>(&'a mut BTreeSet<String>);

impl<'ast> Visit<'ast> for AllTexts<'_> {
    fn visit_expr(&mut self, e: &'ast syn::Expr) {
        if let Some(text) = text_of(e)
            && text.contains(' ')
        {
            self.0.insert(text);
        }
        syn::visit::visit_expr(self, e);
    }
}
