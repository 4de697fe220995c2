//! The rows of messages, deliveries and requests.

use baton_core::model::{Delivery, Message, Request};
use baton_core::store::{DeliveryQuery, MessageQuery, RequestQuery};
use baton_core::{Error, Result};

use crate::filter::{Filter, Placeholder};
use crate::one_of;
use crate::row::{Cells, Columns, Value};

/// The columns of `messages`, in the order the stores read and insert them.
pub const MESSAGE_COLS: &str = "id, project, from_session, from_agent, to_addr, kind, text, reply_to, thread, \
     request_id, created_at, expires_at, open";
/// The columns of `deliveries`, in the order the stores read them (`pos` is the store's to number).
pub const DELIVERY_COLS: &str = "pos, message_id, recipient, read_at, acked_at, notified_at";
/// The columns of `deliveries` an update may change.
pub const DELIVERY_SET: &str = "read_at, acked_at, notified_at";
/// The columns of `requests`, in the order the stores read and insert them.
pub const REQUEST_COLS: &str = "id, project, from_session, from_agent, to_addr, kind, text, status, response, \
     answered_by, message_id, created_at, updated_at";
/// The columns of `requests` an update may change.
pub const REQUEST_SET: &str = "status, response, answered_by, updated_at";

/// A message from a row of [`MESSAGE_COLS`].
pub fn message(row: &dyn Columns) -> Result<Message> {
    let c = Cells(row);
    Ok(Message {
        id: c.text(0)?.into(),
        project: c.text(1)?,
        from_session: c.text(2)?.into(),
        from_agent: c.text(3)?,
        to: c.parse(4)?,
        kind: c.text(5)?,
        text: c.text(6)?,
        reply_to: c.opt_text(7)?.map(Into::into),
        thread: c.text(8)?.into(),
        request_id: c.opt_text(9)?.map(Into::into),
        created_at: c.time(10)?,
        expires_at: c.opt_time(11)?,
        open: c.flag(12)?,
    })
}

/// A message's cells in the order of [`MESSAGE_COLS`].
pub fn message_values(m: &Message) -> Vec<Value> {
    vec![
        m.id.as_str().into(),
        m.project.as_str().into(),
        m.from_session.as_str().into(),
        m.from_agent.as_str().into(),
        m.to.as_stored().into(),
        m.kind.as_str().into(),
        m.text.as_str().into(),
        m.reply_to.as_deref().into(),
        m.thread.as_str().into(),
        m.request_id.as_deref().into(),
        m.created_at.into(),
        m.expires_at.into(),
        m.open.into(),
    ]
}

/// A delivery from a row of [`DELIVERY_COLS`].
pub fn delivery(row: &dyn Columns) -> Result<Delivery> {
    let c = Cells(row);
    Ok(Delivery {
        pos: c.int(0)?,
        message_id: c.text(1)?.into(),
        recipient: c.parse(2)?,
        read_at: c.opt_time(3)?,
        acked_at: c.opt_time(4)?,
        notified_at: c.opt_time(5)?,
    })
}

/// The parameters of an update of a delivery: [`DELIVERY_SET`], then its message and recipient.
pub fn delivery_update_values(d: &Delivery) -> Vec<Value> {
    vec![
        d.read_at.into(),
        d.acked_at.into(),
        d.notified_at.into(),
        d.message_id.as_str().into(),
        d.recipient.as_stored().into(),
    ]
}

/// A request from a row of [`REQUEST_COLS`].
pub fn request(row: &dyn Columns) -> Result<Request> {
    let c = Cells(row);
    Ok(Request {
        id: c.text(0)?.into(),
        project: c.text(1)?,
        from_session: c.text(2)?.into(),
        from_agent: c.text(3)?,
        to: c.parse(4)?,
        kind: c.parse(5)?,
        text: c.text(6)?,
        status: c.parse(7)?,
        response: c.opt_text(8)?,
        answered_by: c.opt_text(9)?.map(Into::into),
        message_id: c.text(10)?.into(),
        created_at: c.time(11)?,
        updated_at: c.time(12)?,
    })
}

/// A request's cells in the order of [`REQUEST_COLS`].
pub fn request_values(r: &Request) -> Vec<Value> {
    vec![
        r.id.as_str().into(),
        r.project.as_str().into(),
        r.from_session.as_str().into(),
        r.from_agent.as_str().into(),
        r.to.as_stored().into(),
        r.kind.as_str().into(),
        r.text.as_str().into(),
        r.status.as_str().into(),
        r.response.clone().into(),
        r.answered_by.as_deref().into(),
        r.message_id.as_str().into(),
        r.created_at.into(),
        r.updated_at.into(),
    ]
}

/// The statement behind `messages`.
pub fn messages_sql(style: Placeholder, q: &MessageQuery) -> (String, Filter) {
    let mut f = Filter::new(style);
    if let Some(v) = &q.project {
        f.eq("project", v.as_str());
    }
    if let Some(v) = &q.from_session {
        f.eq("from_session", v.as_str());
    }
    if let Some(v) = &q.thread {
        f.eq("thread", v.as_str());
    }
    if q.open_only {
        f.and("open");
    }
    let order = if q.newest_first { "DESC" } else { "ASC" };
    let mut sql = format!(
        "SELECT {MESSAGE_COLS} FROM messages{} ORDER BY created_at {order}, id {order}",
        f.sql()
    );
    sql.push_str(&f.limit(q.limit));
    (sql, f)
}

