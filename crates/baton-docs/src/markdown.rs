//! The markdown body of a session document: a `# title`, `## Section`s, list items inside them.
//!
//! Deliberately small: headings are lines that start with `# ` or `## ` outside fenced code blocks; list
//! items start with `- `, `* `, `+ ` or `N. ` and go on over lines indented by two spaces.

/// One `## Section` with its lines.
#[derive(Debug, Clone)]
pub struct Section {
    pub title: String,
    /// Line number (1-based, in the whole file) of the heading.
    pub line: usize,
    /// `(line number, text)` of each line under the heading.
    pub lines: Vec<(usize, String)>,
}

/// The parts of a body.
#[derive(Debug, Clone, Default)]
pub struct Body {
    /// `(line, text)` of the `# title` heading.
    pub title: Option<(usize, String)>,
    pub sections: Vec<Section>,
    /// Number of the body's last line.
    pub last_line: usize,
}

impl Body {
    /// The first section with this title (compared without case).
    pub fn section(&self, title: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.title.eq_ignore_ascii_case(title))
    }
}

fn is_fence(line: &str) -> bool {
    line.starts_with("```") || line.starts_with("~~~")
}

/// Splits a body into its title and sections; `first_line` is the file line number of the body's first line.
pub fn parse_body(body: &str, first_line: usize) -> Body {
    let mut out = Body::default();
    let mut in_fence = false;
    for (i, line) in body.split('\n').enumerate() {
        let n = first_line + i;
        if is_fence(line) {
            in_fence = !in_fence;
        }
        let heading = !in_fence && !is_fence(line);
        if heading && let Some(t) = line.strip_prefix("## ") {
            out.sections.push(Section {
                title: t.trim().to_string(),
                line: n,
                lines: Vec::new(),
            });
            continue;
        }
        if heading
            && out.title.is_none()
            && out.sections.is_empty()
            && let Some(t) = line.strip_prefix("# ")
        {
            out.title = Some((n, t.trim().to_string()));
            continue;
        }
        if let Some(s) = out.sections.last_mut() {
            s.lines.push((n, line.to_string()));
        }
    }
    // The last line that is one: a final newline ends a line, it does not start another.
    out.last_line = match body.lines().count() {
        0 => first_line.saturating_sub(1).max(1),
        count => first_line + count - 1,
    };
    out
}

/// One list item.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Line number of its first line.
    pub line: usize,
    /// `Some(true)` for `[x]`, `Some(false)` for `[ ]`, `None` without a box.
    pub checked: Option<bool>,
    /// Its lines, without the marker and without the two-space indent of continuation lines.
    pub lines: Vec<String>,
}

/// `- `, `* `, `+ `, `12. ` at the start of a line: the rest of the line.
fn item_start(line: &str) -> Option<&str> {
    for m in ["- ", "* ", "+ "] {
        if let Some(rest) = line.strip_prefix(m) {
            return Some(rest);
        }
    }
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 && digits < 10 {
        return line[digits..].strip_prefix(". ");
    }
    None
}

/// The list items of a section, and its other non-empty lines (prose) with their numbers.
pub fn items(lines: &[(usize, String)]) -> (Vec<Item>, Vec<(usize, String)>) {
    let mut items: Vec<Item> = Vec::new();
    let mut prose = Vec::new();
    let mut open = false;
    for (n, line) in lines {
        if let Some(rest) = item_start(line) {
            let (checked, rest) = if let Some(r) = rest.strip_prefix("[x] ").or_else(|| rest.strip_prefix("[X] ")) {
                (Some(true), r)
            } else if let Some(r) = rest.strip_prefix("[ ] ") {
                (Some(false), r)
            } else if rest == "[x]" || rest == "[X]" {
                (Some(true), "")
            } else if rest == "[ ]" {
                (Some(false), "")
            } else {
                (None, rest)
            };
            items.push(Item {
                line: *n,
                checked,
                lines: vec![rest.to_string()],
            });
            open = true;
            continue;
        }
        if open && let Some(item) = items.last_mut() {
            if line.is_empty() {
                item.lines.push(String::new());
                continue;
            }
            if let Some(rest) = line.strip_prefix("  ") {
                item.lines.push(rest.to_string());
                continue;
            }
        }
        open = false;
        if !line.trim().is_empty() {
            prose.push((*n, line.clone()));
        }
    }
    for item in &mut items {
        while item.lines.len() > 1 && item.lines.last().is_some_and(|l| l.trim().is_empty()) {
            item.lines.pop();
        }
    }
    (items, prose)
}

/// The text lines of a section without its leading and trailing blank lines.
pub fn text_lines(lines: &[(usize, String)]) -> Vec<String> {
    let start = lines.iter().position(|(_, l)| !l.trim().is_empty());
    let end = lines.iter().rposition(|(_, l)| !l.trim().is_empty());
    match (start, end) {
        (Some(a), Some(b)) => lines[a..=b].iter().map(|(_, l)| l.clone()).collect(),
        _ => Vec::new(),
    }
}

/// What a renderer writes into an empty section; read back as nothing.
pub const NONE: &str = "_None._";

/// Whether a section's text is empty or the [`NONE`] placeholder.
pub fn is_none(lines: &[String]) -> bool {
    lines.is_empty() || (lines.len() == 1 && lines[0].trim() == NONE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_and_fences() {
        let body = "\n# Title\n\n## Context\n\nsome text\n```\n## not a section\n```\n\n## Next Steps\n\n- a\n";
        let b = parse_body(body, 10);
        assert_eq!(b.title, Some((11, "Title".to_string())));
        assert_eq!(b.sections.len(), 2);
        assert_eq!(b.sections[0].line, 13);
        assert_eq!(b.section("next steps").map(|s| s.line), Some(20));
        assert!(b.sections[0].lines.iter().any(|(_, l)| l == "## not a section"));
    }

    #[test]
    fn list_items() {
        let lines: Vec<(usize, String)> = [
            "- [x] done",
            "- [ ] open",
            "- plain",
            "  continued",
            "",
            "  after blank",
            "",
            "1. numbered",
            "prose here",
            "- [x]",
        ]
        .iter()
        .enumerate()
        .map(|(i, l)| (i + 1, l.to_string()))
        .collect();
        let (items, prose) = items(&lines);
        assert_eq!(items.len(), 5);
        assert_eq!(items[0].checked, Some(true));
        assert_eq!(items[1].checked, Some(false));
        assert_eq!(items[2].lines, vec!["plain", "continued", "", "after blank"]);
        assert_eq!(items[3].lines, vec!["numbered"]);
        assert_eq!(items[4].lines, vec![""]);
        assert_eq!(prose, vec![(9, "prose here".to_string())]);
    }
}
