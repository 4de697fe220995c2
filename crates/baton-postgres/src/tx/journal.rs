//! Journal entries on PostgreSQL.

use super::*;

use baton_sql::{ENTRY_COLS, Filter, Placeholder, insert_sql, one_of};

/// The query behind `entries`.
pub(super) fn entries_sql(q: &EntryQuery) -> (String, Filter) {
    let mut f = Filter::new(Placeholder::Dollar);
    let join = q.project.is_some() || !q.session_statuses.is_empty();
    if let Some(v) = &q.session_id {
        f.eq("e.session_id", v.as_str());
    }
    if let Some(v) = &q.project {
        f.eq("s.project", v.as_str());
    }
    if !q.session_statuses.is_empty() {
        f.and(one_of("s.status", q.session_statuses.iter().map(|s| s.as_str())));
    }
    let kinds: Vec<&str> = q.kinds.iter().map(|k| k.as_str()).collect();
    f.within("e.kind", &kinds);
    let from = if join {
        "journal_entries e JOIN sessions s ON s.id = e.session_id"
    } else {
        "journal_entries e"
    };
    let mut sql = format!(
        "SELECT {} FROM {from}{} ORDER BY e.created_at DESC, e.id DESC",
        baton_sql::qualified("e", ENTRY_COLS),
        f.sql()
    );
    sql.push_str(&f.limit(q.limit));
    (sql, f)
}

impl JournalTx for PgTx<'_> {
    fn insert_entry(&mut self, e: &JournalEntry) -> Result<()> {
        let values = params(&baton_sql::entry_values(e));
        let sql = format!(
            "{} ON CONFLICT DO NOTHING",
            insert_sql(Placeholder::Dollar, "journal_entries", ENTRY_COLS)
        );
        if self.execute("record a journal entry", &sql, &refs(&values))? == 0 {
            if e.supersedes.is_some() {
                // Most likely a concurrent decision superseded the same one and committed first: running the
                // transaction again reads it, and refuses with its id.
                self.retry = Some(Cause::LostRace);
            }
            return Err(baton_sql::refused_entry(e, e.supersedes.is_none()));
        }
        Ok(())
    }

    fn entries(&mut self, q: &EntryQuery) -> Result<Vec<JournalEntry>> {
        let (sql, f) = entries_sql(q);
        self.query("list journal entries", &sql, &refs(&params(&f.params)))?
            .iter()
            .map(|r| baton_sql::entry(&PgRow(r)))
            .collect()
    }
}
