//! Full-text search as the storage contract fixes it, whatever the dialect: which kinds a query looks through,
//! how its words become a query, when a word also matches the words it begins, and how the kinds' hits merge.
//! Each store keeps its own index, ranking and snippets.

use baton_core::Result;
use baton_core::SearchKind;
use baton_core::store::{SearchHit, SearchQuery};

/// How a dialect writes a full-text query of words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WordSyntax {
    /// SQLite FTS5's `MATCH`: `"jwt" "token"*`.
    Fts5,
    /// PostgreSQL's `to_tsquery`: `'jwt' & 'token':*`.
    TsQuery,
}

impl WordSyntax {
    /// Every word as it is.
    pub fn exact(self, words: &[String]) -> String {
        self.words(words, false)
    }

    /// Every word, each of four characters or more also matching the words it begins.
    pub fn prefixed(self, words: &[String]) -> String {
        self.words(words, true)
    }

    fn words(self, words: &[String], prefixed: bool) -> String {
        let (quote, and, prefix) = match self {
            WordSyntax::Fts5 => ('"', " ", "*"),
            WordSyntax::TsQuery => ('\'', " & ", ":*"),
        };
        match_words(words, quote, and, if prefixed { prefix } else { "" })
    }
}

/// The words of a full-text search as a query of the store's own syntax: each word between `quote`s, joined by
/// `and`, a word of four characters or more marked with `prefix` so that it also matches the words it begins
/// (`token` finds `tokens`). The words are letters and digits only ([`baton_core::parse::search_words`]), so
/// none of them is an operator or can close its quotes.
fn match_words(words: &[String], quote: char, and: &str, prefix: &str) -> String {
    words
        .iter()
        .map(|w| {
            debug_assert!(w.chars().all(char::is_alphanumeric), "{w:?}");
            let mark = if w.chars().count() >= 4 { prefix } else { "" };
            format!("{quote}{w}{quote}{mark}")
        })
        .collect::<Vec<_>>()
        .join(and)
}

/// What a search looks through, from its kinds (none means every kind; `journal` includes decisions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchScope {
    /// Journal entries.
    pub entries: bool,
    /// Of the entries, decisions only.
    pub only_decisions: bool,
    /// Sessions' summaries and handoffs.
    pub handoffs: bool,
}

impl SearchScope {
    pub fn of(q: &SearchQuery) -> SearchScope {
        let any = q.kinds.is_empty();
        SearchScope {
            entries: any
                || q.kinds
                    .iter()
                    .any(|k| matches!(k, SearchKind::Journal | SearchKind::Decision)),
            only_decisions: !any && !q.kinds.contains(&SearchKind::Journal),
            handoffs: any || q.kinds.contains(&SearchKind::Handoff),
        }
    }

    /// ` AND kind = 'decision'` over the entries' `kind` column when only decisions are searched, else nothing.
    pub fn entry_kinds(&self, kind: &str) -> String {
        if self.only_decisions {
            format!(" AND {kind} = 'decision'")
        } else {
            String::new()
        }
    }
}

/// The kind of hit an entry is, from its `kind` column: `decision` for a decision, `journal` for any other.
pub fn entry_hit_kind(kind: &str) -> String {
    format!("CASE {kind} WHEN 'decision' THEN 'decision' ELSE 'journal' END")
}

/// Searches one kind with the words as they are, and when those did not fill the answer (`run` returns what it
/// found and whether it found as many rows as were asked for) and some word begins others, again with the words
/// and the words they begin. Returns what the search that counts found, and its query.
pub fn exact_then_prefixed<T>(
    syntax: WordSyntax,
    words: &[String],
    mut run: impl FnMut(&str) -> Result<(T, bool)>,
) -> Result<(T, String)> {
    let exact = syntax.exact(words);
    let (found, full) = run(&exact)?;
    let prefixed = syntax.prefixed(words);
    if full || prefixed == exact {
        return Ok((found, exact));
    }
    let (found, _) = run(&prefixed)?;
    Ok((found, prefixed))
}

/// Hits of several kinds, each list ranked by its own query, merged as the storage contract orders them: best
/// first (highest rank), ties newest first, then by id, highest first; at most `limit`.
pub fn best_first(mut hits: Vec<SearchHit>, limit: u32) -> Vec<SearchHit> {
    hits.sort_by(|a, b| {
        b.rank
            .total_cmp(&a.rank)
            .then(b.time.cmp(&a.time))
            .then_with(|| b.id.cmp(&a.id))
    });
    hits.truncate(limit as usize);
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(w: &[&str]) -> Vec<String> {
        w.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn search_words_become_each_dialects_query() {
        let w = words(&["jwts", "tokens", "jwt"]);
        assert_eq!(WordSyntax::Fts5.prefixed(&w), "\"jwts\"* \"tokens\"* \"jwt\"");
        assert_eq!(WordSyntax::Fts5.exact(&w), "\"jwts\" \"tokens\" \"jwt\"");
        assert_eq!(WordSyntax::TsQuery.prefixed(&w), "'jwts':* & 'tokens':* & 'jwt'");
        assert_eq!(WordSyntax::TsQuery.exact(&w), "'jwts' & 'tokens' & 'jwt'");
    }

    #[test]
    fn the_words_they_begin_are_searched_only_when_the_words_fall_short() {
        let w = words(&["token", "jwt"]);
        for (full, queries) in [
            (true, vec!["'token' & 'jwt'"]),
            (false, vec!["'token' & 'jwt'", "'token':* & 'jwt'"]),
        ] {
            let mut ran = Vec::new();
            let (found, query) = exact_then_prefixed(WordSyntax::TsQuery, &w, |q| {
                ran.push(q.to_string());
                Ok((ran.len(), full))
            })
            .unwrap();
            assert_eq!(ran, queries);
            assert_eq!((found, query.as_str()), (queries.len(), queries[queries.len() - 1]));
        }
        // No word long enough to begin others: one search.
        let mut runs = 0;
        let (_, query) = exact_then_prefixed(WordSyntax::Fts5, &words(&["jwt"]), |_| {
            runs += 1;
            Ok(((), false))
        })
        .unwrap();
        assert_eq!((runs, query.as_str()), (1, "\"jwt\""));
    }

    #[test]
    fn kinds_say_what_is_searched() {
        let scope = |kinds: Vec<SearchKind>| {
            SearchScope::of(&SearchQuery {
                kinds,
                ..Default::default()
            })
        };
        let every = scope(vec![]);
        assert!(every.entries && every.handoffs && !every.only_decisions);
        let decisions = scope(vec![SearchKind::Decision]);
        assert!(decisions.entries && decisions.only_decisions && !decisions.handoffs);
        assert_eq!(decisions.entry_kinds("e.kind"), " AND e.kind = 'decision'");
        let journal = scope(vec![SearchKind::Decision, SearchKind::Journal]);
        assert!(journal.entries && !journal.only_decisions && !journal.handoffs);
        assert_eq!(journal.entry_kinds("e.kind"), "");
        let handoffs = scope(vec![SearchKind::Handoff]);
        assert!(!handoffs.entries && handoffs.handoffs);
    }
}
