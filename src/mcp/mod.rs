//! The MCP server: the one place that knows rmcp. Tool methods are thin:
//! parse the arguments (a bad field is a tool error naming it), call the
//! library, and shape the reply as structured content plus a short summary.
//!
//! Nothing but MCP messages goes to stdout; logs go to stderr via `tracing`.

use std::sync::Arc;

use rmcp::handler::server::common::{schema_for_input, schema_for_output};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{CallToolResult, ContentBlock, Implementation, JsonObject, ProgressNotificationParam, RequestMetaObject, ServerCapabilities, ServerConfig};
use rmcp::{Peer, RoleServer, ServerHandler, ServiceExt, tool, tool_handler, tool_router};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

mod stdio;

use crate::app::{App, ConfigReport, ConfigRequest, Confirmed, Directed, DirectorRequest, SelftestRequest, Selftested};
use crate::error::Error;
use crate::infra::{InfraReport, InfraRequest};
use crate::ops::{OpsReport, OpsRequest};
use crate::vocabulary::report::Reply;
use crate::vocabulary::{Report, render};

/// Set to 1 to register the test-only `gate-selftest` tool.
pub const SELFTEST_ENV: &str = "FABER_CLOUD_SELFTEST";

#[derive(Clone)]
pub struct FaberServer {
    app: Arc<App>,
    tool_router: ToolRouter<FaberServer>,
    /// Cancelled when the client closes stdin: every call in flight stops.
    shutdown: CancellationToken,
}

/// Arguments of `confirm`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmRequest {
    /// The operation_id from the reply that asked for confirmation.
    pub operation_id: String,
    /// The human's answer, verbatim. Only "yes" proceeds; anything else cancels.
    pub response: String,
}

fn schema<T: schemars::JsonSchema + 'static>() -> Arc<JsonObject> {
    schema_for_input::<T>().unwrap_or_else(|e| panic!("input schema of {}: {e}", std::any::type_name::<T>()))
}

/// The output schema of a tool whose reports are `T`: what `render` writes,
/// `{"status": …}` beside the report's fields, as an object at the root (which
/// clients of every protocol version accept).
///
/// Kept compact ([`compact`]): the reports and the types of their fields are
/// spelled out, deeper values are left open, and field descriptions are left
/// to the tool's description. The full schemas of all five tools came to
/// 114 KB, which every client would load with `tools/list`.
pub fn output<T: schemars::JsonSchema + 'static>() -> Arc<JsonObject> {
    let schema = serde_json::Value::Object(schema_for_output::<Reply<T>>().as_ref().clone());
    let serde_json::Value::Object(mut object) = compact(schema, OUTPUT_SCHEMA_DEPTH) else { unreachable!("a schema object stays an object") };
    object.insert("type".into(), serde_json::json!("object"));
    Arc::new(object)
}

/// How many `$ref` hops from the root an output schema spells out.
const OUTPUT_SCHEMA_DEPTH: usize = 2;

/// `schema` with the definitions reachable within `depth` `$ref` hops, deeper
/// references replaced by `{}` (any value), and no descriptions or titles.
/// A value valid under the full schema stays valid under the compact one.
pub fn compact(schema: serde_json::Value, depth: usize) -> serde_json::Value {
    use serde_json::{Map, Value};
    fn walk(x: &Value, d: usize, depth: usize, defs: &Map<String, Value>, kept: &mut Map<String, Value>) -> Value {
        match x {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    let name = r.rsplit('/').next().unwrap_or_default().to_string();
                    if d >= depth || !defs.contains_key(&name) {
                        return Value::Object(Map::new());
                    }
                    if !kept.contains_key(&name) {
                        kept.insert(name.clone(), Value::Null);
                        let def = walk(&defs[&name], d + 1, depth, defs, kept);
                        kept.insert(name, def);
                    }
                    return Value::Object(
                        m.iter().filter(|(k, _)| !matches!(k.as_str(), "description" | "title")).map(|(k, v)| (k.clone(), v.clone())).collect(),
                    );
                }
                Value::Object(
                    m.iter()
                        .filter(|(k, _)| !matches!(k.as_str(), "$defs" | "description" | "title"))
                        .map(|(k, v)| (k.clone(), walk(v, d, depth, defs, kept)))
                        .collect(),
                )
            }
            Value::Array(a) => Value::Array(a.iter().map(|v| walk(v, d, depth, defs, kept)).collect()),
            other => other.clone(),
        }
    }
    let defs = match schema.get("$defs") {
        Some(Value::Object(d)) => d.clone(),
        _ => Map::new(),
    };
    let mut kept = Map::new();
    let mut root = walk(&schema, 0, depth, &defs, &mut kept);
    if let Value::Object(m) = &mut root
        && !kept.is_empty()
    {
        m.insert("$defs".into(), Value::Object(kept));
    }
    root
}

