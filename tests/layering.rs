//! The shape of the source tree, checked like any other property: the top-level modules of
//! `src/` import each other without circles (so each stage can be read, tested and replaced
//! on its own), and no source file grows past the length a reader can follow.
//!
//! `cargo test --test layering` prints the import graph when it fails.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Longest source file (in lines) outside the tests.
const MAX_LINES: usize = 800;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("src/ is readable")
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The top-level module a file belongs to: `src/kernel/chain.rs` is in `kernel`.
fn top_module(path: &Path) -> String {
    let rel = path.strip_prefix(src()).expect("under src/");
    let first = rel.components().next().expect("non-empty path");
    let name = first.as_os_str().to_string_lossy();
    name.strip_suffix(".rs").unwrap_or(&name).to_string()
}

/// The text of a file before its unit tests: a test module may use anything.
fn non_test_text(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("source file is readable");
    match text.find("#[cfg(test)]") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// Identifier characters, for finding whole words.
fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Every top-level module named as `crate::NAME` or inside `use crate::{NAME, ...}`.
fn imports(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        if i > 0 && text[..i].ends_with(|c: char| is_ident(c) || c == ':') {
            continue; // `$crate::` or `emc::crate::`-like paths are not ours
        }
        let rest = &text[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // The items of the group at brace depth 0, up to its closing brace; each item's
            // first word is a top-level module.
            let mut depth = 0;
            let mut items = vec![String::new()];
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => items.push(String::new()),
                    _ if depth == 0 => items.last_mut().expect("one item").push(c),
                    _ => {}
                }
            }
            for item in items {
                let name: String = item.trim().chars().take_while(|c| is_ident(*c)).collect();
                if !name.is_empty() {
                    found.insert(name);
                }
            }
        } else {
            let name: String = rest.chars().take_while(|c| is_ident(*c)).collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

/// Module -> the other top-level modules it imports (lib.rs and main.rs are the roots that
/// declare everything, so they are left out).
fn import_graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let modules: BTreeSet<String> = files.iter().map(|p| top_module(p)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in &files {
        let me = top_module(path);
        if me == "lib" || me == "main" {
            continue;
        }
        let entry = graph.entry(me.clone()).or_default();
        for m in imports(&non_test_text(path)) {
            if m != me && modules.contains(&m) {
                entry.insert(m);
            }
        }
    }
    graph
}

/// The strongly connected components with more than one module (Tarjan), each sorted.
fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        let graph = s.graph;
        for w in graph.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            loop {
                let w = s.stack.pop().expect("v is on the stack");
                s.on_stack.remove(w);
                component.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.found.push(component);
            }
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.found
}

#[test]
fn the_circle_finder_finds_circles() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a", "d"]),
        ("d", vec![]),
        ("e", vec!["d"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(circles(&graph), vec![vec!["a", "b", "c"]]);
}

#[test]
fn imports_are_read_from_paths_and_groups() {
    let text =
        "use crate::model::{Model, Ty};\nuse crate::{data::Dataset, graph, infer::{a, b}};\n\
                fn f() { crate::plan::choose(); }\n";
    let found: Vec<String> = imports(text).into_iter().collect();
    assert_eq!(found, ["data", "graph", "infer", "model", "plan"]);
}

#[test]
fn top_level_modules_import_each_other_without_circles() {
    let graph = import_graph();
    let found = circles(&graph);
    let picture: String = graph
        .iter()
        .map(|(m, to)| {
            format!(
                "  {m} -> {}\n",
                to.iter().cloned().collect::<Vec<_>>().join(", ")
            )
        })
        .collect();
    assert!(
        found.is_empty(),
        "import circles among the top-level modules of src/: {found:?}\nthe import graph:\n{picture}"
    );
}

#[test]
fn no_source_file_is_too_long_to_follow() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let long: Vec<String> = files
        .iter()
        .filter(|p| !p.ends_with("tests.rs"))
        .filter_map(|p| {
            let n = std::fs::read_to_string(p)
                .expect("readable")
                .lines()
                .count();
            (n > MAX_LINES).then(|| format!("{} ({n} lines)", p.display()))
        })
        .collect();
    assert!(
        long.is_empty(),
        "source files over {MAX_LINES} lines (split them by concern): {long:?}"
    );
}
