//! The gate against a test-only mutating operation: a counter file that only
//! an `Approval` can bump.

use serde_json::json;

use super::*;

struct Fixture {
    dir: tempfile::TempDir,
    ws: Workspace,
}

impl Fixture {
    fn gate(&self) -> Gate<'_> {
        Gate::new(&self.ws, Duration::minutes(15), Keeper::at(self.dir.path().join("state")))
    }

    fn answer(&self, id: &str, response: &str, at: DateTime<Utc>, policy: EnvPolicy) -> Result<Answered, GateError> {
        self.gate().answer(id, response, |_| Some(policy), at)
    }
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace::at(dir.path().join("project"));
    Fixture { dir, ws }
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
    let gate = f.gate();
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
    let gate = f.gate();
    let p = pending(gate.request(TEST, false, request("test", "a"), now()).unwrap());
    assert_eq!((p.steps_required, p.steps_done), (1, 0));
    let file = f.ws.root().join(format!("pending/{}.json", p.id));
    assert!(file.exists());
    match f.answer(&p.id, "  YES ", now(), TEST).unwrap() {
        Answered::Approved(a, _) => assert_eq!(bump(&f.ws, "test", a, now()).unwrap(), 1),
        other => panic!("{other:?}"),
    }
    assert!(!file.exists(), "an answered operation is removed");
    let p = pending(gate.request(TEST, false, request("test", "b"), now()).unwrap());
    assert!(matches!(f.answer(&p.id, "no", now(), TEST).unwrap(), Answered::Cancelled(_)));
    assert!(matches!(f.answer(&p.id, "yes", now(), TEST), Err(GateError::Cancelled { .. })), "a cancelled id stays cancelled");
}

#[test]
fn production_needs_two_yes_each_to_its_own_step_and_ignores_auto_approve() {
    let f = fixture();
    let gate = f.gate();
    let p = pending(gate.request(PROD, true, request("prod", "a"), now()).unwrap());
    assert_eq!(p.steps_required, 2);
    assert!(p.banner.contains("WARNING"), "{}", p.banner);
    let second = match f.answer(&p.id, "yes", now(), PROD).unwrap() {
        Answered::NextStep(p) => p,
        other => panic!("{other:?}"),
    };
    assert_ne!(second.id, p.id, "the final banner has its own id");
    assert!(second.banner.contains("FINAL CONFIRMATION: PRODUCTION"), "{}", second.banner);
    // A repeated first answer (a retry, a double click) does not answer the final banner.
    match f.answer(&p.id, "yes", now(), PROD) {
        Err(GateError::StepAnswered { next, .. }) => assert_eq!(next, second.id),
        other => panic!("{other:?}"),
    }
    let approval = match f.answer(&second.id, "yes", now(), PROD).unwrap() {
        Answered::Approved(a, _) => a,
        other => panic!("{other:?}"),
    };
    // Single use; an approval whose action left no outcome in the audit trail says so.
    assert!(matches!(f.answer(&second.id, "yes", now(), PROD), Err(GateError::ApprovedNoOutcome { .. })));
    assert_eq!(bump(&f.ws, "prod", approval, now()).unwrap(), 1);
    let mut executed = AuditEntry::new("bump", "prod", Outcome::Executed);
    executed.operation_id = Some(second.id.clone());
    f.ws.audit(&executed).unwrap();
    assert!(matches!(f.answer(&second.id, "yes", now(), PROD), Err(GateError::AlreadyUsed { .. })));
    // A "no" at the second step cancels too.
    let p = pending(gate.request(PROD, false, request("prod", "b"), now()).unwrap());
    let Answered::NextStep(second) = f.answer(&p.id, "yes", now(), PROD).unwrap() else { panic!() };
    assert!(matches!(f.answer(&second.id, "yes please", now(), PROD).unwrap(), Answered::Cancelled(_)));
    assert_eq!(
        std::fs::read_dir(f.ws.root().join("pending")).unwrap().filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "json")).count(),
        0
    );
}

#[test]
fn the_policy_is_read_again_when_the_answer_arrives() {
    let f = fixture();
    let p = pending(f.gate().request(TEST, false, request("test", "a"), now()).unwrap());
    // The environment became protected between the request and the answer: two steps now.
    let Answered::NextStep(next) = f.answer(&p.id, "yes", now(), PROD).unwrap() else { panic!("one yes must not do on a protected environment") };
    assert!(next.banner.contains("FINAL CONFIRMATION"), "{}", next.banner);
    // An environment that is no longer configured is refused.
    let p = pending(f.gate().request(TEST, false, request("test", "b"), now()).unwrap());
    assert!(matches!(f.gate().answer(&p.id, "yes", |_| None, now()), Err(GateError::EnvGone { .. })));
}

