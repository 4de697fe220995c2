//! Small text helpers shared by the layouts: escaping journal text inside markdown, slugs, times.

use baton_core::{JournalEntry, SessionStatus, Timestamp};

/// Line starts that would be read as document structure if a journal text began a line with them.
/// Such lines get a leading backslash when rendered, and lose it when parsed.
const STRUCTURAL: &[&str] = &["#", "\\", "```", "~~~", "Rationale:"];

fn is_structural(line: &str) -> bool {
    STRUCTURAL.iter().any(|p| line.starts_with(p))
}

/// One line of free text as it is written into a document.
pub fn escape_line(line: &str) -> String {
    if is_structural(line) {
        format!("\\{line}")
    } else {
        line.to_string()
    }
}

/// Undoes [`escape_line`]. A backslash before anything else is left alone, as markdown does.
pub fn unescape_line(line: &str) -> &str {
    match line.strip_prefix('\\') {
        Some(rest) if is_structural(rest) => rest,
        _ => line,
    }
}

/// The lines of a text with an optional rationale, escaped, ready to be written (indent added by the caller).
pub fn encode_body(text: &str, rationale: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = text.split('\n').map(escape_line).collect();
    if let Some(r) = rationale {
        let mut lines = r.split('\n');
        let first = lines.next().unwrap_or_default();
        out.push(if first.is_empty() {
            "Rationale:".to_string()
        } else {
            format!("Rationale: {first}")
        });
        out.extend(lines.map(escape_line));
    }
    out
}

/// Undoes [`encode_body`] on lines already stripped of their indent: the text, and the rationale if a line
/// starts with `Rationale:`.
pub fn decode_body(lines: &[String]) -> (String, Option<String>) {
    match lines.iter().position(|l| l.starts_with("Rationale:")) {
        Some(i) => {
            let text = decode_text(&lines[..i]);
            let first = lines[i].strip_prefix("Rationale:").unwrap_or_default();
            let first = first.strip_prefix(' ').unwrap_or(first);
            let mut rationale = vec![first.to_string()];
            rationale.extend(lines[i + 1..].iter().map(|l| unescape_line(l).to_string()));
            (text, Some(trim_blank_lines(&rationale.join("\n"))))
        }
        None => (decode_text(lines), None),
    }
}

/// Unescapes lines and joins them, without the blank lines around them.
pub fn decode_text(lines: &[String]) -> String {
    let joined = lines.iter().map(|l| unescape_line(l)).collect::<Vec<_>>().join("\n");
    trim_blank_lines(&joined)
}

/// Removes empty (or whitespace-only) lines at the start and end; keeps indentation of the first kept line.
pub fn trim_blank_lines(s: &str) -> String {
    let lines: Vec<&str> = s.split('\n').collect();
    let start = lines.iter().position(|l| !l.trim().is_empty());
    let end = lines.iter().rposition(|l| !l.trim().is_empty());
    match (start, end) {
        (Some(a), Some(b)) => lines[a..=b].join("\n"),
        _ => String::new(),
    }
}

/// Writes `lines` as one markdown list item: `- ` (or `prefix`) before the first, two spaces before the rest.
pub fn push_item(out: &mut String, prefix: &str, lines: &[String]) {
    for (i, l) in lines.iter().enumerate() {
        if i == 0 {
            out.push_str(prefix);
        } else if !l.is_empty() {
            out.push_str("  ");
        }
        out.push_str(l);
        out.push('\n');
    }
}

/// A file-name-safe slug: lowercase ASCII letters and digits joined by single dashes, at most 50 characters.
pub fn slugify(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            if out.len() >= 50 {
                break;
            }
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() { "session".to_string() } else { out }
}

/// Whether `s` is a slug as [`slugify`] makes them.
pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The first non-empty line of a text, shortened to `max` characters.
pub fn first_line(s: &str, max: usize) -> Option<String> {
    s.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(|l| baton_core::clip(l, max))
}

