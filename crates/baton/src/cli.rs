//! Argument definitions (clap). Behaviour lives in `commands/`.

use baton_core::EntryKind;
use clap::{Args, Parser, Subcommand};

const AFTER_HELP: &str = "\
Examples:
  baton session start --agent claude-code --context \"auth refactor\"
  baton claim issue 15 --repo org/app
  baton session log --decision \"JWT for tokens\" --rationale \"stateless\"
  baton release issue 15 --status completed --notes \"PR #16\"
  baton session end --summary \"auth done\" --handoff \"tests for refresh tokens next\"
  baton changes --since 2h

Exit codes: 0 done, 1 internal or environment error, 2 bad input, 3 conflict, 4 not found.
A call waits at most 10s for a lock held elsewhere (BATON_LOCK_TIMEOUT, or lock_timeout in the
config), then exits 1 as busy, naming the holder and changing nothing.";

/// Coordination for teams of AI coding agents: sessions that survive context resets,
/// work claims that cannot be taken twice, and a log of everything that changed.
#[derive(Debug, Parser)]
#[command(name = "baton", version, about, after_help = AFTER_HELP, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args, Clone, Default)]
pub struct GlobalArgs {
    /// Print one JSON object on stdout (errors too) instead of text
    #[arg(long, global = true, help_heading = "Global options")]
    pub json: bool,
    /// Project key [env: BATON_PROJECT] (default: the git origin URL, else the repository, else the directory)
    #[arg(long, global = true, help_heading = "Global options", value_name = "KEY")]
    pub project: Option<String>,
    /// Who is working, like claude-code, codex or alice [env: BATON_AGENT] (default: $USER).
    /// With `changes` and `session list`, given as this flag (not BATON_AGENT), shows only this agent's
    /// events or sessions
    #[arg(long, global = true, help_heading = "Global options", value_name = "NAME")]
    pub agent: Option<String>,
    /// Session id [env: BATON_SESSION] (default: this agent's only active session in this project)
    #[arg(long, global = true, help_heading = "Global options", value_name = "ID")]
    pub session: Option<String>,
    /// Database URL, postgres://... [env: BATON_DATABASE_URL] (default: SQLite in $BATON_HOME/baton.db)
    #[arg(long, global = true, help_heading = "Global options", value_name = "URL")]
    pub database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start, log to, pause, resume, end and inspect sessions
    #[command(
        subcommand,
        after_help = "Examples:\n  baton session start --context \"auth refactor\"\n  baton session log --progress \"login endpoint done\"\n  baton session end --summary \"login done\" --handoff \"refresh tokens next\""
    )]
    Session(SessionCommand),
    /// Claim a work item as a lease so no other session takes it
    #[command(
        after_help = "Examples:\n  baton claim issue 15 --repo org/app\n  baton claim pr 42 --ttl 2h --idempotency-key retry-42\n\nExits 3 and names the holder when another session holds the item."
    )]
    Claim(ClaimArgs),
    /// Release a claimed work item as completed, blocked or deferred
    #[command(
        after_help = "Examples:\n  baton release issue 15 --status completed --notes \"PR #16\"\n  baton release issue 15 --status deferred --force --reason \"holder crashed\""
    )]
    Release(ReleaseArgs),
    /// Renew this session and all its claims
    #[command(
        after_help = "Example:\n  baton heartbeat\n\nExits 3 when a lease of this session expired and another session took the item over."
    )]
    Heartbeat,
    /// List active claims in this project
    #[command(after_help = "Examples:\n  baton claims\n  baton claims --mine --type issue")]
    Claims(ClaimsArgs),
    /// List events (every state change), oldest first, with a cursor for the next page
    #[command(
        after_help = "Examples:\n  baton changes --since 2h\n  baton changes --since 2026-11-22T09:00:00Z --kind claim\n  baton changes --since 1234 --limit 50     (1234 = a next_cursor)\n  baton changes --follow"
    )]
    Changes(ChangesArgs),
    /// Send a message to a session, an agent, a role or everyone in this project
    #[command(
        after_help = "Examples:\n  baton send --to codex \"the auth API is merged\"\n  baton send --to role:reviewer --type need_input \"which token lifetime?\"\n  baton send --to all --type interface_ready --expires 1d \"AuthContext is in src/auth/context.py\"\n  baton send --to 019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8a9b --reply-to MSG \"done\"\n\nA message to an agent with no open session waits for its next one; one to a role or to all also\nreaches sessions that start before it expires or everyone it reached acknowledged it."
    )]
    Send(SendArgs),
    /// Show this session's messages (its own and its agent's), oldest first; showing marks them read
    #[command(
        after_help = "Examples:\n  baton inbox                 (messages not acknowledged yet; * marks new ones)\n  baton inbox --unread        (only messages not shown before)\n  baton inbox --all --after 1234 --limit 50   (1234 = a next_cursor)"
    )]
    Inbox(InboxArgs),
    /// Acknowledge messages sent to this session or its agent (acknowledging twice changes nothing)
    #[command(after_help = "Example:\n  baton ack 019a... 019b...")]
    Ack(AckArgs),
    /// Show a message with its thread of replies
    #[command(after_help = "Example:\n  baton thread 019a...")]
    Thread(ThreadArgs),
    /// Show messages this session sent, newest first, with who read and acknowledged each
    #[command(after_help = "Example:\n  baton sent --limit 5")]
    Sent(LimitArgs),
    /// Ask a session, an agent, a role or everyone for a review, help or an implementation; or answer a request
    #[command(
        args_conflicts_with_subcommands = true,
        subcommand_negates_reqs = true,
        after_help = "Examples:\n  baton request --to role:reviewer --type review \"review the auth PR #16\"\n  baton request accept 019a... --response \"on it\"\n  baton request complete 019a... --response \"LGTM, merged\"\n  baton request decline 019a... --response \"out of scope\"\n\nOnly whom a request is addressed to may answer it (exit 3 otherwise). A pending request is accepted,\ndeclined or completed; an accepted one completed (exit 2 otherwise). The requester is told each answer."
    )]
    Request(RequestArgs),
    /// List requests this session made or that are addressed to it
    #[command(
        after_help = "Examples:\n  baton requests\n  baton requests --for-me --status pending\n  baton requests --mine --status completed"
    )]
    Requests(RequestsArgs),
    /// Declare what this session produces for others (declaring it again updates it)
    #[command(
        after_help = "Examples:\n  baton export AuthContext --file src/auth/context.py --description \"who is calling, and their scopes\"\n\nEvery session that needs it from this session or its agent (baton needs) gets an interface_ready\nmessage, each time it is declared or updated."
    )]
    Export(ExportArgs),
    /// List the interfaces sessions of this project declared
    #[command(
        after_help = "Examples:\n  baton interfaces\n  baton interfaces --session 019a...     (only that session's)\n\nOnly --session on the command line filters: BATON_SESSION says who you are, not what to list."
    )]
    Interfaces,
    /// Record that this session needs an interface from another session or agent
    #[command(
        after_help = "Examples:\n  baton needs AuthContext --from claude-code\n  baton needs AuthContext --from 019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8a9b\n\nThis session gets an interface_ready message whenever that one declares or updates it."
    )]
    Needs(NeedsArgs),
    /// List the session roles this project knows: the built-in ones and those its config defines
    #[command(
        after_help = "Example:\n  baton roles\n\nDefine more in .baton/config.toml:\n  [roles.docs-writer]\n  description = \"writes the user guide\"\n  allow = [\"edit:docs/**\"]"
    )]
    Roles,
    /// Print an instruction with what the team knows that bears on it: interfaces, your unread messages,
    /// recent decisions, open requests
    #[command(
        args_conflicts_with_subcommands = true,
        subcommand_negates_reqs = true,
        after_help = "Examples:\n  baton context \"wire the login page to AuthContext\"\n  baton context --decisions 10 \"add rate limiting\" --json\n  baton context render          (writes .baton/context.yaml)\n\nReads only: nothing is marked read. Each part is bounded, and what was left out is said."
    )]
    Context(ContextArgs),
    /// Say which open session should take an instruction, and why (else which role a new session needs)
    #[command(after_help = "Example:\n  baton recommend \"review the auth PR #16\"")]
    Recommend(InstructionArgs),
    /// List this project's decisions, newest first; superseded ones only with --all
    #[command(
        after_help = "Examples:\n  baton decisions\n  baton decisions --since 7d --search jwt\n  baton decisions --all --json     (superseded ones too, each naming what replaced it)\n\nA decision replaces an older one with `baton session log --decision TEXT --supersedes ENTRY_ID`."
    )]
    Decisions(DecisionsArgs),
    /// Search journal entries and handoffs of this project, best match first
    #[command(
        after_help = "Examples:\n  baton search retry\n  baton search \"refresh token\" --kind decision\n  baton search staging --kind journal --kind handoff --limit 5 --json\n\nEvery word must match, case aside; when that finds fewer hits than --limit, a word of four letters\nor more also finds the words it begins (token finds tokens). Kinds: journal (every entry), decision (decisions only), handoff (what sessions\nended with)."
    )]
    Search(SearchArgs),
    /// Show the digest: last handoff, who is active on what, claims, blockers, recent changes
    #[command(after_help = "Example:\n  baton digest --json")]
    Digest,
    /// Answer a coding client's hook (reads the client's hook JSON on stdin)
    #[command(
        after_help = "Examples (normally run by the client, installed with `baton setup`):\n  echo '{\"session_id\":\"abc\",\"hook_event_name\":\"SessionStart\",\"source\":\"startup\"}' | baton hook claude\n  baton hook gemini SessionEnd < payload.json\n\nNever blocks the client: on any failure it exits 1 with one line on stderr."
    )]
    Hook(HookArgs),
    /// Install baton's hooks and MCP server into a client's settings (merging, idempotent)
    #[command(
        after_help = "Examples:\n  baton setup claude              (this project: .claude/settings.json and .mcp.json)\n  baton setup codex --global      (~/.codex/hooks.json and ~/.codex/config.toml)\n  baton setup gemini --remove     (takes out exactly what setup added)"
    )]
    Setup(SetupArgs),
    /// Serve every baton operation as an MCP tool, over stdio (default) or streamable HTTP
    #[command(
        after_help = "Examples:\n  baton mcp --agent claude-code                 (stdio: what a client launches)\n  baton mcp --http 127.0.0.1:8765               (streamable HTTP at http://127.0.0.1:8765/mcp)\n  BATON_TOKEN=s3cret baton mcp --http 0.0.0.0:8765   (other addresses need a bearer token)\n\nThe project is resolved once, from the directory the server starts in. A session started with the\nsession_start tool is the default for the rest of that connection; a session_id argument wins."
    )]
    Mcp(McpArgs),
    /// Render session documents (markdown views of sessions), lint them, import them
    #[command(
        subcommand,
        after_help = "Examples:\n  baton doc render                         (this session, in .baton/sessions/)\n  baton doc render --layout agents --all   (every session of the project, in .agents/sessions/)\n  baton doc lint                           (checks .agents/sessions/*.md)\n  baton doc import .agents/sessions/20261001-090000-payments.md\n\nWith `[docs] auto = true` in .baton/config.toml, documents are re-rendered after every change."
    )]
    Doc(DocCommand),
    /// Check the store's health; --sweep pauses stale sessions and expires run-out claims
    #[command(after_help = "Examples:\n  baton doctor\n  baton doctor --sweep")]
    Doctor(DoctorArgs),
    /// Print a shell completion script: bash, zsh, fish, elvish or powershell
    #[command(
        after_help = "Examples:\n  baton completions bash > ~/.local/share/bash-completion/completions/baton\n  baton completions zsh > \"${fpath[1]}/_baton\"\n  baton completions fish > ~/.config/fish/completions/baton.fish"
    )]
    Completions(CompletionsArgs),
    /// Print baton's man page (roff)
    #[command(after_help = "Example:\n  baton man > ~/.local/share/man/man1/baton.1 && man baton")]
    Man,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Subcommand)]
