//! Printing: human text or one JSON object, and the one mapping from errors to exit codes.

use std::io::Write;

use baton_core::Error;
use serde::Serialize;
use serde_json::json;

/// Prints `value` as one line of JSON on stdout.
pub fn print_json<T: Serialize>(value: &T) -> Result<(), Error> {
    let text = serde_json::to_string(value).map_err(|e| Error::internal(format!("cannot encode output: {e}")))?;
    println_out(&text)
}

/// Prints text on stdout; a closed pipe is not an error worth a panic.
pub fn println_out(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::internal(format!("cannot write to stdout: {e}"))),
    }
}

/// Reports an error (on stderr, and as JSON on stdout with `--json`) and returns its exit code.
pub fn report_error(e: &Error, json: bool) -> i32 {
    if json {
        let mut obj = json!({"kind": e.kind(), "message": e.to_string(), "exit_code": e.exit_code()});
        if let (Some(details), Some(map)) = (e.details(), obj.as_object_mut())
            && let Some(d) = details.as_object()
        {
            for (k, v) in d {
                map.insert(k.clone(), v.clone());
            }
        }
        let _ = print_json(&json!({"error": obj}));
    }
    eprintln!("error: {e}");
    e.exit_code()
}

pub use baton_core::render::*;
