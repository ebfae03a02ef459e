//! The invariant of DESIGN.md §3 over random sequences: requests on protected
//! and unprotected environments, answers with right, wrong, reused, expired,
//! forged and foreign ids, responses that are and are not "yes", and edits of
//! the pending files between steps. An action runs only when every step of it
//! was answered "yes", in order, each through its own id, before its expiry,
//! with nothing on disk changed; it runs exactly what was requested, at most
//! once. `FABER_CLOUD_GATE_SEQUENCES` sets how many (default 2,000;
//! `scripts/bench-gate` runs 10,000).

use super::*;

/// One of `items`, chosen by `rng` (seeded: a failure names the seed to replay).
fn pick<'a, T>(rng: &mut fastrand::Rng, items: &'a [T]) -> &'a T {
    &items[rng.usize(..items.len())]
}

/// Answers, and whether a human meant "yes" by them.
const RESPONSES: [(&str, bool); 12] = [
    ("yes", true),
    (" YES ", true),
    ("Yes\n", true),
    ("y", false),
    ("yes please", false),
    ("no", false),
    ("", false),
    ("yes\u{a0}", false),
    ("\u{3000}yes", false),
    ("\u{ff59}\u{ff45}\u{ff53}", false),
    ("y\u{435}s", false),
    ("yes.", false),
];

struct Op {
    env: &'static str,
    payload: String,
    required: u8,
    /// The id of every step issued, in order; the last is the one to answer.
    steps: Vec<String>,
    yes: u8,
    /// Approved and executed, cancelled, expired, or changed on disk.
    closed: bool,
    tampered: bool,
    executed: bool,
    /// A copy of a step's file, to put back later.
    copy: Option<(String, Vec<u8>)>,
}

fn policy(env: &str) -> EnvPolicy {
    match env {
        "prod" => PROD,
        "auto" => TEST_AUTO,
        _ => TEST,
    }
}

