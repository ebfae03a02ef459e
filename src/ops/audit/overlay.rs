//! The live stack as Terraform state: the deployed state's resources with
//! what AWS says now written over them, plus what exists live only (an inline
//! policy, an attached policy, a permission, a tagged security group added
//! behind Terraform's back). The scanner's rules then judge live and state
//! alike, and every attribute written over that differs is a [`Drift`]. Pure.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use crate::cloud::posture::{Live, Rule, SecurityGroup};

/// A difference between the live configuration and the Terraform state.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Drift {
    /// The resource's address in the state (or the live-only resource's).
    pub resource: String,
    pub attribute: String,
    pub in_state: String,
    pub live: String,
}

/// The live resources (state JSON shape) and the drift found on the way.
pub struct Overlaid {
    pub resources: Vec<Value>,
    pub drift: Vec<Drift>,
    /// Addresses of live resources Terraform does not manage.
    pub unmanaged: Vec<String>,
}

/// A string attribute of a state resource (`values.{key}`), "" when absent.
pub(super) fn s<'a>(r: &'a Value, key: &str) -> &'a str {
    r.pointer(&format!("/values/{key}")).and_then(Value::as_str).unwrap_or_default()
}

/// A state resource's type.
pub(super) fn kind(r: &Value) -> &str {
    r.get("type").and_then(Value::as_str).unwrap_or_default()
}

fn address(r: &Value) -> String {
    r.get("address").and_then(Value::as_str).unwrap_or_default().to_string()
}

fn resource(kind: &str, name: &str, values: Value) -> Value {
    let name: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect();
    json!({"address": format!("{kind}.live_{name}"), "mode": "managed", "type": kind, "name": format!("live_{name}"), "values": values})
}

