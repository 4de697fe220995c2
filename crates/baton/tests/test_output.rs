//! What people read, word for word: the digest, claims, changes and error messages of the real binary, pinned
//! as inline snapshots. Ids, times, durations and the test's temporary paths are replaced by stable names first.

use insta::assert_snapshot;

use crate::common::{Env, Run, run_with_env};

/// A run's output with what changes from run to run named: session ids (`<session N>` in order of appearance),
/// timestamps (`<time>`), durations (`<d>`), the temporary repository and home.
struct Names {
    ids: Vec<String>,
    paths: Vec<(String, &'static str)>,
}

impl Names {
    fn new(env: &Env) -> Names {
        Names {
            ids: Vec::new(),
            paths: vec![
                (env.repo.display().to_string(), "<repo>"),
                (env.home.path().display().to_string(), "<home>"),
            ],
        }
    }

    fn of(&mut self, r: &Run) -> String {
        let mut text = format!("exit {}\n", r.code);
        if !r.stdout.is_empty() {
            text.push_str(&format!("stdout:\n{}", r.stdout));
        }
        if !r.stderr.is_empty() {
            text.push_str(&format!("stderr:\n{}", r.stderr));
        }
        for (path, name) in &self.paths {
            text = text.replace(path.as_str(), name);
        }
        let text = times(&text);
        // Words and what separates them, so that a duration is named only where it is one ("3m ago", "in 27m").
        let mut parts: Vec<(String, String)> = Vec::new();
        let mut word = String::new();
        for c in text.chars() {
            if c.is_whitespace() || "()[],\"".contains(c) {
                parts.push((std::mem::take(&mut word), c.to_string()));
            } else {
                word.push(c);
            }
        }
        parts.push((word, String::new()));
        let mut out = String::new();
        for i in 0..parts.len() {
            let next = parts.get(i + 1).map(|p| p.0.as_str());
            let prev = i.checked_sub(1).map(|j| parts[j].0.as_str());
            let w = parts[i].0.clone();
            let named =
                if is_duration(&w) && (next == Some("ago") || prev == Some("in") || is_duration(next.unwrap_or(""))) {
                    "<d>".to_string()
                } else {
                    self.word(&w)
                };
            out.push_str(&named);
            out.push_str(&parts[i].1);
        }
        out
    }