#[test]
fn edits_of_a_pending_file_are_refused() {
    let f = fixture();
    let file = |id: &str| f.ws.root().join(format!("pending/{id}.json"));
    let edit = |id: &str, change: &dyn Fn(&mut serde_json::Value)| {
        let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(file(id)).unwrap()).unwrap();
        change(&mut v);
        std::fs::write(file(id), serde_json::to_vec(&v).unwrap()).unwrap();
    };
    // The payload and its digest changed together.
    let p = pending(f.gate().request(TEST, false, request("test", "a"), now()).unwrap());
    let evil = StoredAction { kind: ActionKind::Selftest, payload: json!({"kind": "bump", "payload": "evil"}) };
    edit(&p.id, &|v| {
        v["action"] = serde_json::to_value(&evil).unwrap();
        v["digest"] = json!(evil.digest());
    });
    assert!(matches!(f.answer(&p.id, "yes", now(), TEST), Err(GateError::Tampered { .. })));
    // steps_required lowered on prod.
    let p = pending(f.gate().request(PROD, false, request("prod", "a"), now()).unwrap());
    edit(&p.id, &|v| v["steps_required"] = json!(1));
    assert!(matches!(f.answer(&p.id, "yes", now(), PROD), Err(GateError::Tampered { .. })));
    // A forged file.
    let forged = uuid::Uuid::new_v4().to_string();
    let p = pending(f.gate().request(TEST, false, request("test", "a"), now()).unwrap());
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(file(&p.id)).unwrap()).unwrap();
    v["id"] = json!(forged);
    std::fs::write(file(&forged), serde_json::to_vec(&v).unwrap()).unwrap();
    assert!(matches!(f.answer(&forged, "yes", now(), TEST), Err(GateError::Tampered { .. })));
    // A copy put back after its answer.
    let p = pending(f.gate().request(TEST, false, request("test", "b"), now()).unwrap());
    let copy = std::fs::read(file(&p.id)).unwrap();
    assert!(matches!(f.answer(&p.id, "yes", now(), TEST).unwrap(), Answered::Approved(..)));
    std::fs::write(file(&p.id), &copy).unwrap();
    assert!(matches!(f.answer(&p.id, "yes", now(), TEST), Err(GateError::ApprovedNoOutcome { .. })), "refused: the ledger knows it");
    // The same file in another project.
    let other = fixture();
    let p = pending(f.gate().request(TEST, false, request("test", "c"), now()).unwrap());
    std::fs::create_dir_all(other.ws.root().join("pending")).unwrap();
    std::fs::copy(file(&p.id), other.ws.root().join(format!("pending/{}.json", p.id))).unwrap();
    let shared = Gate::new(&other.ws, Duration::minutes(15), Keeper::at(f.dir.path().join("state")));
    assert!(matches!(shared.answer(&p.id, "yes", |_| Some(TEST), now()), Err(GateError::Tampered { .. })));
}

#[test]
fn expired_operations_are_swept() {
    let f = fixture();
    let p = pending(f.gate().request(TEST, false, request("test", "a"), now()).unwrap());
    let file = f.ws.root().join(format!("pending/{}.json", p.id));
    assert!(file.exists());
    let _ = f.gate().request(TEST, false, request("test", "b"), now() + Duration::minutes(16)).unwrap();
    assert!(!file.exists(), "an expired pending operation is removed by the next request");
}

#[test]
fn expiry_env_and_digest_are_checked() {
    let f = fixture();
    let gate = f.gate();
    let p = pending(gate.request(TEST, false, request("test", "a"), now()).unwrap());
    let later = now() + Duration::minutes(16);
    assert!(matches!(f.answer(&p.id, "yes", later, TEST), Err(GateError::Expired { .. })));
    assert!(matches!(f.answer(&p.id, "yes", now(), TEST), Err(GateError::Expired { .. })), "expired stays expired");

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
    for bad in ["../../etc/passwd", "", "not-a-uuid", "0C2D6A4E-0000-4000-8000-000000000000"] {
        assert!(matches!(f.answer(bad, "yes", now(), TEST), Err(GateError::InvalidId { .. })), "{bad}");
    }
    let unknown = uuid::Uuid::new_v4().to_string();
    assert!(matches!(f.answer(&unknown, "yes", now(), TEST), Err(GateError::Unknown { .. })));
}

#[test]
fn every_step_is_audited() {
    let f = fixture();
    let gate = f.gate();
    let p = pending(gate.request(PROD, false, request("prod", "a"), now()).unwrap());
    let Answered::NextStep(next) = f.answer(&p.id, "yes", now(), PROD).unwrap() else { panic!() };
    f.answer(&next.id, "yes", now(), PROD).unwrap();
    let _ = f.answer(&next.id, "yes", now(), PROD);
    let trail = std::fs::read_to_string(f.ws.root().join("audit-trail.jsonl")).unwrap();
    let outcomes: Vec<String> = trail.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["outcome"].as_str().unwrap().to_string()).collect();
    assert_eq!(outcomes, ["requested", "confirmed", "approved", "refused"]);
    let first: serde_json::Value = serde_json::from_str(trail.lines().next().unwrap()).unwrap();
    for field in ["timestamp", "user", "operation", "env", "operation_id", "digest"] {
        assert!(first.get(field).is_some(), "audit entry lacks {field}: {first}");
    }
}

mod property;
