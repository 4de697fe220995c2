//! Session documents on SQLite.

use super::*;

impl DocumentTx for SqliteTx<'_> {
    fn put_session_document(&mut self, session_id: &str, document: &serde_json::Value) -> Result<()> {
        self.exec(
            "INSERT INTO session_documents (session_id, document) VALUES (?1, ?2)
             ON CONFLICT (session_id) DO UPDATE SET document = excluded.document",
            params![session_id, to_json(document)?],
        )?;
        Ok(())
    }

    fn session_document(&mut self, session_id: &str) -> Result<Option<serde_json::Value>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT document FROM session_documents WHERE session_id = ?1")
            .map_err(|e| self.err(e))?;
        stmt.query_row([session_id], |r| json_col(0, r.get(0)?))
            .optional()
            .map_err(|e| self.err(e))
    }
}