/// Policy documents compared by meaning, not by spacing.
fn same_json(a: &str, b: &str) -> bool {
    match (serde_json::from_str::<Value>(a), serde_json::from_str::<Value>(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

fn shown(v: &Value) -> String {
    match v {
        Value::Null => "(none)".into(),
        Value::String(s) if s.is_empty() => "(none)".into(),
        Value::String(s) => s.chars().take(200).collect(),
        other => other.to_string().chars().take(200).collect(),
    }
}

struct Writer<'a> {
    drift: &'a mut Vec<Drift>,
}

impl Writer<'_> {
    /// Sets `values[key] = live`, noting drift when it differs from what the state holds.
    fn set(&mut self, r: &mut Value, key: &str, live: Value) {
        let before = r.pointer(&format!("/values/{key}")).cloned().unwrap_or(Value::Null);
        let differs = match (&before, &live) {
            (Value::String(a), Value::String(b)) => !same_json(a, b),
            (Value::Null, Value::String(b)) | (Value::String(b), Value::Null) => !b.is_empty(),
            (Value::Null, Value::Number(n)) | (Value::Number(n), Value::Null) => n.as_f64() != Some(0.0),
            (a, b) => a != b,
        };
        if differs {
            self.note(&address(r), key, shown(&before), shown(&live));
        }
        if let Some(values) = r.get_mut("values").and_then(Value::as_object_mut) {
            values.insert(key.to_string(), live);
        }
    }

    fn note(&mut self, resource: &str, attribute: &str, in_state: impl Into<String>, live: impl Into<String>) {
        self.drift.push(Drift { resource: resource.into(), attribute: attribute.into(), in_state: in_state.into(), live: live.into() });
    }
}

/// The state's resources with the live configuration written over them.
pub fn overlay(state: &[Value], live: &Live, env_tags: &[(String, String)]) -> Overlaid {
    let mut drift = Vec::new();
    let mut w = Writer { drift: &mut drift };
    let mut out: Vec<Value> = state.to_vec();
    let mut gone: BTreeSet<String> = BTreeSet::new();
    let mut added: Vec<Value> = Vec::new();

    // Tags first: every resource the tagging API answered for.
    if let Some(tags) = &live.tags {
        for r in out.iter_mut() {
            let Some(live_tags) = tags.get(s(r, "arn")) else { continue };
            let before: BTreeMap<String, String> = r
                .pointer("/values/tags_all")
                .and_then(Value::as_object)
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
                .unwrap_or_default();
            for key in before.keys().chain(live_tags.keys()).collect::<BTreeSet<_>>() {
                let (a, b) = (before.get(key), live_tags.get(key));
                if a != b {
                    w.note(
                        &address(r),
                        &format!("tags.{key}"),
                        a.cloned().unwrap_or_else(|| "(none)".into()),
                        b.cloned().unwrap_or_else(|| "(removed)".into()),
                    );
                }
            }
            let map: Map<String, Value> = live_tags.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
            if let Some(values) = r.get_mut("values").and_then(Value::as_object_mut) {
                values.insert("tags_all".into(), Value::Object(map));
            }
        }
    }
    // Compliance reads `tags`: in a state, the provider's default tags are only in `tags_all`.
    for r in out.iter_mut() {
        if let Some(values) = r.get_mut("values").and_then(Value::as_object_mut)
            && let Some(all) = values.get("tags_all").cloned()
        {
            values.insert("tags".into(), all);
        }
    }

    let of = |out: &[Value], kind_: &str, key: &str, value: &str| -> Vec<usize> {
        out.iter().enumerate().filter(|(_, r)| kind(r) == kind_ && s(r, key) == value).map(|(i, _)| i).collect()
    };

    // Buckets and their satellite resources.
    for (name, b) in &live.buckets {
        let Some(bi) = out.iter().position(|r| kind(r) == "aws_s3_bucket" && s(r, "bucket") == name) else { continue };
        if !b.exists {
            w.note(&address(&out[bi]), "(resource)", "exists", "deleted outside Terraform");
            gone.insert(address(&out[bi]));
            continue;
        }
        let pab = of(&out, "aws_s3_bucket_public_access_block", "bucket", name);
        const FLAGS: [&str; 4] = ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"];
        match (b.public_access_block, pab.first()) {
            (None, Some(&i)) => {
                w.note(&address(&out[i]), "(resource)", "4 flags on", "removed outside Terraform: no public access block");
                gone.insert(address(&out[i]));
            }
            (Some(flags), Some(&i)) => {
                for (f, v) in FLAGS.iter().zip(flags) {
                    w.set(&mut out[i], f, json!(v));
                }
            }
            (Some(flags), None) => {
                let values: Map<String, Value> =
                    FLAGS.iter().zip(flags).map(|(f, v)| (f.to_string(), json!(v))).chain([("bucket".into(), json!(name))]).collect();
                added.push(resource("aws_s3_bucket_public_access_block", name, Value::Object(values)));
            }
            (None, None) => {}
        }
        let policy = of(&out, "aws_s3_bucket_policy", "bucket", name);
        match (&b.policy, policy.first()) {
            (None, Some(&i)) => {
                w.note(&address(&out[i]), "(resource)", "a bucket policy", "removed outside Terraform");
                gone.insert(address(&out[i]));
            }
            (Some(p), Some(&i)) => w.set(&mut out[i], "policy", json!(p)),
            (Some(p), None) => {
                w.note(&address(&out[bi]), "policy", "(none)", "a bucket policy added outside Terraform");
                added.push(resource("aws_s3_bucket_policy", name, json!({"bucket": name, "policy": p})));
            }
            (None, None) => {}
        }
        if !b.group_grants.is_empty() {
            let shown_grants = b.group_grants.iter().map(|(u, p)| format!("{} {p}", u.rsplit('/').next().unwrap_or(u))).collect::<Vec<_>>().join(", ");
            w.note(&address(&out[bi]), "acl", "private", format!("grants to {shown_grants}"));
        }
        // The bucket's own computed copies (refreshed at the last deploy, possibly stale): what AWS says now.
        let grants: Vec<Value> = b.group_grants.iter().map(|(uri, perm)| json!({"type": "Group", "uri": uri, "id": "", "permissions": [perm]})).collect();
        if let Some(values) = out[bi].get_mut("values").and_then(Value::as_object_mut) {
            // No policy is spelled as the state spells it: "" where the state has the attribute, absent where not.
            match &b.policy {
                Some(p) => {
                    values.insert("policy".into(), json!(p));
                }
                None if values.contains_key("policy") => {
                    values.insert("policy".into(), json!(""));
                }
                None => {}
            }
            if !grants.is_empty() || values.contains_key("grant") {
                values.insert("grant".into(), Value::Array(grants));
            }
        }
        let sse = of(&out, "aws_s3_bucket_server_side_encryption_configuration", "bucket", name);
        match (&b.encryption, sse.first()) {
            (Some((algo, key)), Some(&i)) => {
                let rule = json!([{"apply_server_side_encryption_by_default": [{"sse_algorithm": algo, "kms_master_key_id": key.clone().unwrap_or_default()}], "bucket_key_enabled": false}]);
                let before = out[i]
                    .pointer("/values/rule/0/apply_server_side_encryption_by_default/0/sse_algorithm")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                if before != *algo {
                    w.note(&address(&out[i]), "sse_algorithm", before, algo.clone());
                }
                if let Some(values) = out[i].get_mut("values").and_then(Value::as_object_mut) {
                    values.insert("rule".into(), rule);
                }
            }
            (None, Some(&i)) if live.notes.iter().all(|n| !n.contains("GetBucketEncryption")) => {
                w.note(&address(&out[i]), "(resource)", "default encryption", "removed outside Terraform");
                gone.insert(address(&out[i]));
            }
            _ => {}
        }
        let versioning = of(&out, "aws_s3_bucket_versioning", "bucket", name);
        if let (Some(status), Some(&i)) = (&b.versioning, versioning.first()) {
            let before = out[i].pointer("/values/versioning_configuration/0/status").and_then(Value::as_str).unwrap_or_default().to_string();
            if before != *status {
                w.note(&address(&out[i]), "versioning_configuration.status", before, status.clone());
                if let Some(v) = out[i].pointer_mut("/values/versioning_configuration/0/status") {
                    *v = json!(status);
                }
            }
        }
        let lifecycle = of(&out, "aws_s3_bucket_lifecycle_configuration", "bucket", name);
        if b.lifecycle_rules == Some(0)
            && let Some(&i) = lifecycle.first()
        {
            w.note(&address(&out[i]), "(resource)", "lifecycle rules", "removed outside Terraform");
            gone.insert(address(&out[i]));
        }
    }

    // Functions, their resource policies and URLs.
    for name in &live.missing_functions {
        for i in of(&out, "aws_lambda_function", "function_name", name) {
            w.note(&address(&out[i]), "(resource)", "exists", "deleted outside Terraform");
            gone.insert(address(&out[i]));
        }
    }
    for (name, f) in &live.functions {
        let Some(fi) = out.iter().position(|r| kind(r) == "aws_lambda_function" && s(r, "function_name") == name) else { continue };
        let r = &mut out[fi];
        if let Some(rt) = &f.runtime {
            w.set(r, "runtime", json!(rt));
        }
        if let Some(m) = f.memory_mb {
            w.set(r, "memory_size", json!(m));
        }
        if let Some(t) = f.timeout_secs {
            w.set(r, "timeout", json!(t));
        }
        // Environment: names compared, values never shown (they may be secrets).
        let before: BTreeMap<String, Value> = r
            .pointer("/values/environment/0/variables")
            .and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        for key in before.keys().chain(f.environment.keys()).collect::<BTreeSet<_>>() {
            match (before.get(key).and_then(Value::as_str), f.environment.get(key)) {
                (Some(a), Some(b)) if a == b => {}
                (a, b) => w.note(
                    &address(r),
                    &format!("environment.{key}"),
                    if a.is_some() { "set" } else { "(none)" },
                    if b.is_some() { if a.is_some() { "changed" } else { "added" } } else { "removed" },
                ),
            }
        }
        if let Some(values) = r.get_mut("values").and_then(Value::as_object_mut) {
            let vars: Map<String, Value> = f.environment.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
            values.insert("environment".into(), if vars.is_empty() { json!([]) } else { json!([{"variables": vars}]) });
            values.insert("kms_key_arn".into(), json!(f.kms_key_arn.clone().unwrap_or_default()));
            if let Some(mode) = &f.tracing {
                values.insert("tracing_config".into(), json!([{"mode": mode}]));
            }
        }
        // Permissions: the resource policy's statements are the function's permissions.
        let statements = f.policy.as_deref().and_then(|p| serde_json::from_str::<Value>(p).ok()).and_then(|p| p.get("Statement").cloned()).unwrap_or(json!([]));
        let statements: Vec<Value> = match statements {
            Value::Array(a) => a,
            one @ Value::Object(_) => vec![one],
            _ => Vec::new(),
        };
        let fn_arn = f.arn.clone();
        let ours: Vec<usize> = out
            .iter()
            .enumerate()
            .filter(|(_, r)| kind(r) == "aws_lambda_permission" && (s(r, "function_name") == name || s(r, "function_name") == fn_arn))
            .map(|(i, _)| i)
            .collect();
        let live_ids: BTreeSet<String> = statements.iter().filter_map(|st| st.get("Sid").and_then(Value::as_str).map(str::to_string)).collect();
        for &i in &ours {
            if !live_ids.contains(s(&out[i], "statement_id")) && f.policy.is_some() {
                w.note(&address(&out[i]), "(resource)", "a permission", "removed outside Terraform");
                gone.insert(address(&out[i]));
            }
        }
        for st in &statements {
            let sid = st.get("Sid").and_then(Value::as_str).unwrap_or_default();
            if ours.iter().any(|&i| s(&out[i], "statement_id") == sid) {
                continue;
            }
            let principal = match st.get("Principal") {
                Some(Value::String(p)) => p.clone(),
                Some(p) => {
                    p.get("Service").or_else(|| p.get("AWS")).map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())).unwrap_or_default()
                }
                None => String::new(),
            };
            let cond = |op: &str, key: &str| st.pointer(&format!("/Condition/{op}/{key}")).and_then(Value::as_str).unwrap_or_default().to_string();
            let values = json!({
                "function_name": name, "statement_id": sid, "principal": principal,
                "action": st.get("Action").and_then(Value::as_str).unwrap_or_default(),
                "source_arn": cond("ArnLike", "AWS:SourceArn"), "source_account": cond("StringEquals", "AWS:SourceAccount"),
                "principal_org_id": cond("StringEquals", "aws:PrincipalOrgID"),
            });
            w.note(
                &format!("aws_lambda_function.{}", name),
                "permission",
                "(none)",
                format!("statement {sid} lets {principal} invoke it (added outside Terraform)"),
            );
            added.push(resource("aws_lambda_permission", &format!("{name}_{sid}"), values));
        }
        if let Some(auth) = &f.url_auth {
            match out.iter().position(|r| kind(r) == "aws_lambda_function_url" && s(r, "function_name") == name) {
                Some(i) => w.set(&mut out[i], "authorization_type", json!(auth)),
                None => {
                    w.note(&address(&out[fi]), "function_url", "(none)", format!("a function URL with auth {auth} (added outside Terraform)"));
                    added.push(resource("aws_lambda_function_url", name, json!({"function_name": name, "authorization_type": auth})));
                }
            }
        }
    }

    // Log groups.
    for r in out.iter_mut().filter(|r| kind(r) == "aws_cloudwatch_log_group") {
        let name = s(r, "name").to_string();
        match live.log_groups.get(&name) {
            Some(g) => {
                w.set(r, "retention_in_days", json!(g.retention_days.unwrap_or(0)));
                w.set(r, "kms_key_id", json!(g.kms_key_id.clone().unwrap_or_default()));
            }
            None if live.log_groups_read => {
                w.note(&address(r), "(resource)", "exists", "deleted outside Terraform");
                gone.insert(address(r));
            }
            None => {}
        }
    }

    // Roles: trust, inline policies, attachments; customer managed policies' documents.
    for (name, role) in &live.roles {
        let Some(ri) = out.iter().position(|r| kind(r) == "aws_iam_role" && s(r, "name") == name) else { continue };
        w.set(&mut out[ri], "assume_role_policy", json!(role.trust));
        let inline = of(&out, "aws_iam_role_policy", "role", name);
        // Inline policies the state records on the role itself (`inline_policy`) are known to Terraform.
        let on_role: BTreeSet<String> = out[ri]
            .pointer("/values/inline_policy")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| p.get("name").and_then(Value::as_str).filter(|n| !n.is_empty()).map(str::to_string))
            .collect();
        for &i in &inline {
            let pname = s(&out[i], "name").to_string();
            match role.inline.iter().find(|(n, _)| *n == pname) {
                Some((_, doc)) => w.set(&mut out[i], "policy", json!(doc)),
                None => {
                    w.note(&address(&out[i]), "(resource)", "an inline policy", "removed outside Terraform");
                    gone.insert(address(&out[i]));
                }
            }
        }
        let mut kept_on_role = Vec::new();
        for (pname, doc) in &role.inline {
            if inline.iter().any(|&i| s(&out[i], "name") == pname) {
                continue;
            }
            if on_role.contains(pname) {
                kept_on_role.push(json!({"name": pname, "policy": doc}));
                continue;
            }
            w.note(&address(&out[ri]), "inline_policy", "(none)", format!("inline policy {pname} added outside Terraform"));
            added.push(resource("aws_iam_role_policy", &format!("{name}_{pname}"), json!({"role": name, "name": pname, "policy": doc})));
        }
        // A name the role's state records but AWS no longer has is not called drift: a refresh records any
        // inline policy, declared or not, so the state alone cannot say Terraform manages it.
        if let Some(values) = out[ri].get_mut("values").and_then(Value::as_object_mut) {
            values.insert("inline_policy".into(), Value::Array(kept_on_role));
            if let Some(Value::Array(arns)) = values.get_mut("managed_policy_arns") {
                arns.retain(|a| a.as_str().is_some_and(|a| role.attached.iter().any(|x| x == a)));
            }
        }
        let attached = of(&out, "aws_iam_role_policy_attachment", "role", name);
        for &i in &attached {
            if !role.attached.iter().any(|a| a == s(&out[i], "policy_arn")) {
                w.note(&address(&out[i]), "(resource)", "attached", "detached outside Terraform");
                gone.insert(address(&out[i]));
            }
        }
        for arn in &role.attached {
            if attached.iter().any(|&i| s(&out[i], "policy_arn") == arn) {
                continue;
            }
            w.note(&address(&out[ri]), "managed_policy", "(none)", format!("{arn} attached outside Terraform"));
            let pname = arn.rsplit('/').next().unwrap_or(arn);
            added.push(resource("aws_iam_role_policy_attachment", &format!("{name}_{pname}"), json!({"role": name, "policy_arn": arn})));
            if let Some(p) = live.policies.get(arn)
                && !out.iter().chain(added.iter()).any(|r| kind(r) == "aws_iam_policy" && s(r, "arn") == arn)
            {
                added.push(resource("aws_iam_policy", pname, json!({"arn": arn, "name": p.name, "policy": p.document})));
            }
        }
    }
    for r in out.iter_mut().filter(|r| kind(r) == "aws_iam_policy") {
        if let Some(p) = live.policies.get(s(r, "arn")) {
            w.set(r, "policy", json!(p.document));
        }
    }

    // KMS rotation, table backups.
    for r in out.iter_mut() {
        match kind(r) {
            "aws_kms_key" => {
                if let Some(on) = live.kms_rotation.get(s(r, "key_id")) {
                    w.set(r, "enable_key_rotation", json!(on));
                }
            }
            "aws_dynamodb_table" => match live.tables.get(s(r, "name")) {
                Some(t) if !t.exists => {
                    w.note(&address(r), "(resource)", "exists", "deleted outside Terraform");
                    gone.insert(address(r));
                }
                Some(t) => {
                    if let Some(on) = t.pitr {
                        let before = r.pointer("/values/point_in_time_recovery/0/enabled").and_then(Value::as_bool).unwrap_or(false);
                        if before != on {
                            w.note(&address(r), "point_in_time_recovery.enabled", before.to_string(), on.to_string());
                        }
                        if let Some(values) = r.get_mut("values").and_then(Value::as_object_mut) {
                            values.insert("point_in_time_recovery".into(), json!([{"enabled": on}]));
                        }
                    }
                }
                None => {}
            },
            _ => {}
        }
    }

    // Security groups: those Terraform manages, and those carrying the environment's tags.
    let mut unmanaged = Vec::new();
    for g in &live.security_groups {
        let managed = out.iter().position(|r| kind(r) == "aws_security_group" && s(r, "id") == g.id);
        match managed {
            Some(i) => {
                let before = rules_of(&out[i], "ingress");
                let now: BTreeSet<String> = g.ingress.iter().map(rule_text).collect();
                for added_rule in now.difference(&before) {
                    w.note(&address(&out[i]), "ingress", "(none)", format!("{added_rule} (added outside Terraform)"));
                }
                for removed in before.difference(&now) {
                    w.note(&address(&out[i]), "ingress", removed.clone(), "(removed)");
                }
                if let Some(values) = out[i].get_mut("values").and_then(Value::as_object_mut) {
                    values.insert("ingress".into(), rules_json(&g.ingress));
                    values.insert("egress".into(), rules_json(&g.egress));
                }
            }
            None if !env_tags.is_empty() && env_tags.iter().all(|(k, v)| g.tags.get(k) == Some(v)) => {
                let r = sg_resource(g);
                unmanaged.push(address(&r));
                added.push(r);
            }
            None => {}
        }
    }

    out.retain(|r| !gone.contains(&address(r)));
    out.extend(added);
    Overlaid { resources: out, drift, unmanaged }
}

