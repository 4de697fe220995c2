//! Claims on PostgreSQL: grants of work items, serialised per item by an advisory lock.

use super::*;

use baton_sql::{CLAIM_COLS, Filter, Placeholder, insert_sql, one_of};

/// The newest grant of an item (`$1`..`$4`: project, type, repo, id), or of one session's (`$5`).
pub(super) fn claim_sql(lock_clause: &str, of_session: bool) -> String {
    let session = if of_session { " AND session_id = $5" } else { "" };
    format!(
        "SELECT {CLAIM_COLS} FROM claims WHERE project = $1 AND item_type = $2 AND repo = $3 AND item_id = $4{session}
         ORDER BY token DESC LIMIT 1{lock_clause}"
    )
}

impl ClaimTx for PgTx<'_> {
    /// Queues the item's lock and the read of its newest grant (the rules read it next) to go out right after
    /// the next statement that waits for an answer, in the same round trip. In the rules that statement reads
    /// the caller's session, so the server takes the session's row lock, then the item's lock, then the
    /// grant's row lock: the order every transaction takes them in. At READ COMMITTED the read, run once the
    /// lock is granted, sees every grant committed before that.
    fn lock_item(&mut self, key: &ItemKey) -> Result<()> {
        let k = fnv1a(&[
            key.project.as_bytes(),
            key.item_type.as_bytes(),
            key.repo.as_bytes(),
            key.item_id.as_bytes(),
        ]);
        let lock = self.statement("lock a work item", "SELECT pg_advisory_xact_lock($1)")?;
        let read = self.statement("read a claim", &claim_sql(self.lock_clause(), false))?;
        let tag = self.conn.fetch_after_next(
            (
                lock,
                vec![Box::new(k)],
                Box::new(|outcome| outcome.map(drop).map_err(|e| pg_error("lock a work item", &e))),
            ),
            "read a claim",
            read,
            vec![
                Box::new(key.project.clone()),
                Box::new(key.item_type.clone()),
                Box::new(key.repo.clone()),
                Box::new(key.item_id.clone()),
            ],
        );
        self.prefetched = Some((key.clone(), tag));
        Ok(())
    }

    fn latest_claim(&mut self, key: &ItemKey) -> Result<Option<Claim>> {
        if let Some((locked, tag)) = self.prefetched.take()
            && locked == *key
            && let Some(rows) = self.conn.take_fetched(tag).map_err(|f| self.failed(f))?
        {
            return rows.first().map(|r| baton_sql::claim(&PgRow(r))).transpose();
        }
        self.claim_where(key, None)
    }

    fn session_claim_on(&mut self, key: &ItemKey, session_id: &str) -> Result<Option<Claim>> {
        self.claim_where(key, Some(session_id))
    }

    fn insert_claim(&mut self, c: &Claim) -> Result<()> {
        let refused = c.clone();
        self.defer(
            "record a claim",
            &insert_sql(Placeholder::Dollar, "claims", CLAIM_COLS),
            owned(baton_sql::claim_values(c)),
            Box::new(move |outcome| match outcome {
                Ok(_) => Ok(()),
                Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                    let constraint = e.as_db_error().and_then(|d| d.constraint()).unwrap_or_default();
                    Err(baton_sql::refused_claim(&refused, constraint != "claims_one_held"))
                }
                Err(e) => Err(pg_error("record a claim", &e)),
            }),
        )
    }

    fn update_claim(&mut self, c: &Claim) -> Result<()> {
        let id = c.id.clone();
        self.defer(
            "update a claim",
            &baton_sql::update_claim_sql(Placeholder::Dollar),
            owned(baton_sql::update_claim_values(c)),
            Box::new(move |outcome| match outcome {
                Ok(0) => Err(baton_sql::no_claim_to_update(&id)),
                Ok(_) => Ok(()),
                Err(e) => Err(pg_error("update a claim", &e)),
            }),
        )
    }

    fn claims(&mut self, q: &ClaimQuery) -> Result<Vec<Claim>> {
        let mut f = Filter::new(Placeholder::Dollar);
        if let Some(v) = &q.project {
            f.eq("project", v.as_str());
        }
        if let Some(v) = &q.session_id {
            f.eq("session_id", v.as_str());
        }
        if let Some(v) = &q.item_type {
            f.eq("item_type", v.as_str());
        }
        if !q.states.is_empty() {
            f.and(one_of("state", q.states.iter().map(|s| s.as_str())));
        }
        if let Some(t) = q.expires_before {
            let p = f.param(t);
            f.and(format!("expires_at < {p}"));
        }
        if q.loss_unreported {
            f.and(baton_sql::LOSS_UNREPORTED);
        }
        let mut sql = format!("SELECT {CLAIM_COLS} FROM claims{} ORDER BY granted_at, id", f.sql());
        sql.push_str(&f.limit(q.limit));
        sql.push_str(self.lock_clause());
        self.query("list claims", &sql, &refs(&params(&f.params)))?
            .iter()
            .map(|r| baton_sql::claim(&PgRow(r)))
            .collect()
    }
}