pub enum SessionCommand {
    /// Start a session; prints its id, the last handoff and a digest
    #[command(
        after_help = "Examples:\n  baton session start --agent claude-code --context \"auth refactor\" --task 15\n  eval \"$(baton session start --context \"auth refactor\" --print-env)\"   (sets BATON_SESSION and BATON_AGENT)\n\nThen: export BATON_SESSION=<printed id> (or rely on this agent having one active session)."
    )]
    Start(StartArgs),
    /// Add to the session's journal: progress, a decision, a discovery, a blocker, a next step...
    #[command(
        after_help = "Examples:\n  baton session log --progress \"login endpoint done\"\n  baton session log --decision \"JWT for tokens\" --rationale \"stateless\"\n  baton session log --decision \"JWT with refresh tokens\" --supersedes 019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8a9b\n  baton session log --blocker \"staging DB down\""
    )]
    Log(LogArgs),
    /// Record a checkpoint (and the current git branch and commit)
    #[command(after_help = "Example:\n  baton session checkpoint --note \"tests green\"")]
    Checkpoint(NoteArgs),
    /// Pause the session (resume it later, from any conversation)
    #[command(after_help = "Example:\n  baton session pause --note \"lunch\"")]
    Pause(NoteArgs),
    /// Resume a session; prints its full context and a digest
    #[command(
        after_help = "Examples:\n  baton session resume\n  baton session resume 019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8a9b"
    )]
    Resume(ResumeArgs),
    /// End the session as completed, with a summary and handoff notes for the next agent
    #[command(
        after_help = "Example:\n  baton session end --summary \"login done\" --handoff \"refresh tokens next\" --next \"write refresh tests\""
    )]
    End(EndArgs),
    /// Close the session as completed, or abandon it (its claims are released as deferred)
    #[command(
        after_help = "Examples:\n  baton session close --complete\n  baton session close --abandon --reason \"superseded by #18\""
    )]
    Close(CloseArgs),
    /// Show a session and its journal
    #[command(
        after_help = "Examples:\n  baton session view\n  baton session view 019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8a9b --decisions"
    )]
    View(ViewArgs),
    /// List sessions of this project, newest first
    #[command(
        after_help = "Examples:\n  baton session list\n  baton session list --status active --all-projects\n  baton session list --agent codex --limit 5     (only codex's sessions)\n\nOnly --agent on the command line filters: BATON_AGENT says who you are, not what to list."
    )]
    List(ListArgs),
}

