//! Decisions on SQLite: words are matched through the FTS5 table `journal_search`.

use super::*;

use baton_sql::WordSyntax;

impl DecisionTx for SqliteTx<'_> {
    fn entry_with_project(&mut self, id: &str) -> Result<Option<(JournalEntry, String)>> {
        let sql = baton_sql::entry_with_project_sql(Placeholder::Question);
        let rows = self.query(&sql, &[Value::Text(id.to_string())], baton_sql::entry_with_project)?;
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
        let (sql, f) = baton_sql::decisions_sql(Placeholder::Question, q, |words, f| {
            let p = f.param(WordSyntax::Fts5.prefixed(words));
            format!("e.id IN (SELECT entry_id FROM journal_search WHERE journal_search MATCH {p})")
        });
        self.query(&sql, &f.params, baton_sql::decision)
    }
}
