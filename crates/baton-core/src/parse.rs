//! Parsers and validators for everything that comes from outside: durations, times, cursors, ids, text.
//! Each error names the value and what is accepted.

use std::str::FromStr;

use crate::error::{Error, Result, Usage};
use crate::time::Timestamp;

/// A request field whose value is one of a known set (a release status, an entry kind): either already
/// typed, from Rust code, or the text a front end received, which the core parses. Every front end thus
/// accepts and refuses the same values with the same message and facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wire<T> {
    Typed(T),
    Text(String),
}

impl<T> From<T> for Wire<T> {
    fn from(v: T) -> Self {
        Wire::Typed(v)
    }
}

impl<T: FromStr<Err = Error> + Clone> Wire<T> {
    /// The text a front end received, to be parsed by the core.
    pub fn text(s: impl Into<String>) -> Self {
        Wire::Text(s.into())
    }

    /// The typed value; text that is not one of the accepted values is a bad input naming `field`.
    pub fn get(&self, field: &'static str) -> Result<T> {
        match self {
            Wire::Typed(v) => Ok(v.clone()),
            Wire::Text(s) => s.parse().map_err(|e: Error| e.in_field(field)),
        }
    }
}

/// Longest text accepted for any free-text field (64 KiB).
pub const MAX_TEXT_BYTES: usize = 64 * 1024;
/// Longest work item id, repo or name.
pub const MAX_ID_CHARS: usize = 200;
/// Longest work type.
pub const MAX_TYPE_CHARS: usize = 32;
/// Longest accepted lease.
pub const MAX_TTL_SECS: i64 = 30 * 86_400;

/// Parses a duration like `90s`, `30m`, `2h`, `1d` or `1h30m` into seconds.
pub fn parse_duration(s: &str) -> Result<i64> {
    let bad = || {
        Error::bad_input(format!(
            "invalid duration '{s}': expected a number with a unit s, m, h or d, for example 90s, 30m, 2h, 1d or 1h30m"
        ))
    };
    let t = s.trim();
    if t.is_empty() {
        return Err(bad());
    }
    let mut total: i64 = 0;
    let mut digits = String::new();
    for c in t.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(bad()),
        };
        if digits.is_empty() || digits.len() > 9 {
            return Err(bad());
        }
        let n: i64 = digits.parse().map_err(|_| bad())?;
        total = total
            .checked_add(n.checked_mul(unit).ok_or_else(bad)?)
            .ok_or_else(bad)?;
        digits.clear();
    }
    if !digits.is_empty() {
        return Err(bad());
    }
    Ok(total)
}

/// Parses a lease length and checks it is between 1 second and 30 days.
pub fn parse_ttl(s: &str) -> Result<i64> {
    let secs = parse_duration(s)?;
    if !(1..=MAX_TTL_SECS).contains(&secs) {
        return Err(Error::bad_input(format!(
            "invalid ttl '{s}': expected a duration between 1s and 30d"
        )));
    }
    Ok(secs)
}

/// Where `changes` starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    /// After this `seq` (a `next_cursor`).
    Cursor(i64),
    /// At or after this time.
    Time(Timestamp),
}

/// Parses `--since`: a cursor (digits), a duration back from `now`, or an RFC 3339 time.
pub fn parse_since(s: &str, now: Timestamp) -> Result<Since> {
    let t = s.trim();
    if !t.is_empty() && t.len() <= 19 && t.bytes().all(|b| b.is_ascii_digit()) {
        let seq: i64 = t.parse().map_err(|_| since_error(s))?;
        return Ok(Since::Cursor(seq));
    }
    if let Ok(secs) = parse_duration(t) {
        return Ok(Since::Time(now.minus_secs(secs)));
    }
    Timestamp::parse_rfc3339(t).map(Since::Time).map_err(|_| since_error(s))
}

fn since_error(s: &str) -> Error {
    Error::usage(Usage::InvalidSince { value: s.to_string() })
}

/// Checks a free-text field: at most 64 KiB.
pub fn check_text(field: &str, text: &str) -> Result<()> {
    if text.len() > MAX_TEXT_BYTES {
        return Err(Error::bad_input(format!(
            "{field} is {} bytes long: at most {MAX_TEXT_BYTES} bytes (64 KiB) are accepted",
            text.len()
        )));
    }
    Ok(())
}

