//! Hand edits inside generated files: the diff a person sees, and adopting an
//! edit so that engineer can write its files again without losing it.
//!
//! A `.tf` edit is split by top-level block against what engineer last wrote:
//! a block the person added goes to `adopted.tf`; the arguments and nested
//! blocks the person changed in a generated block go to `adopted_override.tf`,
//! a Terraform override file merged over the generated configuration (an
//! argument the person deleted becomes `= null`, which Terraform reads as
//! unset). Both files are the person's: engineer adds to them when it adopts
//! and never rewrites them otherwise. An edit an override cannot express (a
//! deleted block, a deleted nested block, a changed `depends_on`) is refused
//! with the reason, and overwriting or changing the design stays open.
//!
//! A variable or backend file (`.tfvars`, `.tfbackend`) holds only values: its
//! adoption keeps the person's values in the file engineer writes.
//!
//! Pure: text in, text out.

use hcl::{Attribute, Block, Body, Structure};

/// The override file adopted changes go to.
pub const OVERRIDE_FILE: &str = "adopted_override.tf";
/// The file blocks added by hand go to.
pub const ADDED_FILE: &str = "adopted.tf";

/// A unified diff from what engineer wrote to what the file holds now.
pub fn diff(file: &str, generated: &str, current: &str) -> String {
    similar::TextDiff::from_lines(generated, current)
        .unified_diff()
        .context_radius(2)
        .header(&format!("{file} (as generated)"), &format!("{file} (as edited)"))
        .to_string()
}

/// A `.tf` edit split for adoption.
#[derive(Debug, Default, PartialEq)]
pub struct Split {
    /// Generated blocks with what the person changed in them (for the override file).
    pub overrides: Vec<Block>,
    /// Blocks the person added.
    pub added: Vec<Block>,
    /// One line per adopted change, for the report.
    pub described: Vec<String>,
}

/// Splits the edit of a `.tf` file (`generated` → `edited`) into overrides and added blocks; or the reasons it
/// cannot be adopted.
pub fn split(file: &str, generated: &str, edited: &str) -> Result<Split, Vec<String>> {
    let base = parse(file, "as generated", generated).map_err(|e| vec![e])?;
    let edited = parse(file, "as edited", edited).map_err(|e| vec![e])?;
    let mut out = Split::default();
    let mut refused = Vec::new();
    if edited.attributes().next().is_some() {
        refused.push(format!("{file}: a top-level argument outside any block"));
    }
    for block in edited.blocks() {
        let k = key(block);
        match base.blocks().find(|b| key(b) == k) {
            None => {
                out.described.push(format!("{file}: {k} added → {ADDED_FILE}"));
                out.added.push(block.clone());
            }
            Some(b) if b == block => {}
            Some(b) => match override_of(b, block) {
                Ok((o, what)) => {
                    out.described.push(format!("{file}: {k}: {} → {OVERRIDE_FILE}", what.join(", ")));
                    out.overrides.push(o);
                }
                Err(why) => refused.extend(why.into_iter().map(|w| format!("{file}: {k}: {w}"))),
            },
        }
    }
    for block in base.blocks() {
        let k = key(block);
        if !edited.blocks().any(|b| key(b) == k) {
            refused.push(format!("{file}: {k} was deleted (an override cannot delete a block; remove it from the design instead)"));
        }
    }
    if refused.is_empty() { Ok(out) } else { Err(refused) }
}

