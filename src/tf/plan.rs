//! Plan JSON (`terraform show -json <planfile>`) → [`Module`], tolerant of
//! what real files carry: a UTF-8 or UTF-16 byte-order mark, and CI-wrapper
//! noise before and after the JSON document.

use std::path::Path;

use super::{Module, Resource, TfError, Val, Variable};

/// Decodes bytes that hold one JSON document, possibly UTF-16 or with a BOM,
/// possibly with lines of noise around it; returns the parsed document.
pub fn decode_json(bytes: &[u8]) -> Result<serde_json::Value, String> {
    let text = crate::iac::plan::decode(bytes);
    let json = crate::iac::plan::locate(&text).ok_or("no JSON object found")?;
    serde_json::from_str(json).map_err(|e| e.to_string())
}

pub fn load_plan(path: &Path) -> Result<Module, TfError> {
    let bytes = std::fs::read(path).map_err(|e| TfError::Io { path: path.to_path_buf(), source: e })?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("plan.json");
    load_plan_text(&bytes, name).map_err(|message| TfError::Plan { path: path.to_path_buf(), message })
}

/// Parses plan bytes; `name` is the file name findings will carry.
pub fn load_plan_text(bytes: &[u8], name: &str) -> Result<Module, String> {
    let plan = decode_json(bytes)?;
    let root =
        plan.get("planned_values").and_then(|p| p.get("root_module")).ok_or("no planned_values.root_module (is this `terraform show -json` of a plan?)")?;
    let mut module = Module { files: vec![name.to_string()], ..Module::default() };
    walk(root, name, &mut module);
    if let Some(vars) = plan.get("variables").and_then(|v| v.as_object()) {
        for (k, v) in vars {
            let default = v.get("value").map(Val::from_json);
            module.variables.insert(k.clone(), Variable { default, file: name.to_string(), line: 0 });
        }
    }
    if let Some(providers) = plan.pointer("/configuration/provider_config").and_then(|p| p.as_object()) {
        for (key, p) in providers {
            let attrs =
                p.get("expressions").and_then(|e| e.as_object()).map(|e| e.iter().map(|(k, v)| (k.clone(), expression_value(v))).collect()).unwrap_or_default();
            let name = p.get("name").and_then(|n| n.as_str()).unwrap_or(key).to_string();
            module.providers.push(super::Provider { name, attrs, file: module.files[0].clone(), line: 0 });
        }
    }
    Ok(module)
}

/// `{"constant_value": x}` → x; references → unknown.
fn expression_value(v: &serde_json::Value) -> Val {
    match v.get("constant_value") {
        Some(c) => Val::from_json(c),
        None => match v {
            serde_json::Value::Array(items) => Val::List(
                items
                    .iter()
                    .map(|i| Val::Map(i.as_object().map(|o| o.iter().map(|(k, v)| (k.clone(), expression_value(v))).collect()).unwrap_or_default()))
                    .collect(),
            ),
            _ => Val::Unknown(v.to_string()),
        },
    }
}

/// The plan's prior state (what exists before the change) as a [`Module`]:
/// the "before" side of a cost impact. Empty when nothing exists yet.
pub fn load_prior_text(bytes: &[u8], name: &str) -> Result<Module, String> {
    let plan = decode_json(bytes)?;
    let mut module = Module { files: vec![name.to_string()], ..Module::default() };
    if let Some(root) = plan.pointer("/prior_state/values/root_module") {
        walk(root, name, &mut module);
    }
    Ok(module)
}

/// A state in `terraform show -json` form (`values.root_module`) as a [`Module`]: what is deployed.
pub fn load_state_value(state: &serde_json::Value, name: &str) -> Module {
    let mut module = Module { files: vec![name.to_string()], ..Module::default() };
    if let Some(root) = state.pointer("/values/root_module") {
        walk(root, name, &mut module);
    }
    module
}

fn walk(module_json: &serde_json::Value, file: &str, out: &mut Module) {
    for r in module_json.get("resources").and_then(|r| r.as_array()).into_iter().flatten() {
        let s = |k: &str| r.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
        let data = s("mode") == "data";
        let attrs = match r.get("values").map(Val::from_json) {
            Some(Val::Map(m)) => m,
            _ => Default::default(),
        };
        out.resources.push(Resource {
            kind: s("type"),
            name: s("name"),
            address: s("address"),
            data,
            file: file.to_string(),
            line: 0,
            attrs,
            attr_lines: Default::default(),
            ignores: Vec::new(),
        });
    }
    for child in module_json.get("child_modules").and_then(|c| c.as_array()).into_iter().flatten() {
        walk(child, file, out);
    }
}