/// Parses tool arguments; a bad field becomes a tool error naming it.
fn parse<T: DeserializeOwned>(args: JsonObject) -> Result<T, Error> {
    let value = serde_json::Value::Object(args);
    serde_path_to_error::deserialize::<_, T>(value).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        // A missing or unknown field is reported at the root: name the field itself.
        let named =
            ["missing field `", "unknown field `"].iter().find_map(|p| message.strip_prefix(p).and_then(|rest| rest.split('`').next()).map(str::to_string));
        let field = match (path.as_str(), named) {
            (".", Some(name)) => name,
            (".", None) => "arguments".to_string(),
            _ => path,
        };
        Error::bad_input(field, message, None)
    })
}

/// Runs one tool call so that a panic inside it becomes a tool error: the
/// call gets an answer and the server keeps serving the others.
pub async fn isolated<R>(call: impl std::future::Future<Output = Result<R, Error>>) -> Result<R, Error> {
    use futures::FutureExt;
    match std::panic::AssertUnwindSafe(call).catch_unwind().await {
        Ok(result) => result,
        Err(panic) => {
            let what = panic.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| panic.downcast_ref::<String>().cloned()).unwrap_or_default();
            let what = crate::redact::redact(&what);
            tracing::error!(panic = %what, "a tool call panicked");
            Err(Error::Internal(what.chars().take(300).collect()))
        }
    }
}

/// [`isolated`], and stopped when the client cancels the request or goes
/// away: the call's future is dropped, which drops its AWS calls and
/// interrupts its terraform (see `iac::runner`).
async fn guarded<R>(ct: CancellationToken, shutdown: &CancellationToken, call: impl std::future::Future<Output = Result<R, Error>>) -> Result<R, Error> {
    tokio::select! {
        result = isolated(call) => result,
        () = ct.cancelled() => {
            tracing::info!("a tool call was cancelled; its work is stopped");
            Err(Error::Failed("cancelled by the client; the work was stopped".into()))
        }
        () = shutdown.cancelled() => {
            tracing::info!("the client closed the connection; a tool call in flight is stopped");
            Err(Error::Failed("the client closed the connection; the work was stopped".into()))
        }
    }
}

fn reply<R: Report>(result: Result<R, Error>) -> CallToolResult {
    match result {
        // The summary for people, then the structured result as JSON text (MCP's advice for
        // clients that read only text: they get every field, ids included).
        Ok(report) => {
            let r = render(&report);
            let mut out = CallToolResult::success(vec![ContentBlock::text(r.text), ContentBlock::text(r.json.to_string())]);
            out.structured_content = Some(r.json);
            out
        }
        Err(e) => {
            tracing::info!(error = %e, "tool error");
            let body = serde_json::json!({"status": "error", "error": e.body()});
            let message = body["error"]["message"].as_str().unwrap_or_default().to_string();
            let mut out = CallToolResult::error(vec![ContentBlock::text(message), ContentBlock::text(body.to_string())]);
            out.structured_content = Some(body);
            out
        }
    }
}

/// Sends the library's progress steps as `notifications/progress` when the
/// client asked for them (a progress token in `_meta`), in order.
fn progress_sink(peer: Peer<RoleServer>, meta: &RequestMetaObject) -> Option<(crate::progress::Sink, tokio::task::JoinHandle<()>)> {
    let token = meta.get_progress_token()?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(u32, u32, String)>();
    let forwarder = tokio::spawn(async move {
        while let Some((n, total, message)) = rx.recv().await {
            let mut p = ProgressNotificationParam::new(token.clone(), f64::from(n));
            p.total = Some(f64::from(total));
            p.message = Some(message);
            if let Err(e) = peer.notify_progress(p).await {
                tracing::debug!(error = %e, "progress notification not sent");
            }
        }
    });
    let sink: crate::progress::Sink = std::sync::Arc::new(move |n, total, message: &str| {
        let _ = tx.send((n, total, message.to_string()));
    });
    Some((sink, forwarder))
}

/// Runs `fut` reporting progress to the client when it asked for it.
async fn with_progress<F: std::future::Future<Output = CallToolResult>>(peer: Peer<RoleServer>, meta: RequestMetaObject, fut: F) -> CallToolResult {
    match progress_sink(peer, &meta) {
        Some((sink, forwarder)) => {
            let out = crate::progress::with(sink, fut).await;
            // The sink is gone with the scope: every notification is sent before the result.
            let _ = forwarder.await;
            out
        }
        None => fut.await,
    }
}