/// What changed in one block, as the block an override file holds.
fn override_of(base: &Block, edited: &Block) -> Result<(Block, Vec<String>), Vec<String>> {
    let resource_like = matches!(base.identifier.as_str(), "resource" | "data" | "module" | "provider");
    let mut body = Body::builder();
    let mut what = Vec::new();
    let mut refused = Vec::new();
    for a in edited.body.attributes() {
        match base.body.attributes().find(|b| b.key == a.key) {
            Some(b) if b.expr == a.expr => {}
            found => {
                if a.key.as_str() == "depends_on" {
                    refused.push("depends_on changed (Terraform does not allow it in an override file)".to_string());
                    continue;
                }
                what.push(format!("{} {}", a.key.as_str(), if found.is_some() { "changed" } else { "added" }));
                body = body.add_attribute(a.clone());
            }
        }
    }
    for b in base.body.attributes() {
        if edited.body.attributes().any(|a| a.key == b.key) {
            continue;
        }
        if resource_like && b.key.as_str() != "depends_on" {
            what.push(format!("{} removed", b.key.as_str()));
            body = body.add_attribute(Attribute::new(b.key.as_str(), hcl::Expression::Null));
        } else {
            refused.push(format!("{} was deleted (an override file cannot unset it here)", b.key.as_str()));
        }
    }
    // Nested blocks: an override's nested blocks of a type replace all of the generated ones of that type.
    let mut kinds: Vec<&str> = edited.body.blocks().map(|b| b.identifier.as_str()).collect();
    kinds.dedup();
    for kind in base.body.blocks().map(|b| b.identifier.as_str()) {
        if !kinds.contains(&kind) && !refused.iter().any(|r| r.starts_with(&format!("the {kind} block"))) {
            refused.push(format!("the {kind} block was deleted (an override cannot delete a nested block)"));
        }
    }
    let mut seen = Vec::new();
    for kind in edited.body.blocks().map(|b| b.identifier.as_str()) {
        if seen.contains(&kind) {
            continue;
        }
        seen.push(kind);
        let of = |b: &Body| b.blocks().filter(|x| x.identifier.as_str() == kind).cloned().collect::<Vec<_>>();
        let (before, after) = (of(&base.body), of(&edited.body));
        if before != after {
            what.push(format!("{kind} block {}", if before.is_empty() { "added" } else { "changed" }));
            for b in after {
                body = body.add_block(b);
            }
        }
    }
    if !refused.is_empty() {
        return Err(refused);
    }
    let mut block = Block::builder(base.identifier.as_str());
    for label in &base.labels {
        block = block.add_label(label.clone());
    }
    Ok((block.add_structures(body.build()).build(), what))
}

/// Adds `blocks` to an adopted file (its current text, if any): a block already there takes the new arguments and
/// nested blocks over its own; others are appended.
pub fn merge_into(file: &str, existing: Option<&str>, blocks: Vec<Block>) -> Result<String, String> {
    let mut body = match existing {
        Some(text) => parse(file, "", text)?,
        None => Body::default(),
    };
    for new in blocks {
        let k = key(&new);
        let at = body.0.iter().position(|s| matches!(s, Structure::Block(b) if key(b) == k));
        match at {
            Some(i) => {
                let Structure::Block(old) = &mut body.0[i] else { unreachable!("position matched a block") };
                let kinds: Vec<String> = new.body.blocks().map(|b| b.identifier.to_string()).collect();
                let keys: Vec<String> = new.body.attributes().map(|a| a.key.to_string()).collect();
                old.body.0.retain(|s| match s {
                    Structure::Attribute(a) => !keys.contains(&a.key.to_string()),
                    Structure::Block(b) => !kinds.contains(&b.identifier.to_string()),
                });
                old.body.0.extend(new.body.0);
            }
            None => body.0.push(Structure::Block(new)),
        }
    }
    render(&body)
}

/// Adopts the edit of a values file (`.tfvars`, `.tfbackend`): what engineer writes now (`fresh`), with every
/// value the person changed or added since `generated`, and without the ones they removed.
pub fn adopt_values(file: &str, generated: &str, edited: &str, fresh: &str) -> Result<(String, Vec<String>), String> {
    let (base, edited, fresh) = (parse(file, "as generated", generated)?, parse(file, "as edited", edited)?, parse(file, "", fresh)?);
    let mut out: Vec<Structure> = Vec::new();
    let mut what = Vec::new();
    for a in fresh.attributes() {
        let before = base.attributes().find(|b| b.key == a.key);
        let now = edited.attributes().find(|b| b.key == a.key);
        match (before, now) {
            (Some(_), None) => what.push(format!("{file}: {} removed", a.key.as_str())),
            (Some(b), Some(n)) if b.expr != n.expr => {
                what.push(format!("{file}: {} kept as edited", a.key.as_str()));
                out.push(Structure::Attribute(n.clone()));
            }
            _ => out.push(Structure::Attribute(a.clone())),
        }
    }
    for n in edited.attributes() {
        if !fresh.attributes().any(|a| a.key == n.key) && !base.attributes().any(|a| a.key == n.key) {
            what.push(format!("{file}: {} added", n.key.as_str()));
            out.push(Structure::Attribute(n.clone()));
        }
    }
    Ok((render(&Body(out))?, what))
}

/// The top-level block addresses a `.tf` text holds (`resource.aws_s3_bucket.uploads`).
pub fn block_keys(file: &str, text: &str) -> Result<Vec<String>, String> {
    Ok(parse(file, "", text)?.blocks().map(key).collect())
}

fn key(b: &Block) -> String {
    let mut k = b.identifier.to_string();
    for l in &b.labels {
        k.push('.');
        k.push_str(l.as_str());
    }
    k
}

