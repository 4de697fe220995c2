//! A transaction on SQLite and what every concept's queries share: parameters, columns as text and JSON.

use super::*;

pub(crate) struct SqliteTx<'a> {
    pub(crate) tx: &'a rusqlite::Transaction<'a>,
    pub(crate) path: &'a Path,
}

/// A WHERE clause in SQLite's placeholders.
pub(crate) fn filter() -> Filter {
    Filter::new(Placeholder::Question)
}

/// A value bound as a parameter, borrowed.
pub(crate) struct Bound<'v>(pub(crate) &'v Value);

impl rusqlite::ToSql for Bound<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self.0 {
            Value::Null => ValueRef::Null,
            Value::Int(n) => ValueRef::Integer(*n),
            Value::Text(t) => ValueRef::Text(t.as_bytes()),
            Value::Bool(b) => ValueRef::Integer(i64::from(*b)),
            Value::Real(f) => ValueRef::Real(*f),
        }))
    }
}

/// Parameters for rusqlite.
pub(crate) fn bind(values: &[Value]) -> impl rusqlite::Params + '_ {
    rusqlite::params_from_iter(values.iter().map(Bound))
}

/// A row read from SQLite, cell by cell.
pub(crate) struct SqliteRow<'r, 's> {
    row: &'r Row<'s>,
    path: &'r Path,
}

impl Columns for SqliteRow<'_, '_> {
    fn value(&self, idx: usize) -> Result<Value> {
        let cell = self
            .row
            .get_ref(idx)
            .map_err(|e| db_err("cannot read a column of", self.path, e))?;
        match cell {
            ValueRef::Null => Ok(Value::Null),
            ValueRef::Integer(n) => Ok(Value::Int(n)),
            ValueRef::Real(f) => Ok(Value::Real(f)),
            ValueRef::Text(t) => String::from_utf8(t.to_vec())
                .map(Value::Text)
                .map_err(|_| Error::internal(format!("stored {} is not UTF-8 text", self.name(idx)))),
            other => Err(Error::internal(format!(
                "stored {} is unreadable: expected text or an integer, found {:?}",
                self.name(idx),
                other.data_type()
            ))),
        }
    }

    fn name(&self, idx: usize) -> String {
        self.row.as_ref().column_name(idx).unwrap_or("?").to_string()
    }
}

pub(crate) fn json_col<T: serde::de::DeserializeOwned>(idx: usize, s: String) -> rusqlite::Result<T> {
    serde_json::from_str(&s)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, Box::new(e)))
}

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::internal(format!("cannot encode value: {e}")))
}

impl SqliteTx<'_> {
    pub(crate) fn err(&self, e: rusqlite::Error) -> Error {
        db_err("database error on", self.path, e)
    }

    /// The rows of a query, each read by `map`.
    pub(crate) fn query<T>(&self, sql: &str, params: &[Value], map: fn(&dyn Columns) -> Result<T>) -> Result<Vec<T>> {
        let mut stmt = self.tx.prepare_cached(sql).map_err(|e| self.err(e))?;
        let mut rows = stmt.query(bind(params)).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            out.push(map(&SqliteRow { row, path: self.path })?);
        }
        Ok(out)
    }

    pub(crate) fn exec(&self, sql: &str, params: impl rusqlite::Params) -> Result<usize> {
        let mut stmt = self.tx.prepare_cached(sql).map_err(|e| self.err(e))?;
        stmt.execute(params).map_err(|e| self.err(e))
    }

    /// Like `exec`, with a key the database refused as a duplicate turned into `refused(primary)`:
    /// `primary` says whether it was the table's own key rather than a unique index.
    pub(crate) fn exec_or(
        &self,
        refused: impl Fn(bool) -> Error,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<usize> {
        let mut stmt = self.tx.prepare_cached(sql).map_err(|e| self.err(e))?;
        stmt.execute(params).map_err(|e| match &e {
            rusqlite::Error::SqliteFailure(f, _) if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                refused(true)
            }
            rusqlite::Error::SqliteFailure(f, _) if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE => {
                refused(false)
            }
            _ => self.err(e),
        })
    }
}
