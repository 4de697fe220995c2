//! Statements built at run time, in either placeholder style: values only ever travel as parameters.

use crate::row::Value;

/// How a dialect numbers its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholder {
    /// SQLite's `?1`, `?2`, ...
    Question,
    /// PostgreSQL's `$1`, `$2`, ...
    Dollar,
}

impl Placeholder {
    pub fn nth(self, n: usize) -> String {
        match self {
            Placeholder::Question => format!("?{n}"),
            Placeholder::Dollar => format!("${n}"),
        }
    }

    /// `P1, P2, ... Pn`.
    fn list(self, from: usize, n: usize) -> String {
        (from..from + n).map(|i| self.nth(i)).collect::<Vec<_>>().join(", ")
    }
}

/// Conditions joined with AND, and the parameters they bind.
#[derive(Debug)]
pub struct Filter {
    style: Placeholder,
    conds: Vec<String>,
    pub params: Vec<Value>,
}

impl Filter {
    pub fn new(style: Placeholder) -> Self {
        Filter {
            style,
            conds: Vec::new(),
            params: Vec::new(),
        }
    }

    /// Binds a value and returns its placeholder.
    pub fn param(&mut self, v: impl Into<Value>) -> String {
        self.params.push(v.into());
        self.style.nth(self.params.len())
    }

    /// `column = value`.
    pub fn eq(&mut self, column: &str, v: impl Into<Value>) {
        let p = self.param(v);
        self.conds.push(format!("{column} = {p}"));
    }

    /// `column IN (values...)`, each bound; nothing when `values` is empty.
    pub fn within(&mut self, column: &str, values: &[&str]) {
        if values.is_empty() {
            return;
        }
        let ps: Vec<String> = values.iter().map(|v| self.param(*v)).collect();
        self.conds.push(format!("{column} IN ({})", ps.join(", ")));
    }

    /// A condition written by the caller, its values bound through [`Filter::param`].
    pub fn and(&mut self, cond: impl Into<String>) {
        self.conds.push(cond.into());
    }

    /// ` WHERE a AND b`, or nothing.
    pub fn sql(&self) -> String {
        if self.conds.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.conds.join(" AND "))
        }
    }

    /// ` LIMIT P` with the limit bound, or nothing.
    pub fn limit(&mut self, limit: Option<u32>) -> String {
        match limit {
            Some(l) => format!(" LIMIT {}", self.param(i64::from(l))),
            None => String::new(),
        }
    }
}

/// `INSERT INTO table (cols) VALUES (P1, ..., Pn)`.
pub fn insert_sql(style: Placeholder, table: &str, cols: &str) -> String {
    let n = cols.split(", ").count();
    format!("INSERT INTO {table} ({cols}) VALUES ({})", style.list(1, n))
}

/// `UPDATE table SET c = Pi, ... WHERE k = Pj AND ...` over the values of `all` (a column list such as
/// [`crate::SESSION_COLS`]), with the statement's parameters picked from them by [`update_values`].
pub fn update_sql(style: Placeholder, table: &str, set: &str, key: &str) -> String {
    let mut n = 0;
    let mut next = |c: &str| {
        n += 1;
        format!("{c} = {}", style.nth(n))
    };
    let sets: Vec<String> = set.split(", ").map(&mut next).collect();
    let keys: Vec<String> = key.split(", ").map(&mut next).collect();
    format!("UPDATE {table} SET {} WHERE {}", sets.join(", "), keys.join(" AND "))
}

/// The parameters of [`update_sql`]: the values of `set`, then of `key`, taken from a full row's `values`
/// in the order of `all`.
pub fn update_values(all: &str, values: Vec<Value>, set: &str, key: &str) -> Vec<Value> {
    let row: Vec<(&str, Value)> = all.split(", ").zip(values).collect();
    set.split(", ")
        .chain(key.split(", "))
        .map(|c| {
            row.iter()
                .find(|(name, _)| *name == c)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("column {c} is not among {all}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_in_order_in_each_style() {
        for (style, first, second) in [(Placeholder::Question, "?1", "?2"), (Placeholder::Dollar, "$1", "$2")] {
            let mut f = Filter::new(style);
            assert_eq!(f.sql(), "");
            f.eq("a", 1i64);
            let p = f.param("x");
            f.and(format!("b < {p}"));
            assert_eq!(f.sql(), format!(" WHERE a = {first} AND b < {second}"));
            assert_eq!(f.params, [Value::Int(1), Value::Text("x".into())]);
        }
    }

    #[test]
    fn an_empty_set_adds_no_condition_and_a_limit_is_bound() {
        let mut f = Filter::new(Placeholder::Dollar);
        f.within("state", &[]);
        assert_eq!(f.sql(), "");
        f.within("state", &["held", "released"]);
        assert_eq!(f.sql(), " WHERE state IN ($1, $2)");
        assert_eq!(f.limit(Some(5)), " LIMIT $3");
        assert_eq!(f.limit(None), "");
    }

    #[test]
    fn updates_set_then_match_with_values_picked_by_name() {
        assert_eq!(
            update_sql(Placeholder::Question, "t", "b, c", "a"),
            "UPDATE t SET b = ?1, c = ?2 WHERE a = ?3"
        );
        let values = vec![Value::Int(1), Value::Int(2), Value::Int(3)];
        assert_eq!(
            update_values("a, b, c", values, "c, b", "a"),
            [Value::Int(3), Value::Int(2), Value::Int(1)]
        );
        assert_eq!(
            insert_sql(Placeholder::Dollar, "t", "a, b"),
            "INSERT INTO t (a, b) VALUES ($1, $2)"
        );
    }
}
