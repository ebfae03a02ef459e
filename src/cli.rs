//! The command line: the same library functions as the MCP tools, with
//! `--json` printing the same structured result and meaningful exit codes
//! (0 success, 1 operation failed or not run, 2 bad input, 3 waiting for a
//! human answer: a confirmation or a clarification).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::app::{App, ConfigRequest, DirectorRequest, SelftestRequest};
use crate::error::Error;
use crate::infra::InfraRequest;
use crate::ops::OpsRequest;
use crate::scan::security::ScanOptions;
use crate::scan::{RunOptions, ScanReport, Severity};
use crate::vocabulary::report::Rendered;
use crate::vocabulary::{Report, render};
use crate::workspace::{Locate, Workspace};

#[derive(Debug, Parser)]
#[command(name = "faber-cloud", version, about = "DevOps automation for AWS and Terraform: MCP server and CLI of the fractary-faber-cloud plugin")]
pub struct Cli {
    /// The project directory (default: $CLAUDE_PROJECT_DIR, then the working directory).
    #[arg(long, global = true, value_name = "DIR")]
    pub project_dir: Option<PathBuf>,
    /// Print the structured result as JSON (the same as the MCP tool returns).
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve MCP over stdio (what the plugin's .mcp.json starts).
    Serve,
    /// Run a plain-language request: faber-cloud director "deploy to test".
    Director(DirectorRequest),
    /// Infrastructure lifecycle: faber-cloud infra deploy --env test.
    Infra(InfraRequest),
    /// Runtime operations: faber-cloud ops check-health --env prod.
    Ops(OpsRequest),
    /// Answer a pending operation: faber-cloud confirm <id> yes.
    Confirm {
        /// The operation_id printed by the operation that asked.
        operation_id: String,
        /// Only "yes" proceeds; anything else cancels.
        response: String,
    },
    /// Configuration: faber-cloud config init --provider aws --iac terraform.
    Config(ConfigRequest),
    /// Mine log templates from a file, one message per line.
    Patterns {
        /// The file to read: one log message per line.
        file: PathBuf,
    },
    /// Security scan of a Terraform directory or plan JSON: faber-cloud scan infrastructure/terraform.
    Scan {
        /// A directory of .tf files, or a plan in JSON form (terraform show -json plan.tfplan > plan.json).
        path: PathBuf,
        /// Output: one line per finding (text), the full report (json), or SARIF 2.1.0 for code scanning (sarif).
        #[arg(long, value_enum, default_value = "text")]
        format: ScanFormat,
        /// Exit 1 when any finding is at or above this severity.
        #[arg(long, value_enum, default_value = "high")]
        fail_on: Severity,
        /// Variable values for a directory scan (a .tfvars file).
        #[arg(long, value_name = "FILE")]
        tfvars: Option<PathBuf>,
        /// Do not run Checkov / Trivy / tfsec even when they are installed.
        #[arg(long)]
        no_external: bool,
    },
    /// The native scan's rules: id, severity, the Checkov check with the same meaning, title (--json: with the fix).
    ScanRules,
    /// Test only (FABER_CLOUD_SELFTEST=1): a harmless operation through the confirmation gate.
    #[command(hide = true)]
    GateSelftest(SelftestRequest),
}

/// Parses the command line, runs, prints, and returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    init_tracing();
    // Several threads: a call that waits (a lock, a file) never stalls the others in `serve`.
    // Larger stacks than tokio's 2 MiB default: a deploy's futures (AWS SDK calls
    // within the pipeline) are deep, and an unoptimised build overflowed 2 MiB.
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(4).thread_stack_size(16 << 20).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return 1;
        }
    };
    let code = runtime.block_on(run(cli));
    // Interrupted terraform processes get to write their state before we exit.
    runtime.block_on(crate::iac::runner::settle());
    // Nothing left to wait for: a blocked stdin reader must not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    code
}

async fn run(cli: Cli) -> i32 {
    let ws = match Workspace::locate(Locate::from_env(cli.project_dir.clone())) {
        Ok(ws) => ws,
        Err(e) => return print(cli.json, Err(e.into())),
    };
    let shipper = App::new(ws.clone());
    let app = App::new(ws);
    // Long operations report each step on stderr; stdout keeps only the result.
    let sink: crate::progress::Sink = std::sync::Arc::new(|n, total, message: &str| eprintln!("[{n}/{total}] {message}"));
    let code = crate::progress::with(sink, dispatch(cli, app)).await;
    // The audit-trail lines of this command, to the team's shared log when one is configured.
    shipper.ship_audit().await;
    code
}

