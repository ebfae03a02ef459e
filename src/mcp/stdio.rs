//! The stdio transport: JSON-RPC lines in, JSON-RPC lines out, with the
//! answers rmcp's own transport leaves out. A line that is not JSON gets
//! -32700; a request rmcp cannot read gets -32602 (a known method with bad
//! params) or -32601 (an unknown method), with its id; a message that is not
//! a JSON-RPC object gets -32600. Deeply nested arguments are read (the stack
//! grows on the heap) so that the tool answers with the field at fault. The
//! end of stdin cancels `eof`, which stops the calls in flight.

use futures::{Sink, Stream};
use rmcp::RoleServer;
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// Methods a client may send to this server (answered -32602 when their params cannot be read).
const KNOWN_METHODS: &[&str] = &[
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/read",
    "prompts/list",
    "prompts/get",
    "logging/setLevel",
    "completion/complete",
];

/// A line longer than this is refused whole (-32600) without being parsed.
const MAX_LINE: usize = 16 << 20;

/// Nesting deeper than this is refused (-32600): such a value is not a request, and
/// walking or dropping it could exhaust any stack.
const MAX_DEPTH: usize = 10_000;

/// The deepest nesting of arrays and objects in a JSON text (strings skipped).
fn depth(text: &str) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for b in text.bytes() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

pub struct Stdio {
    pub sink: std::pin::Pin<Box<dyn Sink<TxJsonRpcMessage<RoleServer>, Error = std::io::Error> + Send>>,
    pub stream: std::pin::Pin<Box<dyn Stream<Item = RxJsonRpcMessage<RoleServer>> + Send>>,
    /// Ends once every line sent has been written and flushed.
    pub writer: tokio::task::JoinHandle<()>,
}

/// The transport over this process's stdin and stdout.
pub fn transport(eof: CancellationToken) -> Stdio {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let writer = tokio::spawn(async move {
        let mut out = tokio::io::stdout();
        while let Some(line) = rx.recv().await {
            let written = async {
                out.write_all(line.as_bytes()).await?;
                out.write_all(b"\n").await?;
                out.flush().await
            };
            if let Err(e) = written.await {
                tracing::info!(error = %e, "stdout closed");
                return;
            }
        }
    });
    let sink = futures::sink::unfold(tx.clone(), |tx: UnboundedSender<String>, message: TxJsonRpcMessage<RoleServer>| async move {
        let line = serde_json::to_string(&message).map_err(std::io::Error::other)?;
        tx.send(line).map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "stdout writer stopped"))?;
        Ok::<_, std::io::Error>(tx)
    });
    let reader = tokio::io::BufReader::new(tokio::io::stdin());
    let stream = futures::stream::unfold((reader, tx, eof), |(mut reader, tx, eof)| async move {
        loop {
            let mut bytes = Vec::new();
            match reader.read_until(b'\n', &mut bytes).await {
                Ok(0) | Err(_) => {
                    eof.cancel();
                    return None;
                }
                Ok(_) => {}
            }
            match read(&bytes) {
                Read::Message(message) => return Some((*message, (reader, tx, eof))),
                Read::Answer(answer) => {
                    let _ = tx.send(answer.to_string());
                }
                Read::Skip => {}
            }
        }
    });
    Stdio { sink: Box::pin(sink), stream: Box::pin(stream), writer }
}

enum Read {
    Message(Box<RxJsonRpcMessage<RoleServer>>),
    /// An error response to write back.
    Answer(Value),
    Skip,
}

fn error(id: Value, code: i64, message: String) -> Read {
    Read::Answer(json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}}))
}