#[derive(Debug, Args)]
pub struct StartArgs {
    /// What this session is about (its goal)
    #[arg(long, value_name = "TEXT")]
    pub context: Option<String>,
    /// A short name for the session
    #[arg(long, value_name = "SHORT")]
    pub name: Option<String>,
    /// A task id this session works on (repeatable)
    #[arg(long = "task", value_name = "ID")]
    pub tasks: Vec<String>,
    /// The agent's role, like reviewer or implementer
    #[arg(long, value_name = "ROLE")]
    pub role: Option<String>,
    /// Makes a retried start return the first start's result
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
    /// Print only `export BATON_SESSION=… BATON_AGENT=…` lines (the digest goes to stderr), for
    /// `eval "$(baton session start --print-env)"`
    #[arg(long)]
    pub print_env: bool,
}

#[derive(Debug, Args)]
#[group(skip)]
pub struct LogArgs {
    /// The entry: one flag per kind of entry
    #[command(flatten)]
    pub entry: EntryFlag,
    /// Why (with --decision)
    #[arg(long, value_name = "TEXT")]
    pub rationale: Option<String>,
    /// The id of an older decision of this project that this decision replaces (with --decision); the older
    /// one leaves `baton decisions`
    #[arg(long, value_name = "ENTRY_ID")]
    pub supersedes: Option<String>,
    /// Makes a retried log add the entry only once
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Args)]
pub struct NoteArgs {
    /// A note to record with it
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
}

