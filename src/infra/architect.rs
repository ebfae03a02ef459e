//! architect: a feature request in plain words → a design document at
//! `designs/{slug}.md`: requirements as understood, the components chosen and
//! why, each one's effective settings, security considerations, a monthly
//! cost estimate, open questions, and the machine-readable block `engineer`
//! reads. It reviews what exists first (the Terraform directory, the
//! deployment registries, earlier designs): it reuses an existing resource of
//! the same kind where one fits and never proposes a name that collides.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Value, json};

use crate::config::Config;
use crate::error::Error;
use crate::infra::catalog;
use crate::infra::design::{BLOCK_TAG, Component, ComponentKind, DesignSpec};
use crate::tf;
use crate::vocabulary::Report;
use crate::workspace::Workspace;

/// One keyword rule of the catalog selection.
struct Rule {
    phrases: &'static [&'static str],
    kind: ComponentKind,
    name: &'static str,
    requirement: &'static str,
    why: &'static str,
}

const RULES: &[Rule] = &[
    Rule {
        phrases: &["static site", "website", "web site", "frontend", "front end", "spa", "single page", "landing page", "cdn", "cloudfront"],
        kind: ComponentKind::StaticSite,
        name: "web",
        requirement: "Serve a static web front end over HTTPS worldwide.",
        why: "CloudFront in front of a private S3 bucket (origin access control): HTTPS, caching, no public bucket.",
    },
    Rule {
        phrases: &["upload", "uploads", "file storage", "files", "storage", "bucket", "s3", "images", "documents", "media", "attachments", "backups", "assets"],
        kind: ComponentKind::S3Bucket,
        name: "uploads",
        requirement: "Store files durably.",
        why: "S3: durable object storage; private, encrypted, versioned, with lifecycle housekeeping.",
    },
    Rule {
        phrases: &["api", "apis", "rest", "http", "endpoint", "endpoints", "backend", "microservice", "web service", "graphql", "webhook", "webhooks"],
        kind: ComponentKind::HttpApi,
        name: "api",
        requirement: "Expose an HTTP API.",
        why: "API Gateway HTTP API in front of a Lambda function: pay per request, access logs, throttling, 5xx alarm.",
    },
    Rule {
        phrases: &[
            "auth",
            "authentication",
            "authenticate",
            "login",
            "log in",
            "sign in",
            "sign-in",
            "signup",
            "sign up",
            "user accounts",
            "user management",
            "identity",
            "cognito",
            "oauth",
        ],
        kind: ComponentKind::CognitoUserPool,
        name: "users",
        requirement: "Authenticate users (sign-up, sign-in, password reset, MFA).",
        why: "Cognito user pool and app client: managed sign-up/sign-in with MFA and strong password policy, no password storage of our own.",
    },
    Rule {
        phrases: &["postgres", "postgresql", "relational", "sql", "rds", "database", "db"],
        kind: ComponentKind::RdsPostgres,
        name: "db",
        requirement: "Keep relational data.",
        why: "RDS PostgreSQL: managed backups and patching; private, encrypted, master password kept in Secrets Manager by RDS.",
    },
    Rule {
        phrases: &["dynamodb", "nosql", "key-value", "key value", "table", "sessions"],
        kind: ComponentKind::DynamodbTable,
        name: "items",
        requirement: "Keep key-value data with predictable latency.",
        why: "DynamoDB on demand: no capacity planning, encrypted, point-in-time recovery.",
    },
    Rule {
        phrases: &["queue", "queues", "sqs", "background job", "background jobs", "async", "asynchronous", "task queue", "message queue", "decouple"],
        kind: ComponentKind::SqsQueue,
        name: "jobs",
        requirement: "Hand work off asynchronously and retry failures.",
        why: "SQS with a dead-letter queue: retries, no lost messages, alarms on age and on the DLQ.",
    },
    Rule {
        phrases: &["notification", "notifications", "notify", "sns", "pub/sub", "pubsub", "fan-out", "fanout", "topic", "alerts"],
        kind: ComponentKind::SnsTopic,
        name: "notifications",
        requirement: "Publish notifications to several subscribers.",
        why: "SNS topic, encrypted: fan-out to email, SQS, Lambda or HTTPS subscribers.",
    },
    Rule {
        phrases: &["scheduled", "schedule", "cron", "nightly", "hourly", "daily", "weekly", "every day", "periodic", "recurring", "scheduled job"],
        kind: ComponentKind::Schedule,
        name: "schedule",
        requirement: "Run a job on a schedule.",
        why: "EventBridge schedule rule invoking a Lambda function: no servers to keep running between runs.",
    },
    Rule {
        phrases: &["secret", "secrets", "api key", "api keys", "credentials", "token", "tokens"],
        kind: ComponentKind::Secret,
        name: "app-secret",
        requirement: "Keep credentials out of code and configuration.",
        why: "Secrets Manager secret (its value is set outside Terraform, so it never lands in state or code).",
    },
    Rule {
        phrases: &["worker", "workers", "lambda", "function", "functions", "serverless", "compute", "processing", "processor"],
        kind: ComponentKind::LambdaFunction,
        name: "worker",
        requirement: "Run application code without managing servers.",
        why: "Lambda: pay per use, X-Ray tracing, log group with retention, error and throttle alarms.",
    },
    Rule {
        phrases: &["kms", "customer managed key", "customer-managed key", "encryption key", "cmk", "hipaa", "pci", "compliance", "sensitive", "pii"],
        kind: ComponentKind::KmsKey,
        name: "data-key",
        requirement: "Encrypt data with a key the project controls.",
        why: "KMS customer-managed key with yearly rotation, used by the storage components of this design.",
    },
];

/// What `architect` produced.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ArchitectReport {
    pub design: String,
    pub path: std::path::PathBuf,
    pub components: Vec<ComponentSummary>,
    pub reused: Vec<String>,
    pub renamed: Vec<String>,
    pub open_questions: Vec<String>,
    pub monthly_cost: Option<f64>,
    /// What a change request changed in the design ("removed sessions (dynamodb_table)").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed: Option<String>,
}

/// One component of a design, as the report lists it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ComponentSummary {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ComponentKind,
    /// The existing Terraform address it reuses, if any.
    pub existing: Option<String>,
}

