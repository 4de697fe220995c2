//! Parsing the JSON a client writes on a hook's stdin.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use baton_core::{Error, Result};
use serde_json::Value;

/// A coding client that runs hooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    Claude,
    Codex,
    Gemini,
}

impl Client {
    /// The agent name sessions get when nothing else names one.
    pub fn default_agent(self) -> &'static str {
        match self {
            Client::Claude => "claude-code",
            Client::Codex => "codex",
            Client::Gemini => "gemini-cli",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Client::Claude => "claude",
            Client::Codex => "codex",
            Client::Gemini => "gemini",
        }
    }

    /// The client's own names for the events baton acts on.
    pub fn events(self) -> &'static [&'static str] {
        match self {
            Client::Claude => &[
                "SessionStart",
                "UserPromptSubmit",
                "PostToolUse",
                "PreCompact",
                "Stop",
                "SessionEnd",
            ],
            Client::Codex => &[
                "SessionStart",
                "UserPromptSubmit",
                "PostToolUse",
                "PreCompact",
                "PostCompact",
                "Stop",
            ],
            Client::Gemini => &[
                "SessionStart",
                "BeforeAgent",
                "AfterTool",
                "PreCompress",
                "AfterAgent",
                "SessionEnd",
            ],
        }
    }
}

impl fmt::Display for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Client {
    type Err = Error;
    fn from_str(s: &str) -> Result<Client> {
        match s {
            "claude" | "claude-code" => Ok(Client::Claude),
            "codex" => Ok(Client::Codex),
            "gemini" | "gemini-cli" => Ok(Client::Gemini),
            _ => Err(Error::bad_input(format!(
                "unknown client '{s}': expected claude, codex or gemini"
            ))),
        }
    }
}

/// What happened in the client, in baton's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookEvent {
    /// A conversation started, resumed, was cleared or compacted (`source`).
    SessionStart { source: String },
    /// The user sent a prompt.
    PromptSubmit { prompt: String },
    /// The agent used a tool (it runs on every tool call: it must stay cheap).
    ToolUsed,
    /// The client is about to compact its context.
    PreCompact,
    /// The client compacted its context (Codex).
    PostCompact,
    /// The agent finished a turn.
    Stop,
    /// The conversation ended.
    SessionEnd,
    /// An event baton does not act on.
    Other,
}

/// A parsed hook call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookInput {
    pub client: Client,
    /// The client's name of the event, echoed back in its answer.
    pub event_name: String,
    pub event: HookEvent,
    /// The client's conversation id.
    pub session_id: String,
    pub cwd: Option<PathBuf>,
}

/// Parses a hook's stdin. `event` (from `baton hook <client> <Event>`) wins over `hook_event_name`.
pub fn parse_input(client: &str, bytes: &[u8], event: Option<&str>) -> Result<HookInput> {
    let client: Client = client.parse()?;
    let text = std::str::from_utf8(bytes)
        .map_err(|e| Error::bad_input(format!("hook input is not UTF-8 (at byte {})", e.valid_up_to())))?;
    let value: Value = if text.trim().is_empty() {
        Value::Object(Default::default())
    } else {
        serde_json::from_str(text).map_err(|e| {
            Error::bad_input(format!(
                "hook input is not JSON ({e}); expected the {client} hook payload"
            ))
        })?
    };
    let obj = value
        .as_object()
        .ok_or_else(|| Error::bad_input(format!("hook input must be a JSON object, got: {}", kind_of(&value))))?;
    let field = |name: &str| obj.get(name).and_then(Value::as_str).map(str::to_string);
    let event_name = match event.map(str::to_string).or_else(|| field("hook_event_name")) {
        Some(e) if !e.trim().is_empty() => e,
        _ => {
            return Err(Error::bad_input(format!(
                "hook input has no hook_event_name; pass the event, for example `baton hook {client} {}`",
                client.events()[0]
            )));
        }
    };
    let session_id = field("session_id").filter(|s| !s.trim().is_empty()).ok_or_else(|| {
        Error::bad_input(format!(
            "hook input for {event_name} has no session_id: expected the client's conversation id"
        ))
    })?;
    if session_id.chars().count() > 200 || session_id.chars().any(char::is_control) {
        return Err(Error::bad_input(format!(
            "hook input session_id '{}' is not an id: expected at most 200 printable characters",
            session_id.chars().take(40).collect::<String>().escape_debug()
        )));
    }
    let event = match (client, event_name.as_str()) {
        (_, "SessionStart") => HookEvent::SessionStart {
            source: field("source")
                .or_else(|| field("trigger"))
                .unwrap_or_else(|| "startup".to_string()),
        },
        (Client::Claude | Client::Codex, "UserPromptSubmit") => HookEvent::PromptSubmit {
            prompt: field("prompt").unwrap_or_default(),
        },
        (Client::Gemini, "BeforeAgent") => HookEvent::PromptSubmit {
            prompt: without_hook_context(&field("prompt").unwrap_or_default()).to_string(),
        },
        // Gemini CLI fires PreCompress with trigger "auto" before every model request, ahead of its own check
        // whether to compress, so most of them are no compaction; `/compress` says "manual".
        (Client::Gemini, "PreCompress") if field("trigger").as_deref() == Some("auto") => HookEvent::Other,
        (Client::Claude | Client::Codex, "PreCompact") | (Client::Gemini, "PreCompress") => HookEvent::PreCompact,
        (Client::Codex, "PostCompact") => HookEvent::PostCompact,
        (Client::Claude | Client::Codex, "PostToolUse") | (Client::Gemini, "AfterTool") => HookEvent::ToolUsed,
        (Client::Claude | Client::Codex, "Stop") | (Client::Gemini, "AfterAgent") => HookEvent::Stop,
        (Client::Claude | Client::Gemini, "SessionEnd") => HookEvent::SessionEnd,
        _ => HookEvent::Other,
    };
    Ok(HookInput {
        client,
        event_name,
        event,
        session_id,
        cwd: field("cwd").map(PathBuf::from),
    })
}