#[tool_router]
impl FaberServer {
    pub fn new(app: App) -> FaberServer {
        let mut tool_router = Self::tool_router();
        if std::env::var(SELFTEST_ENV).as_deref() != Ok("1") {
            tool_router.remove_route("gate-selftest");
        }
        FaberServer { app: Arc::new(app), tool_router, shutdown: CancellationToken::new() }
    }

    /// Turn a plain request into the right infrastructure or operations task and run it.
    /// Examples: "deploy to test", "check health of production services", "investigate errors in API service".
    /// Environment words are detected ("prod", "production", "live" → prod; "test", "dev" → test; default test).
    /// When the request is ambiguous the reply has status "clarify" with numbered choices and a clarification_id:
    /// show them to the user and call director again with request set to the chosen number and that clarification_id.
    /// Mutating operations never run directly: they return status "awaiting_confirmation" (see confirm).
    /// Questions ("what happens if I deploy?") run the read-only counterpart; "fix …" investigates first and offers
    /// the remediations as numbered choices; requests outside the product return status "unsupported" and run nothing.
    /// Set route_only to classify without running (it stores nothing).
    #[tool(name = "director", input_schema = schema::<DirectorRequest>(), output_schema = output::<Directed>(), annotations(title = "Director (natural language)", read_only_hint = false, destructive_hint = true, open_world_hint = true))]
    async fn director(&self, args: JsonObject, peer: Peer<RoleServer>, meta: RequestMetaObject, ct: CancellationToken) -> CallToolResult {
        let out =
            with_progress(peer, meta, async { reply(guarded(ct, &self.shutdown, async { self.app.director(&parse::<DirectorRequest>(args)?).await }).await) })
                .await;
        self.app.ship_audit().await;
        out
    }

    /// Infrastructure lifecycle on Terraform: architect (design document), engineer (Terraform code),
    /// validate-config, test (security, cost, compliance), preview-changes (+ ~ -), deploy (through the
    /// confirmation gate), show-resources, debug. env defaults to test. Deploy never applies without approval:
    /// protected environments (prod) need two "yes" answers through confirm; auto_approve is ignored there.
    #[tool(name = "infra-manager", input_schema = schema::<InfraRequest>(), output_schema = output::<InfraReport>(), annotations(title = "Infrastructure manager", read_only_hint = false, destructive_hint = true, open_world_hint = true))]
    async fn infra_manager(&self, args: JsonObject, peer: Peer<RoleServer>, meta: RequestMetaObject, ct: CancellationToken) -> CallToolResult {
        let out = with_progress(peer, meta, async {
            reply(guarded(ct, &self.shutdown, async { crate::infra::run(self.app.workspace(), &parse::<InfraRequest>(args)?).await }).await)
        })
        .await;
        self.app.ship_audit().await;
        out
    }

    /// Runtime operations on AWS: check-health, query-logs (filter, timeframe, limit), investigate,
    /// analyze-performance, remediate (action restart|scale|rollback, through the confirmation gate),
    /// audit (focus cost|security|compliance). service names one service (e.g. api-lambda); without it, all.
    #[tool(name = "ops-manager", input_schema = schema::<OpsRequest>(), output_schema = output::<OpsReport>(), annotations(title = "Operations manager", read_only_hint = false, destructive_hint = true, open_world_hint = true))]
    async fn ops_manager(&self, args: JsonObject, peer: Peer<RoleServer>, meta: RequestMetaObject, ct: CancellationToken) -> CallToolResult {
        let out = with_progress(peer, meta, async {
            reply(guarded(ct, &self.shutdown, async { crate::ops::run(self.app.workspace(), &parse::<OpsRequest>(args)?).await }).await)
        })
        .await;
        self.app.ship_audit().await;
        out
    }

    /// Answer a pending operation with the HUMAN's answer. Never call this on your own initiative:
    /// show the banner from the awaiting_confirmation reply to the user, and pass their words verbatim.
    /// Only "yes" (any case) proceeds; any other response cancels the operation. Production needs two
    /// "yes" answers; the second reply shows the final banner. Each operation_id works once.
    #[tool(name = "confirm", input_schema = schema::<ConfirmRequest>(), output_schema = output::<Confirmed>(), annotations(title = "Confirm a pending operation", read_only_hint = false, destructive_hint = true, idempotent_hint = false, open_world_hint = true))]
    async fn confirm(&self, args: JsonObject, peer: Peer<RoleServer>, meta: RequestMetaObject, ct: CancellationToken) -> CallToolResult {
        let out = with_progress(peer, meta, async {
            reply(
                guarded(ct, &self.shutdown, async {
                    let req = parse::<ConfirmRequest>(args)?;
                    self.app.confirm(&req.operation_id, &req.response).await
                })
                .await,
            )
        })
        .await;
        self.app.ship_audit().await;
        out
    }

