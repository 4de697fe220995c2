//! Idempotency records on PostgreSQL.

use super::*;

impl IdempotencyTx for PgTx<'_> {
    fn idempotency(&mut self, project: &str, scope: &str, key: &str) -> Result<Option<IdempotencyRecord>> {
        let rows = self.query(
            "read an idempotency key",
            "SELECT project, scope, key, command, request, result, created_at FROM idempotency
             WHERE project = $1 AND scope = $2 AND key = $3",
            &[&project, &scope, &key],
        )?;
        rows.first()
            .map(|row| {
                Ok(IdempotencyRecord {
                    project: col(row, 0)?,
                    scope: col(row, 1)?,
                    key: col(row, 2)?,
                    command: col(row, 3)?,
                    request: col(row, 4)?,
                    result: col(row, 5)?,
                    created_at: Timestamp(col(row, 6)?),
                })
            })
            .transpose()
    }

    fn put_idempotency(&mut self, r: &IdempotencyRecord) -> Result<()> {
        let n = self.execute(
            "record an idempotency key",
            "INSERT INTO idempotency (project, scope, key, command, request, result, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (project, scope, key) DO NOTHING",
            &[
                &r.project,
                &r.scope,
                &r.key,
                &r.command,
                &r.request,
                &r.result,
                &r.created_at.0,
            ],
        )?;
        if n == 0 {
            // A concurrent call with the same key committed first. Running this transaction again
            // replays that call's stored result instead of doing the work twice.
            self.retry = Some(Cause::LostRace);
            return Err(baton_sql::refused_idempotency_key(&r.key));
        }
        Ok(())
    }
}
