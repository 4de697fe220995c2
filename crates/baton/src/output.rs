//! Printing: human text or one JSON object.

use std::io::Write;

use baton_core::Error;
use serde::Serialize;

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

pub use baton_core::render::*;
