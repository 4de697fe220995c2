//! The tools: one per baton operation, each a thin call into `baton_core::Baton`.

use std::sync::{Arc, Mutex, MutexGuard};

use baton_core::{
    Baton, Caller, ChangesRequest, ClaimRequest, ClaimsRequest, CloseAs, EndRequest, Error, LogRequest, Project,
    ReleaseRequest, SearchRequest, SessionListRequest, StartRequest, Wire,
};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock};
use rmcp::{ServerHandler, tool, tool_handler, tool_router};
use serde::Serialize;

use crate::args::*;
use crate::words::Tools;
use crate::{schema, text};
use baton_core::words::Words;

/// The session the client's hooks bound the client's current conversation to, for an agent name; asked on
/// each call that names no session, so a conversation that moved to another session is followed.
pub type Linked = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// What every connection shares: the store, the project resolved at start, the server's identity.
pub struct Shared {
    baton: Baton,
    project: Project,
    /// The server's agent (`--agent` / `BATON_AGENT`).
    agent: String,
    /// The session named at start (`--session` / `BATON_SESSION`), every connection's first default.
    session: Option<String>,
    router: ToolRouter<BatonTools>,
    linked: Option<Linked>,
}

impl Shared {
    pub fn new(baton: Baton, caller: Caller) -> Shared {
        Shared {
            baton,
            project: caller.project,
            agent: caller.agent,
            session: caller.session.map(String::from),
            router: BatonTools::tool_router(),
            linked: None,
        }
    }

    /// Follows the session the client's hooks started for its conversation (stdio only: over HTTP the
    /// server is nobody's child).
    pub fn with_linked(mut self, linked: Option<Linked>) -> Shared {
        self.linked = linked;
        self
    }

    pub fn agent(&self) -> &str {
        &self.agent
    }

    pub fn project_key(&self) -> &str {
        &self.project.key
    }
}

/// One connection's identity. In stdio the connection is the process; over HTTP it is one MCP
/// session, or a single request when the client keeps no session.
struct Connection {
    agent: String,
    /// The session this connection started or resumed, which wins over the hooks' and the startup one.
    session: Option<String>,
    /// The default session was ended or closed through this connection.
    session_ended: bool,
}

/// The MCP server handler. Cloned per request by the SDK; clones share one connection.
#[derive(Clone)]
pub struct BatonTools {
    shared: Arc<Shared>,
    conn: Arc<Mutex<Connection>>,
}

