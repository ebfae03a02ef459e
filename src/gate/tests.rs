//! The gate against a test-only mutating operation: a counter file that only
//! an `Approval` can bump.

use serde_json::json;

use super::*;

struct Fixture {
    _dir: tempfile::TempDir,
    ws: Workspace,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace::at(dir.path().to_path_buf());
    Fixture { _dir: dir, ws }
}

const TEST: EnvPolicy = EnvPolicy { protected: false, auto_approve: false };
const TEST_AUTO: EnvPolicy = EnvPolicy { protected: false, auto_approve: true };
const PROD: EnvPolicy = EnvPolicy { protected: true, auto_approve: true };

fn request(env: &str, payload: &str) -> GateRequest {
    let action = StoredAction { kind: ActionKind::Selftest, payload: json!({"kind": "bump", "payload": payload}) };
    GateRequest {
        facts: BannerFacts { env: env.into(), operation: "bump".into(), summary: format!("bump the counter with {payload}"), ..Default::default() },
        digest: action.digest(),
        action,
    }
}

/// The mutating operation: it needs an Approval, and re-checks it.
fn bump(ws: &Workspace, env: &str, approval: Approval, now: DateTime<Utc>) -> Result<usize, GateError> {
    let digest = approval.stored().digest();
    approval.check(env, &digest, now)?;
    let path = ws.root().join(format!("counter-{env}"));
    let n = std::fs::read_to_string(&path).map(|s| s.len()).unwrap_or(0) + 1;
    std::fs::create_dir_all(ws.root()).unwrap();
    std::fs::write(&path, "x".repeat(n)).unwrap();
    Ok(n)
}

fn now() -> DateTime<Utc> {
    Utc::now()
}

fn pending(r: Requested) -> PendingOperation {
    match r {
        Requested::Pending(p) => p,
        Requested::Approved(_) => panic!("expected a pending operation"),
    }
}

#[test]
fn auto_approve_on_unprotected_runs_at_once() {
    let f = fixture();
    let gate = Gate::new(&f.ws, Duration::minutes(15));
    match gate.request(TEST_AUTO, false, request("test", "a"), now()).unwrap() {
        Requested::Approved(a) => assert_eq!(bump(&f.ws, "test", a, now()).unwrap(), 1),
        Requested::Pending(_) => panic!("auto_approve on test should approve"),
    }
    match gate.request(TEST, true, request("test", "a"), now()).unwrap() {
        Requested::Approved(a) => assert_eq!(bump(&f.ws, "test", a, now()).unwrap(), 2),
        Requested::Pending(_) => panic!("--auto-approve on test should approve"),
    }
}

#[test]
fn one_yes_on_test_and_no_cancels() {
    let f = fixture();
    let gate = Gate::new(&f.ws, Duration::minutes(15));
    let p = pending(gate.request(TEST, false, request("test", "a"), now()).unwrap());
    assert_eq!((p.steps_required, p.steps_done), (1, 0));
    assert!(f.ws.root().join(format!("pending/{}.json", p.id)).exists());
    match gate.answer(&p.id, "  YES ", now()).unwrap() {
        Answered::Approved(a, _) => assert_eq!(bump(&f.ws, "test", a, now()).unwrap(), 1),
        other => panic!("{other:?}"),
    }
    let p = pending(gate.request(TEST, false, request("test", "b"), now()).unwrap());
    assert!(matches!(gate.answer(&p.id, "no", now()).unwrap(), Answered::Cancelled(_)));
    assert!(matches!(gate.answer(&p.id, "yes", now()), Err(GateError::Cancelled { .. })), "a cancelled id stays cancelled");
}

