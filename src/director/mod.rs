//! The director: a plain request ("deploy to test", "investigate errors in
//! API service") → an [`Intent`] (manager, operation, environment, arguments),
//! or a [`Clarify`] question with numbered choices when the request is
//! ambiguous or mixes several operations.
//!
//! Pure: no I/O. The caller passes the configured environment names; storing a
//! clarification and running the chosen intent happen in `app`.
//!
//! How it decides, in order:
//! 1. words are normalised and split into clauses; a negation ("don't",
//!    "without", "not") removes the verbs in its scope, and a temporal clause
//!    ("before deploying", "after deploying") only gives context;
//! 2. every remaining operation verb proposes one operation; a generic verb
//!    ("show", "check", "analyze") or a bare noun ("logs", "health") proposes
//!    the operation its object names;
//! 3. one distinct operation → routed; several → a clarification listing them;
//!    none → a clarification with the common operations.
//!
//! Word order only matters inside those scopes, never for which keyword
//! "comes first".

mod extract;
mod lexicon;
mod typo;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use crate::vocabulary::{DEFAULT_ENV, EnvSource, Intent, IntentArgs, Target};
use crate::vocabulary::{InfraOperation, OpsOperation, RemediationAction};
use lexicon::{Word, classify_word};

/// One numbered choice of a clarification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Choice {
    pub n: usize,
    pub manager: String,
    pub operation: String,
    pub env: String,
    pub label: String,
    pub intent: Intent,
}

/// A question back to the user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Clarify {
    pub question: String,
    pub choices: Vec<Choice>,
}

/// The director's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Routing {
    Routed(Intent),
    Clarify(Clarify),
    /// The request names an environment that is not configured.
    UnknownEnv {
        named: String,
        configured: Vec<String>,
    },
    /// "Fix the failing service": investigate first, then offer the remediations.
    InvestigateFirst {
        investigate: Intent,
        remedies: Clarify,
    },
    /// Outside what the product does ("write me a poem", "tear down prod"): nothing runs.
    Unsupported {
        reason: String,
    },
}

/// What the product can do, for an `unsupported` reply.
pub const CAPABILITIES: &str = "design infrastructure (architect), generate Terraform (engineer), validate, test, preview and deploy it, \
show deployed resources, debug a failed deployment; check health, query logs, investigate errors, analyze performance, \
remediate (restart, scale, roll back) and audit cost, security or compliance";

/// What the director needs to know about the configuration.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    /// Configured environment names.
    pub envs: &'a [String],
    /// An environment given as its own argument; it wins over the text.
    pub explicit_env: Option<&'a str>,
}