impl Report for ArchitectReport {
    fn text(&self) -> String {
        let names: Vec<String> = self.components.iter().map(|c| format!("{} ({})", c.name, c.kind.as_str())).collect();
        let cost = self.monthly_cost.map(|c| format!(" Estimated ${c:.2}/month at default usage.")).unwrap_or_default();
        let changed = self.changed.as_ref().map(|c| format!(" Changed: {c}.")).unwrap_or_default();
        let mut out = format!(
            "Wrote designs/{} with {} component(s): {}.{changed}{cost} Review it (edit the design block if needed), then run engineer.",
            self.design,
            names.len(),
            names.join(", ")
        );
        for q in &self.open_questions {
            out.push_str(&format!("\nOpen question: {q}"));
        }
        out
    }
}

/// What exists already: names that must not be proposed again, and resources that can be reused.
#[derive(Debug, Default)]
pub struct Existing {
    pub taken: BTreeSet<String>,
    /// Terraform type → addresses in the Terraform directory.
    pub by_type: BTreeMap<String, Vec<String>>,
    pub reviewed: Vec<String>,
}

impl Existing {
    /// Reads the Terraform directory, every environment's registry, and earlier designs.
    pub fn review(ws: &Workspace, config: &Config) -> Existing {
        let mut e = Existing::default();
        if let Some(dir) = super::engineer::terraform_dir(ws, config) {
            match tf::load_dir(&dir, None) {
                Ok(module) => {
                    e.reviewed.push(format!("{} ({} resources)", dir.display(), module.resources.len()));
                    for r in module.resources.iter().filter(|r| !r.data) {
                        e.taken.insert(r.name.replace('_', "-"));
                        e.by_type.entry(r.kind.clone()).or_default().push(r.address.clone());
                    }
                }
                Err(tf::TfError::Empty { .. } | tf::TfError::Io { .. }) => {}
                Err(err) => e.reviewed.push(format!("{} could not be read: {err}", dir.display())),
            }
        }
        for env in config.environments.keys() {
            let Ok(path) = ws.path(&format!("deployments/{env}/registry.json")) else { continue };
            let Ok(text) = std::fs::read_to_string(&path) else { continue };
            let Ok(registry) = serde_json::from_str::<Value>(&text) else { continue };
            let resources = registry.get("resources").and_then(Value::as_array).cloned().unwrap_or_default();
            e.reviewed.push(format!("deployments/{env}/registry.json ({} resources)", resources.len()));
            for r in resources {
                if let Some(name) = r.get("address").and_then(Value::as_str).and_then(|a| a.rsplit('.').next()) {
                    e.taken.insert(name.replace('_', "-"));
                }
            }
        }
        for design in super::engineer::list_designs(ws) {
            if let Ok((_, spec)) = super::engineer::load_design(ws, &design) {
                e.reviewed.push(format!("designs/{design}"));
                e.taken.extend(spec.components.iter().map(|c| c.name.clone()));
            }
        }
        e
    }
}

/// Words of the feature, lowercased, for phrase matching.
fn words(feature: &str) -> Vec<String> {
    feature.split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '/')).filter(|w| !w.is_empty()).map(|w| w.to_lowercase()).collect()
}

fn mentions(words: &[String], phrase: &str) -> bool {
    let parts: Vec<&str> = phrase.split(' ').collect();
    words.windows(parts.len()).any(|w| w.iter().zip(&parts).all(|(a, b)| a == b))
}

/// The components picked for a feature, and how.
pub struct Chosen {
    pub spec: DesignSpec,
    /// "`kind` reuses `address`" lines.
    pub reused: Vec<String>,
    /// "`base` → `name`" lines for names that were taken.
    pub renamed: Vec<String>,
    /// (component name, requirement, why) per chosen component.
    pub reasons: Vec<(String, &'static str, &'static str)>,
}

