//! The one door through which faber-cloud starts child processes (terraform,
//! tofu, checkov, trivy, tfsec). Every failure carries the command line, the
//! exit status and the trimmed stderr.
//!
//! A child is stopped the way Terraform needs to be stopped to keep its state
//! and release its lock: on a timeout or when its future is dropped (the tool
//! call was cancelled, the client went away) it gets SIGINT, and SIGKILL only
//! after [`GRACE`]; [`settle`] waits for such stops before the process exits.
//! If faber-cloud itself dies (even by SIGKILL), the kernel sends the child
//! SIGTERM (Linux `PR_SET_PDEATHSIG`), which Terraform also treats as an
//! interrupt. Children run in their own process group, so a Ctrl-C at the
//! terminal reaches faber-cloud only, and the child gets exactly one interrupt.
//! Their output goes to unnamed temporary files rather than pipes, so that a
//! child left running after we died never dies of a broken pipe mid-apply.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use thiserror::Error;
use tokio::io::AsyncReadExt;

/// How long an interrupted child has to stop before it is killed.
pub const GRACE: Duration = Duration::from_secs(60);

/// Children being stopped: [`settle`] waits for them.
static STOPPING: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>> = std::sync::Mutex::new(Vec::new());

/// A started child; when dropped before it finished, it is interrupted, then
/// killed after [`GRACE`].
struct Running {
    child: Option<tokio::process::Child>,
    command: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        tracing::warn!(command = %self.command, "stopping a child process: interrupt, then kill after {}s", GRACE.as_secs());
        if let Some(pid) = child.id().and_then(|p| i32::try_from(p).ok()) {
            // SAFETY: kill(2) with a pid this process started and has not reaped.
            unsafe {
                libc::kill(pid, libc::SIGINT);
            }
        }
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                let stop = handle.spawn(async move {
                    if tokio::time::timeout(GRACE, child.wait()).await.is_err() {
                        let _ = child.kill().await;
                    }
                });
                STOPPING.lock().unwrap_or_else(|e| e.into_inner()).push(stop);
            }
            Err(_) => {
                let _ = child.start_kill();
            }
        }
    }
}

/// Waits until every interrupted child has stopped (at most [`GRACE`] each):
/// called before the process exits, so that Terraform can write its state.
pub async fn settle() {
    let stopping: Vec<_> = std::mem::take(&mut *STOPPING.lock().unwrap_or_else(|e| e.into_inner()));
    if !stopping.is_empty() {
        tracing::info!(children = stopping.len(), "waiting for interrupted child processes to stop");
    }
    for stop in stopping {
        let _ = stop.await;
    }
}

/// A command to run.
#[derive(Debug, Clone)]
pub struct Cmd {
    pub program: OsString,
    pub args: Vec<OsString>,
    pub cwd: Option<PathBuf>,
    pub env: Vec<(OsString, OsString)>,
    /// Variables removed from the inherited environment.
    pub env_remove: Vec<OsString>,
    pub timeout: Duration,
}

/// What a finished process left.
#[derive(Debug, Clone)]
pub struct Output {
    pub status: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub elapsed: Duration,
}

#[derive(Debug, Error)]
pub enum RunError {
    #[error("`{program}` was not found on PATH: {hint}")]
    NotFound { program: String, hint: String },
    #[error("`{command}` could not start: {source}")]
    Spawn { command: String, source: std::io::Error },
    #[error("`{command}` did not finish within {}s and was interrupted (killed if it did not stop within {}s)", timeout.as_secs(), GRACE.as_secs())]
    Timeout { command: String, timeout: Duration },
    #[error("`{command}` exited with status {status}: {stderr}")]
    Failed { command: String, status: i32, stderr: String },
}

impl Cmd {
    pub fn new(program: impl Into<OsString>) -> Cmd {
        Cmd { program: program.into(), args: Vec::new(), cwd: None, env: Vec::new(), env_remove: Vec::new(), timeout: Duration::from_secs(600) }
    }

