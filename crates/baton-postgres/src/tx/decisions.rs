//! Decisions on PostgreSQL.

use super::*;

use baton_sql::{ENTRY_COLS, Filter, Placeholder, match_words, qualified};

/// The text a journal entry is searched by: the expression of the index `journal_entries_search`.
pub(super) const ENTRY_DOCUMENT: &str = "to_tsvector('simple', e.text || ' ' || coalesce(e.rationale, ''))";

impl DecisionTx for PgTx<'_> {
    fn entry_with_project(&mut self, id: &str) -> Result<Option<(JournalEntry, String)>> {
        let sql = format!(
            "SELECT {}, s.project FROM journal_entries e JOIN sessions s ON s.id = e.session_id WHERE e.id = $1{}",
            qualified("e", ENTRY_COLS),
            if self.write { " FOR SHARE OF e" } else { "" }
        );
        let rows = self.query("read a journal entry", &sql, &[&id])?;
        let n = ENTRY_COLS.split(", ").count();
        rows.first()
            .map(|r| {
                let project: String = r
                    .try_get(n)
                    .map_err(|e| crate::pg_error("read a journal entry's project", &e))?;
                Ok((baton_sql::entry(&PgRow(r))?, project))
            })
            .transpose()
    }

    fn superseded_by(&mut self, id: &str) -> Result<Option<baton_core::EntryId>> {
        let rows = self.query(
            "read what superseded a decision",
            "SELECT id FROM journal_entries WHERE supersedes = $1",
            &[&id],
        )?;
        Ok(rows.first().map(|r| r.get::<_, String>(0).into()))
    }

    fn decisions(&mut self, q: &DecisionQuery) -> Result<Vec<DecisionRow>> {
        let mut f = Filter::new(Placeholder::Dollar);
        f.eq("s.project", q.project.as_str());
        f.and("e.kind = 'decision'");
        if let Some(t) = q.since {
            let p = f.param(t);
            f.and(format!("e.created_at >= {p}"));
        }
        if !q.include_superseded {
            f.and("r.id IS NULL");
        }
        if !q.words.is_empty() {
            let p = f.param(match_words(&q.words, '\'', " & ", ":*"));
            f.and(format!("{ENTRY_DOCUMENT} @@ to_tsquery('simple', {p})"));
        }
        let mut sql = format!(
            "SELECT {}, s.agent, r.id FROM journal_entries e JOIN sessions s ON s.id = e.session_id \
             LEFT JOIN journal_entries r ON r.supersedes = e.id{} ORDER BY e.created_at DESC, e.id DESC",
            qualified("e", ENTRY_COLS),
            f.sql()
        );
        sql.push_str(&f.limit(Some(q.limit)));
        self.query("list decisions", &sql, &refs(&params(&f.params)))?
            .iter()
            .map(|r| baton_sql::decision(&PgRow(r)))
            .collect()
    }
}
