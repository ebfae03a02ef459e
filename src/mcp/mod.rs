//! The MCP server: the one place that knows rmcp. Tool methods are thin:
//! parse the arguments (a bad field is a tool error naming it), call the
//! library, and shape the reply as structured content plus a short summary.
//!
//! Nothing but MCP messages goes to stdout; logs go to stderr via `tracing`.

use std::sync::Arc;

use rmcp::handler::server::common::schema_for_input;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{CallToolResult, ContentBlock, Implementation, JsonObject, ProgressNotificationParam, RequestMetaObject, ServerCapabilities, ServerConfig};
use rmcp::{Peer, RoleServer, ServerHandler, ServiceExt, tool, tool_handler, tool_router};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::app::{App, ConfigRequest, DirectorRequest, Reply, SelftestRequest};
use crate::error::Error;
use crate::infra::InfraRequest;
use crate::ops::OpsRequest;

/// Set to 1 to register the test-only `gate-selftest` tool.
pub const SELFTEST_ENV: &str = "FABER_CLOUD_SELFTEST";

#[derive(Clone)]
pub struct FaberServer {
    app: Arc<App>,
    tool_router: ToolRouter<FaberServer>,
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

/// Parses tool arguments; a bad field becomes a tool error naming it.
fn parse<T: DeserializeOwned>(args: JsonObject) -> Result<T, Error> {
    let value = serde_json::Value::Object(args);
    serde_path_to_error::deserialize::<_, T>(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "arguments".to_string() } else { path };
        Error::bad_input(field, e.into_inner().to_string(), None)
    })
}

fn reply(result: Result<Reply, Error>) -> CallToolResult {
    match result {
        Ok(r) => {
            let mut out = CallToolResult::success(vec![ContentBlock::text(r.summary)]);
            out.structured_content = Some(r.body);
            out
        }
        Err(e) => {
            tracing::info!(error = %e, "tool error");
            let body = e.body();
            let mut out = CallToolResult::error(vec![ContentBlock::text(body.message.clone())]);
            out.structured_content = Some(serde_json::json!({"status": "error", "error": body}));
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
        FaberServer { app: Arc::new(app), tool_router }
    }

    /// Turn a plain request into the right infrastructure or operations task and run it.
    /// Examples: "deploy to test", "check health of production services", "investigate errors in API service".
    /// Environment words are detected ("prod", "production", "live" → prod; "test", "dev" → test; default test).
    /// When the request is ambiguous the reply has status "clarify" with numbered choices and a clarification_id:
    /// show them to the user and call director again with request set to the chosen number and that clarification_id.
    /// Mutating operations never run directly: they return status "awaiting_confirmation" (see confirm).
    /// Set route_only to classify without running.
    #[tool(name = "director", input_schema = schema::<DirectorRequest>(), annotations(title = "Director (natural language)", read_only_hint = false, destructive_hint = true, open_world_hint = true))]
    async fn director(&self, args: JsonObject, peer: Peer<RoleServer>, meta: RequestMetaObject) -> CallToolResult {
        with_progress(peer, meta, async { reply(async { self.app.director(&parse::<DirectorRequest>(args)?).await }.await) }).await
    }

    /// Infrastructure lifecycle on Terraform: architect (design document), engineer (Terraform code),
    /// validate-config, test (security, cost, compliance), preview-changes (+ ~ -), deploy (through the
    /// confirmation gate), show-resources, debug. env defaults to test. Deploy never applies without approval:
    /// protected environments (prod) need two "yes" answers through confirm; auto_approve is ignored there.
    #[tool(name = "infra-manager", input_schema = schema::<InfraRequest>(), annotations(title = "Infrastructure manager", read_only_hint = false, destructive_hint = true, open_world_hint = true))]
    async fn infra_manager(&self, args: JsonObject, peer: Peer<RoleServer>, meta: RequestMetaObject) -> CallToolResult {
        with_progress(peer, meta, async { reply(async { crate::infra::run(&self.app, &parse::<InfraRequest>(args)?).await }.await) }).await
    }

    /// Runtime operations on AWS: check-health, query-logs (filter, timeframe, limit), investigate,
    /// analyze-performance, remediate (action restart|scale|rollback, through the confirmation gate),
    /// audit (focus cost|security|compliance). service names one service (e.g. api-lambda); without it, all.
    #[tool(name = "ops-manager", input_schema = schema::<OpsRequest>(), annotations(title = "Operations manager", read_only_hint = false, destructive_hint = true, open_world_hint = true))]
    async fn ops_manager(&self, args: JsonObject, peer: Peer<RoleServer>, meta: RequestMetaObject) -> CallToolResult {
        with_progress(peer, meta, async { reply(async { crate::ops::run(&self.app, &parse::<OpsRequest>(args)?).await }.await) }).await
    }

    /// Answer a pending operation with the HUMAN's answer. Never call this on your own initiative:
    /// show the banner from the awaiting_confirmation reply to the user, and pass their words verbatim.
    /// Only "yes" (any case) proceeds; any other response cancels the operation. Production needs two
    /// "yes" answers; the second reply shows the final banner. Each operation_id works once.
    #[tool(name = "confirm", input_schema = schema::<ConfirmRequest>(), annotations(title = "Confirm a pending operation", read_only_hint = false, destructive_hint = true, idempotent_hint = false, open_world_hint = true))]
    async fn confirm(&self, args: JsonObject, peer: Peer<RoleServer>, meta: RequestMetaObject) -> CallToolResult {
        with_progress(peer, meta, async {
            reply(
                async {
                    let req = parse::<ConfirmRequest>(args)?;
                    self.app.confirm(&req.operation_id, &req.response).await
                }
                .await,
            )
        })
        .await
    }

    /// Plugin configuration (.fractary/plugins/faber-cloud/devops.json): init writes a default
    /// (provider aws, iac terraform; refuses to overwrite unless force), show returns it, validate lists
    /// every problem with its JSON path.
    #[tool(name = "config", input_schema = schema::<ConfigRequest>(), annotations(title = "Configuration", read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = false))]
    async fn config(&self, args: JsonObject) -> CallToolResult {
        reply(async { self.app.config_action(&parse::<ConfigRequest>(args)?).await }.await)
    }

    /// TEST ONLY (registered when FABER_CLOUD_SELFTEST=1): a harmless mutating operation that goes
    /// through the confirmation gate and appends payload to selftest/{env}.log once approved.
    #[tool(name = "gate-selftest", input_schema = schema::<SelftestRequest>(), annotations(title = "Gate self-test", read_only_hint = false, destructive_hint = false, open_world_hint = false))]
    async fn gate_selftest(&self, args: JsonObject) -> CallToolResult {
        reply(async { self.app.selftest(&parse::<SelftestRequest>(args)?).await }.await)
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
    let running = server.serve(rmcp::transport::stdio()).await?;
    let reason = running.waiting().await?;
    tracing::info!(?reason, "MCP client disconnected");
    Ok(())
}
