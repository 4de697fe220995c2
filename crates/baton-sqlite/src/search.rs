//! Full-text search on SQLite: FTS5 tables kept in step by triggers (migration 7).
//!
//! A word of four characters or more also matches the words it begins only when the words as they are match fewer
//! rows than the hits asked for: the lists of every word that a common beginning starts are long to merge, and the
//! words as they are already fill the answer. Each kind is searched in two steps: the newest [`SEARCH_WINDOW`] matches are ranked inside the FTS5 table
//! alone (its doclists are in rowid order, so reading the newest stops early), then only the hits kept are
//! joined to their rows and given a snippet. Ranking every match of a common word, or joining each to its
//! entry, would cost in proportion to the history.

use super::*;

use baton_core::store::SEARCH_WINDOW;
use baton_sql::{SearchScope, WordSyntax};

/// How much of the text around a match a snippet shows, in tokens.
const SNIPPET_TOKENS: u32 = 16;

impl SqliteTx<'_> {
    /// The FTS5 rowids of the best of the newest matches in `table`, with their rank (higher is better), and
    /// whether there were at least `limit` matches.
    fn best_rows(
        &self,
        table: &str,
        query: &str,
        filters: &str,
        params: &[Value],
        limit: u32,
    ) -> Result<(Vec<(i64, f64)>, bool)> {
        // bm25 is lower for better matches; the contract's rank is higher for them.
        let n = params.len();
        let sql = format!(
            "WITH w AS MATERIALIZED (
                 SELECT rowid, rank AS score FROM {table}
                 WHERE {table} MATCH ?{}{filters} ORDER BY rowid DESC LIMIT {SEARCH_WINDOW})
             SELECT rowid, -score, (SELECT count(*) FROM w) FROM w ORDER BY score, rowid DESC LIMIT ?{}",
            n + 1,
            n + 2
        );
        let mut all = params.to_vec();
        all.push(Value::Text(query.to_string()));
        all.push(Value::Int(i64::from(limit)));
        let mut stmt = self.tx.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(bind(&all), |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, f64>(1)?, r.get::<_, i64>(2)?))
            })
            .map_err(|e| self.err(e))?;
        let rows = rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))?;
        let full = rows.first().is_some_and(|r| r.2 >= i64::from(limit));
        Ok((rows.into_iter().map(|(id, rank, _)| (id, rank)).collect(), full))
    }

    /// [`SqliteTx::best_rows`] of the words as they are, and when those match fewer than `limit` rows, of the
    /// words and the words they begin; with the query the rows matched.
    fn best_matches(
        &self,
        table: &str,
        words: &[String],
        filters: &str,
        params: &[Value],
        limit: u32,
    ) -> Result<(Vec<(i64, f64)>, String)> {
        baton_sql::exact_then_prefixed(WordSyntax::Fts5, words, |query| {
            self.best_rows(table, query, filters, params, limit)
        })
    }

    /// One hit: the row behind FTS5 row `rowid` of `table`, with its snippet.
    fn hit(&self, sql: &str, query: &str, rowid: i64, rank: f64) -> Result<Option<SearchHit>> {
        let params = [Value::Text(query.to_string()), Value::Int(rowid), Value::Real(rank)];
        Ok(self.query(sql, &params, baton_sql::search_hit)?.into_iter().next())
    }
}

impl SearchTx for SqliteTx<'_> {
    fn search(&mut self, q: &SearchQuery) -> Result<Vec<SearchHit>> {
        let scope = SearchScope::of(q);
        let mut hits = Vec::new();
        if scope.entries {
            let filters = format!(" AND project = ?1{}", scope.entry_kinds("kind"));
            let project = [Value::Text(q.project.clone())];
            let (best, query) = self.best_matches("journal_search", &q.words, &filters, &project, q.limit)?;
            let kind = baton_sql::entry_hit_kind("e.kind");
            let sql = format!(
                "SELECT {kind}, e.id, e.kind, e.session_id,
                        s.agent, e.created_at, snippet(journal_search, -1, '[', ']', '…', {SNIPPET_TOKENS}), ?3
                 FROM journal_search
                 JOIN journal_entries e ON e.id = journal_search.entry_id
                 JOIN sessions s ON s.id = e.session_id
                 WHERE journal_search MATCH ?1 AND journal_search.rowid = ?2"
            );
            for (rowid, rank) in best {
                hits.extend(self.hit(&sql, &query, rowid, rank)?);
            }
        }
        if scope.handoffs {
            // Sessions are few beside entries: their project is read from the session itself, one key lookup per
            // match (`session_id IN (SELECT ...)` would build an index of every session of the project first).
            let filters = " AND (SELECT project FROM sessions WHERE id = session_id) = ?1";
            let project = [Value::Text(q.project.clone())];
            let (best, query) = self.best_matches("handoff_search", &q.words, filters, &project, q.limit)?;
            let sql = format!(
                "SELECT 'handoff', s.id, NULL, s.id, s.agent, coalesce(s.ended_at, s.updated_at),
                        snippet(handoff_search, -1, '[', ']', '…', {SNIPPET_TOKENS}), ?3
                 FROM handoff_search
                 JOIN sessions s ON s.id = handoff_search.session_id
                 WHERE handoff_search MATCH ?1 AND handoff_search.rowid = ?2"
            );
            for (rowid, rank) in best {
                hits.extend(self.hit(&sql, &query, rowid, rank)?);
            }
        }
        Ok(baton_sql::best_first(hits, q.limit))
    }
}
