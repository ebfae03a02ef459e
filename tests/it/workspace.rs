//! Workspace writes under stress, across real processes: a writer killed with
//! SIGKILL mid-write never leaves a half-written file, concurrent writers do
//! not interleave, and concurrent audit appends stay whole lines.
//!
//! The child processes are this test binary itself, re-run with an environment
//! variable that turns the `child_*` functions into workers.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use faber_cloud::workspace::{AuditEntry, Outcome, Workspace};
use serde_json::{Value, json};

const ROLE: &str = "FABER_TEST_CHILD_ROLE";
const TARGET: &str = "FABER_TEST_CHILD_DIR";
const FILLER: usize = 4 * 1024 * 1024;

/// A payload large enough that writing it takes many syscalls.
fn payload(tag: &str, n: usize) -> Value {
    sized_payload(tag, n, FILLER)
}

fn sized_payload(tag: &str, n: usize, size: usize) -> Value {
    json!({"writer": tag, "n": n, "filler": "x".repeat(size)})
}

fn spawn_child(role: &str, dir: &Path, test_name: &str, tag: &str) -> Child {
    // Test names carry this module's path inside the test binary (`workspace::child_…`).
    let module = module_path!().split_once("::").map_or("", |(_, m)| m);
    let test_name = if module.is_empty() { test_name.to_string() } else { format!("{module}::{test_name}") };
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", &test_name, "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .env(TARGET, dir)
        .env("FABER_TEST_TAG", tag)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn child test process")
}

fn target_file(ws: &Workspace) -> PathBuf {
    ws.path("deployments/test/registry.json").unwrap()
}

fn child_dir(role: &str) -> Option<PathBuf> {
    (std::env::var(ROLE).ok()? == role).then(|| PathBuf::from(std::env::var(TARGET).unwrap()))
}

/// Worker: rewrites the file forever (until killed).
#[test]
fn child_endless_writer() {
    let Some(dir) = child_dir("endless") else { return };
    let ws = Workspace::at(dir);
    let tag = std::env::var("FABER_TEST_TAG").unwrap();
    // Serialise once: the loop then spends its time writing, where a kill hurts.
    let body = serde_json::to_vec(&payload(&tag, 1)).unwrap();
    for n in 0.. {
        ws.write_atomic(&target_file(&ws), &body).unwrap();
        if n == 0 {
            std::fs::write(ws.root().join("child-started"), b"1").unwrap();
        }
    }
}

/// Worker: 40 writes of its own payload, then 100 audit appends.
#[test]
fn child_bounded_writer() {
    let Some(dir) = child_dir("bounded") else { return };
    let ws = Workspace::at(dir);
    let tag = std::env::var("FABER_TEST_TAG").unwrap();
    for n in 0..40 {
        ws.write_json(&target_file(&ws), &sized_payload(&tag, n, 256 * 1024)).unwrap();
    }
    for n in 0..100 {
        let mut entry = AuditEntry::new("stress", "test", Outcome::Executed);
        entry.detail = Some(format!("{tag}-{n}-{}", "y".repeat(2000)));
        ws.audit(&entry).unwrap();
    }
}

fn read_whole(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("half-written file ({} bytes): {e}", text.len()))
}

#[test]
fn a_killed_writer_leaves_the_old_or_the_new_file() {
    if std::env::var(ROLE).is_ok() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace::at(dir.path().to_path_buf());
    let path = target_file(&ws);
    ws.write_json(&path, &payload("initial", 0)).unwrap();
    let started = ws.root().join("child-started");
    for round in 0..20u64 {
        let _ = std::fs::remove_file(&started);
        let mut child = spawn_child("endless", dir.path(), "child_endless_writer", "killed");
        let wait = Instant::now();
        while !started.exists() {
            assert!(wait.elapsed() < Duration::from_secs(30), "the writer never started");
            std::thread::sleep(Duration::from_millis(1));
        }
        // Kill at a different moment each round, most of them mid-write.
        std::thread::sleep(Duration::from_micros(300 + round * 731));
        child.kill().unwrap();
        child.wait().unwrap();
        let value = read_whole(&path);
        assert!(matches!(value["writer"].as_str(), Some("initial" | "killed")), "round {round}: {}", value["writer"]);
        assert_eq!(value["filler"].as_str().unwrap().len(), FILLER, "round {round}");
    }
    // Temp files of killed writers may remain; they are never mistaken for the file.
    let names: Vec<String> = std::fs::read_dir(path.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert!(names.iter().all(|n| n == "registry.json" || n == "child-started" || n.starts_with(".tmp-") || n.ends_with(".lock")), "{names:?}");
}

#[test]
fn concurrent_writers_never_interleave() {
    if std::env::var(ROLE).is_ok() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace::at(dir.path().to_path_buf());
    let path = target_file(&ws);
    ws.write_json(&path, &payload("initial", 0)).unwrap();
    let tags = ["a", "b", "c", "d"];
    let mut children: Vec<Child> = tags.iter().map(|t| spawn_child("bounded", dir.path(), "child_bounded_writer", t)).collect();
    // Read while they write: every read is one writer's whole file.
    let started = Instant::now();
    let mut reads = 0;
    while children.iter_mut().any(|c| c.try_wait().unwrap().is_none()) {
        let value = read_whole(&path);
        assert!(value["writer"].is_string());
        reads += 1;
        assert!(started.elapsed() < Duration::from_secs(120), "writers did not finish");
    }
    for c in &mut children {
        assert!(c.wait().unwrap().success(), "a writer failed");
    }
    assert!(reads > 0);
    let last = read_whole(&path);
    assert_eq!(last["n"], 39, "the last write of some writer wins whole");
    // 4 processes × 100 appends: 400 whole lines.
    let trail = std::fs::read_to_string(ws.root().join("audit-trail.jsonl")).unwrap();
    let lines: Vec<&str> = trail.lines().collect();
    assert_eq!(lines.len(), 400);
    for line in lines {
        let entry: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("interleaved audit line: {e}"));
        assert_eq!(entry["outcome"], "executed");
    }
}