/// Picks components for a feature. Pure.
pub fn choose(feature: &str, existing: &Existing) -> Result<Chosen, Error> {
    let w = words(feature);
    let mut chosen: Vec<&Rule> = RULES.iter().filter(|r| r.phrases.iter().any(|p| mentions(&w, p))).collect();
    // "SQL" inside "NoSQL" is handled by whole words; a DynamoDB request is not also a PostgreSQL one.
    if chosen.iter().any(|r| r.kind == ComponentKind::DynamodbTable) && !["postgres", "postgresql", "relational", "rds", "sql"].iter().any(|p| mentions(&w, p))
    {
        chosen.retain(|r| r.kind != ComponentKind::RdsPostgres);
    }
    // The static site holds its own bucket; "site assets" alone does not ask for another.
    if chosen.iter().any(|r| r.kind == ComponentKind::StaticSite)
        && !["upload", "uploads", "files", "file storage", "bucket", "backups", "documents", "media", "attachments"].iter().any(|p| mentions(&w, p))
    {
        chosen.retain(|r| r.kind != ComponentKind::S3Bucket);
    }
    if chosen.is_empty() {
        let examples: Vec<&str> = RULES.iter().map(|r| r.phrases[0]).collect();
        return Err(Error::bad_input(
            "feature",
            format!("no catalog component matches \"{feature}\""),
            Some(format!("a request naming what to build, e.g. {}", examples.join(", "))),
        ));
    }
    let mut components: Vec<Component> = Vec::new();
    let mut reasons: Vec<(String, &'static str, &'static str)> = Vec::new();
    let mut reused = Vec::new();
    let mut renamed = Vec::new();
    let mut used: BTreeSet<String> = BTreeSet::new();
    let mut add = |kind: ComponentKind,
                   base: &str,
                   settings: serde_json::Map<String, Value>,
                   rule: Option<&Rule>,
                   components: &mut Vec<Component>,
                   reasons: &mut Vec<(String, &'static str, &'static str)>|
     -> String {
        // Reuse an existing resource of the same kind where there is exactly one.
        let existing_one = existing.by_type.get(kind.primary_type()).filter(|v| v.len() == 1).map(|v| v[0].clone());
        let mut name = base.to_string();
        let mut n = 2;
        while used.contains(&name) || (existing.taken.contains(&name) && existing_one.is_none()) {
            name = format!("{base}-{n}");
            n += 1;
        }
        if name != base {
            renamed.push(format!("{base} → {name} (the name is taken)"));
        }
        if let Some(address) = &existing_one {
            reused.push(format!("{} reuses {address}", kind.as_str()));
        }
        used.insert(name.clone());
        components.push(Component { kind, name: name.clone(), settings, existing: existing_one });
        if let Some(rule) = rule {
            reasons.push((name.clone(), rule.requirement, rule.why));
        }
        name
    };
    let kms = chosen.iter().find(|r| r.kind == ComponentKind::KmsKey).map(|r| add(r.kind, r.name, Default::default(), Some(r), &mut components, &mut reasons));
    let lambda_rule = RULES.iter().find(|r| r.kind == ComponentKind::LambdaFunction).expect("lambda rule");
    for rule in &chosen {
        let mut settings = serde_json::Map::new();
        let encrypts = matches!(
            rule.kind,
            ComponentKind::S3Bucket
                | ComponentKind::DynamodbTable
                | ComponentKind::RdsPostgres
                | ComponentKind::SqsQueue
                | ComponentKind::SnsTopic
                | ComponentKind::Secret
        );
        if let Some(k) = kms.as_ref().filter(|_| encrypts) {
            settings.insert("kms_key".into(), json!(k));
        }
        match rule.kind {
            ComponentKind::KmsKey => {}
            ComponentKind::HttpApi => {
                let handler = add(ComponentKind::LambdaFunction, "api-handler", Default::default(), Some(lambda_rule), &mut components, &mut reasons);
                settings.insert("lambda".into(), json!(handler));
                add(rule.kind, rule.name, settings, Some(rule), &mut components, &mut reasons);
            }
            ComponentKind::Schedule => {
                let job = add(ComponentKind::LambdaFunction, "job", Default::default(), Some(lambda_rule), &mut components, &mut reasons);
                settings.insert("lambda".into(), json!(job));
                settings.insert("expression".into(), json!(schedule_expression(&w)));
                add(rule.kind, rule.name, settings, Some(rule), &mut components, &mut reasons);
            }
            // A function is already there (the API's handler, the job): a worker named as such is one more.
            ComponentKind::LambdaFunction
                if components.iter().any(|c| c.kind == ComponentKind::LambdaFunction) && !WORKER_WORDS.iter().any(|p| mentions(&w, p)) => {}
            ComponentKind::DynamodbTable => {
                let base = table_name(&w).unwrap_or_else(|| rule.name.to_string());
                add(rule.kind, &base, settings, Some(rule), &mut components, &mut reasons);
            }
            ComponentKind::S3Bucket => {
                let base = ["backups", "images", "documents", "media", "attachments"].into_iter().find(|p| mentions(&w, p)).unwrap_or(rule.name);
                add(rule.kind, base, settings, Some(rule), &mut components, &mut reasons);
            }
            _ => {
                add(rule.kind, rule.name, settings, Some(rule), &mut components, &mut reasons);
            }
        }
    }
    wire(&w, &mut components);
    let spec = DesignSpec { version: 1, feature: feature.trim().to_string(), components };
    Ok(Chosen { spec, reused, renamed, reasons })
}

/// Verbs that take a component out of the design.
const REMOVE_VERBS: &[&str] = &["remove", "delete", "drop", "decommission", "retire", "destroy"];