/// Classifies one request.
pub fn route(request: &str, ctx: &Context<'_>) -> Routing {
    let words = lexicon::tokenize(request);
    let scoped = scope(&words);

    if !lexicon::in_scope(&words, ctx.envs) {
        return Routing::Unsupported { reason: format!("This is outside what faber-cloud does. It can {CAPABILITIES}.") };
    }
    let questions = lexicon::question_clauses(&words);
    let teardown = lexicon::asks_teardown(&words, &scoped, &questions);
    let removes_component = (teardown && lexicon::removes_component(&words, &scoped)) || lexicon::sets_memory(&words, &questions);
    if teardown && !removes_component && !lexicon::teardown_of_environment(&words, &scoped, ctx.envs) {
        return Routing::Unsupported {
            reason: format!(
                "faber-cloud tears down whole environments (\"tear down the test environment\") and takes components out of the design \
                 (\"remove the sessions table\"); deleting data or resources it does not manage is not something it does. It can {CAPABILITIES}."
            ),
        };
    }

    let env = match detect_env(&words, &scoped, ctx) {
        Ok(env) => env,
        Err(routing) => return *routing,
    };
    // Taking one component out, or changing a function's memory, is a revision of the design; its deploy shows
    // what changes (and any data loss) and asks.
    if removes_component {
        let target = Target::Infra(InfraOperation::Architect);
        let args = IntentArgs { feature: Some(request.trim().to_string()), ..IntentArgs::default() };
        let (env, source) = match env {
            EnvChoice::One(env, source) => (env, source),
            EnvChoice::Several(mut envs) => (envs.remove(0).1, EnvSource::Detected),
        };
        return Routing::Routed(intent(target, env, source, &args));
    }
    if teardown {
        let target = Target::Infra(InfraOperation::Destroy);
        return match env {
            EnvChoice::One(env, source) => Routing::Routed(intent(target, env, source, &IntentArgs::default())),
            EnvChoice::Several(envs) => Routing::Clarify(Clarify {
                question: "Your request names several environments. Which one should be torn down? (answer with its number)".into(),
                choices: number(envs.into_iter().map(|(_, e)| intent(target, e, EnvSource::Detected, &IntentArgs::default())).collect()),
            }),
        };
    }

    let mut proposals = Proposals::default();
    propose(&words, &scoped, &questions, &mut proposals);
    let env = env.narrow(&words, &proposals.at);
    let mut distinct: Vec<Target> = Vec::new();
    for t in proposals.targets {
        if !distinct.contains(&t) {
            distinct.push(t);
        }
    }

    let args = extract::args(request, &words, &scoped);
    // "Fix the failing service": nothing says how, so look first and offer the ways.
    if proposals.fix_unspecified
        && distinct == [Target::Ops(OpsOperation::Investigate)]
        && let EnvChoice::One(env, source) = &env
    {
        let investigate = intent(distinct[0], env.clone(), *source, &args);
        let remedies = [RemediationAction::Restart, RemediationAction::Rollback, RemediationAction::Scale]
            .into_iter()
            .map(|action| {
                let mut i = intent(Target::Ops(OpsOperation::Remediate), env.clone(), *source, &args);
                i.args.action = Some(action);
                i
            })
            .collect();
        return Routing::InvestigateFirst {
            investigate,
            remedies: Clarify { question: "After reading the investigation, which remediation? (answer with its number)".into(), choices: number(remedies) },
        };
    }
    match (distinct.len(), env) {
        (0, EnvChoice::One(env, source)) => Routing::Clarify(common_choices(&env, source)),
        (0, EnvChoice::Several(envs)) => Routing::Clarify(common_choices(&envs[0].1, EnvSource::Detected)),
        (1, EnvChoice::One(env, source)) => Routing::Routed(intent(distinct[0], env, source, &args)),
        (_, EnvChoice::One(env, source)) => Routing::Clarify(Clarify {
            question: "Your request could mean several operations. Which one? (answer with its number)".into(),
            choices: number(distinct.into_iter().map(|t| intent(t, env.clone(), source, &args)).collect()),
        }),
        (_, EnvChoice::Several(envs)) => Routing::Clarify(Clarify {
            question: format!(
                "Your request names several environments ({}). Which one? (answer with its number)",
                envs.iter().map(|(_, e)| e.as_str()).collect::<Vec<_>>().join(", ")
            ),
            choices: number(distinct.iter().flat_map(|t| envs.iter().map(|(_, e)| intent(*t, e.clone(), EnvSource::Detected, &args))).collect()),
        }),
    }
}

fn intent(target: Target, env: String, env_source: EnvSource, args: &IntentArgs) -> Intent {
    Intent { target, env, env_source, args: extract::args_for(target, args) }
}

fn number(intents: Vec<Intent>) -> Vec<Choice> {
    intents
        .into_iter()
        .enumerate()
        .map(|(i, intent)| Choice {
            n: i + 1,
            manager: intent.target.manager().into(),
            operation: intent.target.operation().into(),
            env: intent.env.clone(),
            label: intent.target.label().into(),
            intent,
        })
        .collect()
}

/// The clarification for a request that names no operation.
fn common_choices(env: &str, source: EnvSource) -> Clarify {
    let targets = [
        Target::Ops(OpsOperation::CheckHealth),
        Target::Infra(InfraOperation::ValidateConfig),
        Target::Infra(InfraOperation::ShowResources),
        Target::Infra(InfraOperation::PreviewChanges),
        Target::Ops(OpsOperation::QueryLogs),
    ];
    Clarify {
        question: "I could not tell which operation you mean. Which one? (answer with its number)".into(),
        choices: number(targets.iter().map(|t| intent(*t, env.to_string(), source, &IntentArgs::default())).collect()),
    }
}

/// How each word takes part in choosing the operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Counts.
    Main,
    /// Inside a negation: removed.
    Negated,
    /// Inside "before …" / "after …": context only.
    Temporal,
}

