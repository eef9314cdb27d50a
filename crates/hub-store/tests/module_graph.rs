//! The crate's top-level modules depend on each other without a circle.
//!
//! Reads `src/**/*.rs`, and for each top-level module (`src/X.rs` or `src/X/`) collects the
//! other top-level modules it names: `crate::X::...`, `crate::{X::..., ...}`, a name the crate
//! root re-exports from `X` (`crate::NewPost` is `posts`), and the same through `super::` from
//! a module's root file or `super::super::` from a file under it. The crate root (`lib.rs`:
//! `Store`, `Result`, ...) is not a node: every module builds on it.
//!
//! What this cannot see: methods of `Store` defined in one module and called in another (a
//! method call names no module), and paths inside comments (skipped) or macros built from
//! strings.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Module name -> the top-level modules it names.
type Graph = BTreeMap<String, BTreeSet<String>>;

#[test]
fn top_level_modules_form_no_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = module_graph(&src);
    assert!(
        graph.len() >= 10,
        "expected the crate's modules, found {:?}",
        graph.keys()
    );
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "the modules of hub-store depend on each other in a circle: {}\n(edges: {graph:#?})",
            cycle.join(" -> ")
        );
    }
}

#[test]
fn the_check_finds_a_cycle_and_the_paths_it_reads() {
    let modules: BTreeSet<String> = ["posts", "events", "rows", "batch"]
        .map(String::from)
        .into();
    let reexports = BTreeMap::from([("NewEvent".to_string(), "events".to_string())]);
    let mut names = BTreeSet::new();
    let text = "use crate::rows::{self, X};\n\
                // crate::batch::Outcome in a comment is not a use\n\
                use crate::{NewEvent, Result, posts::{a, b}};\n\
                let x = super::super::rows::y;";
    collect(text, &["posts", "write"], &modules, &reexports, &mut names);
    assert_eq!(
        names,
        ["events", "posts", "rows"].map(String::from).into(),
        "what a file of posts/ names"
    );
    let mut g = Graph::new();
    g.insert("posts".into(), ["events".into()].into());
    g.insert("events".into(), ["rows".into()].into());
    g.insert("rows".into(), BTreeSet::new());
    assert_eq!(find_cycle(&g), None);
    g.get_mut("rows").map(|e| e.insert("posts".into()));
    assert_eq!(
        find_cycle(&g),
        Some(
            ["events", "rows", "posts", "events"]
                .map(String::from)
                .to_vec()
        )
    );
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file under `src` (`posts/write.rs` is `posts::write`, `posts/mod.rs`
/// and `posts.rs` are `posts`, `lib.rs` the root).
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).expect("a file under src");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

fn module_graph(src: &Path) -> Graph {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeSet<String> = files
        .iter()
        .filter_map(|f| module_path(src, f).first().cloned())
        .collect();
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs");
    let reexports = root_reexports(&lib, &modules);
    let mut graph = Graph::new();
    for file in &files {
        let path = module_path(src, file);
        let Some(top) = path.first() else { continue };
        let text = std::fs::read_to_string(file).expect("a source file");
        let parts: Vec<&str> = path.iter().map(String::as_str).collect();
        let names = graph.entry(top.clone()).or_default();
        collect(&text, &parts, &modules, &reexports, names);
        names.remove(top);
    }
    graph
}

/// The names the root re-exports from a module: `pub use posts::{NewPost, ...};`.
fn root_reexports(lib: &str, modules: &BTreeSet<String>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for stmt in code(lib).split(';') {
        let stmt = stmt.trim();
        let Some(rest) = ["pub use ", "pub(crate) use "]
            .iter()
            .find_map(|p| stmt.strip_prefix(p))
        else {
            continue;
        };
        let Some((module, names)) = rest.split_once("::") else {
            continue;
        };
        if !modules.contains(module.trim()) {
            continue;
        }
        for name in names
            .split(|c: char| !is_ident(c))
            .filter(|n| !n.is_empty())
        {
            out.insert(name.to_string(), module.trim().to_string());
        }
    }
    out
}

/// The text without comment lines.
fn code(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Adds to `names` the top-level modules the code of the file of module `path` names.
fn collect(
    text: &str,
    path: &[&str],
    modules: &BTreeSet<String>,
    reexports: &BTreeMap<String, String>,
    names: &mut BTreeSet<String>,
) {
    let code = code(text);
    let mut add = |first: &str| {
        if modules.contains(first) {
            names.insert(first.to_string());
        } else if let Some(m) = reexports.get(first) {
            names.insert(m.clone());
        }
    };
    // `crate::` and, from the module's root file or one under it, the `super::` that reaches
    // the crate root.
    let mut roots = vec!["crate::".to_string()];
    if !path.is_empty() {
        roots.push("super::".repeat(path.len()));
    }
    for root in &roots {
        let mut rest = code.as_str();
        while let Some(at) = rest.find(root.as_str()) {
            let before = rest[..at].chars().next_back();
            rest = &rest[at + root.len()..];
            if before.is_some_and(|c| is_ident(c) || c == ':') {
                continue; // `$crate::`, `foo::crate::`, or a longer `super::super::`
            }
            if let Some(group) = rest.strip_prefix('{') {
                for first in group_heads(group) {
                    add(first);
                }
            } else {
                let end = rest.find(|c: char| !is_ident(c)).unwrap_or(rest.len());
                add(&rest[..end]);
            }
        }
    }
}

/// The first segment of each item of a `{...}` group (the text after its `{`).
fn group_heads(group: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                items.push(&group[start..i]);
                break;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&group[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items
        .into_iter()
        .map(|item| {
            let item = item.trim_start();
            &item[..item.find(|c: char| !is_ident(c)).unwrap_or(item.len())]
        })
        .filter(|head| !head.is_empty())
        .collect()
}

/// A cycle of the graph, as the modules along it (the first repeated at the end), if any.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}
