//! What the integrity checks read, on SQLite.

use super::*;

/// The table and column that hold an enum's names.
pub(crate) fn enum_column(column: EnumColumn) -> (&'static str, &'static str) {
    match column {
        EnumColumn::SessionStatus => ("sessions", "status"),
        EnumColumn::ClaimState => ("claims", "state"),
        EnumColumn::ReleaseStatus => ("claims", "release_status"),
        EnumColumn::EntryKind => ("journal_entries", "kind"),
    }
}

impl IntegrityTx for SqliteTx<'_> {
    fn unknown_values(&mut self, column: EnumColumn, limit: u32) -> Result<Vec<String>> {
        let (table, col) = enum_column(column);
        let mut f = Filter::default();
        let accepted = column.accepted();
        let ps: Vec<String> = accepted.iter().map(|v| f.param(v.to_string())).collect();
        let sql = format!(
            "SELECT DISTINCT {col} FROM {table} WHERE {col} IS NOT NULL AND {col} NOT IN ({}) LIMIT {limit}",
            ps.join(", ")
        );
        self.query(&sql, &f.params, |r| r.get(0))
    }
}
