//! Session documents on PostgreSQL.

use super::*;

impl DocumentTx for PgTx<'_> {
    fn put_session_document(&mut self, session_id: &str, document: &serde_json::Value) -> Result<()> {
        self.execute(
            "record the fields of a session's document",
            "INSERT INTO session_documents (session_id, document) VALUES ($1, $2)
             ON CONFLICT (session_id) DO UPDATE SET document = EXCLUDED.document",
            &[&session_id, &document.to_string()],
        )?;
        Ok(())
    }

    fn session_document(&mut self, session_id: &str) -> Result<Option<serde_json::Value>> {
        let rows = self.query(
            "read the fields of a session's document",
            "SELECT document FROM session_documents WHERE session_id = $1",
            &[&session_id],
        )?;
        match rows.first() {
            Some(row) => json_col(row, 0, |t| serde_json::from_str::<serde_json::Value>(t)),
            None => Ok(None),
        }
    }
}