fn jiff_ts(t: Timestamp) -> jiff::Timestamp {
    jiff::Timestamp::from_microsecond(t.micros()).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

/// `2026-11-22 03:25`, UTC.
pub fn minute(t: Timestamp) -> String {
    jiff_ts(t).strftime("%Y-%m-%d %H:%M").to_string()
}

/// `20261122-032520`, UTC.
pub fn compact_second(t: Timestamp) -> String {
    jiff_ts(t).strftime("%Y%m%d-%H%M%S").to_string()
}

/// `20261122-032520-130567`, UTC: unique to the microsecond, for journal entry files.
pub fn compact_micro(t: Timestamp) -> String {
    format!("{}-{:06}", compact_second(t), t.micros().rem_euclid(1_000_000))
}

/// Parses a time as documents write them: RFC 3339, or a UTC date and time without offset
/// (`2026-11-22 03:25`, `2026-11-22T03:25:20`), or a date alone (midnight UTC).
pub fn parse_time(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if let Ok(t) = Timestamp::parse_rfc3339(s) {
        return Some(t);
    }
    let civil: Option<jiff::civil::DateTime> = s.parse::<jiff::civil::DateTime>().ok().or_else(|| {
        s.parse::<jiff::civil::Date>()
            .ok()
            .map(|d| d.to_datetime(jiff::civil::Time::midnight()))
    });
    let ts = civil?.to_zoned(jiff::tz::TimeZone::UTC).ok()?.timestamp();
    Some(Timestamp(ts.as_microsecond()))
}

/// Parses `YYYYMMDD-HHMMSS` (UTC).
pub fn parse_compact_second(s: &str) -> Option<Timestamp> {
    if s.len() != 15 || !s.is_char_boundary(8) || s.as_bytes().get(8) != Some(&b'-') {
        return None;
    }
    let (d, t) = (&s[..8], &s[9..]);
    if !d.bytes().chain(t.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    parse_time(&format!(
        "{}-{}-{}T{}:{}:{}",
        &d[..4],
        &d[4..6],
        &d[6..],
        &t[..2],
        &t[2..4],
        &t[4..]
    ))
}

/// The agents layout's three statuses for baton's six.
pub fn agents_status(s: SessionStatus) -> &'static str {
    match s {
        SessionStatus::Drafting | SessionStatus::Planned | SessionStatus::Active => "in_progress",
        SessionStatus::Paused => "paused",
        SessionStatus::Completed | SessionStatus::Abandoned => "completed",
    }
}

/// Every entry of a session in the order they happened (ties broken by id, so the order is stable).
pub fn chronological(ctx: &baton_core::SessionContext) -> Vec<&JournalEntry> {
    let mut all: Vec<&JournalEntry> = ctx
        .journal
        .progress
        .iter()
        .chain(&ctx.journal.decisions)
        .chain(&ctx.journal.discoveries)
        .chain(&ctx.journal.blockers)
        .chain(&ctx.journal.next_steps)
        .chain(&ctx.journal.done)
        .chain(&ctx.journal.notes)
        .chain(&ctx.journal.checkpoints)
        .collect();
    all.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_round_trips() {
        for line in [
            "# heading",
            "\\#",
            "\\\\x",
            "\\a",
            "```rust",
            "Rationale: x",
            "plain",
            "",
            "## Context",
        ] {
            assert_eq!(unescape_line(&escape_line(line)), line, "{line:?}");
        }
        // A backslash markdown would show stays.
        assert_eq!(unescape_line("\\a"), "\\a");
    }

    #[test]
    fn bodies_round_trip() {
        let cases = [
            ("JWT for tokens", Some("stateless")),
            ("two\nlines\n## not a heading", None),
            ("text", Some("multi\nline\n\nRationale: inside")),
            ("Rationale: in the text", Some("")),
        ];
        for (text, rationale) in cases {
            let lines = encode_body(text, rationale);
            let (t, r) = decode_body(&lines);
            assert_eq!(t, text);
            assert_eq!(r.as_deref(), rationale);
        }
    }

    #[test]
    fn slugs() {
        assert_eq!(slugify("Auth refactor: JWT + refresh!"), "auth-refactor-jwt-refresh");
        assert_eq!(slugify("  "), "session");
        assert_eq!(slugify("Ünïcode"), "n-code");
        assert!(slugify(&"word ".repeat(40)).len() <= 50);
        assert!(is_slug("auth-refactor") && !is_slug("Auth") && !is_slug("a--b") && !is_slug("-a"));
    }

    #[test]
    fn times() {
        let t = Timestamp::parse_rfc3339("2026-11-22T03:25:20.130567Z").unwrap();
        assert_eq!(minute(t), "2026-11-22 03:25");
        assert_eq!(compact_second(t), "20261122-032520");
        assert_eq!(compact_micro(t), "20261122-032520-130567");
        assert_eq!(
            parse_compact_second("20261122-032520"),
            Some(Timestamp(t.micros() - 130_567))
        );
        assert_eq!(parse_time("2026-11-22 03:25"), parse_time("2026-11-22T03:25:00Z"));
        assert!(parse_time("2026-11-22").is_some());
        for bad in ["", "yesterday", "2026-13-01", "20261122-0325", "2026112x-032520"] {
            assert!(parse_time(bad).is_none() || bad.len() == 10, "{bad}");
            assert!(parse_compact_second(bad).is_none(), "{bad}");
        }
    }
}