async fn dispatch(cli: Cli, app: App) -> i32 {
    let result = match &cli.command {
        Command::Serve => {
            return match crate::mcp::serve(app).await {
                Ok(()) => 0,
                Err(e) => {
                    tracing::error!("MCP server stopped: {e:#}");
                    1
                }
            };
        }
        Command::Director(req) => rendered(crate::mcp::isolated(app.director(req)).await),
        Command::Infra(req) if req.operation == Some(crate::infra::InfraOperation::Deploy) && req.env.as_deref().is_some_and(|e| e.contains(',')) => {
            return deploy_in_order(cli.json, &app, req).await;
        }
        Command::Infra(req) if req.format == Some(crate::infra::PreviewFormat::Markdown) => {
            if req.operation != Some(crate::infra::InfraOperation::PreviewChanges) {
                return print(cli.json, Err(Error::bad_input("format", "markdown is for preview-changes", Some("text".into()))));
            }
            match crate::mcp::isolated(crate::infra::run(app.workspace(), req)).await {
                Ok(crate::infra::InfraReport::PreviewChanges(p)) if !cli.json => {
                    let generated =
                        if p.generated.is_empty() { String::new() } else { format!("Generated {} from devops.json first.\n\n", p.generated.join(" and ")) };
                    emit(&crate::redact::redact(&format!("{generated}{}", p.report.markdown())));
                    return 0;
                }
                other => rendered(other),
            }
        }
        Command::Infra(req) => rendered(crate::mcp::isolated(crate::infra::run(app.workspace(), req)).await),
        Command::Ops(req) => rendered(crate::mcp::isolated(crate::ops::run(app.workspace(), req)).await),
        Command::Confirm { operation_id, response } => rendered(crate::mcp::isolated(app.confirm(operation_id, response)).await),
        Command::Config(req) => rendered(crate::mcp::isolated(app.config_action(req)).await),
        Command::Patterns { file } => {
            // Each line's template is listed only in the JSON, where it is read.
            let ids = if cli.json { crate::ops::patterns::LineIds::Listed } else { crate::ops::patterns::LineIds::Omitted };
            rendered(crate::ops::mine_file(file, ids))
        }
        Command::Scan { path, format, fail_on, tfvars, no_external } => {
            let result = match configured_suppressions(&app) {
                Ok(scan) => crate::scan::run_scan(path, &RunOptions { tfvars: tfvars.clone(), external: !no_external, scan }).await,
                Err(e) => Err(e),
            };
            return print_scan(cli.json, *format, *fail_on, result);
        }
        Command::ScanRules => {
            emit(&scan_rules(cli.json));
            return 0;
        }
        Command::GateSelftest(req) => {
            if std::env::var(crate::mcp::SELFTEST_ENV).as_deref() == Ok("1") {
                rendered(app.selftest(req).await)
            } else {
                Err(Error::bad_input("gate-selftest", "is a test-only command", Some(format!("set {}=1", crate::mcp::SELFTEST_ENV))))
            }
        }
    };
    print(cli.json, result)
}

/// How `faber-cloud scan` prints its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScanFormat {
    Text,
    Json,
    Sarif,
}

/// The project's `scan.suppress` list from devops.json; none when there is no devops.json.
fn configured_suppressions(app: &App) -> Result<ScanOptions, Error> {
    match app.config() {
        Ok(config) => Ok(config.scan.unwrap_or_default()),
        Err(Error::Config(crate::config::ConfigError::Missing { .. })) => Ok(ScanOptions::default()),
        Err(e) => Err(e),
    }
}

/// The rule table: one line per rule, or a JSON array (`--json`).
fn scan_rules(json: bool) -> String {
    let rules = crate::scan::security::RULES;
    if json {
        let list: Vec<serde_json::Value> =
            rules.iter().map(|r| serde_json::json!({"id": r.id, "severity": r.severity, "title": r.title, "checkov_id": r.checkov_id, "fix": r.fix})).collect();
        return serde_json::to_string_pretty(&list).expect("rules serialise");
    }
    let mut out: Vec<String> =
        rules.iter().map(|r| format!("{:<14} {:<8} {:<12} {}", r.id, r.severity.as_str(), r.checkov_id.unwrap_or("-"), r.title)).collect();
    out.push(format!("{} rules, {} with a Checkov counterpart", rules.len(), rules.iter().filter(|r| r.checkov_id.is_some()).count()));
    out.join("\n")
}

