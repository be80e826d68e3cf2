//! The module layout stays acyclic: no module of the server uses, directly or through
//! others, a module that uses it back. Two graphs are checked:
//!
//! - every module (file) of `src/`, with an edge wherever one names another through a
//!   `crate::` or `super::` path, or a parent names a child (`seats::X` where it declares
//!   `mod seats`), in a `use` or inline;
//! - the same edges between top-level modules (`queue`, `seats`, `engine`, …), which is
//!   the layering ARCHITECTURE.md describes.
//!
//! cargo-modules' `dependencies --acyclic` would be the off-the-shelf check, but the
//! newest version that builds on our toolchain (0.27) counts a type and its own methods
//! as a cycle, so it flags every constructor; this reads the paths itself. A path is
//! resolved to the longest module it names (`crate::queue::room::Room` is `queue::room`),
//! so a module that reaches an item through a parent's re-export counts as using the
//! parent: children import from the module that defines an item.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module path ("" for the crate root, "queue::room") → source, for every file of `src/`
/// that belongs to the library.
fn modules() -> BTreeMap<String, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeMap::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("src/ is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(&root).expect("under src/");
            let mut parts: Vec<String> = rel
                .with_extension("")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if parts == ["main"] {
                continue; // the binary is a separate crate
            }
            if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
                parts.pop();
            }
            let source = std::fs::read_to_string(&path).expect("a readable source file");
            out.insert(parts.join("::"), source);
        }
    }
    out
}

/// The source without comments (line comments and doc comments; string contents stay,
/// which can only add edges, never hide one).
fn strip_comments(source: &str) -> String {
    source
        .lines()
        .map(|line| match line.find("//") {
            Some(i) if !line[..i].contains('"') => &line[..i],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path a use tree starting at `text` names, each as its segments after `prefix`:
/// `a::b::{c, d::{e, f}}` gives `a::b::c`, `a::b::d::e`, `a::b::d::f`.
fn use_paths(text: &str, prefix: &[String]) -> Vec<Vec<String>> {
    let mut path = prefix.to_vec();
    let mut rest = text.trim_start();
    loop {
        let ident: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if ident.is_empty() {
            break;
        }
        rest = rest[ident.len()..].trim_start();
        path.push(ident);
        match rest.strip_prefix("::") {
            Some(r) => rest = r.trim_start(),
            None => return vec![path],
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let mut end = group.len();
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            end = i;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let inner = &group[..end];
            let mut out = Vec::new();
            let (mut depth, mut start) = (0, 0);
            for (i, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.extend(use_paths(&inner[start..i], &path));
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            out.extend(use_paths(&inner[start..], &path));
            // `self` in a group names the group's module itself.
            for p in &mut out {
                if p.last().is_some_and(|s| s == "self") {
                    p.pop();
                }
            }
            out.push(path);
            return out;
        }
    }
    vec![path]
}

/// The module graph: module → the modules it uses.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let modules = modules();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, source) in &modules {
        // Unit tests sit at the end of a file (clippy's `items_after_test_module`); their
        // `use super::*` is the file's own module, and test code is not architecture.
        let code = strip_comments(source.split("#[cfg(test)]").next().unwrap_or(source));
        let me: Vec<String> = if name.is_empty() {
            vec![]
        } else {
            name.split("::").map(str::to_owned).collect()
        };
        let mut paths = Vec::new();
        for (i, _) in code.match_indices("crate::") {
            let before = code[..i].chars().last();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                continue; // `usher_crate::`, not ours
            }
            paths.extend(use_paths(&code[i + "crate::".len()..], &[]));
        }
        for (i, _) in code.match_indices("super::") {
            let before = code[..i].chars().last();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
                continue; // counted with the first `super::` of a `super::super::`
            }
            let mut rest = &code[i..];
            let mut up = 0;
            while let Some(r) = rest.strip_prefix("super::") {
                up += 1;
                rest = r;
            }
            let base = &me[..me.len().saturating_sub(up)];
            paths.extend(use_paths(rest, base));
        }
        // A parent names its children without `crate::` or `super::` (`seats::X` in the
        // module that declares `mod seats`).
        let prefix = if name.is_empty() {
            String::new()
        } else {
            format!("{name}::")
        };
        let children = modules.keys().filter_map(|m| {
            let child = m.strip_prefix(&prefix)?;
            (!child.is_empty() && !child.contains("::")).then_some(child)
        });
        for child in children {
            let needle = format!("{child}::");
            for (i, _) in code.match_indices(&needle) {
                let before = code[..i].chars().last();
                if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
                    continue;
                }
                paths.extend(use_paths(&code[i..], &me));
            }
        }
        for path in paths {
            let target = (1..=path.len())
                .rev()
                .map(|k| path[..k].join("::"))
                .find(|m| modules.contains_key(m));
            if let Some(target) = target
                && &target != name
            {
                edges.entry(name.clone()).or_default().insert(target);
            }
        }
    }
    edges
}