    /// Plugin configuration (.fractary/plugins/faber-cloud/devops.json): init writes a default
    /// (provider aws, iac terraform; refuses to overwrite unless force), show returns it, validate lists
    /// every problem with its JSON path.
    #[tool(name = "config", input_schema = schema::<ConfigRequest>(), output_schema = output::<ConfigReport>(), annotations(title = "Configuration", read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = false))]
    async fn config(&self, args: JsonObject, ct: CancellationToken) -> CallToolResult {
        reply(guarded(ct, &self.shutdown, async { self.app.config_action(&parse::<ConfigRequest>(args)?).await }).await)
    }

    /// TEST ONLY (registered when FABER_CLOUD_SELFTEST=1): a harmless mutating operation that goes
    /// through the confirmation gate and appends payload to selftest/{env}.log once approved.
    #[tool(name = "gate-selftest", input_schema = schema::<SelftestRequest>(), output_schema = output::<Selftested>(), annotations(title = "Gate self-test", read_only_hint = false, destructive_hint = false, open_world_hint = false))]
    async fn gate_selftest(&self, args: JsonObject, ct: CancellationToken) -> CallToolResult {
        reply(guarded(ct, &self.shutdown, async { self.app.selftest(&parse::<SelftestRequest>(args)?).await }).await)
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for FaberServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("faber-cloud", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "faber-cloud automates DevOps on AWS with Terraform. Start with the director tool for plain requests. \
                 Mutating operations return status awaiting_confirmation with a banner: show it to the human and pass \
                 their exact answer to confirm; never confirm on their behalf.",
            )
    }
}

/// Serves MCP over stdio until the client closes the connection.
pub async fn serve(app: App) -> anyhow::Result<()> {
    let server = FaberServer::new(app);
    let stdio::Stdio { sink, stream, writer } = stdio::transport(server.shutdown.clone());
    let running = match server.serve((sink, stream)).await {
        Ok(running) => running,
        // A client that goes away before initializing is not an error.
        Err(rmcp::service::ServerInitializeError::ConnectionClosed(_)) => {
            tracing::info!("the MCP client closed the connection before initializing");
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    let reason = running.waiting().await?;
    tracing::info!(?reason, "MCP client disconnected");
    // The last replies reach stdout before the process exits.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), writer).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn compact_schemas_keep_two_hops_and_leave_deeper_values_open() {
        let full = json!({
            "description": "root",
            "type": "object",
            "properties": {"a": {"$ref": "#/$defs/A", "description": "an A"}},
            "$defs": {
                "A": {"type": "object", "properties": {"b": {"$ref": "#/$defs/B"}}},
                "B": {"type": "object", "properties": {"c": {"$ref": "#/$defs/C"}}},
                "C": {"type": "string"},
                "Unused": {"type": "null"}
            }
        });
        let c = super::compact(full, 2);
        assert_eq!(
            c,
            json!({
                "type": "object",
                "properties": {"a": {"$ref": "#/$defs/A"}},
                "$defs": {
                    "A": {"type": "object", "properties": {"b": {"$ref": "#/$defs/B"}}},
                    "B": {"type": "object", "properties": {"c": {}}}
                }
            })
        );
    }

    #[test]
    fn every_tool_declares_a_compact_object_output_schema() {
        let schemas = [
            super::output::<crate::app::Directed>(),
            super::output::<crate::infra::InfraReport>(),
            super::output::<crate::ops::OpsReport>(),
            super::output::<crate::app::Confirmed>(),
            super::output::<crate::app::ConfigReport>(),
        ];
        let total: usize = schemas.iter().map(|s| serde_json::to_string(s.as_ref()).unwrap().len()).sum();
        for s in &schemas {
            assert_eq!(s["type"], "object");
            assert!(s["properties"]["status"].is_object(), "{s:?}");
        }
        // 40 KB until the regions (a region per preview, service and intent, each region's plan): 41 KB.
        assert!(total < 41_000, "output schemas total {total} bytes: keep tools/list small");
    }
}
