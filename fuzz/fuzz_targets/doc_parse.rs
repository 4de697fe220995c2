//! Session documents from anywhere: the parser and the linter must answer with a problem, never panic.

#![no_main]

use baton_docs::{Layout, parse_document, sessions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_document(".agents/sessions/20261122-032520-x.md", data, None, &[]);
    let _ = parse_document("doc.md", data, Some(Layout::Agents), &[]);
    // The same bytes as a sessions document and as one of its journal entry files.
    let journal = [("entries/20261122-032520-000000.md".to_string(), data.to_vec())];
    let _ = parse_document("doc.md", data, Some(Layout::Sessions), &journal);
    let _ = sessions::parse_entry("entry.md", data);
    let _ = baton_docs::lint_text(".agents/sessions/20261122-032520-x.md", data);
});
