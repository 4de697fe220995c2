//! YAML frontmatter: splitting it from the markdown body, reading it with line numbers, writing it.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::Problem;

/// A document split into its frontmatter and body.
#[derive(Debug, Clone)]
pub struct Split<'a> {
    /// The YAML between the `---` lines.
    pub yaml: &'a str,
    /// The line number (1-based) of the first YAML line.
    pub yaml_line: usize,
    /// The markdown after the closing `---`.
    pub body: &'a str,
    /// The line number (1-based) of the first body line.
    pub body_line: usize,
}

/// Splits `---\n<yaml>\n---\n<body>`. A document without frontmatter is an error on line 1.
pub fn split<'a>(file: &str, text: &'a str) -> Result<Split<'a>, Problem> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(rest) = text.strip_prefix("---\n") else {
        return Err(Problem::new(
            file,
            1,
            "frontmatter",
            "the document does not start with a `---` line opening its YAML frontmatter",
        ));
    };
    let mut offset = 0;
    for (i, line) in rest.split_inclusive('\n').enumerate() {
        let bare = line.trim_end_matches('\n').trim_end();
        if bare == "---" || bare == "..." {
            let yaml = &rest[..offset];
            let body = &rest[offset + line.len()..];
            return Ok(Split {
                yaml,
                yaml_line: 2,
                body,
                body_line: i + 3,
            });
        }
        offset += line.len();
    }
    Err(Problem::new(
        file,
        1,
        "frontmatter",
        "the YAML frontmatter opened on line 1 is never closed with a `---` line",
    ))
}

/// Reads the frontmatter YAML into a JSON value (a mapping); errors name the line in the whole file.
pub fn parse(file: &str, split: &Split<'_>) -> Result<Map<String, Value>, Problem> {
    let mut options = serde_saphyr::Options::default();
    options.with_snippet = false;
    let value: Value = serde_saphyr::from_str_with_options(split.yaml, options).map_err(|e| {
        let line = e
            .location()
            .map(|l| usize::try_from(l.line()).unwrap_or(1).max(1))
            .unwrap_or(1);
        let message = e.to_string();
        // The library appends "at line L, column C" relative to the YAML; the problem carries the file's line.
        let message = message
            .rsplit_once(" at line ")
            .map(|(m, _)| m.to_string())
            .unwrap_or(message);
        Problem::new(
            file,
            split.yaml_line + line - 1,
            "frontmatter",
            format!("malformed YAML frontmatter: {message}"),
        )
    })?;
    match value {
        Value::Object(map) => Ok(map),
        Value::Null => Ok(Map::new()),
        other => Err(Problem::new(
            file,
            split.yaml_line,
            "frontmatter",
            format!(
                "the frontmatter is a YAML {}, expected a mapping of keys to values",
                kind_of(&other)
            ),
        )),
    }
}

/// `string`, `number`, `list`... for messages.
pub fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "mapping",
    }
}

/// Serializes frontmatter with the options every layout shares: block style, no folding of long lines.
pub fn to_yaml<T: Serialize>(value: &T) -> String {
    let mut options = serde_saphyr::SerializerOptions::default();
    options.folded_wrap_chars = usize::MAX / 2;
    // Serializing plain data (strings, numbers, lists, maps) cannot fail; an empty mapping is the safe fallback.
    serde_saphyr::to_string_with_options(value, options).unwrap_or_else(|_| "{}\n".to_string())
}

/// The line (in the whole file) of the block-style key at `path`, like `["session", "status"]`; for flow
/// style or a missing key, the line of the deepest parent found, else the first YAML line.
pub fn key_line(split: &Split<'_>, path: &[&str]) -> usize {
    let lines: Vec<&str> = split.yaml.lines().collect();
    let mut found = split.yaml_line;
    let mut start = 0;
    let mut end = lines.len();
    let mut parent_indent: Option<usize> = None;
    for key in path {
        let mut hit = None;
        for (i, line) in lines.iter().enumerate().take(end).skip(start) {
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let indent = line.len() - trimmed.len();
            if parent_indent.is_some_and(|p| indent <= p) {
                break;
            }
            let bare = trimmed.strip_prefix("- ").unwrap_or(trimmed);
            let named = [format!("{key}:"), format!("\"{key}\":"), format!("'{key}':")];
            if named.iter().any(|n| bare.starts_with(n.as_str())) {
                hit = Some((i, indent));
                break;
            }
        }
        let Some((i, indent)) = hit else { return found };
        found = split.yaml_line + i;
        // The key's block runs until the next line indented no deeper than the key.
        start = i + 1;
        end = lines
            .iter()
            .enumerate()
            .skip(start)
            .find(|(_, l)| {
                let t = l.trim_start();
                !t.is_empty() && !t.starts_with('#') && l.len() - t.len() <= indent
            })
            .map(|(j, _)| j)
            .unwrap_or(lines.len());
        parent_indent = Some(indent);
    }
    found
}