/// A request that changes a component the design already has: removing it ("remove the sessions table"),
/// its memory ("give the worker 1024 MB"), its versioning ("turn on versioning for the uploads bucket").
/// `None` when the request asks for something new. Pure.
pub fn change(feature: &str, old: &DesignSpec) -> Result<Option<DesignSpec>, Error> {
    let w = words(feature);
    // The component the request names: by its name, else by its kind when the design has one of that kind.
    let kind_words: &[(&str, ComponentKind)] = &[
        ("table", ComponentKind::DynamodbTable),
        ("dynamodb", ComponentKind::DynamodbTable),
        ("bucket", ComponentKind::S3Bucket),
        ("queue", ComponentKind::SqsQueue),
        ("topic", ComponentKind::SnsTopic),
        ("lambda", ComponentKind::LambdaFunction),
        ("function", ComponentKind::LambdaFunction),
        ("secret", ComponentKind::Secret),
        ("database", ComponentKind::RdsPostgres),
        ("schedule", ComponentKind::Schedule),
    ];
    // A name is named when its words appear in a row ("api handler", "api-handler"); a name inside a longer named
    // one ("api" in "api handler") is not.
    let named = |c: &&Component| {
        let parts: Vec<&str> = c.name.split('-').collect();
        w.contains(&c.name) || w.windows(parts.len()).any(|win| win.iter().zip(&parts).all(|(a, b)| a == b))
    };
    let candidates: Vec<&Component> = old.components.iter().filter(|c| c.existing.is_none()).filter(named).collect();
    let by_name: Vec<&Component> =
        candidates.iter().filter(|c| !candidates.iter().any(|o| o.name.len() > c.name.len() && o.name.split('-').any(|p| p == c.name))).copied().collect();
    let target = match by_name.as_slice() {
        [one] => Some((*one).clone()),
        _ => {
            let kinds: BTreeSet<ComponentKind> = w.iter().filter_map(|x| kind_words.iter().find(|(k, _)| k == x).map(|(_, kind)| *kind)).collect();
            let of_kind: Vec<&Component> = old.components.iter().filter(|c| c.existing.is_none() && kinds.contains(&c.kind)).collect();
            match (of_kind.as_slice(), by_name.as_slice()) {
                ([one], _) => Some((*one).clone()),
                (_, many) if many.len() > 1 => {
                    let names: Vec<&str> = many.iter().map(|c| c.name.as_str()).collect();
                    return Err(Error::bad_input(
                        "feature",
                        format!("names more than one component of the design ({})", names.join(", ")),
                        Some("name one".into()),
                    ));
                }
                _ => None,
            }
        }
    };
    let Some(target) = target else { return Ok(None) };
    let mut spec = old.clone();
    let what;
    if REMOVE_VERBS.iter().any(|v| w.iter().any(|x| x == v)) {
        // Whatever uses it must stop first: a dangling reference would not generate.
        let users: Vec<String> = spec
            .components
            .iter()
            .filter(|c| {
                c.name != target.name
                    && c.settings
                        .values()
                        .any(|v| v.as_str() == Some(&target.name) || v.as_array().is_some_and(|a| a.iter().any(|i| i.as_str() == Some(&target.name))))
            })
            .map(|c| c.name.clone())
            .collect();
        for c in &mut spec.components {
            for field in ["reads", "writes", "triggered_by"] {
                if let Some(Value::Array(items)) = c.settings.get_mut(field) {
                    items.retain(|i| i.as_str() != Some(&target.name));
                }
            }
        }
        let still: Vec<&String> =
            users.iter().filter(|u| spec.component(u).is_some_and(|c| c.settings.values().any(|v| v.as_str() == Some(&target.name)))).collect();
        if !still.is_empty() {
            return Err(Error::bad_input(
                "feature",
                format!("{} cannot be removed while {} uses it", target.name, still.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")),
                Some("remove or change that component first".into()),
            ));
        }
        let protected = matches!(target.kind, ComponentKind::DynamodbTable | ComponentKind::RdsPostgres)
            && target.settings.get("deletion_protection") != Some(&json!(false));
        if protected {
            // AWS refuses to delete it while deletion protection is on, and one apply cannot do both: the
            // protection goes first, the component with the next request once that is deployed.
            let c = spec.components.iter_mut().find(|c| c.name == target.name).expect("the target is in the design");
            c.settings.insert("deletion_protection".into(), json!(false));
            what = format!("{} deletion protection off, the first of two steps: deploy it, then ask again to remove {}", target.name, target.name);
        } else {
            spec.components.retain(|c| c.name != target.name);
            what = format!("removed {} ({})", target.name, target.kind.as_str());
        }
    } else if target.kind == ComponentKind::SqsQueue
        && ["dlq", "dead-letter", "dead letter", "dead letters", "deadletter", "redrive"].iter().any(|p| mentions(&w, p))
    {
        // Every generated queue has its dead-letter queue: the request can only say after how many receives.
        let current = target.settings.get("max_receive_count").and_then(Value::as_u64).unwrap_or(5);
        let tries = w.windows(2).find_map(|p| {
            ["tries", "attempts", "receives", "retries", "failures", "times", "deliveries"].contains(&p[1].as_str()).then(|| p[0].parse::<u64>().ok()).flatten()
        });
        match tries {
            Some(n) if (1..=1000).contains(&n) && n != current => {
                let c = spec.components.iter_mut().find(|c| c.name == target.name).expect("the target is in the design");
                c.settings.insert("max_receive_count".into(), json!(n));
                what = format!("{} moves a message to its dead-letter queue after {n} receives (was {current})", target.name);
            }
            Some(n) if !(1..=1000).contains(&n) => {
                return Err(Error::bad_input("feature", format!("{n} receives before the dead-letter queue is out of range"), Some("1 to 1000".into())));
            }
            _ => {
                what = format!(
                    "nothing: {} already has a dead-letter queue ({}-dlq, after {current} receives); say \"after 3 tries\" to change when messages move there",
                    target.name, target.name
                );
            }
        }
    } else if let Some(mb) = memory_mb(&w) {
        if target.kind != ComponentKind::LambdaFunction {
            return Ok(None);
        }
        let c = spec.components.iter_mut().find(|c| c.name == target.name).expect("the target is in the design");
        c.settings.insert("memory_mb".into(), json!(mb));
        what = format!("{} memory_mb = {mb}", target.name);
    } else if mentions(&w, "versioning") && target.kind == ComponentKind::S3Bucket {
        let on = !["disable", "off", "without", "no", "stop"].iter().any(|x| mentions(&w, x));
        let c = spec.components.iter_mut().find(|c| c.name == target.name).expect("the target is in the design");
        c.settings.insert("versioning".into(), json!(on));
        what = format!("{} versioning = {on}", target.name);
    } else {
        return Ok(None);
    }
    spec.feature = format!("{}; changed: {what}", old.feature);
    Ok(Some(spec))
}

/// A memory size in the request, in MB: "1024 MB", "2 GB", "512mb".
fn memory_mb(w: &[String]) -> Option<u32> {
    let size = |n: &str, unit: &str| {
        let n: u32 = n.parse().ok()?;
        match unit {
            "mb" => Some(n),
            "gb" => Some(n * 1024),
            _ => None,
        }
    };
    w.windows(2)
        .find_map(|p| size(&p[0], &p[1]))
        .or_else(|| w.iter().find_map(|x| x.len().checked_sub(2).filter(|&cut| x.is_char_boundary(cut)).and_then(|cut| size(&x[..cut], &x[cut..]))))
}

/// The design `old` extended with what a new request chose. A new component that reuses a resource the design
/// already generates (`existing` = its address) is that component: it is dropped and references to its name
/// point at the design's own. Pure.
pub fn revise(old: &DesignSpec, new: DesignSpec) -> DesignSpec {
    let generated =
        |address: &str| old.components.iter().find(|c| c.existing.is_none() && format!("{}.{}", c.kind.primary_type(), catalog::tf_name(&c.name)) == address);
    let mut renames: Vec<(String, String)> = Vec::new();
    let mut added = Vec::new();
    for c in new.components {
        match c.existing.as_deref().and_then(generated) {
            Some(same) => renames.push((c.name.clone(), same.name.clone())),
            None => added.push(c),
        }
    }
    for c in &mut added {
        for value in c.settings.values_mut() {
            let rename = |v: &mut Value| {
                if let Some((_, to)) = v.as_str().and_then(|s| renames.iter().find(|(from, _)| from == s)) {
                    *v = Value::String(to.clone());
                }
            };
            match value {
                Value::Array(items) => items.iter_mut().for_each(rename),
                v => rename(v),
            }
        }
    }
    let mut components = old.components.clone();
    components.extend(added);
    DesignSpec { version: old.version, feature: format!("{}; then: {}", old.feature, new.feature), components }
}

/// Words that ask for a function of its own beside an API's handler.
const WORKER_WORDS: &[&str] = &["worker", "workers", "processor", "processing", "processes", "process"];
/// Verbs that put data somewhere ("stores orders", "records it").
const STORE_VERBS: &[&str] = &[
    "store", "stores", "storing", "save", "saves", "record", "records", "keep", "keeps", "track", "tracks", "write", "writes", "persist", "persists", "put",
    "puts", "log", "logs", "insert", "inserts",
];
/// Verbs that read data ("looks up", "queries").
const READ_VERBS: &[&str] =
    &["read", "reads", "look", "looks", "lookup", "query", "queries", "fetch", "fetches", "serve", "serves", "get", "gets", "list", "lists"];
/// Verbs that react to each new object or message.
const REACT_VERBS: &[&str] = &[
    "process",
    "processes",
    "processing",
    "handle",
    "handles",
    "resize",
    "resizes",
    "thumbnail",
    "thumbnails",
    "transform",
    "transforms",
    "convert",
    "converts",
    "scan",
    "scans",
    "consume",
    "consumes",
    "each",
    "every",
    "whenever",
];
/// Words after a verb that name nothing.
const NOT_A_NAME: &[&str] = &[
    "it", "them", "the", "a", "an", "each", "every", "all", "data", "this", "that", "these", "those", "in", "into", "to", "and", "with", "for", "of",
    "dynamodb", "table", "new", "one", "some", "user", "users", "files", "file", "things", "stuff", "record", "records", "entry", "entries", "item", "items",
    "nosql",
];

/// The table's name from the request: "a sessions table", "stores orders in DynamoDB".
fn table_name(w: &[String]) -> Option<String> {
    let usable = |s: &str| s.len() > 2 && s.chars().all(|c| c.is_ascii_lowercase()) && !NOT_A_NAME.contains(&s);
    let before_table = w.windows(2).find(|p| p[1] == "table" && usable(&p[0])).map(|p| p[0].clone());
    let table_for = || w.windows(3).find(|p| p[0] == "table" && p[1] == "for" && usable(&p[2])).map(|p| p[2].clone());
    before_table.or_else(table_for).or_else(|| w.windows(2).find(|p| STORE_VERBS.contains(&p[0].as_str()) && usable(&p[1])).map(|p| p[1].clone()))
}

/// Connects the chosen components as the request describes: a function that reacts to each upload or message
/// is triggered by the bucket or queue; a function that stores or reads data uses the table; an API's handler
/// hands work to a worker through the queue. Pure.
fn wire(w: &[String], components: &mut [Component]) {
    let said = |words: &[&str]| words.iter().any(|p| mentions(w, p));
    let named = |kind: ComponentKind, components: &[Component]| components.iter().filter(|c| c.kind == kind).map(|c| c.name.clone()).collect::<Vec<_>>();
    let functions = named(ComponentKind::LambdaFunction, components);
    let handler =
        components.iter().find(|c| c.kind == ComponentKind::HttpApi).and_then(|api| api.settings.get("lambda").and_then(Value::as_str).map(str::to_string));
    let job = components.iter().find(|c| c.kind == ComponentKind::Schedule).and_then(|s| s.settings.get("lambda").and_then(Value::as_str).map(str::to_string));
    // The function that does the background work: one that is neither the API's handler nor the schedule's job.
    let worker = functions.iter().find(|f| Some(*f) != handler.as_ref() && Some(*f) != job.as_ref()).cloned();
    let (buckets, tables, queues, topics) = (
        named(ComponentKind::S3Bucket, components),
        named(ComponentKind::DynamodbTable, components),
        named(ComponentKind::SqsQueue, components),
        named(ComponentKind::SnsTopic, components),
    );
    let mut uses: Vec<(String, &'static str, String)> = Vec::new();
    match (&worker, &handler) {
        (Some(worker), Some(handler)) => {
            for q in &queues {
                uses.push((handler.clone(), "writes", q.clone()));
                uses.push((worker.clone(), "triggered_by", q.clone()));
            }
        }
        (Some(worker), None) if said(REACT_VERBS) => {
            for source in buckets.iter().chain(&queues) {
                uses.push((worker.clone(), "triggered_by", source.clone()));
            }
        }
        _ => {}
    }
    // The data: the API's handler when there is one (it answers the requests), else the worker or the job.
    if let Some(owner) = handler.clone().or_else(|| worker.clone()).or_else(|| job.clone()) {
        let (stores, reads) = (said(STORE_VERBS), said(READ_VERBS));
        for t in &tables {
            if stores || !reads {
                uses.push((owner.clone(), "writes", t.clone()));
            }
            if reads || (!stores && handler.is_some()) {
                uses.push((owner.clone(), "reads", t.clone()));
            }
        }
        if handler.is_some() {
            for b in &buckets {
                uses.push((owner.clone(), "writes", b.clone()));
            }
        }
        for t in &topics {
            uses.push((owner.clone(), "writes", t.clone()));
        }
    }
    for (function, field, target) in uses {
        let Some(c) = components.iter_mut().find(|c| c.name == function) else { continue };
        let list = c.settings.entry(field).or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(items) = list
            && !items.iter().any(|i| i.as_str() == Some(target.as_str()))
        {
            items.push(Value::String(target));
        }
    }
}

fn schedule_expression(w: &[String]) -> &'static str {
    if mentions(w, "hourly") || mentions(w, "every hour") {
        "rate(1 hour)"
    } else if mentions(w, "nightly") {
        "cron(0 3 * * ? *)"
    } else if mentions(w, "weekly") {
        "rate(7 days)"
    } else {
        "rate(1 day)"
    }
}

/// `design infrastructure for user authentication` → `user-authentication`.
pub fn slug(feature: &str) -> String {
    let mut out = String::new();
    for word in words(feature) {
        let clean: String = word.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
        if clean.is_empty() || matches!(clean.as_str(), "a" | "an" | "the" | "for" | "with" | "and" | "of" | "to" | "my" | "our") {
            continue;
        }
        if out.len() + clean.len() + 1 > 60 {
            break;
        }
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(&clean);
    }
    if out.is_empty() { "design".into() } else { out }
}

fn security_notes(kind: ComponentKind) -> &'static str {
    match kind {
        ComponentKind::S3Bucket => {
            "Public access blocked at the bucket; ACLs disabled (bucket owner enforced); server-side encryption; versioning; TLS-only bucket policy."
        }
        ComponentKind::LambdaFunction => {
            "Own IAM role with only the basic logging and X-Ray policies; add data-access permissions per resource, never `*`; no secrets in environment variables (read them from Secrets Manager)."
        }
        ComponentKind::HttpApi => {
            "Access logging to CloudWatch; throttling on the default route; add a JWT authorizer (e.g. the Cognito pool) before exposing private routes."
        }
        ComponentKind::DynamodbTable => "Encryption at rest; point-in-time recovery; deletion protection.",
        ComponentKind::RdsPostgres => {
            "Not publicly accessible; storage encrypted; master password generated and kept in Secrets Manager by RDS; IAM authentication; backups kept; deletion protection; runs in the default VPC's subnets unless a subnet group is added."
        }
        ComponentKind::SqsQueue => "Server-side encryption; dead-letter queue so poison messages do not loop.",
        ComponentKind::SnsTopic => "Encrypted with KMS; restrict subscriptions with a topic policy before adding cross-account subscribers.",
        ComponentKind::CognitoUserPool => {
            "Strong password policy; MFA (TOTP) available; user existence errors hidden; deletion protection; client without a secret for browser apps."
        }
        ComponentKind::StaticSite => {
            "Bucket stays private (CloudFront origin access control); HTTPS enforced; the default CloudFront certificate allows older TLS versions — add a custom domain with an ACM certificate to enforce TLS 1.2."
        }
        ComponentKind::Schedule => "The rule may invoke only its Lambda function (lambda permission scoped to the rule ARN).",
        ComponentKind::KmsKey => "Automatic yearly rotation; 30-day deletion window.",
        ComponentKind::Secret => "The value is set outside Terraform (console, CLI or a rotation function), so it is never in code or state.",
    }
}

