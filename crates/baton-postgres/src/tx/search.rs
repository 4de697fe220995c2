//! Full-text search on PostgreSQL: GIN indexes of `to_tsvector('simple', ...)` (migration 8). Of each kind, the
//! newest [`SEARCH_WINDOW`] matches are ranked, and only the hits kept get a snippet. A word of four characters
//! or more also matches the words it begins when the words as they are match fewer rows than the hits asked for.

use super::*;

use baton_core::store::SEARCH_WINDOW;
use baton_sql::{SearchScope, WordSyntax};

use super::decisions::ENTRY_DOCUMENT;

/// The text a session's handoff is searched by: the expression of the index `sessions_handoff_search`.
const HANDOFF_DOCUMENT: &str =
    "(to_tsvector('simple', coalesce(s.summary, '')) || to_tsvector('simple', coalesce(s.handoff, 'null')::jsonb))";

/// How a snippet is cut: about as much as the embedded store shows, matches marked `[like this]`.
const HEADLINE: &str =
    "StartSel=\"[\", StopSel=\"]\", MaxWords=16, MinWords=6, MaxFragments=1, FragmentDelimiter=\"…\"";

impl PgTx<'_> {
    /// The hits of `sql` (its parameters: the query, the project and the limit; its ninth column how many matches
    /// the window holds) for the words as they are, and when those match fewer rows than `limit`, for the words
    /// and the words they begin.
    fn best_matches(
        &mut self,
        what: &str,
        sql: &str,
        words: &[String],
        project: &str,
        limit: i64,
    ) -> Result<Vec<SearchHit>> {
        let (hits, _) = baton_sql::exact_then_prefixed(WordSyntax::TsQuery, words, |query| {
            let mut hits = Vec::new();
            let mut full = false;
            for r in &self.query(what, sql, &[&query, &project, &limit])? {
                let matched: i64 = r.try_get(8).map_err(|e| crate::pg_error(what, &e))?;
                full = matched >= limit;
                hits.push(baton_sql::search_hit(&PgRow(r))?);
            }
            Ok((hits, full))
        })?;
        Ok(hits)
    }
}

impl SearchTx for PgTx<'_> {
    fn search(&mut self, q: &SearchQuery) -> Result<Vec<SearchHit>> {
        let scope = SearchScope::of(q);
        let limit = i64::from(q.limit);
        let mut hits = Vec::new();
        // The snippet is cut for the hits kept only: ts_headline reads the whole text again.
        if scope.entries {
            let decisions = scope.entry_kinds("e.kind");
            let kind = baton_sql::entry_hit_kind("h.kind");
            let sql = format!(
                "SELECT {kind}, h.id, h.kind, h.session_id,
                        h.agent, h.created_at, ts_headline('simple', h.body, to_tsquery('simple', $1), '{HEADLINE}'),
                        h.rank, h.matched
                 FROM (SELECT w.*, ts_rank(to_tsvector('simple', w.body), to_tsquery('simple', $1), 1)::float8 AS rank,
                              count(*) OVER () AS matched
                       FROM (SELECT e.id, e.kind, e.session_id, s.agent, e.created_at,
                                    e.text || ' ' || coalesce(e.rationale, '') AS body
                             FROM journal_entries e JOIN sessions s ON s.id = e.session_id
                             WHERE {ENTRY_DOCUMENT} @@ to_tsquery('simple', $1) AND s.project = $2{decisions}
                             ORDER BY e.created_at DESC, e.id DESC
                             LIMIT {SEARCH_WINDOW}) w
                       ORDER BY rank DESC, w.created_at DESC, w.id DESC
                       LIMIT $3) h
                 ORDER BY h.rank DESC, h.created_at DESC, h.id DESC"
            );
            hits.extend(self.best_matches("search journal entries", &sql, &q.words, &q.project, limit)?);
        }
        if scope.handoffs {
            let sql = format!(
                "SELECT 'handoff', h.id, NULL::text, h.id, h.agent, h.time,
                        ts_headline('simple', h.body, to_tsquery('simple', $1), '{HEADLINE}'), h.rank, h.matched
                 FROM (SELECT w.id, w.agent, w.time, w.rank, w.matched,
                              coalesce(w.summary, '') || ' ' || coalesce(
                                  (SELECT string_agg(j #>> '{{}}', ' ')
                                   FROM jsonb_path_query(coalesce(w.handoff, 'null')::jsonb, 'strict $.**') AS p(j)
                                   WHERE jsonb_typeof(j) = 'string'),
                                  '') AS body
                       FROM (SELECT s.id, s.agent, s.summary, s.handoff, coalesce(s.ended_at, s.updated_at) AS time,
                                    ts_rank({HANDOFF_DOCUMENT}, to_tsquery('simple', $1), 1)::float8 AS rank,
                                    count(*) OVER () AS matched
                             FROM (SELECT * FROM sessions s
                                   WHERE (s.summary IS NOT NULL OR s.handoff IS NOT NULL)
                                     AND {HANDOFF_DOCUMENT} @@ to_tsquery('simple', $1) AND s.project = $2
                                   ORDER BY coalesce(s.ended_at, s.updated_at) DESC, s.id DESC
                                   LIMIT {SEARCH_WINDOW}) s) w
                       ORDER BY w.rank DESC, w.time DESC, w.id DESC
                       LIMIT $3) h
                 ORDER BY h.rank DESC, h.time DESC, h.id DESC"
            );
            hits.extend(self.best_matches("search handoffs", &sql, &q.words, &q.project, limit)?);
        }
        Ok(baton_sql::best_first(hits, q.limit))
    }
}
