//! Messages between sessions, their deliveries to each recipient, and requests.

use super::*;

id_type!(
    /// A message's id.
    MessageId
);
id_type!(
    /// A request's id.
    RequestId
);

/// Who a message or request is addressed to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Address {
    /// One session.
    Session(SessionId),
    /// An agent: whichever of its sessions reads first, now or in its next session.
    Agent(String),
    /// Every open session with this role, and each one that starts with it while the message is open.
    Role(String),
    /// Every open session of the project, and each one that starts while the message is open.
    All,
}

impl Address {
    /// The text it is stored and shown as: `session:ID`, `agent:NAME`, `role:ROLE` or `all`.
    pub fn as_stored(&self) -> String {
        match self {
            Address::Session(id) => format!("session:{id}"),
            Address::Agent(a) => format!("agent:{a}"),
            Address::Role(r) => format!("role:{r}"),
            Address::All => "all".to_string(),
        }
    }

    /// Reads [`Address::as_stored`]'s text back.
    pub fn from_stored(s: &str) -> Result<Address> {
        if s == "all" {
            return Ok(Address::All);
        }
        match s.split_once(':') {
            Some(("session", id)) if !id.is_empty() => Ok(Address::Session(id.into())),
            Some(("agent", a)) if !a.is_empty() => Ok(Address::Agent(a.to_string())),
            Some(("role", r)) if !r.is_empty() => Ok(Address::Role(r.to_string())),
            _ => Err(Error::bad_input(format!(
                "unknown address '{s}': expected session:ID, agent:NAME, role:ROLE or all"
            ))),
        }
    }

    /// Whether it reaches sessions that start after it was sent (a role or everyone).
    pub fn is_open(&self) -> bool {
        matches!(self, Address::Role(_) | Address::All)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_stored())
    }
}

impl FromStr for Address {
    type Err = Error;
    fn from_str(s: &str) -> Result<Address> {
        Address::from_stored(s)
    }
}

impl From<Address> for String {
    fn from(a: Address) -> String {
        a.as_stored()
    }
}

impl TryFrom<String> for Address {
    type Error = Error;
    fn try_from(s: String) -> Result<Address> {
        Address::from_stored(&s)
    }
}

/// The message types baton itself knows; any other lowercase word is accepted too.
pub const BUILT_IN_MESSAGE_TYPES: &[&str] = &["interface_ready", "need_input", "fyi"];
/// The type of the message that tells recipients of a new request.
pub const REQUEST_MESSAGE_TYPE: &str = "request";
/// The type of the message that tells a requester of an answer.
pub const RESPONSE_MESSAGE_TYPE: &str = "response";

/// A message one session sent. Each recipient's state is its [`Delivery`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: MessageId,
    pub project: String,
    pub from_session: SessionId,
    pub from_agent: String,
    pub to: Address,
    /// A lowercase word: `interface_ready`, `need_input`, `fyi`, `request`, `response` or the sender's own.
    #[serde(rename = "type")]
    pub kind: String,
    pub text: String,
    pub reply_to: Option<MessageId>,
    /// The first message of its thread (itself when it replies to nothing).
    pub thread: MessageId,
    /// The request it announces or answers.
    pub request_id: Option<RequestId>,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    /// Addressed to a role or everyone, and still reaching sessions that start: not expired, and not yet
    /// acknowledged by every recipient it reached.
    pub open: bool,
}

/// One recipient's copy of a message: where it is in the recipient's inbox and what they did with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// Its place in the recipient's inbox: higher is later, and a delivery that commits later never takes a
    /// place below one a reader has seen.
    pub pos: i64,
    pub message_id: MessageId,
    /// `session:ID` or `agent:NAME`.
    pub recipient: Address,
    pub read_at: Option<Timestamp>,
    pub acked_at: Option<Timestamp>,
    /// When a hook told the recipient of it (or it was read, which tells as much).
    #[serde(skip)]
    pub notified_at: Option<Timestamp>,
}

string_enum!(
    /// What a request asks for.
    RequestKind, "request type", {
        Review => "review",
        Help => "help",
        Implement => "implement",
    }
);

string_enum!(
    /// Where a request is: `pending`, then `accepted` or `declined`; an accepted (or pending) one is
    /// `completed`.
    RequestStatus, "request status", {
        Pending => "pending",
        Accepted => "accepted",
        Declined => "declined",
        Completed => "completed",
    }
);

impl RequestStatus {
    /// Whether a request in this status may move to `to`.
    pub fn may_become(self, to: RequestStatus) -> bool {
        use RequestStatus::*;
        matches!(
            (self, to),
            (Pending, Accepted) | (Pending, Declined) | (Pending, Completed) | (Accepted, Completed)
        )
    }

    /// Declined and completed requests are over.
    pub fn is_over(self) -> bool {
        matches!(self, RequestStatus::Declined | RequestStatus::Completed)
    }
}

/// A request from one session to another (or an agent, a role, everyone): review this, help with that.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub id: RequestId,
    pub project: String,
    pub from_session: SessionId,
    pub from_agent: String,
    pub to: Address,
    #[serde(rename = "type")]
    pub kind: RequestKind,
    pub text: String,
    pub status: RequestStatus,
    pub response: Option<String>,
    /// The session that accepted, declined or completed it.
    pub answered_by: Option<SessionId>,
    /// The message that announced it to its recipients.
    pub message_id: MessageId,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_read_back_as_stored() {
        for a in [
            Address::Session("s1".into()),
            Address::Agent("codex".into()),
            Address::Role("reviewer".into()),
            Address::All,
        ] {
            assert_eq!(Address::from_stored(&a.as_stored()).unwrap(), a);
        }
        for bad in ["", "session:", "team:x", "everyone"] {
            assert!(Address::from_stored(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn requests_move_forward_only() {
        use RequestStatus::*;
        assert!(Pending.may_become(Accepted));
        assert!(Accepted.may_become(Completed));
        assert!(!Accepted.may_become(Declined));
        assert!(!Completed.may_become(Accepted));
        assert!(!Declined.may_become(Completed));
        assert!(!Pending.may_become(Pending));
    }
}
