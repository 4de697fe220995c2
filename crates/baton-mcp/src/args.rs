//! Tool arguments: the CLI's flags in snake_case. Doc comments become the schema's property
//! descriptions, which every agent reads on every `tools/list`, so they stay short.

use std::sync::Arc;

use baton_core::EntryKind;
use rmcp::model::JsonObject;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// The input schema of `T`, trimmed: agents pay for every byte of `tools/list`. Dropped: the
/// `$schema` line, `additionalProperties: false` (unknown arguments still get an error naming
/// them), and `null` in optional properties' types (leaving an argument out is the way to omit it).
pub fn input_schema<T: JsonSchema + 'static>() -> Arc<JsonObject> {
    let schema = rmcp::handler::server::common::schema_for_input::<T>()
        .unwrap_or_else(|e| panic!("argument type {} has no object schema: {e}", std::any::type_name::<T>()));
    let mut schema = schema.as_ref().clone();
    schema.remove("$schema");
    schema.remove("additionalProperties");
    if let Some(Value::Object(props)) = schema.get_mut("properties") {
        for prop in props.values_mut() {
            // `int64`, `uint32`: the JSON type says enough.
            if let Some(p) = prop.as_object_mut() {
                p.remove("format");
            }
            if let Some(Value::Array(types)) = prop.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    prop["type"] = only;
                }
            }
        }
    }
    Arc::new(schema)
}

/// Work item ids are strings, but agents often send `15` for issue 15: accept both.
fn string_or_integer<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Text(String),
        Number(i64),
    }
    match Id::deserialize(d) {
        Ok(Id::Text(s)) => Ok(s),
        Ok(Id::Number(n)) => Ok(n.to_string()),
        Err(_) => Err(serde::de::Error::custom(
            "invalid work_id: expected a string or an integer, like \"15\" or 15",
        )),
    }
}

fn work_id_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": ["string", "integer"], "description": "Item id, like 15"})
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StartArgs {
    /// Your goal for this session
    pub context: String,
    /// Who you are, like claude-code (default: the server's --agent)
    pub agent_id: Option<String>,
    /// A short name
    pub name: Option<String>,
    /// Task ids you work on
    #[serde(default)]
    pub task_ids: Vec<String>,
    /// Like implementer or reviewer
    pub role: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EndArgs {
    /// What was done
    pub summary: String,
    /// What the next agent must know
    pub handoff_notes: String,
    /// Next steps
    #[serde(default)]
    pub next: Vec<String>,
    /// Open blockers
    #[serde(default)]
    pub blockers: Vec<String>,
    /// Default: this connection's session
    pub session_id: Option<String>,
}

/// The kinds `log` writes, from the core's list.
fn entry_kind_schema(_: &mut SchemaGenerator) -> Schema {
    let kinds: Vec<&str> = EntryKind::ALL
        .iter()
        .filter(|k| k.is_logged())
        .map(|k| k.as_str())
        .collect();
    json_schema!({"type": "string", "enum": kinds})
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogArgs {
    #[schemars(schema_with = "entry_kind_schema")]
    pub kind: String,
    pub text: String,
    /// Why (with kind decision)
    pub rationale: Option<String>,
    pub supersedes: Option<String>,
    /// Default: this connection's session
    pub session_id: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteArgs {
    pub note: Option<String>,
    /// Default: this connection's session
    pub session_id: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionArgs {
    /// Default: this connection's session
    pub session_id: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResumeArgs {
    /// Default: your latest paused or active session
    pub session_id: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseArgs {
    /// Abandon instead of completing (needs reason)
    #[serde(default)]
    pub abandon: bool,
    pub reason: Option<String>,
    /// Default: this connection's session
    pub session_id: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListArgs {
    #[schemars(extend("enum" = ["drafting", "planned", "active", "paused", "completed", "abandoned"]))]
    pub status: Option<String>,
    #[serde(default)]
    pub all_projects: bool,
    /// 1 to 1000 (default 100)
    pub limit: Option<u32>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimArgs {
    /// issue, pr, qa, task, session, or a type in the config's types
    pub work_type: String,
    #[serde(deserialize_with = "string_or_integer")]
    #[schemars(schema_with = "work_id_schema")]
    pub work_id: String,
    /// Like org/app (default: this project's)
    pub repo: Option<String>,
    /// Lease: 90s, 30m, 2h, 1d (default 30m)
    pub ttl: Option<String>,
    /// A retry with the same key returns the first result
    pub idempotency_key: Option<String>,
    /// Claim a type not built in nor in the config's types
    #[serde(default)]
    pub new_type: bool,
    /// Default: this connection's session
    pub session_id: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseArgs {
    pub work_type: String,
    #[serde(deserialize_with = "string_or_integer")]
    #[schemars(schema_with = "work_id_schema")]
    pub work_id: String,
    pub repo: Option<String>,
    #[schemars(extend("enum" = ["completed", "blocked", "deferred"]))]
    pub status: String,
    /// Like "PR #16"
    pub notes: Option<String>,
    /// Release another session's claim (needs reason)
    #[serde(default)]
    pub force: bool,
    pub reason: Option<String>,
    /// Default: this connection's session
    pub session_id: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimsArgs {
    /// Only your session's claims
    #[serde(default)]
    pub mine: bool,
    pub work_type: Option<String>,
    /// Include released and taken-over grants
    #[serde(default)]
    pub include_released: bool,
    /// Default: this connection's session
    pub session_id: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangesArgs {
    /// 2h, 30m, an RFC 3339 time, or a next_cursor
    pub since: Option<String>,
    /// Only this agent's events
    pub agent_id: Option<String>,
    /// claim.granted, or a family: session, journal, claim
    pub kind: Option<String>,
    /// 1 to 1000 (default 100)
    pub limit: Option<u32>,
}

// The `message` and `request` tools say what each argument is for in their descriptions, once.

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageArgs {
    pub action: String,
    pub to: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub text: Option<String>,
    pub id: Option<String>,
    pub expires: Option<String>,
    pub unread: Option<bool>,
    pub all: Option<bool>,
    pub after: Option<i64>,
    pub limit: Option<u32>,
    pub session_id: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestArgs {
    pub action: String,
    pub to: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub text: Option<String>,
    pub id: Option<String>,
    pub response: Option<String>,
    pub which: Option<String>,
    pub status: Option<String>,
    pub session_id: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchArgs {
    pub text: String,
    #[schemars(extend("enum" = ["decision", "journal", "handoff"]))]
    pub kind: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamArgs {
    pub action: String,
    pub name: Option<String>,
    pub file: Option<String>,
    pub description: Option<String>,
    pub from: Option<String>,
    pub text: Option<String>,
    pub session_id: Option<String>,
}
