//! Full-text search on SQLite: FTS5 tables kept in step by triggers (migration 7).

use super::*;

use baton_core::SearchKind;
use baton_sql::match_words;

/// How much of the text around a match a snippet shows, in tokens.
const SNIPPET_TOKENS: u32 = 16;

impl SearchTx for SqliteTx<'_> {
    fn search(&mut self, q: &SearchQuery) -> Result<Vec<SearchHit>> {
        let any = q.kinds.is_empty();
        let entries = any
            || q.kinds
                .iter()
                .any(|k| matches!(k, SearchKind::Journal | SearchKind::Decision));
        let only_decisions = !any && !q.kinds.contains(&SearchKind::Journal);
        let handoffs = any || q.kinds.contains(&SearchKind::Handoff);
        let query = match_words(&q.words, '"', " ", "*");
        let limit = i64::from(q.limit);
        let mut hits = Vec::new();
        if entries {
            // bm25 is lower for better matches; the contract's rank is higher for them.
            let decisions = if only_decisions { " AND e.kind = 'decision'" } else { "" };
            let sql = format!(
                "SELECT CASE e.kind WHEN 'decision' THEN 'decision' ELSE 'journal' END, e.id, e.kind, e.session_id,
                        s.agent, e.created_at,
                        snippet(journal_search, -1, '[', ']', '…', {SNIPPET_TOKENS}), -journal_search.rank
                 FROM journal_search
                 JOIN journal_entries e ON e.id = journal_search.entry_id
                 JOIN sessions s ON s.id = e.session_id
                 WHERE journal_search MATCH ?1 AND s.project = ?2{decisions}
                 ORDER BY journal_search.rank, e.created_at DESC, e.id DESC
                 LIMIT ?3"
            );
            let params = [
                Value::Text(query.clone()),
                Value::Text(q.project.clone()),
                Value::Int(limit),
            ];
            hits.extend(self.query(&sql, &params, baton_sql::search_hit)?);
        }
        if handoffs {
            let sql = format!(
                "SELECT 'handoff', s.id, NULL, s.id, s.agent, coalesce(s.ended_at, s.updated_at),
                        snippet(handoff_search, -1, '[', ']', '…', {SNIPPET_TOKENS}), -handoff_search.rank
                 FROM handoff_search
                 JOIN sessions s ON s.id = handoff_search.session_id
                 WHERE handoff_search MATCH ?1 AND s.project = ?2
                 ORDER BY handoff_search.rank, coalesce(s.ended_at, s.updated_at) DESC, s.id DESC
                 LIMIT ?3"
            );
            let params = [Value::Text(query), Value::Text(q.project.clone()), Value::Int(limit)];
            hits.extend(self.query(&sql, &params, baton_sql::search_hit)?);
        }
        Ok(baton_sql::best_first(hits, q.limit))
    }
}
