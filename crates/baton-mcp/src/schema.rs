//! Output schemas: the top-level shape of each result, the same JSON object as the CLI's `--json`.
//!
//! They are written out rather than derived because derived schemas of the nested domain types
//! would be several times the 12 KB that the whole `tools/list` may take. Nested objects are only
//! typed as objects; the tool descriptions name the fields agents act on.

use std::sync::Arc;

use rmcp::model::JsonObject;
use serde_json::{Map, Value, json};

/// One property: a name and a type: `string`, `integer`, `boolean`, `object`, `array`, or any of
/// them with a trailing `?` when the value may be null.
type Prop<'a> = (&'a str, &'a str);

fn object(props: &[Prop], required: &[&str]) -> Arc<JsonObject> {
    let mut properties = Map::new();
    for (name, ty) in props {
        let ty = match ty.strip_suffix('?') {
            Some(t) => json!([t, "null"]),
            None => json!(ty),
        };
        properties.insert((*name).to_string(), json!({ "type": ty }));
    }
    let mut schema = JsonObject::new();
    schema.insert("type".into(), json!("object"));
    schema.insert("properties".into(), Value::Object(properties));
    schema.insert("required".into(), json!(required));
    Arc::new(schema)
}

pub fn session_started() -> Arc<JsonObject> {
    object(
        &[
            ("session_id", "string"),
            ("session", "object"),
            ("handoff_notes", "string?"),
            ("last_summary", "string?"),
            ("last_handoff", "object?"),
            ("digest", "object"),
            ("warnings", "array"),
        ],
        &["session_id", "session", "digest"],
    )
}

pub fn session_ended() -> Arc<JsonObject> {
    object(
        &[("session", "object"), ("released", "array")],
        &["session", "released"],
    )
}

pub fn logged() -> Arc<JsonObject> {
    object(
        &[("session_id", "string"), ("entry", "object"), ("paused", "boolean")],
        &["session_id", "entry"],
    )
}

pub fn paused() -> Arc<JsonObject> {
    object(&[("session", "object")], &["session"])
}

pub fn resumed() -> Arc<JsonObject> {
    object(
        &[("session_id", "string"), ("context", "object"), ("digest", "object")],
        &["session_id", "context", "digest"],
    )
}

pub fn session_context() -> Arc<JsonObject> {
    object(
        &[
            ("session", "object"),
            ("tldr", "string"),
            ("progress", "array"),
            ("decisions", "array"),
            ("discoveries", "array"),
            ("blockers", "array"),
            ("next_steps", "array"),
            ("done", "array"),
            ("notes", "array"),
            ("checkpoints", "array"),
            ("claims", "array"),
        ],
        &["session", "tldr"],
    )
}

pub fn session_list() -> Arc<JsonObject> {
    object(&[("sessions", "array")], &["sessions"])
}

pub fn claim_outcome() -> Arc<JsonObject> {
    object(
        &[
            ("claimed", "boolean"),
            ("item", "object"),
            ("claim", "object"),
            ("claimed_by", "object"),
            ("taken_over_from", "object"),
            ("renewed", "boolean"),
        ],
        &["claimed", "item"],
    )
}

pub fn released() -> Arc<JsonObject> {
    object(
        &[("released", "boolean"), ("claim", "object"), ("forced", "boolean")],
        &["released", "claim"],
    )
}

pub fn heartbeat() -> Arc<JsonObject> {
    object(
        &[
            ("session_id", "string"),
            ("last_seen", "string"),
            ("resumed", "boolean"),
            ("renewed", "array"),
            ("lost", "array"),
        ],
        &["session_id", "renewed", "lost"],
    )
}

pub fn claim_list() -> Arc<JsonObject> {
    object(&[("project", "string"), ("claims", "array")], &["claims"])
}

pub fn changes_page() -> Arc<JsonObject> {
    object(
        &[
            ("project", "string"),
            ("events", "array"),
            ("next_cursor", "integer"),
            ("more", "boolean"),
        ],
        &["events", "next_cursor", "more"],
    )
}

pub fn digest() -> Arc<JsonObject> {
    object(
        &[
            ("project", "string"),
            ("agent", "string"),
            ("generated_at", "string"),
            ("first_session", "boolean"),
            ("last_handoff", "object?"),
            ("active_sessions", "array"),
            ("my_claims", "array"),
            ("other_claims", "array"),
            ("blockers", "array"),
            ("changes", "object"),
            ("messages", "object"),
            ("omitted", "array"),
        ],
        &["project", "agent"],
    )
}

/// `message` and `request`: each action returns its command's object (`baton send --json`,
/// `baton inbox --json`, ...), so only its being an object is common to all.
pub fn action_result() -> Arc<JsonObject> {
    let mut schema = JsonObject::new();
    schema.insert("type".into(), json!("object"));
    Arc::new(schema)
}

pub fn search_results() -> Arc<JsonObject> {
    object(&[("project", "string"), ("hits", "array")], &["hits"])
}
