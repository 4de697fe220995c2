//! Durations, leases and `--since` values: every input is accepted or refused with a message, never a panic.

#![no_main]

use baton_core::Timestamp;
use baton_core::parse::{parse_duration, parse_since, parse_ttl};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(secs) = parse_duration(s) {
        assert!(secs >= 0, "{s:?} parsed to a negative duration");
    }
    let _ = parse_ttl(s);
    for now in [
        Timestamp(0),
        Timestamp(1_800_000_000_000_000),
        Timestamp(i64::MAX),
        Timestamp(i64::MIN),
    ] {
        let _ = parse_since(s, now);
    }
});
