//! Idempotency records on SQLite.

use super::*;

use baton_sql::IDEMPOTENCY_COLS;

impl IdempotencyTx for SqliteTx<'_> {
    fn idempotency(&mut self, project: &str, scope: &str, key: &str) -> Result<Option<IdempotencyRecord>> {
        let sql = format!("SELECT {IDEMPOTENCY_COLS} FROM idempotency WHERE project = ?1 AND scope = ?2 AND key = ?3");
        let params = [Value::from(project), Value::from(scope), Value::from(key)];
        Ok(self.query(&sql, &params, baton_sql::idempotency)?.into_iter().next())
    }

    fn put_idempotency(&mut self, r: &IdempotencyRecord) -> Result<()> {
        self.exec_or(
            |_| baton_sql::refused_idempotency_key(&r.key),
            &insert_sql(Placeholder::Question, "idempotency", IDEMPOTENCY_COLS),
            bind(&baton_sql::idempotency_values(r)),
        )?;
        Ok(())
    }
}
