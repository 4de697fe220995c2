//! A transaction on SQLite and what every concept's queries share: parameters, columns as text and JSON.

use super::*;

pub(crate) struct SqliteTx<'a> {
    pub(crate) tx: &'a rusqlite::Transaction<'a>,
    pub(crate) path: &'a Path,
}

/// Builds a WHERE clause with numbered parameters.
#[derive(Default)]
pub(crate) struct Filter {
    pub(crate) clauses: Vec<String>,
    pub(crate) params: Vec<SqlValue>,
}

impl Filter {
    pub(crate) fn param(&mut self, v: impl Into<SqlValue>) -> String {
        self.params.push(v.into());
        format!("?{}", self.params.len())
    }
    pub(crate) fn eq(&mut self, column: &str, v: impl Into<SqlValue>) {
        let p = self.param(v);
        self.clauses.push(format!("{column} = {p}"));
    }
    pub(crate) fn within(&mut self, column: &str, values: &[&str]) {
        if values.is_empty() {
            return;
        }
        let ps: Vec<String> = values.iter().map(|v| self.param(v.to_string())).collect();
        self.clauses.push(format!("{column} IN ({})", ps.join(", ")));
    }
    pub(crate) fn raw(&mut self, clause: String) {
        self.clauses.push(clause);
    }
    pub(crate) fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        }
    }
}

pub(crate) fn parse_col<T: std::str::FromStr>(idx: usize, s: String) -> rusqlite::Result<T> {
    s.parse::<T>().map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            idx,
            rusqlite::types::Type::Text,
            format!("unexpected value '{s}'").into(),
        )
    })
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

    pub(crate) fn query<T>(
        &self,
        sql: &str,
        params: &[SqlValue],
        map: fn(&Row) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>> {
        let mut stmt = self.tx.prepare_cached(sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(params.iter()), map)
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<T>>>().map_err(|e| self.err(e))
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

pub(crate) fn limit_sql(limit: Option<u32>) -> String {
    limit.map(|l| format!(" LIMIT {l}")).unwrap_or_default()
}