#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// The session to resume (default: this agent's latest paused or active session here)
    #[arg(value_name = "ID")]
    pub id: Option<String>,
}

#[derive(Debug, Args)]
pub struct EndArgs {
    /// What was done
    #[arg(long, value_name = "TEXT")]
    pub summary: Option<String>,
    /// Notes for the next agent
    #[arg(long, value_name = "TEXT")]
    pub handoff: Option<String>,
    /// A next step for whoever comes next (repeatable)
    #[arg(long, value_name = "TEXT")]
    pub next: Vec<String>,
    /// An open blocker (repeatable)
    #[arg(long, value_name = "TEXT")]
    pub blocker: Vec<String>,
    /// Something finished (repeatable)
    #[arg(long, value_name = "TEXT")]
    pub done: Vec<String>,
    /// Makes a retried end return the first end's result
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Args)]
#[group(skip)]
#[command(group(clap::ArgGroup::new("how").required(true).multiple(false)))]
pub struct CloseArgs {
    /// Close as completed
    #[arg(long, group = "how")]
    pub complete: bool,
    /// Close as abandoned (needs --reason); held claims are released as deferred
    #[arg(long, group = "how", requires = "reason")]
    pub abandon: bool,
    /// Why the session is abandoned
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

#[derive(Debug, Args)]
pub struct ViewArgs {
    /// The session (default: this agent's active session here)
    #[arg(value_name = "ID")]
    pub id: Option<String>,
    /// Only the progress entries
    #[arg(long, conflicts_with = "decisions")]
    pub progress: bool,
    /// Only the decisions
    #[arg(long)]
    pub decisions: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only sessions with this status: drafting, planned, active, paused, completed, abandoned
    #[arg(long, value_name = "S")]
    pub status: Option<String>,
    /// Sessions of every project
    #[arg(long)]
    pub all_projects: bool,
    /// At most this many (1 to 1000, default 100)
    #[arg(long, value_name = "N")]
    pub limit: Option<u32>,
}

#[derive(Debug, Args)]
pub struct ClaimArgs {
    /// Work type: issue, pr, qa, task, session, or one declared with `types` in the config
    #[arg(value_name = "TYPE")]
    pub item_type: String,
    /// Work item id, like 15
    #[arg(value_name = "ID")]
    pub item_id: String,
    /// Repository, like org/app (default: this project's)
    #[arg(long, value_name = "R")]
    pub repo: Option<String>,
    /// Lease length: 90s, 30m, 2h, 1d (default 30m); renewed by `baton heartbeat`
    #[arg(long, value_name = "DURATION")]
    pub ttl: Option<String>,
    /// Makes a retried claim return the first claim's result
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
    /// Claim a work type that is neither built in (issue, pr, qa, task, session) nor in the config's `types`
    #[arg(long)]
    pub new_type: bool,
}

#[derive(Debug, Args)]
pub struct ReleaseArgs {
    /// Work type: issue, pr, qa, task, session or any lowercase word
    #[arg(value_name = "TYPE")]
    pub item_type: String,
    /// Work item id, like 15
    #[arg(value_name = "ID")]
    pub item_id: String,
    /// Repository, like org/app (default: this project's)
    #[arg(long, value_name = "R")]
    pub repo: Option<String>,
    /// How the work ended: completed, blocked or deferred
    #[arg(long, value_name = "STATUS")]
    pub status: String,
    /// Notes, like "PR #16"
    #[arg(long, value_name = "TEXT")]
    pub notes: Option<String>,
    /// Release another session's claim (needs --reason; logged)
    #[arg(long, requires = "reason")]
    pub force: bool,
    /// Why the claim is forced free
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// Fail unless this is still the item's fencing token
    #[arg(long, value_name = "N")]
    pub token: Option<i64>,
    /// Makes a retried release return the first release's result
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Its name, like AuthContext
    #[arg(value_name = "NAME")]
    pub name: String,
    /// Where it is
    #[arg(long, value_name = "PATH")]
    pub file: Option<String>,
    /// What it is for
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
}

#[derive(Debug, Args)]
pub struct NeedsArgs {
    /// The interface's name
    #[arg(value_name = "NAME")]
    pub name: String,
    /// Who makes it: a session id, an agent, session:ID or agent:NAME
    #[arg(long, value_name = "SESSION|AGENT")]
    pub from: String,
}

#[derive(Debug, Args)]
pub struct ContextArgs {
    #[command(subcommand)]
    pub action: Option<ContextAction>,
    /// How many of the project's newest decisions to show (1 to 100)
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub decisions: usize,
    /// The instruction
    #[arg(value_name = "INSTRUCTION", required = true)]
    pub instruction: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ContextAction {
    /// Write .baton/context.yaml: interfaces by area, decisions, open requests (kept current with [docs] auto)
    #[command(after_help = "Example:\n  baton context render && git add .baton/context.yaml")]
    Render,
    /// Read a context file (baton's or a hand-written one) into the store: sessions, decisions, interfaces
    #[command(
        after_help = "Examples:\n  baton context import                        (.baton/context.yaml)\n  baton context import docs/team-context.yaml\n\nEach session the file names is found by id or name, else imported as a completed session with its\ndecisions; each interface is declared for its session. Importing the same file again changes nothing.\nTodos are not imported: a request is made by a session."
    )]
    Import(ImportContextArgs),
}

