//! Decisions on SQLite.

use super::*;

use baton_sql::{ENTRY_COLS, match_words, qualified};

impl DecisionTx for SqliteTx<'_> {
    fn entry_with_project(&mut self, id: &str) -> Result<Option<(JournalEntry, String)>> {
        let sql = format!(
            "SELECT {}, s.project FROM journal_entries e JOIN sessions s ON s.id = e.session_id WHERE e.id = ?1",
            qualified("e", ENTRY_COLS)
        );
        let rows = self.query(&sql, &[Value::Text(id.to_string())], |row| {
            let project = match row.value(ENTRY_COLS.split(", ").count())? {
                Value::Text(p) => p,
                other => return Err(Error::internal(format!("stored project is unreadable: {other:?}"))),
            };
            Ok((baton_sql::entry(row)?, project))
        })?;
        Ok(rows.into_iter().next())
    }

    fn superseded_by(&mut self, id: &str) -> Result<Option<baton_core::EntryId>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT id FROM journal_entries WHERE supersedes = ?1")
            .map_err(|e| self.err(e))?;
        stmt.query_row([id], |r| r.get::<_, String>(0))
            .optional()
            .map(|id| id.map(Into::into))
            .map_err(|e| self.err(e))
    }

    fn decisions(&mut self, q: &DecisionQuery) -> Result<Vec<DecisionRow>> {
        let mut f = filter();
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
            let p = f.param(match_words(&q.words, '"', " ", "*"));
            f.and(format!(
                "e.id IN (SELECT entry_id FROM journal_search WHERE journal_search MATCH {p})"
            ));
        }
        let mut sql = format!(
            "SELECT {}, s.agent, r.id FROM journal_entries e JOIN sessions s ON s.id = e.session_id \
             LEFT JOIN journal_entries r ON r.supersedes = e.id{} ORDER BY e.created_at DESC, e.id DESC",
            qualified("e", ENTRY_COLS),
            f.sql()
        );
        sql.push_str(&f.limit(Some(q.limit)));
        self.query(&sql, &f.params, baton_sql::decision)
    }
}
