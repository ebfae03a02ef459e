//! Plan JSON leaves out of `planned_values` every attribute that is only known
//! after apply, including the ones the configuration sets from another
//! resource (`kms_key_id = aws_kms_key.k.arn`, `bucket = aws_s3_bucket.b.id`).
//! Read as they are, such resources would look as if the setting were absent.
//!
//! [`restore`] reads the plan's `configuration` section and puts back, for each
//! attribute that the configuration sets from an expression, a [`Val::Ref`] to
//! the resource it refers to (so split resources find their bucket), or a
//! [`Val::Unknown`] when it refers only to variables, locals or module outputs.
//! Attributes with a planned value are left as they are. This belongs with the
//! plan loader (`tf::plan`); it lives here until that module takes it.

use std::collections::BTreeMap;

use serde_json::Value as J;

use super::strip_index;
use crate::tf::{Module, Val};

/// Fills attributes set by expressions into the resources of a plan-loaded module.
pub fn restore(module: &mut Module, plan: &J) {
    let Some(root) = plan.pointer("/configuration/root_module") else { return };
    let mut config: BTreeMap<String, (&serde_json::Map<String, J>, String)> = BTreeMap::new();
    collect(root, "", &mut config);
    for r in &mut module.resources {
        if let Some((expressions, prefix)) = config.get(&strip_index(&r.address)) {
            fill(&mut r.attrs, expressions, prefix);
        }
    }
}

/// config address (no instance keys) → (expressions, module prefix).
fn collect<'a>(module: &'a J, prefix: &str, out: &mut BTreeMap<String, (&'a serde_json::Map<String, J>, String)>) {
    for r in module.get("resources").and_then(J::as_array).into_iter().flatten() {
        let (Some(address), Some(J::Object(expressions))) = (r.get("address").and_then(J::as_str), r.get("expressions")) else { continue };
        out.insert(format!("{prefix}{address}"), (expressions, prefix.to_string()));
    }
    for (name, call) in module.get("module_calls").and_then(J::as_object).into_iter().flatten() {
        if let Some(child) = call.get("module") {
            collect(child, &format!("{prefix}module.{name}."), out);
        }
    }
}

fn fill(attrs: &mut BTreeMap<String, Val>, expressions: &serde_json::Map<String, J>, prefix: &str) {
    for (key, expr) in expressions {
        match expr {
            J::Object(e) if e.contains_key("references") && !e.contains_key("constant_value") => {
                if matches!(attrs.get(key), None | Some(Val::Null)) {
                    attrs.insert(key.clone(), reference(e.get("references"), prefix));
                }
            }
            J::Object(e) => {
                if let (Some(c), None | Some(Val::Null)) = (e.get("constant_value"), attrs.get(key)) {
                    attrs.insert(key.clone(), Val::from_json(c));
                }
            }
            // Nested blocks: one expression object per block.
            J::Array(blocks) => {
                let entry = attrs.entry(key.clone()).or_insert_with(|| Val::List(Vec::new()));
                let Val::List(items) = entry else { continue };
                for (i, block) in blocks.iter().enumerate() {
                    let Some(block_expr) = block.as_object() else { continue };
                    if items.len() <= i {
                        items.push(Val::Map(BTreeMap::new()));
                    }
                    if let Val::Map(inner) = &mut items[i] {
                        fill(inner, block_expr, prefix);
                    }
                }
            }
            _ => {}
        }
    }
}

/// The first reference to a resource, as a [`Val::Ref`]; otherwise unknown.
fn reference(references: Option<&J>, prefix: &str) -> Val {
    let refs: Vec<&str> = references.and_then(J::as_array).into_iter().flatten().filter_map(J::as_str).collect();
    for r in &refs {
        let clean = strip_index(r);
        let segs: Vec<&str> = clean.split('.').collect();
        match segs.as_slice() {
            ["var" | "local" | "each" | "count" | "path" | "module" | "terraform" | "self", ..] => continue,
            ["data", kind, name, ..] => return Val::Ref(format!("{prefix}data.{kind}.{name}")),
            [kind, name, ..] if kind.contains('_') => return Val::Ref(format!("{prefix}{kind}.{name}")),
            _ => continue,
        }
    }
    Val::Unknown(refs.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_become_refs_with_module_prefix() {
        assert_eq!(reference(Some(&serde_json::json!(["aws_s3_bucket.b.id", "aws_s3_bucket.b"])), ""), Val::Ref("aws_s3_bucket.b".into()));
        assert_eq!(reference(Some(&serde_json::json!(["aws_kms_key.k[0].arn"])), "module.m."), Val::Ref("module.m.aws_kms_key.k".into()));
        assert_eq!(reference(Some(&serde_json::json!(["var.x"])), ""), Val::Unknown("var.x".into()));
    }
}