/// The WHERE clause of `deliveries` and `count_deliveries`, with no place above `horizon` when there is one.
pub fn deliveries_filter(style: Placeholder, q: &DeliveryQuery, horizon: Option<i64>) -> Filter {
    let mut f = Filter::new(style);
    let recipients: Vec<String> = q.recipients.iter().map(|r| r.as_stored()).collect();
    let recipients: Vec<&str> = recipients.iter().map(String::as_str).collect();
    f.within("recipient", &recipients);
    if let Some(m) = &q.message_id {
        f.eq("message_id", m.as_str());
    }
    if q.after_pos > 0 {
        let p = f.param(q.after_pos);
        f.and(format!("pos > {p}"));
    }
    if let Some(h) = horizon {
        let p = f.param(h);
        f.and(format!("pos <= {p}"));
    }
    if q.unread_only {
        f.and("read_at IS NULL");
    }
    if q.unacked_only {
        f.and("acked_at IS NULL");
    }
    if q.unnotified_only {
        f.and("notified_at IS NULL");
    }
    f
}

/// The statement behind `deliveries` (a store adds its lock clause).
pub fn deliveries_sql(style: Placeholder, q: &DeliveryQuery, horizon: Option<i64>) -> (String, Filter) {
    let mut f = deliveries_filter(style, q, horizon);
    let mut sql = format!("SELECT {DELIVERY_COLS} FROM deliveries{} ORDER BY pos", f.sql());
    sql.push_str(&f.limit(q.limit));
    (sql, f)
}

/// The statement behind `count_deliveries`.
pub fn count_deliveries_sql(style: Placeholder, q: &DeliveryQuery, horizon: Option<i64>, cap: u32) -> (String, Filter) {
    let mut f = deliveries_filter(style, q, horizon);
    let sql = format!(
        "SELECT count(*) FROM (SELECT 1 FROM deliveries{}{}) capped",
        f.sql(),
        f.limit(Some(cap))
    );
    (sql, f)
}

/// The statement that updates a delivery, bound by [`delivery_update_values`].
pub fn update_delivery_sql(style: Placeholder) -> String {
    crate::update_sql(style, "deliveries", DELIVERY_SET, "message_id, recipient")
}

/// The statement behind `requests`.
pub fn requests_sql(style: Placeholder, q: &RequestQuery) -> (String, Filter) {
    let mut f = Filter::new(style);
    if let Some(v) = &q.project {
        f.eq("project", v.as_str());
    }
    if let Some(v) = &q.from_session {
        f.eq("from_session", v.as_str());
    }
    let to: Vec<String> = q.to.iter().map(|r| r.as_stored()).collect();
    let to: Vec<&str> = to.iter().map(String::as_str).collect();
    f.within("to_addr", &to);
    if !q.statuses.is_empty() {
        f.and(one_of("status", q.statuses.iter().map(|s| s.as_str())));
    }
    let mut sql = format!("SELECT {REQUEST_COLS} FROM requests{} ORDER BY created_at, id", f.sql());
    sql.push_str(&f.limit(q.limit));
    (sql, f)
}

/// The statement that updates a request.
pub fn update_request_sql(style: Placeholder) -> String {
    crate::update_sql(style, "requests", REQUEST_SET, "id")
}

/// The parameters of [`update_request_sql`].
pub fn update_request_values(r: &Request) -> Vec<Value> {
    crate::update_values(REQUEST_COLS, request_values(r), REQUEST_SET, "id")
}

/// A second message or request with one id.
pub fn refused_duplicate(what: &str, id: &str) -> Error {
    Error::conflict(
        format!("a {what} with id '{id}' already exists: the database refused a duplicate"),
        serde_json::json!({ "id": id }),
    )
}

/// The error of an update that found no such row.
pub fn nothing_to_update(what: &str, id: &str) -> Error {
    Error::not_found(format!("no {what} '{id}' to update"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_core::Timestamp;
    use baton_core::model::{Address, RequestKind, RequestStatus};

    struct Row(Vec<Value>);
    impl Columns for Row {
        fn value(&self, idx: usize) -> Result<Value> {
            Ok(self.0[idx].clone())
        }
        fn name(&self, idx: usize) -> String {
            idx.to_string()
        }
    }

    #[test]
    fn messages_and_requests_read_back_as_written() {
        let m = Message {
            id: "m1".into(),
            project: "p".into(),
            from_session: "s1".into(),
            from_agent: "a".into(),
            to: Address::Role("reviewer".into()),
            kind: "fyi".into(),
            text: "hello".into(),
            reply_to: None,
            thread: "m1".into(),
            request_id: Some("r1".into()),
            created_at: Timestamp(1),
            expires_at: Some(Timestamp(2)),
            open: true,
        };
        let values = message_values(&m);
        assert_eq!(values.len(), MESSAGE_COLS.split(", ").count());
        assert_eq!(message(&Row(values)).unwrap(), m);
        let r = Request {
            id: "r1".into(),
            project: "p".into(),
            from_session: "s1".into(),
            from_agent: "a".into(),
            to: Address::Agent("codex".into()),
            kind: RequestKind::Review,
            text: "look".into(),
            status: RequestStatus::Accepted,
            response: Some("on it".into()),
            answered_by: Some("s2".into()),
            message_id: "m1".into(),
            created_at: Timestamp(1),
            updated_at: Timestamp(3),
        };
        let values = request_values(&r);
        assert_eq!(values.len(), REQUEST_COLS.split(", ").count());
        assert_eq!(request(&Row(values)).unwrap(), r);
    }
}
