//! The library's layering, checked on its source. Across its crates (`crm-core`,
//! `crm-engine`, `shared`) the compiler refuses a wrong-way import; within each, this
//! checks that no top-level modules import one another in a cycle, and that nothing but
//! the edge reaches the edge (`http`, `lambda`) or the composition root (`wiring`). A
//! wrong-way import fails here, naming the modules and a file that makes it. A module is
//! known by its name whichever crate holds it (each crate's root brings the lower crates'
//! modules in under the same names).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// The modules only the edge may import.
const EDGE: &[&str] = &["http", "lambda", "wiring"];

/// Top-level module names a file refers to (`crate::x`, `crate::{x, y}`, `crate::AppState`),
/// outside `#[cfg(test)]` items.
#[derive(Default)]
struct Refs(BTreeSet<String>);

fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.parse_args::<syn::Path>()
                .is_ok_and(|p| p.is_ident("test"))
    })
}

impl Refs {
    fn add(&mut self, name: &str) {
        // `AppState` is re-exported at the root from `state`.
        let module = if name == "AppState" { "state" } else { name };
        self.0.insert(module.to_owned());
    }

    fn use_tree(&mut self, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => self.add(&p.ident.to_string()),
            syn::UseTree::Name(n) => self.add(&n.ident.to_string()),
            syn::UseTree::Rename(r) => self.add(&r.ident.to_string()),
            syn::UseTree::Group(g) => g.items.iter().for_each(|t| self.use_tree(t)),
            syn::UseTree::Glob(_) => {}
        }
    }
}

impl<'ast> Visit<'ast> for Refs {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let attrs = match item {
            syn::Item::Mod(m) => &m.attrs,
            syn::Item::Fn(f) => &f.attrs,
            syn::Item::Use(u) => &u.attrs,
            syn::Item::Impl(i) => &i.attrs,
            _ => return syn::visit::visit_item(self, item),
        };
        if !is_test_only(attrs) {
            syn::visit::visit_item(self, item);
        }
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        if let syn::UseTree::Path(p) = &item.tree
            && p.ident == "crate"
        {
            self.use_tree(&p.tree);
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let mut segments = path.segments.iter();
        if let (Some(first), Some(second)) = (segments.next(), segments.next())
            && first.ident == "crate"
        {
            self.add(&second.ident.to_string());
        }
        syn::visit::visit_path(self, path);
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("source directory") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Per top-level module, the other top-level modules it imports, each with a file that
/// does.
fn graph() -> BTreeMap<String, BTreeMap<String, PathBuf>> {
    // As `cargo test` names it at run time (a shared build cache may hold a binary
    // compiled in another checkout).
    let root = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    let mut graph = BTreeMap::new();
    let entries = ["core/src", "engine/src", "src"]
        .iter()
        .flat_map(|library| std::fs::read_dir(root.join(library)).expect("src"));
    for entry in entries {
        let path = entry.expect("entry").path();
        let name = path
            .file_stem()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        if name == "lib" || name.ends_with("_tests") {
            continue;
        }
        let mut files = Vec::new();
        if path.is_dir() {
            rust_files(&path, &mut files);
        } else {
            files.push(path.clone());
        }
        let mut deps: BTreeMap<String, PathBuf> = BTreeMap::new();
        for file in files {
            let text = std::fs::read_to_string(&file).expect("source");
            let parsed = syn::parse_file(&text).expect("parses");
            let mut refs = Refs::default();
            refs.visit_file(&parsed);
            for dep in refs.0 {
                if dep != name {
                    deps.entry(dep).or_insert_with(|| file.clone());
                }
            }
        }
        graph.insert(name, deps);
    }
    graph
}

/// The strongly connected components of more than one module (Tarjan).
fn cycles(graph: &BTreeMap<String, BTreeMap<String, PathBuf>>) -> Vec<Vec<String>> {
    struct Walk<'g> {
        graph: &'g BTreeMap<String, BTreeMap<String, PathBuf>>,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        found: Vec<Vec<String>>,
    }
    impl<'g> Walk<'g> {
        fn visit(&mut self, v: &'g str) {
            let i = self.index.len();
            self.index.insert(v, i);
            self.low.insert(v, i);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.graph[v].keys().filter(|w| self.graph.contains_key(*w)) {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.on_stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    component.push(w.to_owned());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !walk.index.contains_key(v.as_str()) {
            walk.visit(v);
        }
    }
    walk.found
}

#[test]
fn the_top_level_modules_import_one_another_without_a_cycle() {
    let graph = graph();
    assert!(graph.len() > 40, "the scan found the modules");
    let found = cycles(&graph);
    let explained: Vec<String> = found
        .iter()
        .map(|component| {
            let edges: Vec<String> = component
                .iter()
                .flat_map(|a| {
                    graph[a]
                        .iter()
                        .filter(|(b, _)| component.contains(b))
                        .map(move |(b, file)| format!("  {a} -> {b} ({})", file.display()))
                })
                .collect();
            format!("{component:?}\n{}", edges.join("\n"))
        })
        .collect();
    assert!(found.is_empty(), "import cycles:\n{}", explained.join("\n"));
}

#[test]
fn only_the_edge_imports_the_edge() {
    for (module, deps) in graph() {
        if EDGE.contains(&module.as_str()) {
            continue;
        }
        for (dep, file) in deps {
            assert!(
                !EDGE.contains(&dep.as_str()),
                "{module} imports the edge module {dep} ({})",
                file.display()
            );
        }
    }
}

#[test]
fn the_scan_sees_grouped_and_plain_imports() {
    let file = syn::parse_file(
        "use crate::{alpha, beta::x};\nuse crate::gamma::y;\nfn f(s: &crate::AppState) { crate::delta::g(); }\n#[cfg(test)]\nmod tests { use crate::omega; }",
    )
    .expect("parses");
    let mut refs = Refs::default();
    refs.visit_file(&file);
    let names: Vec<&str> = refs.0.iter().map(String::as_str).collect();
    assert_eq!(names, ["alpha", "beta", "delta", "gamma", "state"]);
}
