//! Timestamps (microseconds since the Unix epoch, shown as RFC 3339) and the clock.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// A point in time, UTC, with microsecond precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The current time from the system clock.
    pub fn now() -> Self {
        Timestamp(jiff::Timestamp::now().as_microsecond())
    }
    pub fn micros(self) -> i64 {
        self.0
    }
    pub fn plus_secs(self, secs: i64) -> Self {
        Timestamp(self.0.saturating_add(secs.saturating_mul(1_000_000)))
    }
    pub fn minus_secs(self, secs: i64) -> Self {
        Timestamp(self.0.saturating_sub(secs.saturating_mul(1_000_000)))
    }
    /// Parses an RFC 3339 time such as `2026-11-22T10:00:00Z`.
    pub fn parse_rfc3339(s: &str) -> Result<Self> {
        let ts: jiff::Timestamp = s.trim().parse().map_err(|_| {
            Error::bad_input(format!(
                "invalid time '{s}': expected RFC 3339, for example 2026-11-22T10:00:00Z"
            ))
        })?;
        Ok(Timestamp(ts.as_microsecond()))
    }
    fn to_jiff(self) -> jiff::Timestamp {
        jiff::Timestamp::from_microsecond(self.0).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    }
    /// RFC 3339 with whole seconds, for people.
    pub fn short(self) -> String {
        let ts = self.to_jiff();
        let secs = jiff::Timestamp::from_second(ts.as_second()).unwrap_or(ts);
        secs.to_string()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_jiff())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse_rfc3339(&s).map_err(serde::de::Error::custom)
    }
}

/// Formats a span of seconds the way people read it: `45s`, `12m`, `3h 5m`, `2d 4h`.
pub fn human_span(secs: i64) -> String {
    let s = secs.abs();
    let out = if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m", s / 60)
    } else if s < 86_400 {
        let m = (s % 3600) / 60;
        if m == 0 {
            format!("{}h", s / 3600)
        } else {
            format!("{}h {}m", s / 3600, m)
        }
    } else {
        let h = (s % 86_400) / 3600;
        if h == 0 {
            format!("{}d", s / 86_400)
        } else {
            format!("{}d {}h", s / 86_400, h)
        }
    };
    if secs < 0 { format!("-{out}") } else { out }
}

/// A wait as short as it is precise: `10s`, `1.5s`, `800ms`.
pub fn human_wait(d: std::time::Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}
