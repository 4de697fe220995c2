//! Decisions on PostgreSQL: words are matched against the expression of a GIN index.

use super::*;

use baton_sql::{Placeholder, WordSyntax};

/// The text a journal entry is searched by: the expression of the index `journal_entries_search`.
pub(super) const ENTRY_DOCUMENT: &str = "to_tsvector('simple', e.text || ' ' || coalesce(e.rationale, ''))";

impl DecisionTx for PgTx<'_> {
    fn entry_with_project(&mut self, id: &str) -> Result<Option<(JournalEntry, String)>> {
        let mut sql = baton_sql::entry_with_project_sql(Placeholder::Dollar);
        if self.write {
            sql.push_str(" FOR SHARE OF e");
        }
        let rows = self.query("read a journal entry", &sql, &[&id])?;
        rows.first()
            .map(|r| baton_sql::entry_with_project(&PgRow(r)))
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
        let (sql, f) = baton_sql::decisions_sql(Placeholder::Dollar, q, |words, f| {
            let p = f.param(WordSyntax::TsQuery.prefixed(words));
            format!("{ENTRY_DOCUMENT} @@ to_tsquery('simple', {p})")
        });
        self.query("list decisions", &sql, &refs(&params(&f.params)))?
            .iter()
            .map(|r| baton_sql::decision(&PgRow(r)))
            .collect()
    }
}