/// Checks a free-text field that must say something.
pub fn check_nonempty_text(field: &str, text: &str) -> Result<()> {
    if text.trim().is_empty() {
        return Err(Error::bad_input(format!("{field} is empty: give some text")));
    }
    check_text(field, text)
}

/// Checks an identifier-like value (work id, repo, agent, name): non-empty, at most 200 characters,
/// no whitespace or control characters.
pub fn check_id(field: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::bad_input(format!(
            "{field} is empty: expected 1 to {MAX_ID_CHARS} characters"
        )));
    }
    let n = value.chars().count();
    if n > MAX_ID_CHARS {
        return Err(Error::bad_input(format!(
            "{field} '{}…' is {n} characters long: expected at most {MAX_ID_CHARS}",
            value.chars().take(40).collect::<String>()
        )));
    }
    if let Some(c) = value.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::bad_input(format!(
            "{field} '{}' contains {:?}: expected no spaces or control characters",
            value.escape_debug(),
            c
        )));
    }
    Ok(())
}

/// Checks a work type: a lowercase word such as `issue`, `pr`, `qa`, `task`, `session`.
/// The work types every project knows; others are declared in the config (`types`) or claimed as new.
pub const WORK_TYPES: &[&str] = &["issue", "pr", "qa", "task", "session"];

/// The known type `value` is most likely a misspelling of: at most two edits away, and closer than its length.
pub fn likely_type<'a>(value: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    known
        .into_iter()
        .map(|k| (edits(value, k), k))
        .filter(|(d, k)| *d <= 2 && *d < k.len().min(value.len()))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance between two short words.
pub(crate) fn edits(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb { prev } else { 1 + prev.min(row[j]).min(cur) };
            prev = cur;
        }
    }
    row[b.len()]
}

pub fn check_type(value: &str) -> Result<()> {
    let ok = !value.is_empty()
        && value.len() <= MAX_TYPE_CHARS
        && value.as_bytes()[0].is_ascii_lowercase()
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if !ok {
        return Err(Error::bad_input(format!(
            "invalid work type '{}': expected a lowercase word of at most {MAX_TYPE_CHARS} characters, such as issue, pr, qa, task or session",
            value.escape_debug()
        )));
    }
    Ok(())
}

/// Checks a session id: a UUID as printed by `baton session start`.
pub fn check_session_id(value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::bad_input(
            "session id is empty: expected a UUID such as 019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8a9b",
        ));
    }
    if uuid::Uuid::try_parse(value).is_err() {
        let shown: String = value.chars().take(60).collect();
        return Err(Error::bad_input(format!(
            "invalid session id '{}': expected a UUID such as 019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8a9b",
            shown.escape_debug()
        )));
    }
    Ok(())
}

/// Checks a journal entry id: a UUID as `--json` prints it.
pub fn check_entry_id(value: &str) -> Result<()> {
    if uuid::Uuid::try_parse(value).is_err() {
        let shown: String = value.chars().take(60).collect();
        return Err(Error::bad_input(format!(
            "invalid entry id '{}': expected a UUID such as 019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8a9b, the id `--json` prints for an entry",
            shown.escape_debug()
        ))
        .with_value(shown, vec![]));
    }
    Ok(())
}

/// Most words one search takes.
pub const MAX_SEARCH_WORDS: usize = 16;

/// The words of a search text: runs of letters and digits, lowercased, each once, in order. Text without a
/// word, or with more than [`MAX_SEARCH_WORDS`], is a bad input naming it.
pub fn search_words(text: &str) -> Result<Vec<String>> {
    check_text("search text", text)?;
    let shown = || text.chars().take(60).collect::<String>();
    if text.trim().is_empty() {
        return Err(
            Error::bad_input("search text is empty: expected one or more words (letters or digits)")
                .with_value(text, vec![]),
        );
    }
    let mut words: Vec<String> = Vec::new();
    for w in text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        let w = w.to_lowercase();
        if !words.contains(&w) {
            words.push(w);
        }
    }
    if words.is_empty() {
        return Err(Error::bad_input(format!(
            "search text '{}' has no words: expected one or more words (letters or digits)",
            shown().escape_debug()
        ))
        .with_value(shown(), vec![]));
    }
    if words.len() > MAX_SEARCH_WORDS {
        return Err(Error::bad_input(format!(
            "search text '{}…' has {} words: expected at most {MAX_SEARCH_WORDS}",
            shown().escape_debug(),
            words.len()
        ))
        .with_value(shown(), vec![]));
    }
    Ok(words)
}

