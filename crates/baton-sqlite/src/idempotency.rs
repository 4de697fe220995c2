//! Idempotency records on SQLite.

use super::*;

impl IdempotencyTx for SqliteTx<'_> {
    fn idempotency(&mut self, project: &str, scope: &str, key: &str) -> Result<Option<IdempotencyRecord>> {
        let mut stmt = self
            .tx
            .prepare_cached(
                "SELECT project, scope, key, command, request, result, created_at FROM idempotency
                 WHERE project = ?1 AND scope = ?2 AND key = ?3",
            )
            .map_err(|e| self.err(e))?;
        stmt.query_row(params![project, scope, key], |r| {
            Ok(IdempotencyRecord {
                project: r.get(0)?,
                scope: r.get(1)?,
                key: r.get(2)?,
                command: r.get(3)?,
                request: r.get(4)?,
                result: r.get(5)?,
                created_at: Timestamp(r.get(6)?),
            })
        })
        .optional()
        .map_err(|e| self.err(e))
    }

    fn put_idempotency(&mut self, r: &IdempotencyRecord) -> Result<()> {
        self.exec_or(
            |_| baton_sql::refused_idempotency_key(&r.key),
            "INSERT INTO idempotency (project, scope, key, command, request, result, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                r.project,
                r.scope,
                r.key,
                r.command,
                r.request,
                r.result,
                r.created_at.0
            ],
        )?;
        Ok(())
    }
}