fn rule_text(r: &Rule) -> String {
    let ports = match (r.from_port, r.to_port) {
        (Some(a), Some(b)) if a == b => format!("port {a}"),
        (Some(a), Some(b)) if a >= 0 => format!("ports {a}-{b}"),
        _ => "all ports".into(),
    };
    let from: Vec<&str> = r.cidr_v4.iter().chain(r.cidr_v6.iter()).map(String::as_str).collect();
    format!("{} {ports} from {}", if r.protocol == "-1" { "all" } else { &r.protocol }, from.join(", "))
}

fn rules_of(r: &Value, direction: &str) -> BTreeSet<String> {
    r.pointer(&format!("/values/{direction}"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|x| {
            let strings =
                |k: &str| x.get(k).and_then(Value::as_array).map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()).unwrap_or_default();
            rule_text(&Rule {
                protocol: x.get("protocol").and_then(Value::as_str).unwrap_or("-1").to_string(),
                from_port: x.get("from_port").and_then(Value::as_i64).map(|v| v as i32),
                to_port: x.get("to_port").and_then(Value::as_i64).map(|v| v as i32),
                cidr_v4: strings("cidr_blocks"),
                cidr_v6: strings("ipv6_cidr_blocks"),
                description: None,
            })
        })
        .collect()
}

