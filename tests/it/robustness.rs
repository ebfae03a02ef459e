//! The server and the files under fire: fuzzed JSON-RPC lines and tool
//! arguments against `serve` (no panic, an answer to the next valid request),
//! and `kill -9` at random moments while operations write (every file still
//! parses, nothing confirmed is lost).

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// One of `items`, chosen by `rng` (seeded: a failure names the seed to replay).
fn pick<'a, T>(rng: &mut fastrand::Rng, items: &'a [T]) -> &'a T {
    &items[rng.usize(..items.len())]
}

fn configured_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_faber-cloud"))
        .args(["--project-dir", dir.path().to_str().unwrap(), "config", "init", "--endpoint-url", "http://127.0.0.1:9"])
        .env_remove("CLAUDE_PROJECT_DIR")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    dir
}

struct Server {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
}

impl Server {
    fn start(project: &Path, state: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_faber-cloud"))
            .args(["serve", "--project-dir", project.to_str().unwrap()])
            .env_remove("CLAUDE_PROJECT_DIR")
            .env("FABER_CLOUD_STATE_DIR", state)
            .env("FABER_CLOUD_SELFTEST", "1")
            .env("AWS_MAX_ATTEMPTS", "1")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
            .env("AWS_CONFIG_FILE", "/nonexistent/config")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Server { child, stdin, lines }
    }

    fn send(&mut self, line: &str) {
        self.stdin.write_all(line.as_bytes()).unwrap();
        self.stdin.write_all(b"\n").unwrap();
        self.stdin.flush().unwrap();
    }

    /// Waits for the reply to `id`; every stdout line must be JSON-RPC. Ids of
    /// the other replies seen on the way are added to `seen`.
    fn reply(&mut self, id: u64, timeout: Duration, seen: &mut std::collections::BTreeSet<u64>) -> Option<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let line = self.lines.recv_timeout(left).ok()?;
            let msg: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("stdout carried a line that is not JSON ({e}): {line}"));
            assert_eq!(msg["jsonrpc"], "2.0", "{line}");
            if let Some(n) = msg["id"].as_u64() {
                seen.insert(n);
            }
            if msg["id"] == json!(id) {
                return Some(msg);
            }
        }
    }
}

/// A random JSON value, nested up to `depth`.
fn value(rng: &mut fastrand::Rng, depth: usize) -> Value {
    let strings = ["", "test", "prod", "../../etc/passwd", "é", "1é", "yes", "\u{0}", "aws_kms_key.k[0", "http://127.0.0.1:5000\"x", "${var.x}", "🙂", "-1"];
    match if depth == 0 { rng.usize(..5) } else { rng.usize(..8) } {
        0 => Value::Null,
        1 => json!(rng.usize(..2) == 0),
        2 => json!(rng.u64(..) as i64 % 100_000 - 50),
        3 => json!(pick(rng, &strings)),
        4 => json!("x".repeat(rng.usize(..5000))),
        5 => Value::Array((0..rng.usize(..4)).map(|_| value(rng, depth - 1)).collect()),
        _ => {
            let keys = ["operation", "env", "request", "service", "timeframe", "limit", "action", "target", "design", "operation_id", "response", "x"];
            Value::Object((0..rng.usize(..5)).map(|_| (pick(rng, &keys).to_string(), value(rng, depth - 1))).collect())
        }
    }
}

fn nested(depth: usize) -> Value {
    (0..depth).fold(json!("deep"), |inner, _| json!({ "a": [inner] }))
}

