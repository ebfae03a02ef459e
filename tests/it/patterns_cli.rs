//! `faber-cloud patterns <file>` as a user runs it: templates by count as
//! text, the `--json` shape (one template id per input line), and exit 2 with
//! the path named when the file cannot be read.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const LOG: &str = "disk 1 full\nuser login ok\ndisk 22 full\n\ndisk 3 full\n";

fn patterns(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faber-cloud"))
        .args(args)
        .current_dir(dir)
        .env_remove("CLAUDE_PROJECT_DIR")
        .env_remove("CLAUDE_PLUGIN_ROOT")
        .output()
        .expect("run faber-cloud")
}

fn log_file(dir: &Path) -> String {
    let path = dir.join("app.log");
    std::fs::write(&path, LOG).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn prints_templates_by_count() {
    let dir = tempfile::tempdir().unwrap();
    let file = log_file(dir.path());
    let out = patterns(dir.path(), &["patterns", &file]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "5 messages, 3 templates");
    assert_eq!(lines[1], "3  #0    disk <*> full");
    assert_eq!(lines[2], "1  #1    user login ok");
    assert_eq!(lines.len(), 4, "{stdout}");
}

#[test]
fn json_lists_templates_and_one_id_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = log_file(dir.path());
    for args in [["--json", "patterns", &file], ["patterns", &file, "--json"]] {
        let out = patterns(dir.path(), &args);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        let body: Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
        assert_eq!(body["status"], "ok");
        let lines: Vec<u64> = body["lines"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
        assert_eq!(lines.len(), LOG.lines().count());
        let templates = body["templates"].as_array().unwrap();
        let disk = &templates[0];
        assert_eq!(disk["template"], "disk <*> full");
        assert_eq!((disk["count"].as_u64(), disk["first_line"].as_u64(), disk["last_line"].as_u64()), (Some(3), Some(1), Some(5)));
        assert_eq!(disk["example"], "disk 1 full");
        let id = disk["id"].as_u64().unwrap();
        assert_eq!(lines.iter().filter(|&&l| l == id).count(), 3);
        assert_eq!([lines[0], lines[2], lines[4]], [id; 3]);
        // Every line's id is a listed template, and the counts add up.
        for l in &lines {
            assert!(templates.iter().any(|t| t["id"].as_u64() == Some(*l)), "{l} not listed");
        }
        assert_eq!(templates.iter().map(|t| t["count"].as_u64().unwrap()).sum::<u64>(), lines.len() as u64);
    }
}

#[test]
fn unreadable_file_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.log");
    let missing = missing.to_str().unwrap();
    let out = patterns(dir.path(), &["patterns", missing]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(missing), "{}", String::from_utf8_lossy(&out.stderr));

    let out = patterns(dir.path(), &["--json", "patterns", missing]);
    assert_eq!(out.status.code(), Some(2));
    let body: Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(body["status"], "error");
    assert!(body["error"]["message"].as_str().unwrap().contains(missing));

    // A directory is not a file of messages either.
    let out = patterns(dir.path(), &["patterns", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
}

/// The text output escapes control characters that messages carry (colour
/// codes, bells); the JSON keeps them, escaped as JSON does.
#[test]
fn text_escapes_control_characters() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("colour.log");
    std::fs::write(&path, "\u{1b}[31mERROR\u{1b}[0m disk 1 full\r\n\u{1b}[31mERROR\u{1b}[0m disk 2 full\r\nbell\u{7} rang").unwrap();
    let file = path.to_str().unwrap();
    let out = patterns(dir.path(), &["patterns", file]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(!stdout.chars().any(|c| c.is_control() && c != '\n'), "{stdout:?}");
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        ["3 messages, 2 templates", "2  #0    \\u{1b}[31mERROR\\u{1b}[0m disk <*> full", "1  #1    bell\\u{7} rang"]
    );

    let out = patterns(dir.path(), &["--json", "patterns", file]);
    let body: Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(body["templates"][0]["template"], "\u{1b}[31mERROR\u{1b}[0m disk <*> full");
    assert_eq!(body["lines"], serde_json::json!([0, 0, 1]));
}

/// The text output lists no line ids: mining a file holds its templates, not its lines.
#[test]
fn text_output_reads_a_large_file_as_a_stream() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    let mut text = String::new();
    for i in 0..200_000 {
        text.push_str(&format!("request {i} took {}ms\nworker w{} OOMKilled\n", i % 977, i % 7));
    }
    std::fs::write(&path, text).unwrap();
    let out = patterns(dir.path(), &["patterns", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        ["400000 messages, 2 templates", "200000  #0    request <*> took <*>", "200000  #1    worker <*> OOMKilled"]
    );
}
