//! Hook payloads as coding clients send them on stdin: `CLIENT\nPAYLOAD`, parsed without a panic.

#![no_main]

use baton_hooks::parse_input;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (client, payload) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (std::str::from_utf8(&data[..i]).unwrap_or("claude"), &data[i + 1..]),
        None => ("claude", data),
    };
    let _ = parse_input(client, payload, None);
    let _ = parse_input(client, payload, Some("SessionStart"));
    for known in ["claude", "codex", "gemini"] {
        let _ = parse_input(known, payload, None);
    }
});
