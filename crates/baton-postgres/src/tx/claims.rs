//! Claims on PostgreSQL: grants of work items, serialised per item by an advisory lock.

use super::*;

use baton_sql::{CLAIM_COLS, one_of};

/// The newest grant of an item (`$1`..`$4`: project, type, repo, id), or of one session's (`$5`).
pub(super) fn claim_sql(lock_clause: &str, of_session: bool) -> String {
    let session = if of_session { " AND session_id = $5" } else { "" };
    format!(
        "SELECT {CLAIM_COLS} FROM claims WHERE project = $1 AND item_type = $2 AND repo = $3 AND item_id = $4{session}
         ORDER BY token DESC LIMIT 1{lock_clause}"
    )
}

pub(super) fn claim_from_row(row: &Row) -> Result<Claim> {
    let release_status: Option<String> = col(row, 14)?;
    Ok(Claim {
        id: col::<String>(row, 0)?.into(),
        project: col(row, 1)?,
        item_type: col(row, 2)?,
        repo: col(row, 3)?,
        item_id: col(row, 4)?,
        token: col(row, 5)?,
        session_id: col::<String>(row, 6)?.into(),
        agent: col(row, 7)?,
        state: parse_col(row, 8)?,
        ttl_secs: col(row, 9)?,
        granted_at: Timestamp(col(row, 10)?),
        renewed_at: Timestamp(col(row, 11)?),
        expires_at: Timestamp(col(row, 12)?),
        ended_at: col::<Option<i64>>(row, 13)?.map(Timestamp),
        release_status: release_status
            .map(|s| {
                s.parse()
                    .map_err(|e: Error| Error::internal(format!("PostgreSQL: stored value is unreadable: {e}")))
            })
            .transpose()?,
        notes: col(row, 15)?,
        loss_reported: col(row, 16)?,
        forced_by: col(row, 17)?,
    })
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
            return rows.first().map(claim_from_row).transpose();
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
            "INSERT INTO claims (id, project, item_type, repo, item_id, token, session_id, agent, state, ttl_secs,
                 granted_at, renewed_at, expires_at, ended_at, release_status, notes, loss_reported, forced_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
            vec![
                Box::new(c.id.to_string()),
                Box::new(c.project.clone()),
                Box::new(c.item_type.clone()),
                Box::new(c.repo.clone()),
                Box::new(c.item_id.clone()),
                Box::new(c.token),
                Box::new(c.session_id.to_string()),
                Box::new(c.agent.clone()),
                Box::new(c.state.as_str()),
                Box::new(c.ttl_secs),
                Box::new(c.granted_at.0),
                Box::new(c.renewed_at.0),
                Box::new(c.expires_at.0),
                Box::new(c.ended_at.map(Timestamp::micros)),
                Box::new(c.release_status.map(|r| r.as_str())),
                Box::new(c.notes.clone()),
                Box::new(c.loss_reported),
                Box::new(c.forced_by.clone()),
            ],
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
            "UPDATE claims SET state = $2, ttl_secs = $3, renewed_at = $4, expires_at = $5, ended_at = $6,
                 release_status = $7, notes = $8, loss_reported = $9, forced_by = $10
             WHERE id = $1 AND project = $11 AND item_type = $12 AND repo = $13 AND item_id = $14 AND token = $15",
            vec![
                Box::new(c.id.to_string()),
                Box::new(c.state.as_str()),
                Box::new(c.ttl_secs),
                Box::new(c.renewed_at.0),
                Box::new(c.expires_at.0),
                Box::new(c.ended_at.map(Timestamp::micros)),
                Box::new(c.release_status.map(|r| r.as_str())),
                Box::new(c.notes.clone()),
                Box::new(c.loss_reported),
                Box::new(c.forced_by.clone()),
                Box::new(c.project.clone()),
                Box::new(c.item_type.clone()),
                Box::new(c.repo.clone()),
                Box::new(c.item_id.clone()),
                Box::new(c.token),
            ],
            Box::new(move |outcome| match outcome {
                Ok(0) => Err(baton_sql::no_claim_to_update(&id)),
                Ok(_) => Ok(()),
                Err(e) => Err(pg_error("update a claim", &e)),
            }),
        )
    }

    fn claims(&mut self, q: &ClaimQuery) -> Result<Vec<Claim>> {
        let mut p = Params::default();
        let mut w = Where::default();
        if let Some(v) = &q.project {
            w.and(format!("project = {}", p.push(v.clone())));
        }
        if let Some(v) = &q.session_id {
            w.and(format!("session_id = {}", p.push(v.to_string())));
        }
        if let Some(v) = &q.item_type {
            w.and(format!("item_type = {}", p.push(v.clone())));
        }
        if !q.states.is_empty() {
            w.and(one_of("state", q.states.iter().map(|s| s.as_str())));
        }
        if let Some(t) = q.expires_before {
            w.and(format!("expires_at < {}", p.push(t.micros())));
        }
        if q.loss_unreported {
            w.and(baton_sql::LOSS_UNREPORTED);
        }
        let mut sql = format!("SELECT {CLAIM_COLS} FROM claims{} ORDER BY granted_at, id", w.sql());
        if let Some(l) = q.limit {
            sql.push_str(&format!(" LIMIT {}", p.push(i64::from(l))));
        }
        sql.push_str(self.lock_clause());
        self.query("list claims", &sql, &p.refs())?
            .iter()
            .map(claim_from_row)
            .collect()
    }
}
