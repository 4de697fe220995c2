//! Search: what sessions wrote (journal entries, handoffs), found by its words and ranked.

use super::{Baton, Caller, SearchRequest, SearchResults};
use crate::error::Result;
use crate::model::SearchKind;
use crate::parse;
use crate::store::{self, SearchQuery};

/// How many hits a search returns when no limit is given.
const DEFAULT_LIMIT: u32 = 20;

impl Baton {
    /// What in the caller's project matches every word of the request's text, best first.
    pub fn search(&self, caller: &Caller, req: &SearchRequest) -> Result<SearchResults> {
        let words = parse::search_words(&req.text)?;
        let mut kinds: Vec<SearchKind> = Vec::new();
        for k in &req.kinds {
            let k = k.get("kind")?;
            if !kinds.contains(&k) {
                kinds.push(k);
            }
        }
        let limit = req.limit.unwrap_or(DEFAULT_LIMIT);
        parse::check_limit(limit)?;
        let hits = store::read(self.store(), |tx| {
            tx.search(&SearchQuery {
                project: caller.project.key.clone(),
                words: words.clone(),
                kinds: kinds.clone(),
                limit,
            })
        })?;
        Ok(SearchResults {
            project: caller.project.key.clone(),
            hits,
        })
    }
}
