//! SARIF 2.1.0 output of scan findings, for code-scanning tools (GitHub code
//! scanning, Azure DevOps, IDE viewers). One run per source: faber-cloud's own
//! rules, then each external tool whose findings were kept. Suppressed
//! findings are included with a `suppressions` entry, so viewers show them as
//! suppressed rather than losing them.
//!
//! Built with `serde_json` against the OASIS SARIF 2.1.0 schema's field names.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::security;
use super::{Finding, Severity, Suppressed};

pub const SCHEMA: &str = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
pub const VERSION: &str = "2.1.0";

/// Where the finding's `file` paths start, as code-scanning tools should see it.
#[derive(Debug, Clone)]
pub struct Base {
    /// A relative directory (`infrastructure/terraform`), or an absolute one.
    pub dir: String,
}

/// The SARIF log for these findings.
pub fn log(findings: &[Finding], suppressed: &[Suppressed], base: &Base) -> Value {
    let mut by_source: BTreeMap<&str, Vec<(&Finding, Option<&Suppressed>)>> = BTreeMap::new();
    by_source.entry(security::SOURCE).or_default();
    for f in findings {
        by_source.entry(f.source.as_str()).or_default().push((f, None));
    }
    for s in suppressed {
        by_source.entry(s.finding.source.as_str()).or_default().push((&s.finding, Some(s)));
    }
    // Ours first, then the tools in name order.
    let mut sources: Vec<&str> = by_source.keys().copied().collect();
    sources.sort_by_key(|s| (*s != security::SOURCE, *s));
    let runs: Vec<Value> = sources.into_iter().map(|source| run(source, &by_source[source], base)).collect();
    json!({ "$schema": SCHEMA, "version": VERSION, "runs": runs })
}

fn run(source: &str, items: &[(&Finding, Option<&Suppressed>)], base: &Base) -> Value {
    let mut rule_ids: Vec<&str> = Vec::new();
    for (f, _) in items {
        if !rule_ids.contains(&f.rule_id.as_str()) {
            rule_ids.push(&f.rule_id);
        }
    }
    // For our own tool, describe every rule (a viewer can show what was checked).
    if source == security::SOURCE {
        for r in security::RULES {
            if !rule_ids.contains(&r.id) {
                rule_ids.push(r.id);
            }
        }
    }
    let rules: Vec<Value> = rule_ids
        .iter()
        .map(|id| match security::rule(id).filter(|_| source == security::SOURCE) {
            Some(r) => rule_descriptor(r.id, r.title, r.fix, r.severity, r.checkov_id),
            None => {
                let f = items.iter().map(|(f, _)| *f).find(|f| f.rule_id == *id).expect("rule ids come from these findings");
                rule_descriptor(&f.rule_id, &f.title, &f.fix, f.severity, f.checkov_id.as_deref())
            }
        })
        .collect();
    let results: Vec<Value> = items.iter().map(|(f, s)| result(f, *s, rule_ids.iter().position(|r| *r == f.rule_id).unwrap_or(0), base)).collect();
    let mut driver = json!({ "name": source, "rules": rules });
    if source == security::SOURCE {
        driver["version"] = json!(env!("CARGO_PKG_VERSION"));
        driver["semanticVersion"] = json!(env!("CARGO_PKG_VERSION"));
        let uri = option_env!("CARGO_PKG_REPOSITORY").unwrap_or("");
        if !uri.is_empty() {
            driver["informationUri"] = json!(uri);
        }
    } else if let Some(uri) = tool_uri(source) {
        driver["informationUri"] = json!(uri);
    }
    let mut run = json!({ "tool": { "driver": driver }, "results": results, "columnKind": "unicodeCodePoints" });
    if !is_absolute(&base.dir) {
        run["originalUriBaseIds"] = json!({ "SRCROOT": { "description": { "text": "The directory faber-cloud was run from." } } });
    }
    run
}

fn tool_uri(source: &str) -> Option<&'static str> {
    match source {
        "checkov" => Some("https://www.checkov.io/"),
        "trivy" => Some("https://trivy.dev/"),
        "tfsec" => Some("https://github.com/aquasecurity/tfsec"),
        _ => None,
    }
}

fn rule_descriptor(id: &str, title: &str, fix: &str, severity: Severity, checkov_id: Option<&str>) -> Value {
    let mut properties = json!({
        "tags": ["security", "terraform", "aws"],
        "problem.severity": match severity { Severity::Critical | Severity::High => "error", Severity::Medium => "warning", Severity::Low | Severity::Info => "recommendation" },
        // GitHub code scanning ranks alerts by this CVSS-like score.
        "security-severity": security_severity(severity),
        "severity": severity.as_str(),
    });
    if let Some(c) = checkov_id {
        properties["checkov_id"] = json!(c);
    }
    json!({
        "id": id,
        "name": rule_name(title),
        "shortDescription": { "text": title },
        "fullDescription": { "text": title },
        "help": { "text": fix },
        "defaultConfiguration": { "level": level(severity) },
        "properties": properties,
    })
}