#[derive(Debug, Args)]
pub struct ImportContextArgs {
    /// The file (default: .baton/context.yaml under the project's root)
    #[arg(value_name = "PATH")]
    pub path: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct InstructionArgs {
    /// The instruction
    #[arg(value_name = "INSTRUCTION")]
    pub instruction: String,
}

#[derive(Debug, Args)]
pub struct SendArgs {
    /// Who: a session id, an agent, session:ID, agent:NAME, role:ROLE or all
    #[arg(long, value_name = "RECIPIENT")]
    pub to: String,
    /// The message type: a lowercase word such as interface_ready, need_input or fyi (default)
    #[arg(long = "type", value_name = "TYPE")]
    pub kind: Option<String>,
    /// The message this one answers: it joins that message's thread
    #[arg(long, value_name = "MSG")]
    pub reply_to: Option<String>,
    /// How long a message to a role or all keeps reaching sessions that start (30m, 2h, 3d)
    #[arg(long, value_name = "DURATION")]
    pub expires: Option<String>,
    /// Makes a retried send send once
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
    /// What to say
    #[arg(value_name = "TEXT")]
    pub text: String,
}

#[derive(Debug, Args)]
pub struct InboxArgs {
    /// Only messages not shown before
    #[arg(long, conflicts_with = "all")]
    pub unread: bool,
    /// Acknowledged messages too
    #[arg(long)]
    pub all: bool,
    /// Start after this place (a next_cursor)
    #[arg(long, value_name = "CURSOR")]
    pub after: Option<i64>,
    /// At most this many messages (1 to 1000; default 20)
    #[arg(long, value_name = "N")]
    pub limit: Option<u32>,
}

#[derive(Debug, Args)]
pub struct AckArgs {
    /// The messages to acknowledge
    #[arg(value_name = "MSG", required = true)]
    pub ids: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ThreadArgs {
    /// A message of the thread
    #[arg(value_name = "MSG")]
    pub id: String,
}

#[derive(Debug, Args)]
pub struct LimitArgs {
    /// At most this many (1 to 1000; default 20)
    #[arg(long, value_name = "N")]
    pub limit: Option<u32>,
}

#[derive(Debug, Args)]
pub struct RequestArgs {
    #[command(subcommand)]
    pub answer: Option<AnswerCommand>,
    /// Who: a session id, an agent, session:ID, agent:NAME, role:ROLE or all
    #[arg(long, value_name = "RECIPIENT", required = true)]
    pub to: Option<String>,
    /// What is asked: review, help or implement
    #[arg(long = "type", value_name = "TYPE", required = true)]
    pub kind: Option<String>,
    /// Makes a retried request make one request
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
    /// What is asked, in words
    #[arg(value_name = "TEXT", required = true)]
    pub text: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum AnswerCommand {
    /// Accept a pending request addressed to this session
    #[command(after_help = "Example:\n  baton request accept 019a... --response \"on it, after lunch\"")]
    Accept(AnswerArgs),
    /// Decline a pending request addressed to this session
    #[command(after_help = "Example:\n  baton request decline 019a... --response \"out of scope for this sprint\"")]
    Decline(AnswerArgs),
    /// Complete a pending or accepted request addressed to this session
    #[command(after_help = "Example:\n  baton request complete 019a... --response \"LGTM, merged as #17\"")]
    Complete(AnswerArgs),
}

#[derive(Debug, Args)]
pub struct AnswerArgs {
    /// The request
    #[arg(value_name = "ID")]
    pub id: String,
    /// What to tell the requester
    #[arg(long, value_name = "TEXT")]
    pub response: Option<String>,
}

#[derive(Debug, Args)]
pub struct RequestsArgs {
    /// Only requests this session made
    #[arg(long)]
    pub mine: bool,
    /// Only requests addressed to this session, its agent, its role or everyone
    #[arg(long)]
    pub for_me: bool,
    /// Only requests in this status: pending, accepted, declined or completed (repeatable)
    #[arg(long = "status", value_name = "S")]
    pub statuses: Vec<String>,
    /// At most this many (1 to 1000; default 100)
    #[arg(long, value_name = "N")]
    pub limit: Option<u32>,
}

#[derive(Debug, Args)]
pub struct ClaimsArgs {
    /// Only this session's claims
    #[arg(long)]
    pub mine: bool,
    /// Only claims of this work type
    #[arg(long = "type", value_name = "T")]
    pub item_type: Option<String>,
    /// Include released and taken-over grants
    #[arg(long)]
    pub include_released: bool,
}

#[derive(Debug, Args)]
pub struct ChangesArgs {
    /// Where to start: a duration back (90s, 30m, 2h, 1d), an RFC 3339 time, or a next_cursor
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Only events of this kind (claim.granted) or family (claim, session, journal)
    #[arg(long, value_name = "K")]
    pub kind: Option<String>,
    /// At most this many events per page (1 to 1000, default 100)
    #[arg(long, value_name = "N")]
    pub limit: Option<u32>,
    /// Keep printing new events until interrupted (with --json: one event per line)
    #[arg(long)]
    pub follow: bool,
}

#[derive(Debug, Args)]
pub struct DecisionsArgs {
    /// Only decisions made since then: a duration back (90s, 30m, 2h, 1d) or an RFC 3339 time
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Only decisions whose text or rationale holds every word of TEXT
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
    /// Superseded decisions too, each naming what replaced it
    #[arg(long)]
    pub all: bool,
    /// At most this many (1 to 1000, default 100)
    #[arg(long, value_name = "N")]
    pub limit: Option<u32>,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// The words to find (all of them must match)
    #[arg(value_name = "TEXT")]
    pub text: String,
    /// Only this kind: decision, journal or handoff (repeatable; default all)
    #[arg(long, value_name = "KIND")]
    pub kind: Vec<String>,
    /// At most this many hits (1 to 1000, default 20)
    #[arg(long, value_name = "N")]
    pub limit: Option<u32>,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Pause stale sessions and mark run-out claims expired, in every project
    #[arg(long)]
    pub sweep: bool,
}

#[derive(Debug, Args)]
pub struct HookArgs {
    /// The client: claude, codex or gemini
    #[arg(value_name = "CLIENT")]
    pub client: String,
    /// The event, when the payload does not name it (hook_event_name)
    #[arg(value_name = "EVENT")]
    pub event: Option<String>,
}

#[derive(Debug, Args)]
pub struct SetupArgs {
    /// The client: claude, codex or gemini
    #[arg(value_name = "CLIENT")]
    pub client: String,
    /// Install into your user settings instead of this project's
    #[arg(long)]
    pub global: bool,
    /// Take out exactly what setup added
    #[arg(long)]
    pub remove: bool,
}

#[derive(Debug, Args)]
pub struct McpArgs {
    /// Serve streamable HTTP at http://ADDR/mcp instead of stdio; ADDR is HOST:PORT or a port
    /// (default 127.0.0.1:8765)
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "127.0.0.1:8765")]
    pub http: Option<String>,
    /// Bearer token every HTTP request must carry; needed to listen beyond loopback [env: BATON_TOKEN]
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum DocCommand {
    /// Write session documents (deterministic: the same store state gives the same bytes)
    #[command(
        after_help = "Examples:\n  baton doc render\n  baton doc render 019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8a9b --layout sessions\n  baton doc render --all --layout agents --json\n\nLayouts: baton (.baton/sessions/<id>.md), agents (.agents/sessions/YYYYMMDD-HHMMSS-<slug>.md),\nsessions (.sessions/active|archive/<shortname>-<id>.md and .sessions/journal/<id>/).\nFiles are written under the top of the working tree."
    )]
    Render(DocRenderArgs),
    /// Check agents-layout documents: file name, frontmatter keys and values, sections
    #[command(
        after_help = "Examples:\n  baton doc lint\n  baton doc lint .agents/sessions/20261001-090000-payments.md --json\n\nPrints FILE:LINE: MESSAGE [RULE] for each problem; exits 2 when there is any."
    )]
    Lint(DocLintArgs),
    /// Import agents- or sessions-layout documents into the store (importing twice changes nothing)
    #[command(
        after_help = "Examples:\n  baton doc import .agents/sessions/\n  baton doc import .sessions/active/auth-019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8a9b.md\n\nA sessions document's journal files (.sessions/journal/<id>/entries/) are read with it.\nEvery document is read first: if any is malformed, nothing is imported."
    )]
    Import(DocImportArgs),
}

