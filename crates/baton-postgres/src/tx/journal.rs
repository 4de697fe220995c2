//! Journal entries on PostgreSQL.

use super::*;

use baton_sql::one_of;

/// The query behind `entries`.
pub(super) fn entries_sql(q: &EntryQuery) -> (String, Params) {
    let mut p = Params::default();
    let mut w = Where::default();
    let join = q.project.is_some() || !q.session_statuses.is_empty();
    if let Some(v) = &q.session_id {
        w.and(format!("e.session_id = {}", p.push(v.to_string())));
    }
    if let Some(v) = &q.project {
        w.and(format!("s.project = {}", p.push(v.clone())));
    }
    if !q.session_statuses.is_empty() {
        w.and(one_of("s.status", q.session_statuses.iter().map(|s| s.as_str())));
    }
    if !q.kinds.is_empty() {
        let kinds: Vec<String> = q.kinds.iter().map(|k| k.as_str().to_string()).collect();
        w.and(format!("e.kind = ANY({})", p.push(kinds)));
    }
    let from = if join {
        "journal_entries e JOIN sessions s ON s.id = e.session_id"
    } else {
        "journal_entries e"
    };
    let mut sql = format!(
        "SELECT {} FROM {from}{} ORDER BY e.created_at DESC, e.id DESC",
        baton_sql::qualified("e", baton_sql::ENTRY_COLS),
        w.sql()
    );
    if let Some(l) = q.limit {
        sql.push_str(&format!(" LIMIT {}", p.push(i64::from(l))));
    }
    (sql, p)
}

pub(super) fn entry_from_row(row: &Row) -> Result<JournalEntry> {
    Ok(JournalEntry {
        id: col::<String>(row, 0)?.into(),
        session_id: col::<String>(row, 1)?.into(),
        kind: parse_col(row, 2)?,
        text: col(row, 3)?,
        rationale: col(row, 4)?,
        created_at: Timestamp(col(row, 5)?),
    })
}

impl JournalTx for PgTx<'_> {
    fn insert_entry(&mut self, e: &JournalEntry) -> Result<()> {
        self.execute(
            "record a journal entry",
            "INSERT INTO journal_entries (id, session_id, kind, text, rationale, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &e.id.as_str(),
                &e.session_id.as_str(),
                &e.kind.as_str(),
                &e.text,
                &e.rationale,
                &e.created_at.0,
            ],
        )?;
        Ok(())
    }

    fn entries(&mut self, q: &EntryQuery) -> Result<Vec<JournalEntry>> {
        let (sql, p) = entries_sql(q);
        self.query("list journal entries", &sql, &p.refs())?
            .iter()
            .map(entry_from_row)
            .collect()
    }
}