impl BatonTools {
    /// A handler for a new connection.
    pub fn new(shared: Arc<Shared>) -> BatonTools {
        let conn = Connection {
            agent: shared.agent.clone(),
            session: None,
            session_ended: false,
        };
        BatonTools {
            shared,
            conn: Arc::new(Mutex::new(conn)),
        }
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic elsewhere cannot leave the connection state half-written: every update is one assignment.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The caller for a tool call. Its session: `session_id` if given, else the one this connection started
    /// or resumed, else the one the client's hooks bound its conversation to, else `--session`/`BATON_SESSION`
    /// at start, else none (the core takes the agent's only active session).
    fn caller(&self, session_id: Option<String>) -> Caller {
        let conn = self.conn();
        let session = session_id
            .or_else(|| conn.session.clone())
            .or_else(|| self.linked(&conn.agent))
            .or_else(|| self.shared.session.clone());
        Caller {
            project: self.shared.project.clone(),
            agent: conn.agent.clone(),
            session: session.map(Into::into),
        }
    }

    /// The session the client's hooks bound its conversation to.
    fn linked(&self, agent: &str) -> Option<String> {
        self.shared.linked.as_ref().and_then(|f| f(agent))
    }

    /// Makes `session_id` this connection's default session.
    fn adopt(&self, session_id: &str, agent: Option<String>) {
        let mut conn = self.conn();
        conn.session = Some(session_id.to_string());
        conn.session_ended = false;
        if let Some(a) = agent {
            conn.agent = a;
        }
    }

    fn note_ended(&self, session_id: &str) {
        let mut conn = self.conn();
        if conn.session.as_deref() == Some(session_id) {
            conn.session_ended = true;
        }
    }

    /// Runs a core operation on the blocking pool: the core API and both stores are synchronous.
    async fn run<T, F>(&self, caller: Caller, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&Baton, &Caller) -> Result<T, Error> + Send + 'static,
    {
        let shared = self.shared.clone();
        tokio::task::spawn_blocking(move || f(&shared.baton, &caller))
            .await
            .unwrap_or_else(|e| Err(Error::internal(format!("the operation stopped unexpectedly: {e}"))))
    }

    fn now(&self) -> baton_core::Timestamp {
        self.shared.baton.now()
    }
}

/// A result: the `--json` object as structured content, plus its short text form.
fn reply<T: Serialize>(r: Result<T, Error>, text: impl FnOnce(&T) -> String) -> CallToolResult {
    reply_json(r, |v| serde_json::to_value(v), text)
}

/// [`reply`] with the structured result made by `json` (for results whose parts the server words).
fn reply_json<T>(
    r: Result<T, Error>,
    json: impl FnOnce(&T) -> serde_json::Result<serde_json::Value>,
    text: impl FnOnce(&T) -> String,
) -> CallToolResult {
    let v = match r {
        Ok(v) => v,
        Err(e) => return failure(&e),
    };
    match json(&v) {
        Ok(value) => {
            let mut out = CallToolResult::success(vec![ContentBlock::text(text(&v))]);
            out.structured_content = Some(value);
            out
        }
        Err(e) => failure(&Error::internal(format!("cannot encode the result: {e}"))),
    }
}

/// Every baton error is a tool error, so the agent reads the message (clients hide protocol errors).
fn failure(e: &Error) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(format!("{}: {}", e.kind(), Tools.error(e)))])
}