/// The line of item `index` (from 0) of the block sequence under the key on line `key_line`; that line
/// itself when the items cannot be found (flow style).
pub fn item_line(split: &Split<'_>, key_line: usize, index: usize) -> usize {
    let lines: Vec<&str> = split.yaml.lines().collect();
    let Some(key_at) = key_line.checked_sub(split.yaml_line) else {
        return key_line;
    };
    let Some(key) = lines.get(key_at) else { return key_line };
    let key_indent = key.len() - key.trim_start().len();
    let mut item_indent = None;
    let mut count = 0;
    for (j, line) in lines.iter().enumerate().skip(key_at + 1) {
        let t = line.trim_start();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let indent = line.len() - t.len();
        let is_item = t.starts_with("- ") || t == "-";
        if indent < key_indent || (indent == key_indent && !is_item) {
            break;
        }
        if is_item && item_indent.is_none_or(|i| i == indent) {
            item_indent = Some(indent);
            if count == index {
                return split.yaml_line + j;
            }
            count += 1;
        }
    }
    key_line
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "---\nsession:\n  title: x\n  status: done\norchestration:\n  current_task: null\n---\n\n# x\n";

    #[test]
    fn splits_and_numbers_lines() {
        let s = split("f.md", DOC).unwrap();
        assert_eq!(s.yaml_line, 2);
        assert_eq!(s.body_line, 8);
        assert!(s.body.starts_with("\n# x"));
        assert_eq!(key_line(&s, &["session", "status"]), 4);
        assert_eq!(key_line(&s, &["orchestration", "current_task"]), 6);
        assert_eq!(key_line(&s, &["orchestration", "spawned_agents"]), 5);
        assert_eq!(key_line(&s, &["missing"]), 2);
    }

    #[test]
    fn yaml_errors_name_the_file_line() {
        let text = "---\ntitle: x\nstatus: [\n---\n";
        let s = split("f.md", text).unwrap();
        let p = parse("f.md", &s).unwrap_err();
        assert_eq!((p.line, p.rule), (3, "frontmatter"));
        assert!(p.message.contains("malformed YAML"), "{}", p.message);
        assert!(split("f.md", "# no frontmatter\n").is_err());
        assert_eq!(split("f.md", "---\na: 1\n").unwrap_err().line, 1);
        let s = split("f.md", "---\n- a\n---\n").unwrap();
        assert!(parse("f.md", &s).unwrap_err().message.contains("a YAML list"));
    }
}

/// Reads typed values from a frontmatter mapping; every problem names the key's line.
pub struct Reader<'a> {
    pub file: &'a str,
    pub split: &'a Split<'a>,
    /// Where this mapping sits, like `["session"]`; empty for the top level.
    pub path: Vec<&'a str>,
    pub map: &'a Map<String, Value>,
}

impl<'a> Reader<'a> {
    /// The line of `key` in this mapping.
    pub fn line(&self, key: &str) -> usize {
        let mut path = self.path.clone();
        path.push(key);
        key_line(self.split, &path)
    }

    fn dotted(&self, key: &str) -> String {
        let mut path = self.path.clone();
        path.push(key);
        path.join(".")
    }

    /// A problem about `key`.
    pub fn problem(&self, key: &str, rule: &'static str, message: impl Into<String>) -> Problem {
        Problem::new(self.file, self.line(key), rule, message)
    }

    /// A missing required key.
    pub fn missing(&self, key: &str) -> Problem {
        let at = if self.path.is_empty() {
            self.split.yaml_line
        } else {
            key_line(self.split, &self.path)
        };
        Problem::new(
            self.file,
            at,
            "required-key",
            format!("the frontmatter has no `{}`", self.dotted(key)),
        )
    }

