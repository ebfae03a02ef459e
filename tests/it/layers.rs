//! Layers point down only (ARCHITECTURE.md): every `crate::…` path in `src/`
//! names a module of the same or a lower layer, and inside a layer only one
//! that comes earlier in its order, so no two modules import each other.
//!
//! The units are the top-level modules, except `iac`, whose process runner and
//! plan decoder sit below the error type that reports their failures.

use std::path::{Path, PathBuf};

/// Bottom to top; inside a layer, the order in which modules may import each other.
const LAYERS: &[(&str, &[&str])] = &[
    ("vocabulary", &["redact", "vocabulary", "progress", "eval"]),
    ("workspace/config", &["workspace", "config"]),
    ("gate/scan/tf/cloud/iac", &["gate", "iac::runner", "iac::plan", "error", "cloud", "iac", "tf", "scan"]),
    ("director/infra/ops", &["director", "infra", "ops"]),
    ("app", &["app"]),
    ("mcp/cli", &["mcp", "cli"]),
];

/// (layer, position in it) of a unit.
fn rank(unit: &str) -> Option<(usize, usize)> {
    LAYERS.iter().enumerate().find_map(|(l, (_, units))| units.iter().position(|u| *u == unit).map(|p| (l, p)))
}

/// The unit a file belongs to.
fn unit_of(rel: &Path) -> String {
    let parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string()).collect();
    match parts.as_slice() {
        [top, sub, ..] if top == "iac" && (sub == "runner" || sub == "plan") => format!("iac::{sub}"),
        [top, ..] => top.clone(),
        [] => String::new(),
    }
}

/// The unit a `crate::` path names.
fn unit_named(path: &str) -> String {
    let mut segs = path.split("::");
    let top = segs.next().unwrap_or_default().to_string();
    match (top.as_str(), segs.next()) {
        ("iac", Some(sub @ ("runner" | "plan"))) => format!("iac::{sub}"),
        _ => top,
    }
}

/// Every `crate::x::y` path of a source text (comments left out), with `use crate::{a, b::c}` groups expanded.
fn crate_paths(text: &str) -> Vec<String> {
    let code: String = text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
    let mut out = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            // A group: take up to the matching brace and read its top-level items.
            let mut depth = 1;
            let end = group
                .char_indices()
                .find(|(_, c)| {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .map_or(group.len(), |(i, _)| i);
            let mut item = String::new();
            let mut d = 0;
            for c in group[..end].chars() {
                match c {
                    '{' => d += 1,
                    '}' => d -= 1,
                    ',' if d == 0 => {
                        out.push(item.trim().to_string());
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            out.push(item.trim().to_string());
        } else {
            let name: String = after.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
            out.push(name);
        }
        rest = &after[1.min(after.len())..];
    }
    out.into_iter().filter(|p| !p.is_empty() && p.starts_with(|c: char| c.is_ascii_lowercase())).collect()
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn modules_never_import_a_layer_above_them() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut wrong = Vec::new();
    let mut unknown = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let unit = unit_of(rel);
        if matches!(unit.as_str(), "lib" | "main") {
            continue;
        }
        let Some(own) = rank(&unit) else {
            unknown.push(format!("{} (module {unit} has no layer)", rel.display()));
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for path in crate_paths(&text) {
            let target = unit_named(&path);
            if target == unit || matches!(target.as_str(), "Error" | "report_enum") {
                continue;
            }
            match rank(&target) {
                None => unknown.push(format!("{}: crate::{path} (module {target} has no layer)", rel.display())),
                Some(r) if r > own => {
                    wrong.push(format!("{}: crate::{path} — {unit} ({}) imports {target} ({})", rel.display(), LAYERS[own.0].0, LAYERS[r.0].0))
                }
                Some(_) => {}
            }
        }
    }
    assert!(unknown.is_empty(), "add these modules to LAYERS (and ARCHITECTURE.md):\n{}", unknown.join("\n"));
    assert!(wrong.is_empty(), "imports that point up (or sideways to a later module of the same layer):\n{}", wrong.join("\n"));
}

#[test]
fn the_path_reader_sees_groups_and_skips_comments() {
    let text = "use crate::{config::{self, Config}, gate::Gate};\n// crate::app::App in a comment\nlet x = crate::infra::run(ws);";
    assert_eq!(crate_paths(text), ["config::{self, Config}", "gate::Gate", "infra::run"]);
    assert_eq!(unit_named("iac::runner::Cmd"), "iac::runner");
    assert_eq!(unit_named("iac::terraform"), "iac");
    assert_eq!(unit_of(Path::new("iac/plan/tests.rs")), "iac::plan");
    assert!(rank("app") > rank("infra") && rank("infra") > rank("scan") && rank("error") > rank("gate"));
}
