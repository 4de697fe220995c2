//! Messages, deliveries and requests on SQLite: a delivery's place is its rowid, numbered by the single
//! writer in commit order.

use super::*;

use baton_core::model::{Address, Delivery, Message, Request};
use baton_core::store::{DeliveryQuery, MessageQuery, MessageTx, RequestQuery, RequestTx};
use baton_sql::{MESSAGE_COLS, REQUEST_COLS};

const Q: Placeholder = Placeholder::Question;

impl MessageTx for SqliteTx<'_> {
    fn insert_message(&mut self, m: &Message) -> Result<()> {
        self.exec_or(
            |_| baton_sql::refused_duplicate("message", &m.id),
            &insert_sql(Q, "messages", MESSAGE_COLS),
            bind(&baton_sql::message_values(m)),
        )?;
        Ok(())
    }

    fn message(&mut self, id: &str) -> Result<Option<Message>> {
        let sql = format!("SELECT {MESSAGE_COLS} FROM messages WHERE id = ?1");
        Ok(self
            .query(&sql, &[Value::from(id)], baton_sql::message)?
            .into_iter()
            .next())
    }

    fn messages(&mut self, q: &MessageQuery) -> Result<Vec<Message>> {
        let (sql, f) = baton_sql::messages_sql(Q, q);
        self.query(&sql, &f.params, baton_sql::message)
    }

    fn close_message(&mut self, id: &str) -> Result<()> {
        let n = self.exec("UPDATE messages SET open = 0 WHERE id = ?1", [id])?;
        if n == 0 {
            return Err(baton_sql::nothing_to_update("message", id));
        }
        Ok(())
    }

    fn lock_messages(&mut self, _ids: &[String]) -> Result<()> {
        // The write transaction already holds SQLite's single write lock.
        Ok(())
    }

    fn deliver(&mut self, message_id: &str, recipient: &Address) -> Result<()> {
        self.exec(
            "INSERT INTO deliveries (message_id, recipient) VALUES (?1, ?2)
             ON CONFLICT (message_id, recipient) DO NOTHING",
            params![message_id, recipient.as_stored()],
        )?;
        Ok(())
    }

    fn deliveries(&mut self, q: &DeliveryQuery) -> Result<Vec<Delivery>> {
        let (sql, f) = baton_sql::deliveries_sql(Q, q, None);
        self.query(&sql, &f.params, baton_sql::delivery)
    }

    fn count_deliveries(&mut self, q: &DeliveryQuery, cap: u32) -> Result<u64> {
        let (sql, f) = baton_sql::count_deliveries_sql(Q, q, None, cap);
        let mut stmt = self.tx.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let n: i64 = stmt.query_row(bind(&f.params), |r| r.get(0)).map_err(|e| self.err(e))?;
        Ok(n.max(0) as u64)
    }

    fn update_delivery(&mut self, d: &Delivery) -> Result<()> {
        let n = self.exec(
            &baton_sql::update_delivery_sql(Q),
            bind(&baton_sql::delivery_update_values(d)),
        )?;
        if n == 0 {
            return Err(baton_sql::nothing_to_update(
                "delivery",
                &format!("{} to {}", d.message_id, d.recipient),
            ));
        }
        Ok(())
    }
}

impl RequestTx for SqliteTx<'_> {
    fn insert_request(&mut self, r: &Request) -> Result<()> {
        self.exec_or(
            |_| baton_sql::refused_duplicate("request", &r.id),
            &insert_sql(Q, "requests", REQUEST_COLS),
            bind(&baton_sql::request_values(r)),
        )?;
        Ok(())
    }

    fn request(&mut self, id: &str) -> Result<Option<Request>> {
        let sql = format!("SELECT {REQUEST_COLS} FROM requests WHERE id = ?1");
        Ok(self
            .query(&sql, &[Value::from(id)], baton_sql::request)?
            .into_iter()
            .next())
    }

    fn update_request(&mut self, r: &Request) -> Result<()> {
        let n = self.exec(
            &baton_sql::update_request_sql(Q),
            bind(&baton_sql::update_request_values(r)),
        )?;
        if n == 0 {
            return Err(baton_sql::nothing_to_update("request", &r.id));
        }
        Ok(())
    }

    fn requests(&mut self, q: &RequestQuery) -> Result<Vec<Request>> {
        let (sql, f) = baton_sql::requests_sql(Q, q);
        self.query(&sql, &f.params, baton_sql::request)
    }
}
