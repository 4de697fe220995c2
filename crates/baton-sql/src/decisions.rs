//! The statements of decisions: the same in both dialects but for how an entry is matched by words.

use baton_core::store::DecisionQuery;
use baton_core::{JournalEntry, Result};

use crate::filter::{Filter, Placeholder};
use crate::row::{Cells, Columns, entry};
use crate::{ENTRY_COLS, qualified};

/// The statement behind `entry_with_project`: the entry `e` with this id and its session's project (a store adds
/// its lock clause).
pub fn entry_with_project_sql(style: Placeholder) -> String {
    format!(
        "SELECT {}, s.project FROM journal_entries e JOIN sessions s ON s.id = e.session_id WHERE e.id = {}",
        qualified("e", ENTRY_COLS),
        style.nth(1)
    )
}

/// An entry and its session's project from a row of [`entry_with_project_sql`].
pub fn entry_with_project(row: &dyn Columns) -> Result<(JournalEntry, String)> {
    let project = Cells(row).text(ENTRY_COLS.split(", ").count())?;
    Ok((entry(row)?, project))
}

/// The statement behind `decisions`, newest first, read by [`crate::decision`]. `matching` is the dialect's
/// condition that the entry `e` holds every one of the words (only called when there are some), its values
/// bound through the filter.
pub fn decisions_sql(
    style: Placeholder,
    q: &DecisionQuery,
    matching: impl FnOnce(&[String], &mut Filter) -> String,
) -> (String, Filter) {
    let mut f = Filter::new(style);
    f.eq("s.project", q.project.as_str());
    f.and("e.kind = 'decision'");
    if let Some(t) = q.since {
        let p = f.param(t);
        f.and(format!("e.created_at >= {p}"));
    }
    if !q.include_superseded {
        f.and("r.id IS NULL");
    }
    if !q.words.is_empty() {
        let cond = matching(&q.words, &mut f);
        f.and(cond);
    }
    let mut sql = format!(
        "SELECT {}, s.agent, r.id FROM journal_entries e JOIN sessions s ON s.id = e.session_id \
         LEFT JOIN journal_entries r ON r.supersedes = e.id{} ORDER BY e.created_at DESC, e.id DESC",
        qualified("e", ENTRY_COLS),
        f.sql()
    );
    sql.push_str(&f.limit(Some(q.limit)));
    (sql, f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::row::Value;
    use baton_core::Timestamp;

    #[test]
    fn words_are_matched_by_the_dialect_after_the_shared_conditions() {
        let q = DecisionQuery {
            project: "acme".into(),
            since: Some(Timestamp(5)),
            words: vec!["jwt".into()],
            include_superseded: false,
            limit: 10,
        };
        let (sql, f) = decisions_sql(Placeholder::Dollar, &q, |words, f| {
            let p = f.param(words.join(" "));
            format!("match({p})")
        });
        assert!(
            sql.ends_with(
                " WHERE s.project = $1 AND e.kind = 'decision' AND e.created_at >= $2 AND r.id IS NULL \
                 AND match($3) ORDER BY e.created_at DESC, e.id DESC LIMIT $4"
            ),
            "{sql}"
        );
        assert_eq!(
            f.params,
            [Value::from("acme"), Value::Int(5), Value::from("jwt"), Value::Int(10)]
        );
        let any = DecisionQuery {
            words: vec![],
            include_superseded: true,
            since: None,
            ..q
        };
        let (sql, _) = decisions_sql(Placeholder::Question, &any, |_, _| unreachable!("no words to match"));
        assert!(
            sql.contains(" WHERE s.project = ?1 AND e.kind = 'decision' ORDER BY"),
            "{sql}"
        );
    }
}