/// Marks negated and temporal scopes. A scope runs from its opener to the end
/// of the clause (punctuation, "but", "just", "only", "instead", "then").
fn scope(words: &[Word]) -> Vec<Scope> {
    let mut out = vec![Scope::Main; words.len()];
    let mut current = Scope::Main;
    // "skip the tests and deploy": a negated object ends where the next verb begins.
    let mut object_negation = false;
    let mut temporal_from = 0;
    for (i, w) in words.iter().enumerate() {
        if w.is_boundary() {
            current = Scope::Main;
            continue;
        }
        if object_negation
            && w.text == "and"
            && words
                .get(i + 1)
                .is_some_and(|n| matches!(n.text.as_str(), "go" | "then" | "just") || matches!(classify_word(words, i + 1), lexicon::Role::Verb(_)))
        {
            current = Scope::Main;
            object_negation = false;
            continue;
        }
        match w.text.as_str() {
            "not" | "never" | "without" | "dont" | "no" | "skip" | "skipping" | "avoid" | "ratherthan" => {
                object_negation = matches!(w.text.as_str(), "without" | "no" | "skip" | "skipping" | "avoid");
                current = Scope::Negated;
                out[i] = Scope::Negated;
                continue;
            }
            // "restart nothing in production": the verb before it is negated too.
            "nothing" | "none" | "neither" | "nor" => {
                for j in (0..i).rev() {
                    if words[j].is_boundary() {
                        break;
                    }
                    out[j] = Scope::Negated;
                }
                current = Scope::Negated;
                out[i] = Scope::Negated;
                continue;
            }
            "before" | "after" | "prior" | "once" | "until" | "following" => {
                if current == Scope::Main {
                    current = Scope::Temporal;
                    temporal_from = i;
                }
                out[i] = current;
                continue;
            }
            // "after lunch and it died with …", "before anyone approves the PR i want to see …":
            // a time clause ends where a new one begins.
            "and" | "i" | "we" | "you" | "please" if current == Scope::Temporal && i >= temporal_from + 3 => current = Scope::Main,
            _ => {}
        }
        out[i] = current;
    }
    out
}

enum EnvChoice {
    One(String, EnvSource),
    /// Each with the index of the word that names it.
    Several(Vec<(usize, String)>),
}

impl EnvChoice {
    /// Of several environments, those named in the clause of an operation
    /// word ("it works in test; now deploy to prod" → prod), if that narrows.
    fn narrow(self, words: &[Word], at: &[usize]) -> EnvChoice {
        let EnvChoice::Several(named) = self else { return self };
        let clause = |i: usize| lexicon::clause_index(words, i);
        let mut near: Vec<(usize, String)> = named.iter().filter(|(i, _)| at.iter().any(|a| clause(*a) == clause(*i))).cloned().collect();
        match near.len() {
            1 => EnvChoice::One(near.remove(0).1, EnvSource::Detected),
            n if n > 1 && n < named.len() => EnvChoice::Several(near),
            _ => EnvChoice::Several(named),
        }
    }
}

fn detect_env(words: &[Word], scoped: &[Scope], ctx: &Context<'_>) -> Result<EnvChoice, Box<Routing>> {
    if let Some(env) = ctx.explicit_env {
        return Ok(EnvChoice::One(env.to_string(), EnvSource::Explicit));
    }
    // Environments in main scope; failing those, environments a negation does
    // not itself negate ("don't deploy to prod, just preview" keeps prod;
    // "deploy, but not to prod" does not).
    let mut named = envs_named(words, ctx, |i| scoped[i] != Scope::Negated)?;
    if named.is_empty() {
        named = envs_named(words, ctx, |i| scoped[i] == Scope::Negated && !lexicon::env_negated(words, i))?;
    }
    // "promote test to prod", "ship it from staging to production": the environment it moves from is not where
    // the deploy goes.
    let moves = words.iter().any(|w| matches!(w.text.as_str(), "promote" | "promoting" | "deploy" | "ship" | "push" | "move" | "release" | "roll"));
    if moves && named.len() == 2 {
        let into = |i: usize| words.get(i + 1).is_some_and(|w| w.text == "to") && named.iter().any(|(j, _)| *j == i + 2);
        if let Some(pos) = named.iter().position(|(i, _)| into(*i)) {
            named.remove(pos);
        }
    }
    Ok(match named.len() {
        0 => EnvChoice::One(DEFAULT_ENV.to_string(), EnvSource::Default),
        1 => EnvChoice::One(named.remove(0).1, EnvSource::Detected),
        _ => EnvChoice::Several(named),
    })
}