#[test]
fn the_gate_invariant_holds_for_random_sequences() {
    let sequences: usize = std::env::var("FABER_CLOUD_GATE_SEQUENCES").ok().and_then(|s| s.parse().ok()).unwrap_or(2_000);
    let seed: u64 = std::env::var("FABER_CLOUD_GATE_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed);
    let mut stats = [0usize; 4]; // approvals, next steps, cancels, refusals
    for n in 0..sequences {
        let mut rng = fastrand::Rng::with_seed(seed.wrapping_add(n as u64));
        let mut trace = Vec::new();
        if let Err(e) = run_sequence(&mut rng, &mut stats, &mut trace) {
            panic!("sequence {n} (FABER_CLOUD_GATE_SEED={} FABER_CLOUD_GATE_SEQUENCES=1): {e}\n{}", seed.wrapping_add(n as u64), trace.join("\n"));
        }
    }
    eprintln!("gate property: {sequences} sequences; approvals {}, next steps {}, cancels {}, refusals {}", stats[0], stats[1], stats[2], stats[3]);
    // The sequences reach every outcome (a generator that only ever refuses would prove nothing).
    assert!(stats.iter().all(|&k| k > sequences / 20), "{stats:?}");
}

fn run_sequence(rng: &mut fastrand::Rng, stats: &mut [usize; 4], trace: &mut Vec<String>) -> Result<(), String> {
    let f = fixture();
    let t0 = Utc::now();
    let later = t0 + Duration::minutes(16);
    let mut ops: Vec<Op> = Vec::new();
    let mut executed: Vec<String> = Vec::new();
    let file = |id: &str| f.ws.root().join(format!("pending/{id}.json"));
    for _ in 0..(3 + rng.usize(..12)) {
        match rng.usize(..10) {
            0..=2 => {
                let env = *pick(rng, &["test", "prod", "auto"]);
                let payload = format!("p{}", rng.u64(..) % 1000);
                trace.push(format!("request op {} on {env}", ops.len()));
                let asked_auto = rng.usize(..4) == 0;
                match f.gate().request(policy(env), asked_auto, request(env, &payload), t0).map_err(|e| e.to_string())? {
                    Requested::Approved(a) => {
                        if !(env == "auto" || (env == "test" && asked_auto)) {
                            return Err(format!("a request on {env} (auto-approve asked: {asked_auto}) was approved without an answer"));
                        }
                        executed.push(run(&f, env, a, t0)?);
                        ops.push(Op { env, payload, required: 0, steps: vec![], yes: 0, closed: true, tampered: false, executed: true, copy: None });
                    }
                    Requested::Pending(p) => {
                        if env == "auto" || (env == "test" && asked_auto) {
                            return Err(format!("a request on {env} (auto-approve asked: {asked_auto}) was not approved at once"));
                        }
                        let required = if env == "prod" { 2 } else { 1 };
                        if p.steps_required != required {
                            return Err(format!("{env} asks for {} step(s), not {required}", p.steps_required));
                        }
                        ops.push(Op { env, payload, required, steps: vec![p.id], yes: 0, closed: false, tampered: false, executed: false, copy: None });
                    }
                }
            }
            3..=7 if !ops.is_empty() => {
                let k = rng.usize(..ops.len());
                // Half the answers are a yes in one of its accepted forms.
                let (response, meant_yes) = if rng.usize(..2) == 0 { RESPONSES[rng.usize(..3)] } else { *pick(rng, &RESPONSES) };
                let expired = rng.usize(..8) == 0;
                let at = if expired { later } else { t0 };
                // Which id: the current step's (mostly), an earlier step's, a foreign or forged one.
                let which = rng.usize(..10);
                let op = &ops[k];
                let (id, right_id) = match (which, op.steps.last()) {
                    (0, _) => (uuid::Uuid::new_v4().to_string(), false),
                    (1, _) if op.steps.len() > 1 => (op.steps[0].clone(), false),
                    (2, Some(last)) => {
                        // A forged step: a copy of this step's file under a new id.
                        let forged = uuid::Uuid::new_v4().to_string();
                        if let Ok(bytes) = std::fs::read(file(last)) {
                            let mut v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
                            v["id"] = json!(forged);
                            std::fs::write(file(&forged), serde_json::to_vec(&v).unwrap()).unwrap();
                        }
                        (forged, false)
                    }
                    (_, Some(last)) => (last.clone(), true),
                    (_, None) => (uuid::Uuid::new_v4().to_string(), false),
                };
                let valid = right_id && !op.closed && !op.tampered && !expired;
                let env = op.env;
                trace.push(format!("answer op {k} ({env}) {response:?} right {right_id} which {which} expired {expired} valid {valid}"));
                let policy = policy(env);
                match f.answer(&id, response, at, policy) {
                    Ok(Answered::Approved(a, _)) => {
                        stats[0] += 1;
                        let op = &mut ops[k];
                        if !(valid && meant_yes && op.yes + 1 == op.required) {
                            return Err(format!(
                                "approved: {env} {response:?} right id {right_id} closed {} tampered {} expired {expired} yes {}/{}",
                                op.closed, op.tampered, op.yes, op.required
                            ));
                        }
                        let ran = run(&f, env, a, t0)?;
                        if ran != format!("{env}:{}", op.payload) {
                            return Err(format!("ran {ran}, but {env}:{} was requested", op.payload));
                        }
                        if op.executed {
                            return Err("an operation ran twice".into());
                        }
                        op.executed = true;
                        op.closed = true;
                        executed.push(ran);
                    }
                    Ok(Answered::NextStep(next)) => {
                        stats[1] += 1;
                        let op = &mut ops[k];
                        if !(valid && meant_yes && op.yes + 1 < op.required) {
                            return Err(format!("a next step after {response:?} on {env} (valid {valid}, yes {}/{})", op.yes, op.required));
                        }
                        if !next.banner.contains("FINAL CONFIRMATION") || op.steps.contains(&next.id) {
                            return Err(format!("the next step has no final banner or reuses an id: {}", next.banner));
                        }
                        op.yes += 1;
                        op.steps.push(next.id);
                    }
                    Ok(Answered::Cancelled(_)) => {
                        stats[2] += 1;
                        if !valid || meant_yes {
                            return Err(format!("cancelled by {response:?} (valid {valid})"));
                        }
                        ops[k].closed = true;
                    }
                    Err(_) => {
                        stats[3] += 1;
                        if valid {
                            return Err(format!("a valid answer {response:?} on {env} was refused"));
                        }
                        if right_id && expired {
                            ops[k].closed = true;
                        }
                    }
                }
            }
            8 if !ops.is_empty() => {
                // Edit the file of an open step, or put an old copy back.
                let k = rng.usize(..ops.len());
                let Some(last) = ops[k].steps.last().cloned() else { continue };
                let Ok(bytes) = std::fs::read(file(&last)) else {
                    if let Some((id, copy)) = ops[k].copy.take() {
                        trace.push(format!("put back a copy of op {k}"));
                        std::fs::write(file(&id), copy).unwrap();
                    }
                    continue;
                };
                let mut v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
                match rng.usize(..4) {
                    0 => {
                        let evil = StoredAction { kind: ActionKind::Selftest, payload: json!({"kind": "bump", "payload": "evil"}) };
                        v["action"] = serde_json::to_value(&evil).unwrap();
                        v["digest"] = json!(evil.digest());
                    }
                    // Downwards only, so that two edits never restore the original.
                    1 => v["steps_required"] = json!(v["steps_required"].as_u64().unwrap_or(1).saturating_sub(1)),
                    2 => v["state"] = json!("approved"),
                    _ => v["expires_at"] = json!((later + Duration::hours(1)).to_rfc3339()),
                }
                std::fs::write(file(&last), serde_json::to_vec(&v).unwrap()).unwrap();
                trace.push(format!("edit op {k}"));
                ops[k].tampered = true;
            }
            _ if !ops.is_empty() => {
                // Keep a copy of an open step's file (put back by a later edit).
                let k = rng.usize(..ops.len());
                if let Some(last) = ops[k].steps.last().cloned()
                    && let Ok(bytes) = std::fs::read(file(&last))
                {
                    trace.push(format!("copy op {k}"));
                    ops[k].copy = Some((last, bytes));
                }
            }
            _ => {}
        }
    }
    let ran = std::fs::read_to_string(f.ws.root().join("executed")).unwrap_or_default();
    if ran.lines().collect::<Vec<_>>() != executed {
        return Err(format!("executed {ran:?}, expected {executed:?}"));
    }
    Ok(())
}

/// The executor: re-checks the approval and records what it ran.
fn run(f: &Fixture, env: &str, approval: Approval, at: DateTime<Utc>) -> Result<String, String> {
    approval.check(env, &approval.stored().digest(), at).map_err(|e| e.to_string())?;
    let payload = approval.stored().payload["payload"].as_str().unwrap_or_default().to_string();
    let line = format!("{env}:{payload}");
    let path = f.ws.root().join("executed");
    let mut text = std::fs::read_to_string(&path).unwrap_or_default();
    text.push_str(&line);
    text.push('\n');
    std::fs::create_dir_all(f.ws.root()).unwrap();
    std::fs::write(&path, text).unwrap();
    Ok(line)
}
