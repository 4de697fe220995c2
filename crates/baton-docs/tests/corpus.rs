//! The parser and linter over the fuzz corpus and broken variants of it: every prefix of each document and
//! every byte changed, one at a time. Each must end in a result or a problem naming a line, never a panic.
//! (`cargo fuzz run doc_parse` explores further; this runs in every `cargo test`.)

use std::path::PathBuf;

use baton_docs::{Layout, lint_text, parse_document, sessions};

fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/doc_parse");
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let p = e.expect("corpus entry").path();
            (p.display().to_string(), std::fs::read(&p).expect("corpus file"))
        })
        .collect();
    out.sort();
    assert!(out.len() >= 4, "the corpus has real documents: {out:?}");
    out
}

/// Runs everything that reads documents on `bytes` (as either layout when `all_layouts`, else as detected);
/// checks that problems point inside the document.
fn exercise(bytes: &[u8], all_layouts: bool) {
    let lines = bytes.iter().filter(|b| **b == b'\n').count() + 1;
    let file = ".agents/sessions/20261122-032520-x.md";
    let layouts: &[Option<Layout>] = if all_layouts {
        &[None, Some(Layout::Agents), Some(Layout::Sessions)]
    } else {
        &[None]
    };
    for layout in layouts.iter().copied() {
        if let Err(p) = parse_document(file, bytes, layout, &[]) {
            assert!(p.line >= 1 && p.line <= lines, "line {} of {lines}: {p}", p.line);
            assert!(!p.message.is_empty());
        }
    }
    if let Err(p) = sessions::parse_entry("entry.md", bytes) {
        assert!(p.line >= 1 && p.line <= lines, "line {} of {lines}: {p}", p.line);
    }
    for p in lint_text(file, bytes) {
        assert!(p.line >= 1 && p.line <= lines, "line {} of {lines}: {p}", p.line);
    }
}

#[test]
fn corpus_documents_parse() {
    let well_named = ".agents/sessions/20261122-032520-x.md";
    for (name, bytes) in corpus() {
        if name.ends_with("agents-rendered.md") || name.ends_with("agents-hand-written.md") {
            assert!(parse_document(&name, &bytes, None, &[]).is_ok(), "{name}");
            assert_eq!(lint_text(well_named, &bytes), [], "{name}");
        }
        if name.ends_with("agents-broken.md") {
            assert!(!lint_text(well_named, &bytes).is_empty());
        }
        exercise(&bytes, true);
    }
}

#[test]
fn every_prefix_is_handled() {
    for (_, bytes) in corpus() {
        for end in 0..=bytes.len() {
            exercise(&bytes[..end], true);
        }
    }
}

#[test]
fn every_changed_byte_is_handled() {
    for (_, bytes) in corpus() {
        let mut variant = bytes.clone();
        for i in 0..bytes.len() {
            // A flipped bit, a byte that is never UTF-8, and characters that shape YAML and markdown.
            for b in [bytes[i] ^ 0x01, 0xff, b'\n', b'[', b'"'] {
                variant[i] = b;
                exercise(&variant, false);
            }
            variant[i] = bytes[i];
        }
    }
}
