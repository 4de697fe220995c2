//! Journal entries on SQLite.

use super::*;
use crate::sessions::only_open;

use baton_sql::ENTRY_COLS;

pub(crate) fn entries_query(q: &EntryQuery) -> (String, Vec<Value>) {
    let mut f = filter();
    if let Some(s) = &q.session_id {
        f.eq("e.session_id", s.as_str());
    }
    let from = if let Some(p) = &q.project {
        f.eq("s.project", p.as_str());
        let statuses: Vec<&str> = q.session_statuses.iter().map(|s| s.as_str()).collect();
        f.within("s.status", &statuses);
        if only_open(&q.session_statuses) {
            // CROSS JOIN keeps sessions as the outer loop: the project's few open sessions, then their entries,
            // rather than every entry of a kind the project ever logged.
            " FROM sessions s INDEXED BY sessions_by_project_status CROSS JOIN journal_entries e INDEXED BY entries_by_session ON e.session_id = s.id"
        } else {
            " FROM journal_entries e JOIN sessions s ON s.id = e.session_id"
        }
    } else if !q.session_statuses.is_empty() {
        let statuses: Vec<&str> = q.session_statuses.iter().map(|s| s.as_str()).collect();
        f.within("s.status", &statuses);
        " FROM journal_entries e JOIN sessions s ON s.id = e.session_id"
    } else {
        " FROM journal_entries e"
    };
    let kinds: Vec<&str> = q.kinds.iter().map(|k| k.as_str()).collect();
    f.within("e.kind", &kinds);
    let cols = baton_sql::qualified("e", ENTRY_COLS);
    let mut sql = format!("SELECT {cols}{from}{} ORDER BY e.created_at DESC, e.id DESC", f.sql());
    sql.push_str(&f.limit(q.limit));
    (sql, f.params)
}

impl JournalTx for SqliteTx<'_> {
    fn insert_entry(&mut self, e: &JournalEntry) -> Result<()> {
        self.exec_or(
            |primary| baton_sql::refused_entry(e, primary),
            &insert_sql(Placeholder::Question, "journal_entries", ENTRY_COLS),
            bind(&baton_sql::entry_values(e)),
        )?;
        Ok(())
    }

    fn entries(&mut self, q: &EntryQuery) -> Result<Vec<JournalEntry>> {
        let (sql, params) = entries_query(q);
        self.query(&sql, &params, baton_sql::entry)
    }
}