fn questions(spec: &DesignSpec) -> Vec<String> {
    let mut q = vec!["Expected load (requests per month, data volume)? The cost estimate uses default usage assumptions.".to_string()];
    for c in &spec.components {
        let text = match c.kind {
            ComponentKind::RdsPostgres => "Which VPC and subnets should the database use (default VPC otherwise)? Is Multi-AZ needed in prod?",
            ComponentKind::HttpApi => "Which routes need authentication, and by what (Cognito JWT, IAM)?",
            ComponentKind::StaticSite => "Is there a custom domain (needs an ACM certificate in us-east-1)?",
            ComponentKind::S3Bucket => "How long must files be kept, and should old versions expire sooner than 90 days?",
            ComponentKind::CognitoUserPool => "Which sign-in providers besides email (Google, SAML)? Callback URLs of the app?",
            ComponentKind::LambdaFunction => "Runtime and memory: Python 3.12 with 256 MB assumed.",
            ComponentKind::Schedule => "Is the schedule right (UTC)?",
            _ => continue,
        };
        if !q.iter().any(|x| x == text) {
            q.push(text.to_string());
        }
    }
    q
}

/// Renders the design document. Pure.
pub fn render(
    spec: &DesignSpec,
    reasons: &[(String, &str, &str)],
    existing: &Existing,
    reused: &[String],
    renamed: &[String],
    cost: Option<&str>,
) -> Result<String, Error> {
    let mut doc = String::new();
    doc.push_str(&format!("# Design: {}\n\n", spec.feature));
    doc.push_str("Written by `faber-cloud architect`. Edit the design block at the end to change what `engineer` generates; the rest of this document is for people.\n\n");
    doc.push_str("## Requirements as understood\n\n");
    doc.push_str(&format!("- The request: \"{}\".\n", spec.feature));
    for (_, requirement, _) in reasons {
        let line = format!("- {requirement}\n");
        if !doc.contains(&line) {
            doc.push_str(&line);
        }
    }
    doc.push_str("\n## Existing infrastructure reviewed\n\n");
    if existing.reviewed.is_empty() {
        doc.push_str("- Nothing yet: no Terraform directory, registry or earlier design.\n");
    }
    for r in &existing.reviewed {
        doc.push_str(&format!("- {r}\n"));
    }
    for r in reused.iter().chain(renamed) {
        doc.push_str(&format!("- {r}\n"));
    }
    doc.push_str("\n## Components\n\n| name | type | why |\n|---|---|---|\n");
    for c in &spec.components {
        let why = reasons.iter().find(|(n, _, _)| *n == c.name).map(|(_, _, w)| *w).unwrap_or("");
        let why = match &c.existing {
            Some(address) => format!("Reuses {address}. {why}"),
            None => why.to_string(),
        };
        doc.push_str(&format!("| {} | {} | {} |\n", c.name, c.kind.as_str(), why));
    }
    let connections = catalog::connections(spec);
    if !connections.is_empty() {
        doc.push_str("\n## Connections\n\n| from | to | how | actions |\n|---|---|---|---|\n");
        for c in connections {
            doc.push_str(&format!("| {} | {} | {} | {} |\n", c.from, c.to, c.how, c.actions));
        }
    }
    doc.push_str("\n## Settings\n\n");
    for (i, c) in spec.components.iter().enumerate() {
        doc.push_str(&format!("### {} ({})\n\n", c.name, c.kind.as_str()));
        let settings = catalog::effective_settings(i, c)?;
        if let Value::Object(map) = settings {
            for (k, v) in map {
                doc.push_str(&format!("- `{k}`: {}\n", if v.is_null() { "—".to_string() } else { v.to_string() }));
            }
        }
        doc.push('\n');
    }
    doc.push_str("## Security considerations\n\n");
    let kinds: BTreeSet<ComponentKind> = spec.components.iter().map(|c| c.kind).collect();
    for kind in kinds {
        doc.push_str(&format!("- **{}**: {}\n", kind.as_str(), security_notes(kind)));
    }
    doc.push_str("\n## Monthly cost estimate\n\n");
    doc.push_str(cost.unwrap_or("Not estimated here: run `faber-cloud infra test` after `engineer` for the priced estimate."));
    doc.push_str("\n\n## Open questions\n\n");
    for q in questions(spec) {
        doc.push_str(&format!("- {q}\n"));
    }
    doc.push_str(&format!("\n## Design block\n\n```{BLOCK_TAG}\n"));
    doc.push_str(&serde_json::to_string_pretty(spec).expect("designs serialise"));
    doc.push_str("\n```\n");
    Ok(doc)
}