    pub fn arg(mut self, arg: impl Into<OsString>) -> Cmd {
        self.args.push(arg.into());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: Into<OsString>>(mut self, args: I) -> Cmd {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn cwd(mut self, dir: &Path) -> Cmd {
        self.cwd = Some(dir.to_path_buf());
        self
    }

    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Cmd {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn env_remove(mut self, key: impl Into<OsString>) -> Cmd {
        self.env_remove.push(key.into());
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Cmd {
        self.timeout = timeout;
        self
    }

    /// The command line as a person would type it (for messages), secrets redacted.
    pub fn display(&self) -> String {
        let line = std::iter::once(&self.program).chain(&self.args).map(|a| a.to_string_lossy().into_owned()).collect::<Vec<_>>().join(" ");
        crate::redact::redact(&line)
    }

    /// Runs to completion; a non-zero exit is returned as `Output`, not an error.
    pub async fn output(&self) -> Result<Output, RunError> {
        let started = Instant::now();
        let mut command = tokio::process::Command::new(&self.program);
        // Output goes to unnamed temporary files, not pipes: a child that outlives us (we were
        // killed) must not die of a broken pipe on its next line — Terraform would leave its state
        // unwritten and its lock held.
        let spawn_error = |e: std::io::Error| RunError::Spawn { command: self.display(), source: e };
        let out_file = tempfile::tempfile().map_err(spawn_error)?;
        let err_file = tempfile::tempfile().map_err(spawn_error)?;
        command
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::from(out_file.try_clone().map_err(spawn_error)?))
            .stderr(Stdio::from(err_file.try_clone().map_err(spawn_error)?))
            .process_group(0);
        #[cfg(target_os = "linux")]
        // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        if let Some(dir) = &self.cwd {
            command.current_dir(dir);
        }
        for k in &self.env_remove {
            command.env_remove(k);
        }
        for (k, v) in &self.env {
            command.env(k, v);
        }
        let child = command.spawn().map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => RunError::NotFound { program: self.program.to_string_lossy().into_owned(), hint: install_hint(&self.program) },
            _ => RunError::Spawn { command: self.display(), source: e },
        })?;
        drop(command);
        let mut running = Running { child: Some(child), command: self.display() };
        let work = async {
            let child = running.child.as_mut().expect("the child is held until it finishes");
            let status = child.wait().await?;
            let (out, err) = (read_all(out_file).await?, read_all(err_file).await?);
            Ok::<_, std::io::Error>((status, out, err))
        };
        let finished = tokio::time::timeout(self.timeout, work).await;
        if matches!(finished, Ok(Ok(_))) {
            running.child = None;
        }
        drop(running);
        match finished {
            Ok(Ok((status, stdout, stderr))) => {
                let elapsed = started.elapsed();
                tracing::debug!(command = %self.display(), status = status.code().unwrap_or(-1), elapsed_ms = elapsed.as_millis() as u64, "child process finished");
                Ok(Output { status: status.code().unwrap_or(-1), stdout, stderr, elapsed })
            }
            Ok(Err(e)) => Err(RunError::Spawn { command: self.display(), source: e }),
            Err(_) => Err(RunError::Timeout { command: self.display(), timeout: self.timeout }),
        }
    }

    /// Runs and requires exit status 0.
    pub async fn run(&self) -> Result<Output, RunError> {
        let out = self.output().await?;
        if out.status == 0 { Ok(out) } else { Err(RunError::Failed { command: self.display(), status: out.status, stderr: trim_stderr(&out.stderr) }) }
    }
}

/// Everything written to an output file, from its start.
async fn read_all(file: std::fs::File) -> std::io::Result<Vec<u8>> {
    let mut file = tokio::fs::File::from_std(file);
    tokio::io::AsyncSeekExt::seek(&mut file, std::io::SeekFrom::Start(0)).await?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).await?;
    Ok(bytes)
}

/// Whether a program can be found on PATH (for optional tools such as checkov).
pub fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|p| p.is_file())
}

/// The last lines of stderr, enough to say what went wrong.
pub fn trim_stderr(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = &lines[lines.len().saturating_sub(20)..];
    // Tools print what they were given; credentials must not travel further.
    let joined = crate::redact::redact(&tail.join("\n"));
    if joined.chars().count() > 4000 { joined.chars().rev().take(4000).collect::<Vec<_>>().into_iter().rev().collect() } else { joined }
}

fn install_hint(program: &OsString) -> String {
    match program.to_string_lossy().as_ref() {
        "terraform" => "install Terraform (https://developer.hashicorp.com/terraform/install) or set handlers.iac.terraform.binary to \"tofu\"".into(),
        "tofu" => "install OpenTofu or set handlers.iac.terraform.binary to \"terraform\"".into(),
        "checkov" => "pip install checkov".into(),
        "trivy" => "install trivy from your package manager".into(),
        other => format!("install {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
    }

    #[test]
    fn success_failure_missing_and_timeout() {
        rt().block_on(async {
            let out = Cmd::new("sh").args(["-c", "echo hi; echo oops >&2"]).run().await.unwrap();
            assert_eq!(String::from_utf8_lossy(&out.stdout), "hi\n");
            let err = Cmd::new("sh").args(["-c", "echo bad thing >&2; exit 3"]).run().await.unwrap_err();
            let text = err.to_string();
            assert!(text.contains("sh -c echo bad thing >&2; exit 3") && text.contains("status 3") && text.contains("bad thing"), "{text}");
            let err = Cmd::new("surely-not-a-program-xyz").run().await.unwrap_err();
            assert!(matches!(err, RunError::NotFound { .. }), "{err}");
            let started = Instant::now();
            let err = Cmd::new("sleep").arg("30").timeout(Duration::from_millis(200)).run().await.unwrap_err();
            assert!(matches!(err, RunError::Timeout { .. }), "{err}");
            assert!(started.elapsed() < Duration::from_secs(5));
            let err = Cmd::new("sh").args(["-c", "echo 'bad login password=hunter2 key AKIAIOSFODNN7EXAMPLE' >&2; exit 1"]).run().await.unwrap_err();
            let text = err.to_string();
            assert!(!text.contains("hunter2") && !text.contains("AKIAIOSFODNN7EXAMPLE"), "{text}");
        });
    }
}
