//! `.baton/config.toml` comes from whatever repository baton runs in: every file is read or refused with a
//! message, never a panic, and an accepted file yields a policy or a clear error.

#![no_main]

use baton_core::config::{ConfigFile, Policy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(cfg) = ConfigFile::parse(text, "fuzz.toml") {
        if let Ok(policy) = Policy::from_config(&cfg) {
            assert!(policy.default_ttl_secs > 0, "{text:?} gave a lease of {}s", policy.default_ttl_secs);
            assert!(policy.stale_after_secs > 0, "{text:?} gave a stale time of {}s", policy.stale_after_secs);
        }
        let _ = cfg.clone().overlay(ConfigFile::default());
    }
});
