//! Small helpers for building statements: numbered parameters, WHERE clauses, stable hashes.

use tokio_postgres::types::ToSql;

/// Parameters of a statement built at run time. Values only ever travel as parameters, never as SQL text.
#[derive(Default)]
pub(crate) struct Params {
    values: Vec<Box<dyn ToSql + Sync>>,
}

impl Params {
    /// Adds a value and returns its placeholder (`$1`, `$2`, ...).
    pub(crate) fn push(&mut self, value: impl ToSql + Sync + 'static) -> String {
        self.values.push(Box::new(value));
        format!("${}", self.values.len())
    }

    pub(crate) fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.values.iter().map(|v| v.as_ref()).collect()
    }
}

/// Conditions joined with AND.
#[derive(Default)]
pub(crate) struct Where {
    conds: Vec<String>,
}

impl Where {
    pub(crate) fn and(&mut self, cond: impl Into<String>) {
        self.conds.push(cond.into());
    }

    /// ` WHERE a AND b`, or nothing.
    pub(crate) fn sql(&self) -> String {
        if self.conds.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.conds.join(" AND "))
        }
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

    #[test]
    fn params_number_in_order() {
        let mut p = Params::default();
        assert_eq!(p.push(1i64), "$1");
        assert_eq!(p.push("x".to_string()), "$2");
        assert_eq!(p.refs().len(), 2);
        let mut w = Where::default();
        assert_eq!(w.sql(), "");
        w.and("a = $1");
        w.and("b = $2");
        assert_eq!(w.sql(), " WHERE a = $1 AND b = $2");
    }
}