/// The environments named by the words that count, each with where it is named.
fn envs_named(words: &[Word], ctx: &Context<'_>, counts: impl Fn(usize) -> bool) -> Result<Vec<(usize, String)>, Box<Routing>> {
    let mut named: Vec<(usize, String)> = Vec::new();
    for i in (0..words.len()).filter(|&i| counts(i)) {
        let Some(env) = lexicon::env_word(words, i, ctx.envs) else { continue };
        let resolved = match env {
            lexicon::EnvWord::Configured(name) => vec![name],
            lexicon::EnvWord::Alias(canonical, literal) => {
                let found = resolve_alias(canonical, literal, ctx.envs);
                if found.is_empty() {
                    return Err(Box::new(Routing::UnknownEnv { named: literal.to_string(), configured: ctx.envs.to_vec() }));
                }
                found
            }
            lexicon::EnvWord::Unconfigured(literal) => {
                return Err(Box::new(Routing::UnknownEnv { named: literal.to_string(), configured: ctx.envs.to_vec() }));
            }
        };
        for name in resolved {
            if !named.iter().any(|(_, n)| *n == name) {
                named.push((i, name));
            }
        }
    }
    Ok(named)
}

/// "dev" → test, "production" → prod, "stage" → staging, unless the
/// configuration names the word itself: first the word's own short form
/// ("development" → dev), then its family in order, then configured names
/// that extend one ("prod" → prod-eu and prod-us, to choose from).
fn resolve_alias(canonical: &str, literal: &str, envs: &[String]) -> Vec<String> {
    let family: &[&str] = match canonical {
        "test" => &["test", "dev", "development", "testing"],
        "staging" => &["staging", "stage", "stg", "preprod", "pre-prod"],
        _ => &["prod", "production", "live", "prd"],
    };
    let short = match literal {
        "development" | "develop" => "dev",
        "production" => "prod",
        "testing" => "test",
        "stage" | "stg" => "staging",
        other => other,
    };
    if let Some(e) = envs.iter().find(|e| *e == short) {
        return vec![e.clone()];
    }
    if let Some(f) = family.iter().find(|f| envs.iter().any(|e| e == *f)) {
        return vec![f.to_string()];
    }
    envs.iter().filter(|e| family.iter().any(|f| e.strip_prefix(f).is_some_and(|rest| rest.starts_with(['-', '_'])))).cloned().collect()
}

/// What the words propose.
#[derive(Default)]
struct Proposals {
    targets: Vec<Target>,
    /// Where the words that proposed them are.
    at: Vec<usize>,
    /// "fix" with nothing saying how (no restart, scale or rollback).
    fix_unspecified: bool,
}