fn rules_json(rules: &[Rule]) -> Value {
    Value::Array(
        rules
            .iter()
            .map(|r| {
                json!({
                    "protocol": r.protocol, "from_port": r.from_port.unwrap_or(0), "to_port": r.to_port.unwrap_or(0),
                    "cidr_blocks": r.cidr_v4, "ipv6_cidr_blocks": r.cidr_v6, "description": r.description.clone().unwrap_or_default(),
                    "prefix_list_ids": [], "security_groups": [], "self": false,
                })
            })
            .collect(),
    )
}

fn sg_resource(g: &SecurityGroup) -> Value {
    let tags: Map<String, Value> = g.tags.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    resource(
        "aws_security_group",
        &g.id,
        json!({
            "id": g.id, "arn": g.arn, "name": g.name, "vpc_id": g.vpc_id, "description": g.description,
            "ingress": rules_json(&g.ingress), "egress": rules_json(&g.egress), "tags": tags.clone(), "tags_all": tags,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::posture::{Bucket, LogGroup, Role};

    fn state() -> Vec<Value> {
        vec![
            json!({"address": "aws_s3_bucket.data", "type": "aws_s3_bucket", "values": {"bucket": "b1", "arn": "arn:aws:s3:::b1", "tags": {}, "tags_all": {"Project": "shop", "Owner": "ops"}}}),
            json!({"address": "aws_s3_bucket_public_access_block.data", "type": "aws_s3_bucket_public_access_block", "values": {"bucket": "b1", "block_public_acls": true, "block_public_policy": true, "ignore_public_acls": true, "restrict_public_buckets": true}}),
            json!({"address": "aws_cloudwatch_log_group.api", "type": "aws_cloudwatch_log_group", "values": {"name": "/aws/lambda/api", "retention_in_days": 14, "kms_key_id": ""}}),
            json!({"address": "aws_iam_role.api", "type": "aws_iam_role", "values": {"name": "api-role", "assume_role_policy": "{\"Version\":\"2012-10-17\"}"}}),
        ]
    }

    #[test]
    fn live_changes_become_drift_and_live_resources() {
        let mut live = Live::default();
        live.buckets.insert("b1".into(), Bucket { exists: true, public_access_block: None, ..Bucket::default() });
        live.log_groups.insert(
            "/aws/lambda/api".into(),
            LogGroup { name: "/aws/lambda/api".into(), arn: None, retention_days: None, kms_key_id: None, stored_bytes: None },
        );
        live.roles.insert(
            "api-role".into(),
            Role {
                name: "api-role".into(),
                arn: "arn".into(),
                trust: "{ \"Version\": \"2012-10-17\" }".into(),
                inline: vec![("admin".into(), "{\"Statement\":[]}".into())],
                attached: vec![],
            },
        );
        live.tags = Some([("arn:aws:s3:::b1".to_string(), [("Project".to_string(), "shop".to_string())].into())].into());
        let o = overlay(&state(), &live, &[]);
        let said: Vec<String> = o.drift.iter().map(|d| format!("{} {} {} -> {}", d.resource, d.attribute, d.in_state, d.live)).collect();
        assert!(said.iter().any(|d| d.starts_with("aws_s3_bucket_public_access_block.data (resource)")), "{said:?}");
        assert!(said.iter().any(|d| d == "aws_s3_bucket.data tags.Owner ops -> (removed)"), "{said:?}");
        assert!(said.iter().any(|d| d == "aws_cloudwatch_log_group.api retention_in_days 14 -> 0"), "{said:?}");
        assert!(said.iter().any(|d| d.contains("inline policy admin added")), "{said:?}");
        assert!(!said.iter().any(|d| d.contains("assume_role_policy")), "same JSON, other spacing, is no drift: {said:?}");
        assert!(!o.resources.iter().any(|r| kind(r) == "aws_s3_bucket_public_access_block"));
        assert!(o.resources.iter().any(|r| kind(r) == "aws_iam_role_policy" && s(r, "role") == "api-role"));
        let bucket = o.resources.iter().find(|r| kind(r) == "aws_s3_bucket").unwrap();
        assert_eq!(bucket.pointer("/values/tags/Project"), Some(&json!("shop")), "tags_all becomes tags");
    }

    #[test]
    fn an_arn_the_tagging_api_left_out_keeps_its_state_tags() {
        let live = Live { tags: Some(BTreeMap::new()), ..Live::default() };
        let o = overlay(&state(), &live, &[]);
        assert!(o.drift.is_empty(), "{:?}", o.drift);
    }
}
