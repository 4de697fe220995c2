//! Messages, deliveries and requests on PostgreSQL: a delivery's place comes from the event sequence, so
//! reads stop at the same horizon as events and never skip a delivery that commits late.

use super::*;

use baton_core::model::{Address, Delivery, Message, Request};
use baton_core::store::{DeliveryQuery, MessageQuery, MessageTx, RequestQuery, RequestTx};
use baton_sql::{MESSAGE_COLS, Placeholder, REQUEST_COLS, insert_sql};

const D: Placeholder = Placeholder::Dollar;

impl MessageTx for PgTx<'_> {
    fn insert_message(&mut self, m: &Message) -> Result<()> {
        self.defer(
            "record a message",
            &insert_sql(D, "messages", MESSAGE_COLS),
            owned(baton_sql::message_values(m)),
            refused_as_duplicate("message", m.id.to_string()),
        )
    }

    fn message(&mut self, id: &str) -> Result<Option<Message>> {
        let sql = format!("SELECT {MESSAGE_COLS} FROM messages WHERE id = $1");
        let rows = self.query("read a message", &sql, &[&id])?;
        rows.first().map(|r| baton_sql::message(&PgRow(r))).transpose()
    }

    fn messages(&mut self, q: &MessageQuery) -> Result<Vec<Message>> {
        let (sql, f) = baton_sql::messages_sql(D, q);
        self.query("list messages", &sql, &refs(&params(&f.params)))?
            .iter()
            .map(|r| baton_sql::message(&PgRow(r)))
            .collect()
    }

    fn close_message(&mut self, id: &str) -> Result<()> {
        self.defer(
            "close a message",
            "UPDATE messages SET open = FALSE WHERE id = $1",
            owned(vec![id.into()]),
            found("message", id.to_string()),
        )
    }

    /// Queued to go out with the next read, ahead of it: the rows are locked in the order `ORDER BY` gives them.
    /// Every transaction that acknowledges takes its session's row lock, then these, then the deliveries': two
    /// acknowledgements of one message never hold each other's deliveries.
    fn lock_messages(&mut self, ids: &[String]) -> Result<()> {
        if !self.write {
            return Err(Error::internal("cannot lock messages in a read-only transaction"));
        }
        self.defer(
            "lock messages",
            "SELECT id FROM messages WHERE id = ANY($1) ORDER BY id FOR UPDATE",
            vec![Box::new(ids.to_vec())],
            Box::new(|outcome| outcome.map(drop).map_err(|e| pg_error("lock messages", &e))),
        )
    }

    /// The place is taken with the gate held until the transaction ends (see `baton_next_event_seq`); the
    /// events the transaction appends take their seqs after it, at commit, so the horizon covers it.
    fn deliver(&mut self, message_id: &str, recipient: &Address) -> Result<()> {
        if !self.write {
            return Err(Error::internal("cannot deliver a message in a read-only transaction"));
        }
        self.defer(
            "deliver a message",
            "INSERT INTO deliveries (pos, message_id, recipient) VALUES (baton_next_event_seq(), $1, $2)
             ON CONFLICT (message_id, recipient) DO NOTHING",
            owned(vec![message_id.into(), recipient.as_stored().into()]),
            Box::new(|outcome| outcome.map(drop).map_err(|e| pg_error("deliver a message", &e))),
        )
    }

    fn deliveries(&mut self, q: &DeliveryQuery) -> Result<Vec<Delivery>> {
        let horizon = self.event_horizon()?;
        let (mut sql, f) = baton_sql::deliveries_sql(D, q, horizon);
        if !q.unlocked {
            sql.push_str(self.lock_clause());
        }
        self.query("list deliveries", &sql, &refs(&params(&f.params)))?
            .iter()
            .map(|r| baton_sql::delivery(&PgRow(r)))
            .collect()
    }

    fn count_deliveries(&mut self, q: &DeliveryQuery, cap: u32) -> Result<u64> {
        let horizon = self.event_horizon()?;
        let (sql, f) = baton_sql::count_deliveries_sql(D, q, horizon, cap);
        let rows = self.query("count deliveries", &sql, &refs(&params(&f.params)))?;
        let n: i64 = match rows.first() {
            Some(row) => col(row, 0)?,
            None => 0,
        };
        Ok(n.max(0) as u64)
    }

    fn update_delivery(&mut self, d: &Delivery) -> Result<()> {
        self.defer(
            "update a delivery",
            &baton_sql::update_delivery_sql(D),
            owned(baton_sql::delivery_update_values(d)),
            found("delivery", format!("{} to {}", d.message_id, d.recipient)),
        )
    }
}

impl RequestTx for PgTx<'_> {
    fn insert_request(&mut self, r: &Request) -> Result<()> {
        self.defer(
            "record a request",
            &insert_sql(D, "requests", REQUEST_COLS),
            owned(baton_sql::request_values(r)),
            refused_as_duplicate("request", r.id.to_string()),
        )
    }

    fn request(&mut self, id: &str) -> Result<Option<Request>> {
        let sql = format!(
            "SELECT {REQUEST_COLS} FROM requests WHERE id = $1{}",
            self.lock_clause()
        );
        let rows = self.query("read a request", &sql, &[&id])?;
        rows.first().map(|r| baton_sql::request(&PgRow(r))).transpose()
    }

    fn update_request(&mut self, r: &Request) -> Result<()> {
        self.defer(
            "update a request",
            &baton_sql::update_request_sql(D),
            owned(baton_sql::update_request_values(r)),
            found("request", r.id.to_string()),
        )
    }

    fn requests(&mut self, q: &RequestQuery) -> Result<Vec<Request>> {
        let (sql, f) = baton_sql::requests_sql(D, q);
        self.query("list requests", &sql, &refs(&params(&f.params)))?
            .iter()
            .map(|r| baton_sql::request(&PgRow(r)))
            .collect()
    }
}
