//! Idempotency keys: a call retried with the key it was first made with gets the first call's result back
//! instead of being made twice.
//!
//! Calls made for a session keep their keys in that session's scope; calls made with no session yet (a start, a
//! forced release outside any session) in the agent's; keys derived from documents in the project's.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::Caller;
use super::op::Op;
use crate::error::{Error, Result};
use crate::model::{IdempotencyRecord, KeyScope};
use crate::parse;
use crate::store::Tx;
use crate::time::Timestamp;

/// Checks an idempotency key before any transaction starts.
pub(super) fn check_key(key: Option<&String>) -> Result<()> {
    match key {
        Some(k) => parse::check_id("idempotency key", k),
        None => Ok(()),
    }
}

/// An idempotency key as one caller used it for one request.
///
/// Keys are scoped to their caller ([`KeyScope`]): the same key from another session or agent is that
/// caller's own request, never a replay of someone else's result.
pub(super) struct Keyed<'a> {
    project: &'a str,
    scope: String,
    key: &'a str,
    command: &'static str,
    request: String,
}

impl<'a> Keyed<'a> {
    /// `None` when the call carries no key.
    pub(super) fn new(
        caller: &'a Caller,
        scope: KeyScope,
        key: Option<&'a str>,
        command: &'static str,
        fingerprint: &Value,
    ) -> Option<Keyed<'a>> {
        key.map(|key| Keyed {
            project: &caller.project.key,
            scope: scope.as_stored(),
            key,
            command,
            request: fingerprint.to_string(),
        })
    }

    /// The result of this caller's earlier call with this key; an error when that call was another request.
    pub(super) fn replay<T: DeserializeOwned>(&self, tx: &mut dyn Tx) -> Result<Option<T>> {
        let Some(rec) = tx.idempotency(self.project, &self.scope, self.key)? else {
            return Ok(None);
        };
        if rec.command != self.command || rec.request != self.request {
            return Err(Error::bad_input(format!(
                "idempotency key '{}' was already used for a different request ({}): use a new key for a new request",
                self.key, rec.command
            )));
        }
        serde_json::from_str(&rec.result).map(Some).map_err(|e| {
            Error::internal(format!(
                "stored result for idempotency key '{}' is unreadable: {e}",
                self.key
            ))
        })
    }

    /// Stores the result for retries.
    pub(super) fn remember<T: Serialize>(&self, tx: &mut dyn Tx, result: &T, now: Timestamp) -> Result<()> {
        let result = serde_json::to_string(result).map_err(|e| Error::internal(e.to_string()))?;
        tx.put_idempotency(&IdempotencyRecord {
            project: self.project.to_string(),
            scope: self.scope.clone(),
            key: self.key.to_string(),
            command: self.command.to_string(),
            request: self.request.clone(),
            result,
            created_at: now,
        })
    }
}

impl Op<'_> {
    /// Runs `f` once per key: a retry by the same caller returns the first call's stored result.
    pub(super) fn once<T: Serialize + DeserializeOwned>(
        &mut self,
        keyed: Option<&Keyed>,
        f: impl FnOnce(&mut Self) -> Result<T>,
    ) -> Result<T> {
        let Some(k) = keyed else { return f(self) };
        if let Some(prev) = k.replay(self.tx)? {
            return Ok(prev);
        }
        let out = f(self)?;
        k.remember(self.tx, &out, self.now)?;
        Ok(out)
    }
}