#[derive(Debug, Args)]
pub struct DocRenderArgs {
    /// The session to render (default: this agent's active session here)
    #[arg(value_name = "SESSION", conflicts_with = "all")]
    pub id: Option<String>,
    /// Render every session of this project
    #[arg(long)]
    pub all: bool,
    /// baton, agents or sessions (default: docs.layout from the config, else baton)
    #[arg(long, value_name = "LAYOUT")]
    pub layout: Option<String>,
}

#[derive(Debug, Args)]
pub struct DocLintArgs {
    /// Files or directories of documents (default: .agents/sessions at the top of the working tree)
    #[arg(value_name = "PATH")]
    pub paths: Vec<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct DocImportArgs {
    /// Documents, or directories of them
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<std::path::PathBuf>,
    /// agents or sessions (default: told by each document's frontmatter)
    #[arg(long, value_name = "LAYOUT")]
    pub layout: Option<String>,
}

/// `--progress TEXT`, `--decision TEXT`, …: one flag per kind of journal entry that `session log` writes,
/// made from the core's list of kinds, so a new kind is a new flag with no change here.
#[derive(Debug, Clone)]
pub struct EntryFlag {
    pub kind: EntryKind,
    pub text: String,
}

impl clap::FromArgMatches for EntryFlag {
    fn from_arg_matches(m: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let mut m = m.clone();
        Self::from_arg_matches_mut(&mut m)
    }

    fn from_arg_matches_mut(m: &mut clap::ArgMatches) -> Result<Self, clap::Error> {
        EntryKind::ALL
            .iter()
            .filter(|k| k.is_logged())
            .find_map(|k| {
                m.try_get_one::<String>(k.as_str()).ok().flatten().map(|t| EntryFlag {
                    kind: *k,
                    text: t.clone(),
                })
            })
            .ok_or_else(|| clap::Error::new(clap::error::ErrorKind::MissingRequiredArgument))
    }

    fn update_from_arg_matches(&mut self, m: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

impl Args for EntryFlag {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        let kinds = || EntryKind::ALL.iter().filter(|k| k.is_logged());
        let cmd = kinds().fold(cmd, |cmd, k| {
            let help = match k {
                EntryKind::Decision => format!("{} (add --rationale)", k.about()),
                _ => k.about().to_string(),
            };
            cmd.arg(
                clap::Arg::new(k.as_str())
                    .long(k.as_str())
                    .value_name("TEXT")
                    .help(help)
                    .group("entry"),
            )
        });
        cmd.group(clap::ArgGroup::new("entry").required(true).multiple(false))
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}
