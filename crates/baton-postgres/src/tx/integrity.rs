//! What the integrity checks read, on PostgreSQL.

use super::*;

impl IntegrityTx for PgTx<'_> {
    fn unknown_values(&mut self, column: EnumColumn, limit: u32) -> Result<Vec<String>> {
        let (table, col) = baton_sql::enum_column(column);
        let accepted: Vec<String> = column.accepted().iter().map(|v| v.to_string()).collect();
        self.query(
            "look for unknown values",
            &format!("SELECT DISTINCT {col} FROM {table} WHERE {col} IS NOT NULL AND {col} <> ALL($1) LIMIT $2"),
            &[&accepted, &i64::from(limit)],
        )?
        .iter()
        .map(|row| self::col(row, 0))
        .collect()
    }
}