/// Proposes targets from the words in main scope; nouns only when no verb
/// proposed one. Inside a question ("what happens if I deploy?", "should I
/// roll back?") a mutating operation becomes its read-only counterpart.
fn propose(words: &[Word], scoped: &[Scope], questions: &[bool], out: &mut Proposals) {
    let objects = lexicon::Objects::collect(words, scoped);
    let mut fix = false;
    let mut remedy_named = false;
    let clause_of = |i: usize| lexicon::clause_index(words, i);
    let verb_clauses: Vec<usize> =
        (0..words.len()).filter(|&i| scoped[i] == Scope::Main && matches!(classify_word(words, i), lexicon::Role::Verb(_))).map(clause_of).collect();
    for i in (0..words.len()).filter(|&i| scoped[i] == Scope::Main) {
        let before = out.targets.len();
        match classify_word(words, i) {
            lexicon::Role::Verb(_) if lexicon::narrative_purpose(words, i) => {}
            lexicon::Role::Verb(v) => {
                fix |= v == lexicon::Verb::Fix;
                remedy_named |= matches!(v, lexicon::Verb::Restart | lexicon::Verb::Scale | lexicon::Verb::Rollback);
                lexicon::verb_targets(v, &objects, &mut out.targets);
                if questions[i] {
                    // "would a deploy destroy anything?": what the plan would do.
                    if v == lexicon::Verb::Teardown {
                        out.targets.push(Target::Infra(InfraOperation::PreviewChanges));
                    }
                    // "should we roll back?": how it is doing and why, to decide.
                    let read_only = match v {
                        lexicon::Verb::Scale => [Target::Ops(OpsOperation::AnalyzePerformance), Target::Ops(OpsOperation::CheckHealth)],
                        _ => [Target::Ops(OpsOperation::Investigate), Target::Ops(OpsOperation::CheckHealth)],
                    };
                    let asked: Vec<Target> = out.targets.drain(before..).collect();
                    for t in asked {
                        match t {
                            // "would deploying this open anything up security-wise?", "… add to the bill?": the pre-deployment tests.
                            Target::Infra(InfraOperation::Deploy) if objects.security || objects.cost || objects.compliance => {
                                out.targets.push(Target::Infra(InfraOperation::Test))
                            }
                            Target::Infra(InfraOperation::Deploy) => out.targets.push(Target::Infra(InfraOperation::PreviewChanges)),
                            Target::Ops(OpsOperation::Remediate) => out.targets.extend(read_only),
                            other => out.targets.push(other),
                        }
                    }
                }
            }
            lexicon::Role::Generic(_) if lexicon::INTERROGATIVES.contains(&words[i].text.as_str()) && verb_clauses.contains(&clause_of(i)) => {}
            // "do we need more tasks", "I need you to restart it": a need says what to do only when no verb in its clause does.
            lexicon::Role::Generic(lexicon::Generic::Want) if verb_clauses.contains(&clause_of(i)) => {}
            lexicon::Role::Generic(g) => lexicon::generic_targets(g, &objects, &mut out.targets),
            lexicon::Role::Other => {}
        }
        if out.targets.len() > before {
            out.at.push(i);
        }
    }
    if out.targets.is_empty() {
        lexicon::noun_targets(&objects, &mut out.targets);
    }
    // "don't deploy to prod, only to staging": the negated verb carries over to
    // the clause that names where instead, when that clause asks nothing else
    // ("don't apply anything yet, just the plan for prod" asks for the plan).
    let main_asks = (0..words.len()).any(|i| scoped[i] == Scope::Main && !matches!(classify_word(words, i), lexicon::Role::Other));
    if out.targets.is_empty() && !main_asks && (0..words.len()).any(|i| scoped[i] == Scope::Main && lexicon::is_env_name(&words[i].text)) {
        for i in (0..words.len()).filter(|&i| scoped[i] == Scope::Negated) {
            if let lexicon::Role::Verb(v) = classify_word(words, i) {
                lexicon::verb_targets(v, &objects, &mut out.targets);
            }
        }
    }
    // "fix it": a remediation whose kind nobody named is an investigation first.
    let remediate = Target::Ops(OpsOperation::Remediate);
    if fix && !remedy_named && out.targets.contains(&remediate) {
        out.fix_unspecified = true;
        for t in &mut out.targets {
            if *t == remediate {
                *t = Target::Ops(OpsOperation::Investigate);
            }
        }
    }
}

/// Request → routing → a map of the arguments a manager call would get; used
/// by tests and by the CLI's `--route-only` text output.
pub fn describe(intent: &Intent) -> BTreeMap<&'static str, String> {
    let mut m = BTreeMap::new();
    m.insert("manager", intent.target.manager().to_string());
    m.insert("operation", intent.target.operation().to_string());
    m.insert("env", intent.env.clone());
    let a = &intent.args;
    let mut put = |k: &'static str, v: Option<String>| {
        if let Some(v) = v {
            m.insert(k, v);
        }
    };
    put("service", a.service.clone());
    put("filter", a.filter.clone());
    put("timeframe", a.timeframe.clone());
    put("limit", a.limit.map(|l| l.to_string()));
    put("action", a.action.map(|x| serde_json::to_value(x).unwrap().as_str().unwrap().to_string()));
    put("target", a.target.map(|t| t.to_string()));
    put("focus", a.focus.map(|x| serde_json::to_value(x).unwrap().as_str().unwrap().to_string()));
    put("feature", a.feature.clone());
    put("design", a.design.clone());
    put("error", a.error.clone());
    put("region", a.region.clone());
    if a.skip_tests {
        m.insert("skip_tests", "true".into());
    }
    if a.skip_preview {
        m.insert("skip_preview", "true".into());
    }
    m
}

#[cfg(test)]
mod tests;