    /// A scalar as text (numbers and booleans as written); null or absent is `None`.
    pub fn text(&self, key: &str) -> Result<Option<String>, Problem> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(other) => Err(self.problem(
                key,
                "bad-value",
                format!("`{}` is a {}, expected text", self.dotted(key), kind_of(other)),
            )),
        }
    }

    /// Like [`Reader::text`], but absent, null or empty is a problem.
    pub fn required_text(&self, key: &str) -> Result<String, Problem> {
        match self.text(key)? {
            Some(s) if !s.trim().is_empty() => Ok(s),
            Some(_) => Err(self.problem(key, "required-key", format!("`{}` is empty", self.dotted(key)))),
            None if self.map.contains_key(key) => {
                Err(self.problem(key, "required-key", format!("`{}` is null", self.dotted(key))))
            }
            None => Err(self.missing(key)),
        }
    }

    /// A time (RFC 3339, or a UTC date and time).
    pub fn time(&self, key: &str, required: bool) -> Result<Option<baton_core::Timestamp>, Problem> {
        let raw = if required {
            Some(self.required_text(key)?)
        } else {
            self.text(key)?
        };
        let Some(raw) = raw else { return Ok(None) };
        crate::text::parse_time(&raw).map(Some).ok_or_else(|| {
            self.problem(
                key,
                "bad-value",
                format!(
                    "`{}` is '{raw}', not a time: expected RFC 3339 like 2026-11-22T03:25:20Z",
                    self.dotted(key)
                ),
            )
        })
    }

    /// A list of scalars as text; absent or null is empty, one scalar is a list of one.
    pub fn texts(&self, key: &str) -> Result<Vec<String>, Problem> {
        let bad = |v: &Value| {
            self.problem(
                key,
                "bad-value",
                format!("`{}` holds a {}, expected a list of text", self.dotted(key), kind_of(v)),
            )
        };
        let one = |v: &Value| match v {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            other => Err(bad(other)),
        };
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items.iter().map(one).collect(),
            Some(v) => Ok(vec![one(v)?]),
        }
    }

    /// A whole number; absent or null is `None`.
    pub fn integer(&self, key: &str) -> Result<Option<i64>, Problem> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) if n.as_i64().is_some() => Ok(n.as_i64()),
            Some(Value::String(s)) if s.trim().parse::<i64>().is_ok() => Ok(s.trim().parse().ok()),
            Some(other) => Err(self.problem(
                key,
                "bad-value",
                format!("`{}` is {other}, expected a whole number", self.dotted(key)),
            )),
        }
    }

    /// A nested mapping; absent or null is `None`.
    pub fn mapping(&'a self, key: &'a str) -> Result<Option<Reader<'a>>, Problem> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(m)) => {
                let mut path = self.path.clone();
                path.push(key);
                Ok(Some(Reader {
                    file: self.file,
                    split: self.split,
                    path,
                    map: m,
                }))
            }
            Some(other) => Err(self.problem(
                key,
                "bad-value",
                format!("`{}` is a {}, expected a mapping", self.dotted(key), kind_of(other)),
            )),
        }
    }

    /// A handoff mapping (`notes`, `done`, `next`, `blockers`) at `key`.
    pub fn handoff(&self, key: &str) -> Result<Option<baton_core::Handoff>, Problem> {
        let Some(h) = self.mapping(key)? else { return Ok(None) };
        if let Some(unknown) = h
            .map
            .keys()
            .find(|k| !["notes", "done", "next", "blockers"].contains(&k.as_str()))
        {
            return Err(h.problem(
                unknown,
                "bad-value",
                format!(
                    "unknown key `{}.{unknown}`: a handoff has notes, done, next and blockers",
                    self.dotted(key)
                ),
            ));
        }
        let handoff = baton_core::Handoff {
            notes: h.text("notes")?,
            done: h.texts("done")?,
            next: h.texts("next")?,
            blockers: h.texts("blockers")?,
        };
        Ok((!handoff.is_empty()).then_some(handoff))
    }

    /// The keys of this mapping that are not in `known`, with their values, to be kept as they are.
    pub fn unknown(&self, known: &[&str]) -> Map<String, Value> {
        self.map
            .iter()
            .filter(|(k, _)| !known.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

/// A handoff as frontmatter writes it: only what is set.
#[derive(Debug, Serialize)]
pub struct HandoffYaml<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub done: &'a [String],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub next: &'a [String],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub blockers: &'a [String],
}

impl<'a> HandoffYaml<'a> {
    /// `None` for a missing or empty handoff.
    pub fn of(h: Option<&'a baton_core::Handoff>) -> Option<HandoffYaml<'a>> {
        let h = h.filter(|h| !h.is_empty())?;
        Some(HandoffYaml {
            notes: h.notes.as_deref(),
            done: &h.done,
            next: &h.next,
            blockers: &h.blockers,
        })
    }
}