fn result(f: &Finding, suppressed: Option<&Suppressed>, rule_index: usize, base: &Base) -> Value {
    let mut physical = json!({ "artifactLocation": artifact(&f.file, base) });
    if f.line > 0 {
        physical["region"] = json!({ "startLine": f.line });
    }
    let mut properties = json!({ "severity": f.severity.as_str(), "source": f.source, "fix": f.fix });
    if let Some(c) = &f.checkov_id {
        properties["checkov_id"] = json!(c);
    }
    let mut result = json!({
        "ruleId": f.rule_id,
        "ruleIndex": rule_index,
        "level": level(f.severity),
        "message": { "text": format!("{}: {}", f.resource, f.message) },
        "locations": [{
            "physicalLocation": physical,
            "logicalLocations": [{ "fullyQualifiedName": f.resource, "kind": "resource" }],
        }],
        "partialFingerprints": { "faberCloud/v1": fingerprint(f) },
        "properties": properties,
    });
    if let Some(s) = suppressed {
        result["suppressions"] = json!([{
            "kind": if s.by == "inline" { "inSource" } else { "external" },
            "justification": s.reason,
        }]);
    }
    result
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

/// `"S3 bucket has no …"` → `S3BucketHasNo…` (SARIF rule names are identifiers).
fn rule_name(title: &str) -> String {
    title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|first| first.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

/// Stable across line moves: rule, resource and file.
fn fingerprint(f: &Finding) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{}\u{0}{}\u{0}{}", f.rule_id, f.resource, f.file).as_bytes());
    hex::encode(&digest[..16])
}

fn is_absolute(dir: &str) -> bool {
    dir.starts_with('/') || dir.as_bytes().get(1) == Some(&b':')
}

fn artifact(file: &str, base: &Base) -> Value {
    let dir = base.dir.replace('\\', "/");
    let dir = dir.trim_end_matches('/');
    let joined = if dir.is_empty() || dir == "." { file.to_string() } else { format!("{dir}/{file}") };
    let joined = joined.trim_start_matches("./").to_string();
    if is_absolute(&joined) {
        let path = if joined.starts_with('/') { joined } else { format!("/{joined}") };
        json!({ "uri": format!("file://{}", encode(&path)) })
    } else {
        json!({ "uri": encode(&joined), "uriBaseId": "SRCROOT" })
    }
}

/// Percent-encodes what may not appear raw in a URI path.
fn encode(path: &str) -> String {
    crate::vocabulary::resource::percent_encode(path, b"/:@!$&'()*+,;=")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(rule: &str, source: &str, line: u32) -> Finding {
        Finding {
            rule_id: rule.into(),
            severity: Severity::High,
            title: "S3 bucket has no complete public access block".into(),
            checkov_id: Some("CKV2_AWS_6".into()),
            resource: "aws_s3_bucket.b".into(),
            file: "main.tf".into(),
            line,
            message: "no aws_s3_bucket_public_access_block for this bucket".into(),
            fix: "Add one.".into(),
            source: source.into(),
        }
    }

    #[test]
    fn log_has_the_2_1_0_shape() {
        let suppressed = Suppressed { finding: finding("FC_S3_004", "faber-cloud", 3), by: "inline".into(), reason: "log bucket".into() };
        let log = log(&[finding("FC_S3_002", "faber-cloud", 3), finding("CKV_AWS_18", "checkov", 0)], &[suppressed], &Base { dir: "infra dir".into() });
        assert_eq!(log["version"], "2.1.0");
        assert_eq!(log["$schema"], SCHEMA);
        let runs = log["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0]["tool"]["driver"]["name"], "faber-cloud");
        assert_eq!(runs[1]["tool"]["driver"]["name"], "checkov");
        let rules = runs[0]["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(rules.len(), security::RULES.len(), "every rule is described");
        let results = runs[0]["results"].as_array().unwrap();
        let r = &results[0];
        assert_eq!(r["ruleId"], "FC_S3_002");
        assert_eq!(rules[r["ruleIndex"].as_u64().unwrap() as usize]["id"], "FC_S3_002");
        assert_eq!(r["level"], "error");
        assert_eq!(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "infra%20dir/main.tf");
        assert_eq!(r["locations"][0]["physicalLocation"]["region"]["startLine"], 3);
        assert_eq!(results[1]["suppressions"][0]["kind"], "inSource");
        let plan = &runs[1]["results"][0]["locations"][0]["physicalLocation"];
        assert!(plan.get("region").is_none(), "no region when the line is unknown: {plan}");
        assert_eq!(rule_name("S3 bucket ACL allows public read access"), "S3BucketACLAllowsPublicReadAccess");
        let abs = artifact("main.tf", &Base { dir: "/tmp/x".into() });
        assert_eq!(abs["uri"], "file:///tmp/x/main.tf");
    }
}
