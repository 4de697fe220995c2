//! Small helpers for building statements: numbered parameters, WHERE clauses, stable hashes.

use baton_sql::{Columns, Value};
use bytes::BytesMut;
use tokio_postgres::Row;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

use crate::pg_error;

/// A value bound as a parameter: each kind of cell is written as the column's own type asks.
#[derive(Debug)]
pub(crate) struct Param(pub(crate) Value);

impl ToSql for Param {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match &self.0 {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(n) => n.to_sql_checked(ty, out),
            Value::Text(t) => t.to_sql_checked(ty, out),
            Value::Bool(b) => b.to_sql_checked(ty, out),
            Value::Real(f) => f.to_sql_checked(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// Parameters to bind now.
pub(crate) fn params(values: &[Value]) -> Vec<Param> {
    values.iter().cloned().map(Param).collect()
}

/// Parameters to bind by reference.
pub(crate) fn refs(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

/// Parameters of a write sent later.
pub(crate) fn owned(values: Vec<Value>) -> Vec<Box<dyn ToSql + Sync + Send>> {
    values
        .into_iter()
        .map(|v| Box::new(Param(v)) as Box<dyn ToSql + Sync + Send>)
        .collect()
}

/// A row read from PostgreSQL, cell by cell.
pub(crate) struct PgRow<'r>(pub(crate) &'r Row);

impl Columns for PgRow<'_> {
    fn value(&self, idx: usize) -> baton_core::Result<Value> {
        let ty = self.0.columns().get(idx).map(|c| c.type_().clone());
        let read = match ty {
            Some(Type::INT8) => self.0.try_get::<_, Option<i64>>(idx).map(Value::from),
            Some(Type::INT4) => self.0.try_get::<_, Option<i32>>(idx).map(|n| n.map(i64::from).into()),
            Some(Type::BOOL) => self.0.try_get::<_, Option<bool>>(idx).map(Value::from),
            Some(Type::FLOAT8) => self
                .0
                .try_get::<_, Option<f64>>(idx)
                .map(|f| f.map_or(Value::Null, Value::Real)),
            _ => self.0.try_get::<_, Option<String>>(idx).map(Value::from),
        };
        read.map_err(|e| pg_error(&format!("read column {}", self.name(idx)), &e))
    }

    fn name(&self, idx: usize) -> String {
        self.0.columns().get(idx).map(|c| c.name()).unwrap_or("?").to_string()
    }
}

/// FNV-1a, 64 bits, over the parts separated by NUL bytes. Stable across Rust versions and machines, so
/// every baton process derives the same advisory lock key for an item.
pub(crate) fn fnv1a(parts: &[&[u8]]) -> i64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let separated = parts.iter().enumerate().flat_map(|(i, part)| {
        let sep: &[u8] = if i == 0 { &[] } else { &[0] };
        sep.iter().chain(part.iter())
    });
    let mut h = OFFSET;
    for &b in separated {
        h ^= u64::from(b);
        h = h.wrapping_mul(PRIME);
    }
    h as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_reference_values() {
        // Reference values of 64-bit FNV-1a.
        assert_eq!(fnv1a(&[b""]) as u64, 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(&[b"a"]) as u64, 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(&[b"foobar"]) as u64, 0x8594_4171_f739_67e8);
        // Parts are separated, so moving a byte across the boundary changes the key.
        assert_eq!(fnv1a(&[b"a", b"b"]), fnv1a(&[b"a\0b"]));
        assert_ne!(fnv1a(&[b"ab", b"c"]), fnv1a(&[b"a", b"bc"]));
    }
}
