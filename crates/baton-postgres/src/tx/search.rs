//! Full-text search on PostgreSQL: GIN indexes of `to_tsvector('simple', ...)` (migration 8).

use super::*;

use baton_core::SearchKind;
use baton_sql::match_words;

use super::decisions::ENTRY_DOCUMENT;

/// The text a session's handoff is searched by: the expression of the index `sessions_handoff_search`.
const HANDOFF_DOCUMENT: &str =
    "(to_tsvector('simple', coalesce(s.summary, '')) || to_tsvector('simple', coalesce(s.handoff, 'null')::jsonb))";

/// How a snippet is cut: about as much as the embedded store shows, matches marked `[like this]`.
const HEADLINE: &str =
    "StartSel=\"[\", StopSel=\"]\", MaxWords=16, MinWords=6, MaxFragments=1, FragmentDelimiter=\"…\"";

impl SearchTx for PgTx<'_> {
    fn search(&mut self, q: &SearchQuery) -> Result<Vec<SearchHit>> {
        let any = q.kinds.is_empty();
        let entries = any
            || q.kinds
                .iter()
                .any(|k| matches!(k, SearchKind::Journal | SearchKind::Decision));
        let only_decisions = !any && !q.kinds.contains(&SearchKind::Journal);
        let handoffs = any || q.kinds.contains(&SearchKind::Handoff);
        let query = match_words(&q.words, '\'', " & ", ":*");
        let limit = i64::from(q.limit);
        let mut hits = Vec::new();
        // The snippet is cut for the hits kept only: ts_headline reads the whole text again.
        if entries {
            let decisions = if only_decisions { " AND e.kind = 'decision'" } else { "" };
            let sql = format!(
                "SELECT CASE h.kind WHEN 'decision' THEN 'decision' ELSE 'journal' END, h.id, h.kind, h.session_id,
                        h.agent, h.created_at, ts_headline('simple', h.body, to_tsquery('simple', $1), '{HEADLINE}'),
                        h.rank
                 FROM (SELECT e.id, e.kind, e.session_id, s.agent, e.created_at,
                              e.text || ' ' || coalesce(e.rationale, '') AS body,
                              ts_rank({ENTRY_DOCUMENT}, to_tsquery('simple', $1), 1)::float8 AS rank
                       FROM journal_entries e JOIN sessions s ON s.id = e.session_id
                       WHERE {ENTRY_DOCUMENT} @@ to_tsquery('simple', $1) AND s.project = $2{decisions}
                       ORDER BY rank DESC, e.created_at DESC, e.id DESC
                       LIMIT $3) h
                 ORDER BY h.rank DESC, h.created_at DESC, h.id DESC"
            );
            let rows = self.query("search journal entries", &sql, &[&query, &q.project, &limit])?;
            for r in &rows {
                hits.push(baton_sql::search_hit(&PgRow(r))?);
            }
        }
        if handoffs {
            let sql = format!(
                "SELECT 'handoff', h.id, NULL::text, h.id, h.agent, h.time,
                        ts_headline('simple', h.body, to_tsquery('simple', $1), '{HEADLINE}'), h.rank
                 FROM (SELECT s.id, s.agent, coalesce(s.ended_at, s.updated_at) AS time,
                              coalesce(s.summary, '') || ' ' || coalesce(
                                  (SELECT string_agg(j #>> '{{}}', ' ')
                                   FROM jsonb_path_query(coalesce(s.handoff, 'null')::jsonb, 'strict $.**') AS p(j)
                                   WHERE jsonb_typeof(j) = 'string'),
                                  '') AS body,
                              ts_rank({HANDOFF_DOCUMENT}, to_tsquery('simple', $1), 1)::float8 AS rank
                       FROM sessions s
                       WHERE (s.summary IS NOT NULL OR s.handoff IS NOT NULL)
                         AND {HANDOFF_DOCUMENT} @@ to_tsquery('simple', $1) AND s.project = $2
                       ORDER BY rank DESC, time DESC, s.id DESC
                       LIMIT $3) h
                 ORDER BY h.rank DESC, h.time DESC, h.id DESC"
            );
            let rows = self.query("search handoffs", &sql, &[&query, &q.project, &limit])?;
            for r in &rows {
                hits.push(baton_sql::search_hit(&PgRow(r))?);
            }
        }
        Ok(baton_sql::best_first(hits, q.limit))
    }
}