/// Checks a page size: 1 to 1000.
pub fn check_limit(limit: u32) -> Result<()> {
    if !(1..=1000).contains(&limit) {
        return Err(Error::bad_input(format!("invalid limit '{limit}': expected 1 to 1000")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn likely_types() {
        let known = || WORK_TYPES.iter().copied();
        assert_eq!(likely_type("isue", known()), Some("issue"));
        assert_eq!(likely_type("issues", known()), Some("issue"));
        assert_eq!(likely_type("taks", known()), Some("task"));
        assert_eq!(likely_type("p", known()), None, "one letter is no word to correct");
        assert_eq!(likely_type("epic", known()), None);
        assert_eq!(likely_type("sesion", known()), Some("session"));
        assert_eq!(edits("kitten", "sitting"), 3);
        assert_eq!(edits("", "abc"), 3);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s").unwrap(), 90);
        assert_eq!(parse_duration("30m").unwrap(), 1800);
        assert_eq!(parse_duration("2h").unwrap(), 7200);
        assert_eq!(parse_duration("1d").unwrap(), 86_400);
        assert_eq!(parse_duration("1h30m").unwrap(), 5400);
        for bad in ["", "h", "10", "10x", "-5m", "1.5h", "m30", "9999999999s"] {
            let err = parse_duration(bad).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{bad}");
            assert!(err.to_string().contains(&format!("'{bad}'")), "{err}");
        }
    }

    #[test]
    fn ttl_bounds() {
        assert!(parse_ttl("0s").is_err());
        assert!(parse_ttl("31d").is_err());
        assert_eq!(parse_ttl("30d").unwrap(), MAX_TTL_SECS);
    }

    #[test]
    fn since_forms() {
        let now = Timestamp(10_000_000_000_000);
        assert_eq!(parse_since("42", now).unwrap(), Since::Cursor(42));
        assert_eq!(parse_since("2h", now).unwrap(), Since::Time(now.minus_secs(7200)));
        assert!(matches!(
            parse_since("2026-11-22T10:00:00Z", now).unwrap(),
            Since::Time(_)
        ));
        let err = parse_since("yesterday", now).unwrap_err();
        assert!(err.to_string().contains("'yesterday'"));
    }

    #[test]
    fn ids_and_types() {
        assert!(check_id("work id", "15").is_ok());
        assert!(check_id("work id", "").is_err());
        assert!(check_id("work id", &"x".repeat(201)).is_err());
        assert!(check_id("work id", "a b").is_err());
        assert!(check_type("issue").is_ok());
        assert!(check_type("Issue").is_err());
        assert!(check_type("").is_err());
        assert!(check_session_id("not-a-uuid").is_err());
    }

    #[test]
    fn search_words_are_lowercase_runs_of_letters_and_digits() {
        assert_eq!(search_words("JWT for tokens").unwrap(), ["jwt", "for", "tokens"]);
        assert_eq!(
            search_words("  \"login\"-flow, login! 401 ").unwrap(),
            ["login", "flow", "401"]
        );
        assert_eq!(search_words("Ünïcode straße").unwrap(), ["ünïcode", "straße"]);
        for bad in ["", "   ", "!!! ---", "\"*\""] {
            let err = search_words(bad).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{bad:?}");
        }
        assert!(search_words("!!!").unwrap_err().to_string().contains("'!!!'"));
        let many: Vec<String> = (0..17).map(|i| format!("w{i}")).collect();
        assert!(
            search_words(&many.join(" "))
                .unwrap_err()
                .to_string()
                .contains("17 words")
        );
        assert_eq!(search_words(&many[..16].join(" ")).unwrap().len(), 16);
    }

    #[test]
    fn entry_ids_are_uuids() {
        assert!(check_entry_id("019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8a9b").is_ok());
        let err = check_entry_id("e1").unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("'e1'"), "{err}");
    }

    #[test]
    fn text_limit() {
        assert!(check_text("note", &"a".repeat(MAX_TEXT_BYTES)).is_ok());
        assert!(check_text("note", &"a".repeat(MAX_TEXT_BYTES + 1)).is_err());
        assert!(check_nonempty_text("note", "  ").is_err());
    }
}