/// The design's monthly estimate: its Terraform rendered and priced with the
/// default usage assumptions; returns the total and a markdown section.
pub fn estimate(config: &Config, spec: &DesignSpec) -> Option<(f64, String)> {
    use crate::scan::cost::{self, CostStatus, PriceTable, Usage};
    let rendered = super::engineer::render(config, spec).ok()?;
    let module = tf::load_sources(&[("main.tf".to_string(), rendered.files.get("main.tf")?.clone())]).ok()?;
    let e = cost::estimate(&module, PriceTable::embedded(), &Usage::default(), config.region());
    let mut text = format!(
        "**{}**

| resource | monthly | basis |
|---|---|---|
",
        e.summary()
    );
    for r in e.resources.iter().filter(|r| r.status == CostStatus::Priced) {
        let parts: Vec<String> = r.components.iter().map(|c| format!("{} {} {}", c.quantity, c.unit, c.name)).collect();
        text.push_str(&format!(
            "| {} | ${:.2} | {} |
",
            r.address,
            r.monthly,
            parts.join("; ")
        ));
    }
    let unpriced: Vec<String> =
        e.resources.iter().filter(|r| r.status == CostStatus::Unpriced).map(|r| format!("{} ({})", r.address, r.reason.clone().unwrap_or_default())).collect();
    if !unpriced.is_empty() {
        text.push_str(&format!(
            "
Not priced: {}.
",
            unpriced.join(", ")
        ));
    }
    text.push_str(&format!(
        "
Usage is assumed (a small workload; free tiers not applied) and prices are {} as of {}. Override usage with a usage file when testing.",
        e.table_source, e.table_date
    ));
    Some((e.monthly_total, text))
}