/// The person's prompt without the `<hook_context>` blocks Gemini CLI puts before it: the first prompt of a
/// conversation arrives at BeforeAgent as SessionStart's context, wrapped in those tags, then the prompt.
fn without_hook_context(prompt: &str) -> &str {
    const OPEN: &str = "<hook_context>";
    const CLOSE: &str = "</hook_context>";
    let mut rest = prompt.trim_start();
    while let Some(after) = rest.strip_prefix(OPEN) {
        let Some(end) = after.find(CLOSE) else {
            break;
        };
        rest = after[end + CLOSE.len()..].trim_start();
    }
    rest
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claude_session_start() {
        let i = parse_input(
            "claude",
            br#"{"session_id":"abc","cwd":"/r","hook_event_name":"SessionStart","source":"compact"}"#,
            None,
        )
        .unwrap();
        assert_eq!(
            i.event,
            HookEvent::SessionStart {
                source: "compact".into()
            }
        );
        assert_eq!(i.session_id, "abc");
    }

    #[test]
    fn gemini_prompt_without_the_session_start_context() {
        // What Gemini CLI 0.61.0 sends BeforeAgent for a conversation's first prompt.
        let input = br#"{"session_id":"g","hook_event_name":"BeforeAgent","prompt":"<hook_context>baton session 0193 started.\n\nDigest</hook_context>\n\nAdd rate limiting to the API"}"#;
        let i = parse_input("gemini", input, None).unwrap();
        assert_eq!(
            i.event,
            HookEvent::PromptSubmit {
                prompt: "Add rate limiting to the API".into()
            }
        );
        for (given, want) in [
            ("continue", "continue"),
            (
                "<hook_context>a</hook_context><hook_context>b</hook_context> continue",
                "continue",
            ),
            // An unclosed tag is the person's text.
            ("<hook_context>not closed", "<hook_context>not closed"),
            (
                "see <hook_context>x</hook_context>",
                "see <hook_context>x</hook_context>",
            ),
        ] {
            assert_eq!(without_hook_context(given), want, "{given}");
        }
        // Other clients' prompts are taken as they come.
        let i = parse_input(
            "claude",
            br#"{"session_id":"c","hook_event_name":"UserPromptSubmit","prompt":"<hook_context>x</hook_context> hi"}"#,
            None,
        )
        .unwrap();
        assert_eq!(
            i.event,
            HookEvent::PromptSubmit {
                prompt: "<hook_context>x</hook_context> hi".into()
            }
        );
    }

    #[test]
    fn gemini_names_map() {
        let i = parse_input(
            "gemini",
            br#"{"session_id":"g","hook_event_name":"BeforeAgent","prompt":"hi"}"#,
            None,
        )
        .unwrap();
        assert_eq!(i.event, HookEvent::PromptSubmit { prompt: "hi".into() });
        let i = parse_input("gemini", br#"{"session_id":"g"}"#, Some("PreCompress")).unwrap();
        assert_eq!(i.event, HookEvent::PreCompact);
        let i = parse_input(
            "gemini",
            br#"{"session_id":"g","trigger":"manual"}"#,
            Some("PreCompress"),
        )
        .unwrap();
        assert_eq!(i.event, HookEvent::PreCompact);
        let i = parse_input("gemini", br#"{"session_id":"g","trigger":"auto"}"#, Some("PreCompress")).unwrap();
        assert_eq!(i.event, HookEvent::Other);
    }

    #[test]
    fn bad_inputs_are_errors_not_panics() {
        for (client, body) in [
            ("claude", &b"{"[..]),
            ("claude", b"[1]"),
            ("claude", b"{\"hook_event_name\":\"Stop\"}"),
            ("claude", b"{\"session_id\":\"x\"}"),
            ("vim", b"{}"),
            ("codex", b"\xff\xfe"),
        ] {
            let e = parse_input(client, body, None).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{e}");
        }
    }
}
