//! What the integrity checks read, on SQLite.

use super::*;

impl IntegrityTx for SqliteTx<'_> {
    fn unknown_values(&mut self, column: EnumColumn, limit: u32) -> Result<Vec<String>> {
        let (table, col) = baton_sql::enum_column(column);
        let mut f = filter();
        let accepted = column.accepted();
        let ps: Vec<String> = accepted.iter().map(|v| f.param(*v)).collect();
        let sql = format!(
            "SELECT DISTINCT {col} FROM {table} WHERE {col} IS NOT NULL AND {col} NOT IN ({}) LIMIT {limit}",
            ps.join(", ")
        );
        self.query(&sql, &f.params, |r| match r.value(0)? {
            Value::Text(t) => Ok(t),
            other => Ok(format!("{other:?}")),
        })
    }
}
