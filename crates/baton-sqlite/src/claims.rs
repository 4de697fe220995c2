//! Claims on SQLite: grants of work items, keyed by item and token.

use super::*;

use baton_sql::CLAIM_COLS;

pub(crate) fn key_filter(f: &mut Filter, key: &ItemKey) {
    f.eq("project", key.project.as_str());
    f.eq("item_type", key.item_type.as_str());
    f.eq("repo", key.repo.as_str());
    f.eq("item_id", key.item_id.as_str());
}

/// The newest grant of an item.
pub(crate) fn latest_claim_query(key: &ItemKey) -> (String, Vec<Value>) {
    let mut f = filter();
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
        Ok(self.query(&sql, &params, baton_sql::claim)?.into_iter().next())
    }

    fn session_claim_on(&mut self, key: &ItemKey, session_id: &str) -> Result<Option<Claim>> {
        let mut f = filter();
        key_filter(&mut f, key);
        f.eq("session_id", session_id);
        let sql = format!("SELECT {CLAIM_COLS} FROM claims{} ORDER BY token DESC LIMIT 1", f.sql());
        Ok(self.query(&sql, &f.params, baton_sql::claim)?.into_iter().next())
    }

    fn insert_claim(&mut self, c: &Claim) -> Result<()> {
        self.exec_or(
            |duplicate_token| baton_sql::refused_claim(c, duplicate_token),
            &insert_sql(Placeholder::Question, "claims", CLAIM_COLS),
            bind(&baton_sql::claim_values(c)),
        )?;
        Ok(())
    }

    fn update_claim(&mut self, c: &Claim) -> Result<()> {
        let n = self.exec(
            &baton_sql::update_claim_sql(Placeholder::Question),
            bind(&baton_sql::update_claim_values(c)),
        )?;
        if n == 0 {
            return Err(baton_sql::no_claim_to_update(&c.id));
        }
        Ok(())
    }

    fn claims(&mut self, q: &ClaimQuery) -> Result<Vec<Claim>> {
        let mut f = filter();
        if let Some(p) = &q.project {
            f.eq("project", p.as_str());
        }
        if let Some(s) = &q.session_id {
            f.eq("session_id", s.as_str());
        }
        if let Some(t) = &q.item_type {
            f.eq("item_type", t.as_str());
        }
        let states: Vec<&str> = q.states.iter().map(|s| s.as_str()).collect();
        f.within("state", &states);
        if let Some(t) = q.expires_before {
            let p = f.param(t);
            f.and(format!("expires_at < {p}"));
        }
        if q.loss_unreported {
            f.and(baton_sql::LOSS_UNREPORTED);
        }
        // Without statistics the planner would walk a project's whole history through the primary key (it
        // starts with the project too); live claims are found through the indexes made for them.
        let index = match (&q.session_id, &q.project, states.is_empty()) {
            (Some(_), _, _) => " INDEXED BY claims_by_session",
            (None, Some(_), false) => " INDEXED BY claims_by_project",
            _ => "",
        };
        let mut sql = format!(
            "SELECT {CLAIM_COLS} FROM claims{index}{} ORDER BY granted_at, id",
            f.sql()
        );
        sql.push_str(&f.limit(q.limit));
        self.query(&sql, &f.params, baton_sql::claim)
    }
}