/// Prints a scan report; exit 1 when a finding reaches `fail_on`, 2 on bad input.
fn print_scan(json: bool, format: ScanFormat, fail_on: Severity, result: Result<ScanReport, Error>) -> i32 {
    let format = if json && format == ScanFormat::Text { ScanFormat::Json } else { format };
    let report = match result {
        Ok(report) => report,
        Err(e) => return print(format != ScanFormat::Text, Err(e)),
    };
    match format {
        ScanFormat::Text => emit(&report.text()),
        ScanFormat::Json => emit(&serde_json::to_string_pretty(&report).expect("reports serialise")),
        ScanFormat::Sarif => emit(&serde_json::to_string_pretty(&report.sarif()).expect("SARIF serialises")),
    }
    i32::from(report.fails(fail_on))
}

/// `infra deploy --env test,staging,prod`: each environment in the order given, stopping at the first that fails,
/// is refused, or waits for a person (its exit code is the command's). `--ci-approve` applies to the environment it
/// names only. With `--json`, one array of `{env, reply}` once all are done.
async fn deploy_in_order(json: bool, app: &App, req: &crate::infra::InfraRequest) -> i32 {
    let envs: Vec<String> = req.env.as_deref().unwrap_or_default().split(',').map(|e| e.trim().to_string()).collect();
    if envs.iter().any(String::is_empty) || envs.iter().enumerate().any(|(i, e)| envs[..i].contains(e)) {
        return print(json, Err(Error::bad_input("env", "a list of environments names each once, separated by commas", Some("e.g. test,staging,prod".into()))));
    }
    let mut replies = Vec::new();
    let mut code = 0;
    for env in &envs {
        let one = crate::infra::InfraRequest { env: Some(env.clone()), ci_approve: req.ci_approve.clone().filter(|n| n == env), ..req.clone() };
        if !json {
            eprintln!("== deploy {env}");
        }
        let result = rendered(crate::mcp::isolated(crate::infra::run(app.workspace(), &one)).await);
        code = match &result {
            Ok(r) => r.exit_code(),
            Err(e) => e.exit_code(),
        };
        if json {
            let reply = match result {
                Ok(r) => r.json,
                Err(e) => serde_json::json!({"status": "error", "error": e.body()}),
            };
            replies.push(serde_json::json!({"env": env, "reply": reply}));
        } else {
            print(false, result);
        }
        if code != 0 {
            if !json && env != envs.last().unwrap_or(env) {
                eprintln!("stopped at {env}: the environments after it were not deployed");
            }
            break;
        }
    }
    if json {
        emit(&serde_json::to_string_pretty(&replies).expect("replies serialise"));
    }
    code
}

fn rendered<R: Report>(result: Result<R, Error>) -> Result<Rendered, Error> {
    result.map(|r| render(&r))
}

fn print(json: bool, result: Result<Rendered, Error>) -> i32 {
    match result {
        Ok(reply) => {
            if json {
                emit(&serde_json::to_string_pretty(&reply.json).expect("replies serialise"));
            } else {
                emit(&reply.text);
            }
            reply.exit_code()
        }
        Err(e) => {
            if json {
                let body = serde_json::json!({"status": "error", "error": e.body()});
                emit(&serde_json::to_string_pretty(&body).expect("errors serialise"));
            } else {
                eprintln!("error: {}", crate::redact::redact(&e.to_string()));
            }
            e.exit_code()
        }
    }
}

/// Writes a result to stdout. A closed pipe (`faber-cloud scan … | head`) is
/// not an error worth a panic: the reader has what it wanted.
fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}").and_then(|()| out.flush());
}

/// Logs go to stderr only: stdout belongs to MCP in `serve` and to results otherwise.
fn init_tracing() {
    let mut filter =
        tracing_subscriber::EnvFilter::try_from_env("FABER_CLOUD_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,aws_config=error"));
    // rmcp logs every message whole at debug: tool lists, and arguments and results that may
    // carry secrets. Only a filter that names rmcp itself turns that on.
    if !std::env::var("FABER_CLOUD_LOG").is_ok_and(|v| v.contains("rmcp"))
        && let Ok(quiet) = "rmcp::service=info".parse()
    {
        filter = filter.add_directive(quiet);
    }
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(|| RedactedStderr).with_ansi(false).try_init();
}

/// stderr for log lines, secrets redacted at every level (a log line is written in one call).
struct RedactedStderr;

impl std::io::Write for RedactedStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let line = crate::redact::redact(&String::from_utf8_lossy(buf));
        std::io::stderr().write_all(line.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
