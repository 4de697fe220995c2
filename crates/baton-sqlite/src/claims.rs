//! Claims on SQLite: grants of work items, keyed by item and token.

use super::*;

use baton_sql::CLAIM_COLS;

pub(crate) fn claim_row(r: &Row) -> rusqlite::Result<Claim> {
    Ok(Claim {
        id: r.get::<_, String>(0)?.into(),
        project: r.get(1)?,
        item_type: r.get(2)?,
        repo: r.get(3)?,
        item_id: r.get(4)?,
        token: r.get(5)?,
        session_id: r.get::<_, String>(6)?.into(),
        agent: r.get(7)?,
        state: parse_col::<ClaimState>(8, r.get(8)?)?,
        ttl_secs: r.get(9)?,
        granted_at: Timestamp(r.get(10)?),
        renewed_at: Timestamp(r.get(11)?),
        expires_at: Timestamp(r.get(12)?),
        ended_at: r.get::<_, Option<i64>>(13)?.map(Timestamp),
        release_status: r.get::<_, Option<String>>(14)?.map(|s| parse_col(14, s)).transpose()?,
        notes: r.get(15)?,
        loss_reported: r.get(16)?,
        forced_by: r.get(17)?,
    })
}

pub(crate) fn key_filter(f: &mut Filter, key: &ItemKey) {
    f.eq("project", key.project.clone());
    f.eq("item_type", key.item_type.clone());
    f.eq("repo", key.repo.clone());
    f.eq("item_id", key.item_id.clone());
}

/// The newest grant of an item.
pub(crate) fn latest_claim_query(key: &ItemKey) -> (String, Vec<SqlValue>) {
    let mut f = Filter::default();
    key_filter(&mut f, key);
    let sql = format!("SELECT {CLAIM_COLS} FROM claims{} ORDER BY token DESC LIMIT 1", f.sql());
    (sql, f.params)
}

impl ClaimTx for SqliteTx<'_> {
    fn lock_item(&mut self, _key: &ItemKey) -> Result<()> {
        // The write transaction already holds SQLite's single write lock.
        Ok(())
    }

    fn latest_claim(&mut self, key: &ItemKey) -> Result<Option<Claim>> {
        let (sql, params) = latest_claim_query(key);
        Ok(self.query(&sql, &params, claim_row)?.into_iter().next())
    }

    fn session_claim_on(&mut self, key: &ItemKey, session_id: &str) -> Result<Option<Claim>> {
        let mut f = Filter::default();
        key_filter(&mut f, key);
        f.eq("session_id", session_id.to_string());
        let sql = format!("SELECT {CLAIM_COLS} FROM claims{} ORDER BY token DESC LIMIT 1", f.sql());
        Ok(self.query(&sql, &f.params, claim_row)?.into_iter().next())
    }

    fn insert_claim(&mut self, c: &Claim) -> Result<()> {
        self.exec_or(|duplicate_token| baton_sql::refused_claim(c, duplicate_token),
            &format!("INSERT INTO claims ({CLAIM_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"),
            params![
                c.id.as_str(), c.project, c.item_type, c.repo, c.item_id, c.token, c.session_id.as_str(), c.agent,
                c.state.as_str(), c.ttl_secs, c.granted_at.0, c.renewed_at.0, c.expires_at.0,
                c.ended_at.map(|t| t.0), c.release_status.map(|s| s.as_str()), c.notes, c.loss_reported,
                c.forced_by
            ],
        )?;
        Ok(())
    }

    fn update_claim(&mut self, c: &Claim) -> Result<()> {
        let n = self.exec(
            "UPDATE claims SET state = ?6, ttl_secs = ?7, renewed_at = ?8, expires_at = ?9, ended_at = ?10, release_status = ?11, notes = ?12, loss_reported = ?13, forced_by = ?14
             WHERE project = ?1 AND item_type = ?2 AND repo = ?3 AND item_id = ?4 AND token = ?5 AND id = ?15",
            params![
                c.project, c.item_type, c.repo, c.item_id, c.token,
                c.state.as_str(), c.ttl_secs, c.renewed_at.0, c.expires_at.0, c.ended_at.map(|t| t.0),
                c.release_status.map(|s| s.as_str()), c.notes, c.loss_reported, c.forced_by, c.id.as_str()
            ],
        )?;
        if n == 0 {
            return Err(baton_sql::no_claim_to_update(&c.id));
        }
        Ok(())
    }

    fn claims(&mut self, q: &ClaimQuery) -> Result<Vec<Claim>> {
        let mut f = Filter::default();
        if let Some(p) = &q.project {
            f.eq("project", p.clone());
        }
        if let Some(s) = &q.session_id {
            f.eq("session_id", s.to_string());
        }
        if let Some(t) = &q.item_type {
            f.eq("item_type", t.clone());
        }
        let states: Vec<&str> = q.states.iter().map(|s| s.as_str()).collect();
        f.within("state", &states);
        if let Some(t) = q.expires_before {
            let p = f.param(t.0);
            f.raw(format!("expires_at < {p}"));
        }
        if q.loss_unreported {
            f.raw(baton_sql::LOSS_UNREPORTED.to_string());
        }
        // Without statistics the planner would walk a project's whole history through the primary key (it
        // starts with the project too); live claims are found through the indexes made for them.
        let index = match (&q.session_id, &q.project, states.is_empty()) {
            (Some(_), _, _) => " INDEXED BY claims_by_session",
            (None, Some(_), false) => " INDEXED BY claims_by_project",
            _ => "",
        };
        let sql = format!(
            "SELECT {CLAIM_COLS} FROM claims{index}{} ORDER BY granted_at, id{}",
            f.sql(),
            limit_sql(q.limit)
        );
        self.query(&sql, &f.params, claim_row)
    }
}