/// The strongly connected components of more than one node (Tarjan).
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Walk<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, v: &'a str) {
            let i = self.index.len();
            self.index.insert(v, i);
            self.low.insert(v, i);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.edges.get(v).into_iter().flatten() {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let lw = self.low[w];
                    let lv = self.low[v];
                    self.low.insert(v, lv.min(lw));
                } else if self.on_stack.contains(w) {
                    let iw = self.index[w];
                    let lv = self.low[v];
                    self.low.insert(v, lv.min(iw));
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
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in edges.keys() {
        if !walk.index.contains_key(v.as_str()) {
            walk.visit(v);
        }
    }
    walk.found
}

fn top(module: &str) -> &str {
    module.split("::").next().unwrap_or(module)
}

#[test]
fn no_module_uses_a_module_that_uses_it_back() {
    let edges = graph();
    assert!(
        edges.len() > 30,
        "the scan found too few modules using others ({}): is it reading src/?",
        edges.len()
    );
    let found = cycles(&edges);
    assert!(found.is_empty(), "module cycles: {found:?}");
}

#[test]
fn the_top_level_modules_form_layers() {
    let mut layers: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, tos) in graph() {
        for to in tos {
            let (a, b) = (top(&from), top(&to));
            if a != b && !a.is_empty() && !b.is_empty() {
                layers.entry(a.to_owned()).or_default().insert(b.to_owned());
            }
        }
    }
    let found = cycles(&layers);
    assert!(
        found.is_empty(),
        "top-level module cycles: {found:?}\nlayers: {layers:#?}"
    );
    // The layering ARCHITECTURE.md describes, in the places it matters most.
    let uses = |a: &str, b: &str| layers.get(a).is_some_and(|s| s.contains(b));
    assert!(
        !uses("engine", "db"),
        "the engine must not know the database"
    );
    assert!(!uses("queue", "seats") && !uses("seats", "queue"));
    assert!(!uses("socket", "queue") && !uses("socket", "seats"));
}

#[test]
fn the_scanner_sees_grouped_and_nested_paths_and_finds_a_cycle() {
    let paths = use_paths("a::b::{c, d::{e, self}, f}", &[]);
    for want in [
        vec!["a", "b", "c"],
        vec!["a", "b", "d", "e"],
        vec!["a", "b", "d"],
        vec!["a", "b", "f"],
    ] {
        assert!(
            paths.iter().any(|p| p == &want),
            "{want:?} missing from {paths:?}"
        );
    }
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    edges.entry("x".into()).or_default().insert("y".into());
    edges.entry("y".into()).or_default().insert("z".into());
    edges.entry("z".into()).or_default().insert("x".into());
    edges.entry("w".into()).or_default().insert("x".into());
    assert_eq!(cycles(&edges), vec![vec!["x", "y", "z"]]);
    assert_eq!(
        strip_comments("let a = 1; // crate::x\n/// crate::y"),
        "let a = 1; \n"
    );
}
