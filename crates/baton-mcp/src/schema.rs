//! Output schemas: the top-level shape of each result, the same JSON object as the CLI's `--json`.
//!
//! They are written out rather than derived because derived schemas of the nested domain types
//! would be several times the 12 KB that the whole `tools/list` may take. Each names only the
//! fields every result of its tool has (all required); the others, present when they apply, are
//! documented with the CLI's `--json`. Nested objects are only typed as objects; the tool
//! descriptions name the fields agents act on.

use std::sync::Arc;

use rmcp::model::JsonObject;
use serde_json::{Map, Value, json};

/// One required property: a name and a type: `string`, `integer`, `boolean`, `object`, `array`, or any of
/// them with a trailing `?` when the value may be null.
type Prop<'a> = (&'a str, &'a str);

fn object(props: &[Prop]) -> Arc<JsonObject> {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for (name, ty) in props {
        required.push(*name);
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
    object(&[("session_id", "string"), ("session", "object"), ("digest", "object")])
}

pub fn session_ended() -> Arc<JsonObject> {
    object(&[("session", "object"), ("released", "array")])
}

pub fn logged() -> Arc<JsonObject> {
    object(&[("session_id", "string"), ("entry", "object")])
}

pub fn paused() -> Arc<JsonObject> {
    object(&[("session", "object")])
}

pub fn resumed() -> Arc<JsonObject> {
    object(&[("session_id", "string"), ("context", "object"), ("digest", "object")])
}

pub fn session_context() -> Arc<JsonObject> {
    object(&[("session", "object"), ("tldr", "string")])
}

pub fn session_list() -> Arc<JsonObject> {
    object(&[("sessions", "array")])
}

pub fn claim_outcome() -> Arc<JsonObject> {
    object(&[("claimed", "boolean"), ("item", "object")])
}

pub fn released() -> Arc<JsonObject> {
    object(&[("released", "boolean"), ("claim", "object")])
}

pub fn heartbeat() -> Arc<JsonObject> {
    object(&[("session_id", "string"), ("renewed", "array"), ("lost", "array")])
}

pub fn claim_list() -> Arc<JsonObject> {
    object(&[("claims", "array")])
}

pub fn changes_page() -> Arc<JsonObject> {
    object(&[("events", "array"), ("next_cursor", "integer"), ("more", "boolean")])
}

pub fn digest() -> Arc<JsonObject> {
    object(&[("project", "string"), ("agent", "string")])
}

/// `message` and `request`: each action returns its command's object (`baton send --json`,
/// `baton inbox --json`, ...), so only its being an object is common to all.
pub fn action_result() -> Arc<JsonObject> {
    let mut schema = JsonObject::new();
    schema.insert("type".into(), json!("object"));
    Arc::new(schema)
}

pub fn search_results() -> Arc<JsonObject> {
    object(&[("hits", "array")])
}