/// One input line: a message for rmcp, an error answer, or nothing (a blank line, an unreadable notification).
fn read(bytes: &[u8]) -> Read {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t.trim(),
        Err(e) => return error(Value::Null, -32700, format!("parse error: the line is not UTF-8 ({e})")),
    };
    if text.is_empty() {
        return Read::Skip;
    }
    if text.len() > MAX_LINE {
        return error(Value::Null, -32600, format!("invalid request: a message of {} bytes (at most {MAX_LINE})", text.len()));
    }
    if depth(text) > MAX_DEPTH {
        return error(Value::Null, -32600, format!("invalid request: nested more than {MAX_DEPTH} levels deep"));
    }
    let mut de = serde_json::Deserializer::from_str(text);
    de.disable_recursion_limit();
    let parsed = serde::Deserialize::deserialize(serde_stacker::Deserializer::new(&mut de)).and_then(|v: Value| de.end().map(|()| v));
    let value = match parsed {
        Ok(v) => v,
        Err(e) => return error(Value::Null, -32700, format!("parse error: {e}")),
    };
    let id = value.get("id").filter(|id| id.is_string() || id.is_number()).cloned();
    let Some(object) = value.as_object().filter(|o| o.get("jsonrpc") == Some(&json!("2.0"))) else {
        return error(id.unwrap_or(Value::Null), -32600, "invalid request: not a JSON-RPC 2.0 object (batches are not accepted)".into());
    };
    let method = object.get("method").and_then(Value::as_str).map(str::to_string);
    // tools/call's params are checked here: rmcp would answer a malformed one as an unknown method.
    if method.as_deref() == Some("tools/call")
        && let Some(id) = &id
    {
        let params = object.get("params");
        let ok = params
            .and_then(Value::as_object)
            .is_some_and(|p| p.get("name").is_some_and(Value::is_string) && p.get("arguments").is_none_or(|a| a.is_object() || a.is_null()));
        if !ok {
            return error(id.clone(), -32602, "invalid params: tools/call takes {name: string, arguments?: object}".into());
        }
    }
    match stacked(|| serde_json::from_value::<RxJsonRpcMessage<RoleServer>>(value)) {
        Ok(message) => Read::Message(Box::new(message)),
        Err(e) => match (id, method) {
            (Some(id), Some(m)) if KNOWN_METHODS.contains(&m.as_str()) => error(id, -32602, format!("invalid params for {m}: {e}")),
            (Some(id), Some(m)) => error(id, -32601, format!("method not found: {m}")),
            (Some(id), None) => error(id, -32600, format!("invalid request: {e}")),
            // A notification or a response that cannot be read: nothing to answer.
            (None, _) => {
                tracing::debug!(error = %e, "an unreadable message without an id was dropped");
                Read::Skip
            }
        },
    }
}

/// Runs `f` with room to recurse (a deeply nested value is walked on a grown stack).
fn stacked<T>(f: impl FnOnce() -> T) -> T {
    stacker::maybe_grow(256 * 1024, 4 << 20, f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(line: &str) -> Value {
        match read(line.as_bytes()) {
            Read::Answer(v) => v,
            Read::Message(_) => panic!("{line} was passed on"),
            Read::Skip => panic!("{line} was skipped"),
        }
    }

    #[test]
    fn every_request_gets_an_answer_with_its_id() {
        assert_eq!(answer("{this is not json")["error"]["code"], -32700);
        assert_eq!(answer("[1, 2]")["error"]["code"], -32600);
        let a = answer(r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":[1]}"#);
        assert_eq!((a["id"].clone(), a["error"]["code"].clone()), (json!(7), json!(-32602)));
        let a = answer(r#"{"jsonrpc":"2.0","id":"x","method":"tools/call","params":{"name":"director","arguments":"go"}}"#);
        assert_eq!((a["id"].clone(), a["error"]["code"].clone()), (json!("x"), json!(-32602)));
        assert!(matches!(read(br#"{"jsonrpc":"2.0","method":"notifications/whatever","params":5}"#), Read::Skip | Read::Message(_)));
        assert!(matches!(read(br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#), Read::Message(_)));
        // 300 levels deep: read, and passed on for the tool to name the field.
        let deep = (0..300).fold(json!("x"), |v, _| json!({"a": [v]}));
        let line = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "director", "arguments": {"request": deep}}}).to_string();
        assert!(matches!(read(line.as_bytes()), Read::Message(_)));
        let abyss = format!("{}{}", "[".repeat(1_000_000), "]".repeat(1_000_000));
        assert_eq!(answer(&abyss)["error"]["code"], -32600);
        assert_eq!(depth(r#"{"a": "[[[[", "b": [[1]]}"#), 3);
    }
}