fn parse(file: &str, which: &str, text: &str) -> Result<Body, String> {
    hcl::parse(text).map_err(|e| format!("{file}{}{which} is not valid HCL: {e}", if which.is_empty() { "" } else { " " }))
}

fn render(body: &Body) -> Result<String, String> {
    hcl::to_string(body).map(|t| crate::infra::hclfmt::align(&t)).map_err(|e| format!("cannot format HCL: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GENERATED: &str = r#"resource "aws_lambda_function" "api" {
  function_name = "shop-api"
  memory_size   = 256
  timeout       = 10
  tracing_config {
    mode = "Active"
  }
}

resource "aws_s3_bucket" "uploads" {
  bucket = "shop-uploads"
}
"#;

    #[test]
    fn a_changed_argument_and_an_added_block_are_split_for_adoption() {
        let edited = GENERATED.replace("memory_size   = 256", "memory_size   = 1024").replace("  timeout       = 10\n", "")
            + "\nresource \"aws_sqs_queue\" \"extra\" {\n  name = \"extra\"\n}\n";
        let s = split("main.tf", GENERATED, &edited).unwrap();
        assert_eq!(s.added.len(), 1);
        assert_eq!(s.overrides.len(), 1);
        let text = merge_into(OVERRIDE_FILE, None, s.overrides).unwrap();
        assert!(text.contains("resource \"aws_lambda_function\" \"api\""), "{text}");
        assert!(text.contains("memory_size = 1024") && text.contains("timeout     = null") && !text.contains("function_name"), "{text}");
        assert_eq!(
            s.described,
            [
                "main.tf: resource.aws_lambda_function.api: memory_size changed, timeout removed → adopted_override.tf",
                "main.tf: resource.aws_sqs_queue.extra added → adopted.tf"
            ]
        );
        let d = diff("main.tf", GENERATED, &edited);
        assert!(d.starts_with("--- main.tf (as generated)\n+++ main.tf (as edited)\n"), "{d}");
        assert!(d.contains("\n-  memory_size   = 256\n") && d.contains("\n+  memory_size   = 1024\n") && d.contains("\n+resource \"aws_sqs_queue\""), "{d}");
    }

    #[test]
    fn deletions_an_override_cannot_express_are_refused_with_the_reason() {
        let without_bucket = GENERATED.split("\nresource \"aws_s3_bucket\"").next().unwrap().to_string();
        let why = split("main.tf", GENERATED, &without_bucket).unwrap_err();
        assert!(why[0].contains("resource.aws_s3_bucket.uploads was deleted"), "{why:?}");
        let without_tracing = GENERATED.replace("  tracing_config {\n    mode = \"Active\"\n  }\n", "");
        let why = split("main.tf", GENERATED, &without_tracing).unwrap_err();
        assert!(why[0].contains("the tracing_config block was deleted"), "{why:?}");
        assert!(split("main.tf", GENERATED, "resource {").unwrap_err()[0].contains("main.tf as edited is not valid HCL"));
    }

    #[test]
    fn a_second_adoption_merges_into_the_first() {
        let first = merge_into(OVERRIDE_FILE, None, split("main.tf", GENERATED, &GENERATED.replace("= 256", "= 512")).unwrap().overrides).unwrap();
        let second = split("main.tf", GENERATED, &GENERATED.replace("= 256", "= 2048").replace("= 10", "= 30")).unwrap();
        let merged = merge_into(OVERRIDE_FILE, Some(&first), second.overrides).unwrap();
        assert!(merged.contains("memory_size = 2048") && merged.contains("timeout     = 30") && !merged.contains("512"), "{merged}");
        assert_eq!(merged.matches("resource \"aws_lambda_function\"").count(), 1);
    }

    #[test]
    fn values_files_keep_what_the_person_changed_and_take_the_rest_fresh() {
        let generated = "environment = \"test\"\nregion      = \"us-east-1\"\nowner       = \"CHANGE-ME\"\n";
        let edited = "environment = \"test\"\nregion      = \"us-east-1\"\nowner       = \"team-a\"\nextra       = 1\n";
        let fresh = "environment = \"test\"\nregion      = \"eu-west-1\"\nowner       = \"CHANGE-ME\"\n";
        let (text, what) = adopt_values("test.tfvars", generated, edited, fresh).unwrap();
        assert!(text.contains("region      = \"eu-west-1\"") && text.contains("owner       = \"team-a\"") && text.contains("extra"), "{text}");
        assert_eq!(what, ["test.tfvars: owner kept as edited", "test.tfvars: extra added"]);
    }
}