#[test]
fn production_needs_two_yes_and_ignores_auto_approve() {
    let f = fixture();
    let gate = Gate::new(&f.ws, Duration::minutes(15));
    let p = pending(gate.request(PROD, true, request("prod", "a"), now()).unwrap());
    assert_eq!(p.steps_required, 2);
    assert!(p.banner.contains("WARNING"), "{}", p.banner);
    let second = match gate.answer(&p.id, "yes", now()).unwrap() {
        Answered::NextStep(p) => p,
        other => panic!("{other:?}"),
    };
    assert!(second.banner.contains("FINAL CONFIRMATION: PRODUCTION"), "{}", second.banner);
    let approval = match gate.answer(&p.id, "yes", now()).unwrap() {
        Answered::Approved(a, _) => a,
        other => panic!("{other:?}"),
    };
    assert_eq!(bump(&f.ws, "prod", approval, now()).unwrap(), 1);
    // Single use.
    assert!(matches!(gate.answer(&p.id, "yes", now()), Err(GateError::AlreadyUsed { .. })));
    // A "no" at the second step cancels too.
    let p = pending(gate.request(PROD, false, request("prod", "b"), now()).unwrap());
    assert!(matches!(gate.answer(&p.id, "yes", now()).unwrap(), Answered::NextStep(_)));
    assert!(matches!(gate.answer(&p.id, "yes please", now()).unwrap(), Answered::Cancelled(_)));
}

#[test]
fn expiry_env_and_digest_are_checked() {
    let f = fixture();
    let gate = Gate::new(&f.ws, Duration::minutes(15));
    let p = pending(gate.request(TEST, false, request("test", "a"), now()).unwrap());
    let later = now() + Duration::minutes(16);
    assert!(matches!(gate.answer(&p.id, "yes", later), Err(GateError::Expired { .. })));
    assert!(matches!(gate.answer(&p.id, "yes", now()), Err(GateError::Expired { .. })), "expired stays expired");

    let approve = |env: &str, payload: &str| match gate.request(TEST_AUTO, false, request(env, payload), now()).unwrap() {
        Requested::Approved(a) => a,
        Requested::Pending(_) => unreachable!(),
    };
    // Approved for test, used for prod.
    assert!(matches!(bump(&f.ws, "prod", approve("test", "a"), now()), Err(GateError::EnvMismatch { .. })));
    // What is run differs from what was approved.
    let a = approve("test", "a");
    assert!(matches!(a.check("test", "sha256:other", now()), Err(GateError::DigestMismatch { .. })));
    // An approval past its expiry.
    assert!(matches!(bump(&f.ws, "test", approve("test", "a"), later), Err(GateError::Expired { .. })));
    assert!(!f.ws.root().join("counter-prod").exists());
}

#[test]
fn ids_are_validated_and_unknown_ids_refused() {
    let f = fixture();
    let gate = Gate::new(&f.ws, Duration::minutes(15));
    for bad in ["../../etc/passwd", "", "not-a-uuid", "0C2D6A4E-0000-4000-8000-000000000000"] {
        assert!(matches!(gate.answer(bad, "yes", now()), Err(GateError::InvalidId { .. })), "{bad}");
    }
    let unknown = uuid::Uuid::new_v4().to_string();
    assert!(matches!(gate.answer(&unknown, "yes", now()), Err(GateError::Unknown { .. })));
}

#[test]
fn every_step_is_audited() {
    let f = fixture();
    let gate = Gate::new(&f.ws, Duration::minutes(15));
    let p = pending(gate.request(PROD, false, request("prod", "a"), now()).unwrap());
    gate.answer(&p.id, "yes", now()).unwrap();
    gate.answer(&p.id, "yes", now()).unwrap();
    let _ = gate.answer(&p.id, "yes", now());
    let trail = std::fs::read_to_string(f.ws.root().join("audit-trail.jsonl")).unwrap();
    let outcomes: Vec<String> = trail.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["outcome"].as_str().unwrap().to_string()).collect();
    assert_eq!(outcomes, ["requested", "confirmed", "approved", "refused"]);
    let first: serde_json::Value = serde_json::from_str(trail.lines().next().unwrap()).unwrap();
    for field in ["timestamp", "user", "operation", "env", "operation_id", "digest"] {
        assert!(first.get(field).is_some(), "audit entry lacks {field}: {first}");
    }
}