/// Designs a feature. On a project that already has a design, the request revises it: the new components are
/// added to it (a component that reuses one the design already has becomes that one) and nothing it had is
/// dropped, so engineer regenerates everything and the plan only adds. Otherwise it writes `designs/{slug}.md`.
pub fn run(ws: &Workspace, config: &Config, feature: &str, cost: impl Fn(&DesignSpec) -> Option<(f64, String)>) -> Result<ArchitectReport, Error> {
    let existing = Existing::review(ws, config);
    let current = super::engineer::list_designs(ws).into_iter().next().and_then(|d| super::engineer::load_design(ws, &d).ok());
    let mut changed = None;
    let (name, spec, reused, renamed, mut reasons) = match current {
        Some((name, old)) => {
            // A change to what the design has ("remove the sessions table", "give the worker 1024 MB"), or new parts.
            let (spec, reused, renamed, reasons) = match change(feature, &old)? {
                Some(spec) => {
                    changed = spec.feature.rsplit_once("; changed: ").map(|(_, what)| what.to_string());
                    (spec, Vec::new(), Vec::new(), Vec::new())
                }
                None => {
                    let Chosen { spec, reused, renamed, reasons } = choose(feature, &existing)?;
                    (revise(&old, spec), reused, renamed, reasons)
                }
            };
            (name.trim_end_matches(".md").to_string(), spec, reused, renamed, reasons)
        }
        None => {
            let Chosen { spec, reused, renamed, reasons } = choose(feature, &existing)?;
            let base = slug(feature);
            let mut name = base.clone();
            let mut n = 2;
            while ws.path(&format!("designs/{name}.md"))?.exists() {
                name = format!("{base}-{n}");
                n += 1;
            }
            (name, spec, reused, renamed, reasons)
        }
    };
    // Components kept from the design say why they are there too.
    for c in &spec.components {
        if !reasons.iter().any(|(n, _, _)| *n == c.name)
            && let Some(rule) = RULES.iter().find(|r| r.kind == c.kind)
        {
            reasons.push((c.name.clone(), rule.requirement, rule.why));
        }
    }
    let estimate = cost(&spec);
    let doc = render(&spec, &reasons, &existing, &reused, &renamed, estimate.as_ref().map(|(_, text)| text.as_str()))?;
    // Round-trip: what engineer will read must be what was written.
    DesignSpec::from_markdown(&doc)?;
    let path = ws.path(&format!("designs/{name}.md"))?;
    ws.write_atomic(&path, doc.as_bytes())?;
    Ok(ArchitectReport {
        design: format!("{name}.md"),
        path,
        components: spec.components.iter().map(|c| ComponentSummary { name: c.name.clone(), kind: c.kind, existing: c.existing.clone() }).collect(),
        reused,
        renamed,
        open_questions: questions(&spec),
        monthly_cost: estimate.map(|(total, _)| total),
        changed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(feature: &str) -> Vec<(&'static str, String)> {
        let spec = choose(feature, &Existing::default()).unwrap().spec;
        spec.components.iter().map(|c| (c.kind.as_str(), c.name.clone())).collect()
    }

    #[test]
    fn keywords_choose_components() {
        assert_eq!(kinds("an S3 bucket for user uploads"), [("s3_bucket", "uploads".to_string())]);
        assert_eq!(kinds("API service"), [("lambda_function", "api-handler".into()), ("http_api", "api".into())]);
        assert_eq!(kinds("user authentication"), [("cognito_user_pool", "users".into())]);
        assert_eq!(kinds("a nightly scheduled job"), [("lambda_function", "job".into()), ("schedule", "schedule".into())]);
        assert_eq!(kinds("static website"), [("static_site", "web".into())]);
        assert_eq!(kinds("a DynamoDB table for sessions"), [("dynamodb_table", "sessions".into())]);
        assert_eq!(kinds("a PostgreSQL database"), [("rds_postgres", "db".into())]);
        let all = kinds("API service with user uploads, user authentication, a postgres database, a queue and notifications, encrypted with KMS");
        let names: Vec<&str> = all.iter().map(|(k, _)| *k).collect();
        assert_eq!(names, ["kms_key", "s3_bucket", "lambda_function", "http_api", "cognito_user_pool", "rds_postgres", "sqs_queue", "sns_topic"]);
        let spec = choose("uploads encrypted with a customer managed key", &Existing::default()).unwrap().spec;
        assert_eq!(spec.component("uploads").unwrap().settings.get("kms_key"), Some(&json!("data-key")));
        assert!(choose("make it nice", &Existing::default()).is_err());
    }

    #[test]
    fn existing_names_are_avoided_and_resources_reused() {
        let mut existing = Existing::default();
        existing.taken.insert("uploads".into());
        let chosen = choose("user uploads", &existing).unwrap();
        assert_eq!(chosen.spec.components[0].name, "uploads-2");
        assert_eq!(chosen.renamed.len(), 1);
        existing.by_type.insert("aws_cognito_user_pool".into(), vec!["aws_cognito_user_pool.main".into()]);
        let chosen = choose("login for users", &existing).unwrap();
        assert_eq!(chosen.spec.components[0].existing.as_deref(), Some("aws_cognito_user_pool.main"));
        assert_eq!(chosen.reused.len(), 1);
    }

    fn wired(feature: &str) -> Vec<String> {
        let spec = choose(feature, &Existing::default()).unwrap().spec;
        let mut out: Vec<String> = spec.components.iter().map(|c| format!("{} {}", c.kind.as_str(), c.name)).collect();
        out.extend(catalog::connections(&spec).into_iter().map(|c| format!("{} -> {}: {}", c.from, c.to, c.actions)));
        out
    }

    #[test]
    fn requests_describe_connections() {
        assert_eq!(
            wired("a Lambda that processes each upload and records it in a DynamoDB table"),
            [
                "s3_bucket uploads",
                "dynamodb_table items",
                "lambda_function worker",
                "uploads -> worker: s3:GetObject",
                "worker -> items: dynamodb:PutItem, dynamodb:UpdateItem, dynamodb:DeleteItem, dynamodb:BatchWriteItem",
            ]
        );
        assert_eq!(
            wired("an API that stores orders in DynamoDB and hands them to a worker through a queue"),
            [
                "lambda_function api-handler",
                "http_api api",
                "dynamodb_table orders",
                "sqs_queue jobs",
                "lambda_function worker",
                "api-handler -> jobs: sqs:SendMessage",
                "api-handler -> orders: dynamodb:PutItem, dynamodb:UpdateItem, dynamodb:DeleteItem, dynamodb:BatchWriteItem",
                "jobs -> worker: sqs:ReceiveMessage, sqs:DeleteMessage, sqs:GetQueueAttributes, sqs:ChangeMessageVisibility",
            ]
        );
        assert_eq!(wired("a DynamoDB table for sessions")[0], "dynamodb_table sessions");
        assert_eq!(wired("a sessions table in DynamoDB")[0], "dynamodb_table sessions");
    }

    #[test]
    fn a_revision_keeps_everything_and_reuses_what_the_design_generates() {
        let old = choose("an S3 bucket for user uploads", &Existing::default()).unwrap().spec;
        let mut existing = Existing::default();
        existing.taken.insert("uploads".into());
        existing.by_type.insert("aws_s3_bucket".into(), vec!["aws_s3_bucket.uploads".into()]);
        let new = choose("a Lambda that processes each upload and records it in a DynamoDB table", &existing).unwrap().spec;
        assert_eq!(new.component("uploads").unwrap().existing.as_deref(), Some("aws_s3_bucket.uploads"));
        let revised = revise(&old, new);
        let names: Vec<(&str, bool)> = revised.components.iter().map(|c| (c.name.as_str(), c.existing.is_some())).collect();
        assert_eq!(names, [("uploads", false), ("items", false), ("worker", false)]);
        assert_eq!(revised.component("worker").unwrap().settings["triggered_by"], json!(["uploads"]));
    }

    #[test]
    fn change_requests_revise_what_the_design_has() {
        let old = choose("an API that stores orders in DynamoDB and hands them to a worker through a queue", &Existing::default()).unwrap().spec;
        let names = |s: &DesignSpec| s.components.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
        // A protected table loses its protection first (AWS refuses to delete it otherwise), then goes.
        let unprotected = change("remove the orders table", &old).unwrap().unwrap();
        assert_eq!(unprotected.component("orders").unwrap().settings["deletion_protection"], json!(false));
        assert!(unprotected.feature.contains("the first of two steps"), "{}", unprotected.feature);
        let removed = change("remove the orders table", &unprotected).unwrap().unwrap();
        assert_eq!(names(&removed), ["api-handler", "api", "jobs", "worker"]);
        assert_eq!(removed.component("api-handler").unwrap().settings["writes"], json!(["jobs"]), "its uses go with it");
        assert!(removed.feature.ends_with("; changed: removed orders (dynamodb_table)"), "{}", removed.feature);
        let bigger = change("give the worker lambda 1024 MB", &old).unwrap().unwrap();
        assert_eq!(bigger.component("worker").unwrap().settings["memory_mb"], json!(1024));
        assert_eq!(change("the api handler needs 2 GB", &old).unwrap().unwrap().component("api-handler").unwrap().settings["memory_mb"], json!(2048));
        assert_eq!(change("bump the worker to 512mb", &old).unwrap().unwrap().component("worker").unwrap().settings["memory_mb"], json!(512));
        assert!(change("remove the wörker table é", &old).is_ok(), "multibyte words never split");
        let err = change("remove the api-handler function", &old).unwrap_err().to_string();
        assert!(err.contains("api-handler cannot be removed while api uses it"), "{err}");
        assert!(change("add a notifications topic", &old).unwrap().is_none(), "something new is not a change");
        let site = choose("user uploads", &Existing::default()).unwrap().spec;
        let queue = DesignSpec::parse(
            &json!({"version": 1, "feature": "jobs", "components": [
            {"type": "sqs_queue", "name": "orders"}, {"type": "lambda_function", "name": "worker", "settings": {"triggered_by": ["orders"]}}]})
            .to_string(),
        )
        .unwrap();
        let same = change("add a dead-letter queue to the orders queue", &queue).unwrap().unwrap();
        assert_eq!(same.components, queue.components, "every generated queue has one already");
        assert!(same.feature.contains("orders already has a dead-letter queue"), "{}", same.feature);
        let dlq = change("add a DLQ to the orders queue after 3 tries", &queue).unwrap().unwrap();
        assert_eq!(dlq.component("orders").unwrap().settings["max_receive_count"], json!(3));
        assert!(change("add a dead letter queue for the queue after 0 attempts", &queue).is_err());
        let off = change("turn off versioning on the uploads bucket", &site).unwrap().unwrap();
        assert_eq!(off.component("uploads").unwrap().settings["versioning"], json!(false));
    }

    #[test]
    fn slugs_are_safe() {
        assert_eq!(slug("user authentication"), "user-authentication");
        assert_eq!(slug("../../etc/passwd"), "etcpasswd");
        assert_eq!(slug("an S3 bucket for user uploads"), "s3-bucket-user-uploads");
        assert_eq!(slug("!!!"), "design");
        assert!(slug(&"word ".repeat(40)).len() <= 60);
    }

    #[test]
    fn the_document_round_trips() {
        let existing = Existing::default();
        let Chosen { spec, reused, renamed, reasons } = choose("API service with user uploads", &existing).unwrap();
        let doc = render(&spec, &reasons, &existing, &reused, &renamed, None).unwrap();
        for heading in [
            "## Requirements as understood",
            "## Components",
            "## Settings",
            "## Security considerations",
            "## Monthly cost estimate",
            "## Open questions",
            "```json faber-design",
        ] {
            assert!(doc.contains(heading), "{heading}");
        }
        assert_eq!(DesignSpec::from_markdown(&doc).unwrap(), spec);
    }
}