    fn word(&mut self, w: &str) -> String {
        // A session id, maybe with text around it.
        let Some(at) = (0..w.len().saturating_sub(35)).find(|&i| w.get(i..i + 36).is_some_and(is_uuid)) else {
            return w.to_string();
        };
        let id = &w[at..at + 36];
        let n = match self.ids.iter().position(|i| i == id) {
            Some(n) => n + 1,
            None => {
                self.ids.push(id.to_string());
                self.ids.len()
            }
        };
        format!("{}<session {n}>{}", &w[..at], self.word(&w[at + 36..]))
    }
}

/// `3m`, `14h`, `0s`.
fn is_duration(w: &str) -> bool {
    let digits = w.chars().take_while(char::is_ascii_digit).count();
    digits > 0 && ["s", "m", "h", "d"].contains(&&w[digits..])
}

/// Every RFC 3339 time (`2026-12-04T20:05:00.123456Z`) in a text, named `<time>`.
fn times(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    let mut copied = 0;
    while i + 20 <= b.len() {
        let shape = b"dddd-dd-ddTdd:dd:dd";
        let fits = shape.iter().zip(&b[i..i + 19]).all(|(want, got)| {
            if *want == b'd' {
                got.is_ascii_digit()
            } else {
                want == got
            }
        });
        if !fits {
            i += 1;
            continue;
        }
        let mut end = i + 19;
        if b.get(end) == Some(&b'.') {
            end += 1;
            while b.get(end).is_some_and(u8::is_ascii_digit) {
                end += 1;
            }
        }
        if b.get(end) != Some(&b'Z') {
            i += 1;
            continue;
        }
        out.push_str(&text[copied..i]);
        out.push_str("<time>");
        i = end + 1;
        copied = i;
    }
    out.push_str(&text[copied..]);
    out
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Alice works on the parser and leaves; bob is at work on the lexer with a claim and a blocker.
fn a_project_with_history(env: &Env) -> (String, String) {
    let alice = env.start("alice", "teach the parser escaped quotes");
    run_with_env(env, &[("BATON_SESSION", &alice)], &["claim", "issue", "7"]).ok();
    run_with_env(
        env,
        &[("BATON_SESSION", &alice)],
        &[
            "release",
            "issue",
            "7",
            "--status",
            "completed",
            "--notes",
            "quotes parse",
        ],
    )
    .ok();
    run_with_env(
        env,
        &[("BATON_SESSION", &alice)],
        &[
            "session",
            "end",
            "--summary",
            "parser handles escaped quotes",
            "--handoff",
            "unicode escapes are next",
            "--next",
            "cover \\u{...} escapes",
        ],
    )
    .ok();
    let bob = env.start("bob", "split the lexer");
    run_with_env(env, &[("BATON_SESSION", &bob)], &["claim", "issue", "9"]).ok();
    run_with_env(
        env,
        &[("BATON_SESSION", &bob)],
        &["session", "log", "--blocker", "CI runner has no network"],
    )
    .ok();
    (alice, bob)
}

#[test]
fn digest_claims_and_changes_read_as_shown() {
    let env = Env::new();
    let mut names = Names::new(&env);
    let (_alice, _bob) = a_project_with_history(&env);
    let carol = env.start("carol", "review the lexer split");
    assert_snapshot!(names.of(&run_with_env(&env, &[("BATON_SESSION", &carol)], &["digest"])), @r#"
exit 0
stdout:
Project github.com/org/app — digest for carol

Handoff from alice (session <session 1>, completed <d> ago):
  Summary: parser handles escaped quotes
  Notes: unicode escapes are next
  Next: cover \u{...} escapes

Other open sessions:
  bob [active] split the lexer on main — seen <d> ago (session <session 2>)

Claimed by others:
  issue org/app#9  bob (session <session 2>)  token 1  since <d> ago  expires in <d>

Blockers:
  bob (<session 2>, <d> ago): CI runner has no network

Your first session here: 7 changes so far.
Newest:
  #7 <d> ago bob journal.blocker <session 2>
  #6 <d> ago bob claim.granted issue org/app#9
  #5 <d> ago bob session.started <session 2>
  #4 <d> ago alice session.ended <session 1>
  #3 <d> ago alice claim.released issue org/app#7
  #2 <d> ago alice claim.granted issue org/app#7
  #1 <d> ago alice session.started <session 1>
"#);
    assert_snapshot!(names.of(&env.run(&["claims"])), @r#"
exit 0
stdout:
  issue org/app#9  bob (session <session 2>)  token 1  since <d> ago  expires in <d>
"#);
    assert_snapshot!(names.of(&env.run(&["changes", "--since", "0"])), @r#"
exit 0
stdout:
     1  <time>  alice        session.started    <session 1>  context=teach the parser escaped quotes git_branch=main
     2  <time>  alice        claim.granted      issue org/app#7  token=1 expires_at=<time>
     3  <time>  alice        claim.released     issue org/app#7  status=completed notes=quotes parse token=1 forced=false
     4  <time>  alice        session.ended      <session 1>  summary=parser handles escaped quotes handoff={"notes":"unicode escapes are next","done":[],"next":["cover \\u{...} escapes"]… released=0
     5  <time>  bob          session.started    <session 2>  context=split the lexer git_branch=main
     6  <time>  bob          claim.granted      issue org/app#9  token=1 expires_at=<time>
     7  <time>  bob          journal.blocker    <session 2>  text=CI runner has no network git_branch=main
     8  <time>  carol        session.started    <session 3>  context=review the lexer split git_branch=main
next_cursor: 8
"#);
}

#[test]
fn errors_read_as_shown() {
    let env = Env::new();
    let mut names = Names::new(&env);
    let (_alice, bob) = a_project_with_history(&env);
    let carol = env.start("carol", "review the lexer split");
    let as_carol = [("BATON_SESSION", carol.as_str())];
    // Held by another session: exit 3, naming the holder.
    assert_snapshot!(names.of(&run_with_env(&env, &as_carol, &["claim", "issue", "9"])), @r#"
exit 3
stderr:
error: issue org/app#9 is held by agent 'bob' (session <session 1>) since <time>; the lease expires at <time> (in <d>)
"#);
    // A misspelt work type.
    assert_snapshot!(names.of(&run_with_env(&env, &as_carol, &["claim", "isue", "15"])), @r#"
exit 2
stderr:
error: unknown work type 'isue': did you mean 'issue'? known types are issue, pr, qa, task, session; declare new ones with types = ["isue"] in .baton/config.toml, or claim it as a new type with --new-type
"#);
    // Bad values name the value and what is accepted.
    assert_snapshot!(names.of(&run_with_env(&env, &as_carol, &["claim", "issue", "15", "--ttl", "forever"])), @r#"
exit 2
stderr:
error: invalid duration 'forever': expected a number with a unit s, m, h or d, for example 90s, 30m, 2h, 1d or 1h30m
"#);
    assert_snapshot!(names.of(&run_with_env(&env, &as_carol, &["release", "issue", "9", "--status", "finished"])), @r#"
exit 2
stderr:
error: unknown release status 'finished': expected one of completed, blocked, deferred
"#);
    // Someone else's claim, released without --force.
    assert_snapshot!(names.of(&run_with_env(&env, &as_carol, &["release", "issue", "9", "--status", "completed"])), @r#"
exit 3
stderr:
error: not the holder: issue org/app#9 is held by agent 'bob' (session <session 1>) since <time>; use --force --reason TEXT to override
"#);
    // Which session? bob has one; a second makes it ambiguous.
    env.start("bob", "a second window");
    assert_snapshot!(names.of(&env.run_as("bob", &["session", "log", "--progress", "x"])), @r#"
exit 2
stderr:
error: ambiguous session: agent 'bob' has 2 active sessions in this project: <session 2> (active, a second window), <session 1> (active, split the lexer); pass --session ID or set BATON_SESSION
"#);
    // A session that does not exist.
    assert_snapshot!(names.of(&env.run(&["session", "view", "01939999-0000-7000-8000-000000000000"])), @r#"
exit 4
stderr:
error: no session '<session 3>': see `baton session list`
"#);
    // Unknown flags and commands, from clap, in the same shape.
    assert_snapshot!(names.of(&env.run(&["claim", "issue", "15", "--tll", "1h"])), @r#"
exit 2
stderr:
error: unexpected argument '--tll' found

  tip: a similar argument exists: '--ttl'

Usage: baton claim --ttl <DURATION> <TYPE> <ID>

For more information, try '--help'.
"#);
    assert_snapshot!(names.of(&env.run(&["sesion", "list"])), @r#"
exit 2
stderr:
error: unrecognized subcommand 'sesion'

  tip: some similar subcommands exist: 'decisions', 'session'

Usage: baton [OPTIONS] <COMMAND>

For more information, try '--help'.
"#);
    // The same failure as JSON: one object on stdout.
    assert_snapshot!(names.of(&run_with_env(&env, &as_carol, &["--json", "claim", "issue", "9"])), @r#"
exit 3
stdout:
{"claimed":false,"item":{"project":"github.com/org/app","item_type":"issue","repo":"org/app","item_id":"9"},"claimed_by":{"agent":"bob","session":"<session 1>","since":"<time>","expires_at":"<time>","token":1},"renewed":false}
"#);
    let _ = bob;
}