#[tool_router]
impl BatonTools {
    #[tool(
        description = "Start your work session unless your context names one (the client's hooks start one per conversation). Returns session_id, the last handoff and a digest.",
        input_schema = input_schema::<StartArgs>(),
        output_schema = schema::session_started()
    )]
    async fn session_start(&self, Parameters(a): Parameters<StartArgs>) -> CallToolResult {
        let mut caller = self.caller(None);
        if let Some(agent) = a.agent_id.clone() {
            caller.agent = agent;
        }
        // The conversation already has the session its hooks started: that one goes on, not a second beside it.
        let linked = match (&a.agent_id, self.conn().session.is_none()) {
            (None, true) => self.linked(&caller.agent),
            _ => None,
        };
        let req = StartRequest {
            context: Some(a.context),
            name: a.name,
            task_ids: a.task_ids,
            role: a.role,
            idempotency_key: None,
        };
        let r = self
            .run(caller, move |b, c| {
                if let Some(id) = linked {
                    let me = Caller {
                        session: Some(id.into()),
                        ..c.clone()
                    };
                    if let Some(joined) = b.join_session(&me, req.context.as_deref())? {
                        return Ok(joined);
                    }
                }
                let fresh = Caller {
                    session: None,
                    ..c.clone()
                };
                b.start_session(&fresh, req)
            })
            .await;
        if let Ok(started) = &r {
            self.adopt(&started.session_id, a.agent_id);
        }
        let now = self.now();
        reply_json(r, |r| r.json_in(&Tools), |r| text::started(r, now))
    }

    #[tool(
        description = "End your session as completed with a summary and handoff notes for the next agent. Claims still held are released as deferred.",
        input_schema = input_schema::<EndArgs>(),
        output_schema = schema::session_ended()
    )]
    async fn session_end(&self, Parameters(a): Parameters<EndArgs>) -> CallToolResult {
        let req = EndRequest {
            summary: Some(a.summary),
            handoff: Some(a.handoff_notes),
            next: a.next,
            blockers: a.blockers,
            done: vec![],
            idempotency_key: None,
        };
        let r = self
            .run(self.caller(a.session_id), move |b, c| b.end_session(c, req))
            .await;
        if let Ok(ended) = &r {
            self.note_ended(&ended.session.id);
        }
        reply(r, text::ended)
    }

    #[tool(
        description = "Record progress, a decision (with rationale), a discovery, a blocker, a next step or something done, so whoever comes next can continue.",
        input_schema = input_schema::<LogArgs>(),
        output_schema = schema::logged()
    )]
    async fn session_log(&self, Parameters(a): Parameters<LogArgs>) -> CallToolResult {
        let r = self
            .run(self.caller(a.session_id), move |b, c| {
                b.log(
                    c,
                    LogRequest {
                        kind: Wire::text(a.kind),
                        text: a.text,
                        rationale: a.rationale,
                        supersedes: a.supersedes,
                        idempotency_key: None,
                    },
                )
            })
            .await;
        reply(r, text::logged)
    }

    #[tool(
        description = "Record a checkpoint with the current git branch and commit.",
        input_schema = input_schema::<NoteArgs>(),
        output_schema = schema::logged()
    )]
    async fn session_checkpoint(&self, Parameters(a): Parameters<NoteArgs>) -> CallToolResult {
        let r = self
            .run(self.caller(a.session_id), move |b, c| b.checkpoint(c, a.note))
            .await;
        reply(r, text::checkpoint)
    }

    #[tool(
        description = "Pause your session; resume it later from any conversation.",
        input_schema = input_schema::<NoteArgs>(),
        output_schema = schema::paused()
    )]
    async fn session_pause(&self, Parameters(a): Parameters<NoteArgs>) -> CallToolResult {
        let r = self
            .run(self.caller(a.session_id), move |b, c| {
                b.pause(c, a.note).map(|session| Paused { session })
            })
            .await;
        reply(r, |p| text::paused(&p.session))
    }

    #[tool(
        description = "Resume a paused session: returns its goal, journal and a digest; it becomes this connection's session.",
        input_schema = input_schema::<ResumeArgs>(),
        output_schema = schema::resumed()
    )]
    async fn session_resume(&self, Parameters(a): Parameters<ResumeArgs>) -> CallToolResult {
        let mut caller = self.caller(a.session_id.clone());
        if a.session_id.is_none() && self.conn().session_ended {
            // The connection's session is over: resume the agent's latest paused or active one instead.
            caller.session = None;
        }
        let r = self.run(caller, move |b, c| b.resume(c, None)).await;
        if let Ok(resumed) = &r {
            self.adopt(&resumed.session_id, None);
        }
        let now = self.now();
        reply(r, |r| text::resumed(r, now))
    }

    #[tool(
        description = "Close your session without a handoff: as completed, or abandoned (abandon=true, reason) releasing its claims as deferred.",
        input_schema = input_schema::<CloseArgs>(),
        output_schema = schema::session_ended()
    )]
    async fn session_close(&self, Parameters(a): Parameters<CloseArgs>) -> CallToolResult {
        let how = if a.abandon {
            CloseAs::Abandon {
                reason: a.reason.unwrap_or_default(),
            }
        } else {
            CloseAs::Complete
        };
        let r = self.run(self.caller(a.session_id), move |b, c| b.close(c, how)).await;
        if let Ok(ended) = &r {
            self.note_ended(&ended.session.id);
        }
        reply(r, text::ended)
    }

    #[tool(
        description = "Show a session with its journal and claims.",
        input_schema = input_schema::<SessionArgs>(),
        output_schema = schema::session_context(),
        annotations(read_only_hint = true)
    )]
    async fn session_view(&self, Parameters(a): Parameters<SessionArgs>) -> CallToolResult {
        let r = self.run(self.caller(a.session_id), |b, c| b.view(c, None)).await;
        let now = self.now();
        reply(r, |r| text::context(r, now))
    }

    #[tool(
        description = "List this project's sessions, newest first.",
        input_schema = input_schema::<ListArgs>(),
        output_schema = schema::session_list(),
        annotations(read_only_hint = true)
    )]
    async fn session_list(&self, Parameters(a): Parameters<ListArgs>) -> CallToolResult {
        let r = self
            .run(self.caller(None), move |b, c| {
                b.list_sessions_matching(
                    c,
                    &SessionListRequest {
                        status: a.status.map(Wire::text),
                        agent: None,
                        all_projects: a.all_projects,
                        limit: a.limit,
                    },
                )
            })
            .await;
        let now = self.now();
        reply(r, |r| text::session_list(r, now))
    }

    #[tool(
        description = "Claim a work item before working on it. claimed=false with claimed_by means another session holds it: pick other work. Leases last 30m unless renewed by heartbeat.",
        input_schema = input_schema::<ClaimArgs>(),
        output_schema = schema::claim_outcome()
    )]
    async fn claim_work(&self, Parameters(a): Parameters<ClaimArgs>) -> CallToolResult {
        let req = ClaimRequest {
            item_type: a.work_type,
            item_id: a.work_id,
            repo: a.repo,
            ttl: a.ttl,
            idempotency_key: a.idempotency_key,
            new_type: a.new_type,
        };
        let r = self.run(self.caller(a.session_id), move |b, c| b.claim(c, req)).await;
        let now = self.now();
        reply(r, |r| text::claim(r, now))
    }

    #[tool(
        description = "Release your claim: completed, blocked or deferred, with notes. force with a reason releases another session's claim.",
        input_schema = input_schema::<ReleaseArgs>(),
        output_schema = schema::released()
    )]
    async fn release_work(&self, Parameters(a): Parameters<ReleaseArgs>) -> CallToolResult {
        let r = self
            .run(self.caller(a.session_id), move |b, c| {
                b.release(
                    c,
                    ReleaseRequest {
                        item_type: a.work_type,
                        item_id: a.work_id,
                        repo: a.repo,
                        status: Wire::text(a.status),
                        notes: a.notes,
                        force: a.force,
                        reason: a.reason,
                        token: None,
                        idempotency_key: None,
                    },
                )
            })
            .await;
        reply(r, text::released)
    }

    #[tool(
        description = "Renew your session and its claims every 10 to 15 minutes while working; lists leases you lost.",
        input_schema = input_schema::<SessionArgs>(),
        output_schema = schema::heartbeat()
    )]
    async fn heartbeat(&self, Parameters(a): Parameters<SessionArgs>) -> CallToolResult {
        let r = self.run(self.caller(a.session_id), |b, c| b.heartbeat(c)).await;
        reply(r, text::heartbeat)
    }

    #[tool(
        description = "List active claims in this project: who holds which item until when.",
        input_schema = input_schema::<ClaimsArgs>(),
        output_schema = schema::claim_list(),
        annotations(read_only_hint = true)
    )]
    async fn list_claims(&self, Parameters(a): Parameters<ClaimsArgs>) -> CallToolResult {
        let req = ClaimsRequest {
            mine: a.mine,
            item_type: a.work_type,
            include_released: a.include_released,
        };
        let r = self.run(self.caller(a.session_id), move |b, c| b.claims(c, req)).await;
        let now = self.now();
        reply(r, |r| text::claim_list(r, now))
    }

    #[tool(
        description = "Events (every state change) here, oldest first; pass next_cursor as since to continue.",
        input_schema = input_schema::<ChangesArgs>(),
        output_schema = schema::changes_page(),
        annotations(read_only_hint = true)
    )]
    async fn what_changed(&self, Parameters(a): Parameters<ChangesArgs>) -> CallToolResult {
        let req = ChangesRequest {
            since: a.since,
            agent: a.agent_id,
            kind: a.kind,
            limit: a.limit,
        };
        let r = self.run(self.caller(None), move |b, c| b.changes(c, &req)).await;
        reply(r, text::changes)
    }

    #[tool(
        description = "Search journal entries and handoffs, best first.",
        input_schema = input_schema::<SearchArgs>(),
        output_schema = schema::search_results(),
        annotations(read_only_hint = true)
    )]
    async fn search(&self, Parameters(a): Parameters<SearchArgs>) -> CallToolResult {
        let text = a.text.clone();
        let req = SearchRequest {
            text: a.text,
            kinds: a.kind.map(Wire::text).into_iter().collect(),
            limit: None,
        };
        let r = self.run(self.caller(None), move |b, c| b.search(c, &req)).await;
        reply(r, |r| text::search(r, &text))
    }

    #[tool(
        description = "What to know now: last handoff, who is active on what, claims, blockers, recent changes.",
        input_schema = input_schema::<SessionArgs>(),
        output_schema = schema::digest(),
        annotations(read_only_hint = true)
    )]
    async fn digest(&self, Parameters(a): Parameters<SessionArgs>) -> CallToolResult {
        let r = self.run(self.caller(a.session_id), |b, c| b.digest(c)).await;
        let now = self.now();
        reply(r, |d| baton_core::render::render_digest_in(d, now, &Tools))
    }

    #[tool(
        description = "Talk with other sessions. action: send (to: session id, agent, role:ROLE or all; text; type; id: message answered; expires), inbox (unacked; new=true once; unread, all, after, limit), ack (id), thread (id), sent.",
        input_schema = input_schema::<MessageArgs>(),
        output_schema = schema::action_result()
    )]
    async fn message(&self, Parameters(a): Parameters<MessageArgs>) -> CallToolResult {
        let now = self.now();
        let r = self
            .run(self.caller(a.session_id.clone()), move |b, c| {
                crate::messages::message(b, c, a, now)
            })
            .await;
        reply_json(r, |r| Ok(r.json.clone()), |r| r.text.clone())
    }

    #[tool(
        description = "Ask other sessions for work. action: make (to; type: review, help or implement; text), accept, decline or complete (id, response; addressee only), list (which: mine or for_me; status).",
        input_schema = input_schema::<RequestArgs>(),
        output_schema = schema::action_result()
    )]
    async fn request(&self, Parameters(a): Parameters<RequestArgs>) -> CallToolResult {
        let now = self.now();
        let r = self
            .run(self.caller(a.session_id.clone()), move |b, c| {
                crate::messages::request(b, c, a, now)
            })
            .await;
        reply_json(r, |r| Ok(r.json.clone()), |r| r.text.clone())
    }

    #[tool(
        description = "What sessions make and know. action: export (name, file, description), needs (name, from), interfaces, context (text), recommend (text: who should take it).",
        input_schema = input_schema::<TeamArgs>(),
        output_schema = schema::action_result()
    )]
    async fn team(&self, Parameters(a): Parameters<TeamArgs>) -> CallToolResult {
        let now = self.now();
        let r = self
            .run(self.caller(a.session_id.clone()), move |b, c| {
                crate::messages::team(b, c, a, now)
            })
            .await;
        reply_json(r, |r| Ok(r.json.clone()), |r| r.text.clone())
    }
}

/// `session_pause`'s result, shaped like `baton session pause --json`.
#[derive(Serialize)]
struct Paused {
    session: baton_core::Session,
}

#[tool_handler(
    router = self.shared.router,
    name = "baton",
    instructions = "baton coordinates agents working on one codebase. If the client's hooks started a baton session for this conversation, the tools use it; otherwise start with session_start (it returns the last handoff and what changed). claim_work before working on an item, release_work when done. Log decisions and progress with session_log. Finish with session_end and handoff notes."
)]
impl ServerHandler for BatonTools {}