/// One fuzzed line: a tool call with random arguments, another method, or a
/// malformed line; and its kind (0 a well-formed tool call, 1 a deeply nested
/// one, 2 another method, 3 malformed params, 4 a truncated or invalid line).
fn fuzzed(rng: &mut fastrand::Rng, id: u64) -> (String, usize) {
    let tools = ["director", "infra-manager", "ops-manager", "confirm", "config", "gate-selftest", "nope"];
    let operations = ["architect", "engineer", "validate-config", "show-resources", "debug", "check-health", "query-logs", "investigate", "remediate"];
    match rng.usize(..10) {
        0..=4 => {
            let mut args = match value(rng, 3) {
                Value::Object(m) => m,
                other => [("request".to_string(), other)].into_iter().collect(),
            };
            if rng.usize(..2) == 0 {
                args.insert("operation".into(), json!(pick(rng, &operations)));
            }
            if rng.usize(..3) == 0 {
                args.insert("route_only".into(), json!(true));
            }
            (json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": pick(rng, &tools), "arguments": args}}).to_string(), 0)
        }
        5 => (
            json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": "director", "arguments": {"request": nested(150 + rng.usize(..100))}}})
                .to_string(),
            1,
        ),
        6 => (
            json!({"jsonrpc": "2.0", "id": id, "method": pick(rng, &["tools/list", "ping", "resources/list", "nope/x", "initialize"]), "params": value(rng, 2)})
                .to_string(),
            2,
        ),
        7 => (json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": value(rng, 2)}).to_string(), 3),
        8 => {
            let line = json!({"jsonrpc": "2.0", "id": id, "method": "tools/list"}).to_string();
            (line[..rng.usize(..line.len())].to_string(), 4)
        }
        _ => (pick(rng, &["{", "null", "[]", "[1,2]", "\"x\"", "{\"jsonrpc\":\"1.0\"}", "garbage \u{7f}", "{\"id\":1}"]).to_string(), 4),
    }
}

/// ≥ 5,000 fuzzed lines: the server never dies, and answers a valid request after every 50.
#[test]
fn fuzzed_messages_never_stop_the_server() {
    let messages: u64 = std::env::var("FABER_CLOUD_FUZZ_MESSAGES").ok().and_then(|s| s.parse().ok()).unwrap_or(5_000);
    let project = configured_project();
    let state = tempfile::tempdir().unwrap();
    let mut server = Server::start(project.path(), state.path());
    server.send(&json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "fuzz", "version": "0"}}}).to_string());
    let mut seen = std::collections::BTreeSet::new();
    assert!(server.reply(0, Duration::from_secs(10), &mut seen).is_some(), "no answer to initialize");
    server.send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    let mut rng = fastrand::Rng::with_seed(std::env::var("FABER_CLOUD_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(7));
    let mut probe = 1_000_000u64;
    let mut kinds = std::collections::BTreeMap::new();
    for id in 1..=messages {
        let (line, kind) = fuzzed(&mut rng, id);
        kinds.insert(id, kind);
        server.send(&line);
        if id % 50 == 0 {
            probe += 1;
            server.send(
                &json!({"jsonrpc": "2.0", "id": probe, "method": "tools/call", "params": {"name": "config", "arguments": {"action": "show"}}}).to_string(),
            );
            let answer = server.reply(probe, Duration::from_secs(30), &mut seen);
            assert!(answer.is_some(), "no answer to a valid request after fuzzed message {id}: {}", line.chars().take(300).collect::<String>());
        }
    }
    probe += 1;
    server.send(&json!({"jsonrpc": "2.0", "id": probe, "method": "tools/list"}).to_string());
    assert!(server.reply(probe, Duration::from_secs(30), &mut seen).is_some());
    assert!(server.child.try_wait().unwrap().is_none(), "the server exited");
    // Which requests got no reply, by kind.
    let mut unanswered = [0usize; 5];
    for (id, kind) in &kinds {
        if !seen.contains(id) {
            unanswered[*kind] += 1;
        }
    }
    eprintln!("fuzz: {messages} messages; unanswered by kind (tool call, nested, other method, bad params, malformed line): {unanswered:?}");
    // Every request with an id is answered (a malformed line gets -32700 with id null).
    assert_eq!(unanswered[..4], [0, 0, 0, 0], "requests with an id went unanswered");
    drop(server.stdin);
    let status = server.child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}

/// `kill -9` at random moments (≥ 200) while the CLI writes: pending operations, answers,
/// audit lines, clarifications, the selftest log. Afterwards every JSON file parses, every
/// audit line parses, and every operation whose answer was acknowledged ran exactly once.
#[test]
fn kill_9_at_random_moments_leaves_every_file_readable() {
    let kills: usize = std::env::var("FABER_CLOUD_KILLS").ok().and_then(|s| s.parse().ok()).unwrap_or(200);
    let project = configured_project();
    let state = tempfile::tempdir().unwrap();
    let p = project.path().to_str().unwrap().to_string();
    let run = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_faber-cloud"));
        command
            .args(["--project-dir", p.as_str(), "--json"])
            .args(args)
            .env_remove("CLAUDE_PROJECT_DIR")
            .env("FABER_CLOUD_STATE_DIR", state.path())
            .env("FABER_CLOUD_SELFTEST", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        command
    };
    let mut rng = fastrand::Rng::with_seed(11);
    let mut acknowledged: Vec<String> = Vec::new();
    let mut killed = 0;
    let mut n = 0;
    while killed < kills {
        n += 1;
        // Ask, then answer; kill either at a random moment (0–60 ms: a run takes about 30).
        let payload = format!("p{n}");
        let asked = run(&["gate-selftest", "--env", "test", "--payload", &payload]).output().unwrap();
        let Ok(body) = serde_json::from_slice::<Value>(&asked.stdout) else { continue };
        let Some(id) = body["operation_id"].as_str().map(str::to_string) else { continue };
        let mut child = match rng.usize(..3) {
            0 => run(&["director", "check my infrastructure"]).spawn().unwrap(),
            _ => run(&["confirm", &id, "yes"]).spawn().unwrap(),
        };
        std::thread::sleep(Duration::from_micros(rng.usize(..60_000) as u64));
        match child.try_wait().unwrap() {
            Some(_) => {
                let out = child.wait_with_output().unwrap();
                if serde_json::from_slice::<Value>(&out.stdout).is_ok_and(|v| v["executed"] == true) {
                    acknowledged.push(payload);
                }
            }
            None => {
                child.kill().unwrap();
                child.wait().unwrap();
                killed += 1;
            }
        }
    }
    let root = project.path().join(".fractary/plugins/faber-cloud");
    let mut files = 0;
    for entry in walk(&root) {
        let name = entry.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(".json") {
            files += 1;
            let text = std::fs::read_to_string(&entry).unwrap();
            serde_json::from_str::<Value>(&text).unwrap_or_else(|e| panic!("{} does not parse after kill -9 ({e}): {text}", entry.display()));
        } else if name.ends_with(".jsonl") {
            for line in std::fs::read_to_string(&entry).unwrap().lines() {
                serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("{}: a line does not parse after kill -9 ({e}): {line}", entry.display()));
            }
        }
    }
    for entry in walk(state.path()) {
        if entry.extension().is_some_and(|x| x == "json") {
            serde_json::from_str::<Value>(&std::fs::read_to_string(&entry).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", entry.display()));
        }
    }
    // Nothing acknowledged is lost, and nothing ran twice.
    let log = std::fs::read_to_string(root.join("selftest/test.log")).unwrap_or_default();
    let ran: Vec<&str> = log.lines().collect();
    for payload in &acknowledged {
        assert_eq!(ran.iter().filter(|l| **l == payload).count(), 1, "{payload} was acknowledged as executed: it must be in the log once");
    }
    let mut unique = ran.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), ran.len(), "an operation ran twice");
    eprintln!("kill -9: {killed} kills in {n} rounds; {files} JSON files parse; {} acknowledged, {} ran", acknowledged.len(), ran.len());
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = e.path();
            if path.is_dir() { stack.push(path) } else { out.push(path) }
        }
    }
    out
}

/// An endpoint that accepts connections and never answers is noticed after a few missed checks.
#[test]
fn a_backend_that_stops_answering_is_noticed() {
    use faber_cloud::cloud::Cloud;
    use faber_cloud::cloud::auth::{Credentials, Target};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in listener.incoming() {
            held.push(c);
        }
    });
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let target = Target {
            role: "test".into(),
            region: "us-east-1".into(),
            endpoint_url: Some(format!("http://127.0.0.1:{port}")),
            credentials: Credentials::LocalTest,
        };
        let cloud = Cloud::for_target(target).await;
        let started = Instant::now();
        let err = cloud.stopped_answering(Duration::from_millis(100), Duration::from_millis(300), 3).await;
        assert!(err.to_string().contains(&format!("the AWS endpoint http://127.0.0.1:{port} stopped answering")), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    });
}
