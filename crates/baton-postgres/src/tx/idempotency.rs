//! Idempotency records on PostgreSQL.

use super::*;

use baton_sql::IDEMPOTENCY_COLS;

impl IdempotencyTx for PgTx<'_> {
    fn idempotency(&mut self, project: &str, scope: &str, key: &str) -> Result<Option<IdempotencyRecord>> {
        let rows = self.query(
            "read an idempotency key",
            &format!("SELECT {IDEMPOTENCY_COLS} FROM idempotency WHERE project = $1 AND scope = $2 AND key = $3"),
            &[&project, &scope, &key],
        )?;
        rows.first().map(|r| baton_sql::idempotency(&PgRow(r))).transpose()
    }

    fn put_idempotency(&mut self, r: &IdempotencyRecord) -> Result<()> {
        let values = params(&baton_sql::idempotency_values(r));
        let sql = format!(
            "{} ON CONFLICT (project, scope, key) DO NOTHING",
            baton_sql::insert_sql(baton_sql::Placeholder::Dollar, "idempotency", IDEMPOTENCY_COLS)
        );
        let n = self.execute("record an idempotency key", &sql, &refs(&values))?;
        if n == 0 {
            // A concurrent call with the same key committed first. Running this transaction again
            // replays that call's stored result instead of doing the work twice.
            self.retry = Some(Cause::LostRace);
            return Err(baton_sql::refused_idempotency_key(&r.key));
        }
        Ok(())
    }
}
