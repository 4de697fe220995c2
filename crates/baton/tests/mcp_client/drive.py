"""Drives `baton mcp` with the official MCP Python SDK (PyPI `mcp`), over stdio and streamable HTTP.

Usage: python3 drive.py BATON_BINARY   (run in a git repository; BATON_HOME and BATON_TEST_HOME set)

For each transport and protocol mode, two connections run a full session: start, claim, a claim
conflict between the connections, log, release, what_changed, end with a handoff that the other
connection then reads, and a bad input that must come back as a tool error naming the value.
Exits non-zero on the first failed check; prints "all checks passed" at the end.
"""

import asyncio
import contextlib
import os
import subprocess
import sys

import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

BATON = sys.argv[1]
REPO = os.getcwd()
TOOLS = {
    "session_start", "session_end", "session_log", "session_checkpoint", "session_pause",
    "session_resume", "session_close", "session_view", "session_list", "claim_work",
    "release_work", "heartbeat", "list_claims", "what_changed", "digest", "message", "request", "search", "team",
}


def baton_env():
    """What every baton process gets: the test's store and home, never the developer's."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ["BATON_TEST_HOME"],
        "BATON_HOME": os.environ["BATON_HOME"],
        "USER": "tester",
    }


def check(cond, what):
    if not cond:
        raise AssertionError(what)


async def call(client, name, args):
    """Calls a tool that must succeed and returns its structured content."""
    r = await client.call_tool(name, args)
    text = r.content[0].text if r.content else ""
    check(not r.is_error, f"{name}({args}) failed: {text}")
    check(isinstance(r.structured_content, dict), f"{name} returned no structured content")
    check(text, f"{name} returned no text form")
    return r.structured_content


async def scenario(label, connect, explicit_sessions, item):
    """A full session on connection A and a conflict from connection B.

    explicit_sessions: pass session_id on every call (a stateless transport has no connection to
    remember the session by); otherwise rely on the connection's session.
    """
    async with connect() as a, connect() as b:
        listed = await a.list_tools()
        names = {t.name for t in listed.tools}
        check(names == TOOLS, f"{label}: tools/list gave {sorted(names)}")
        check(all(t.output_schema for t in listed.tools), f"{label}: a tool has no output schema")

        started = await call(a, "session_start", {"context": f"auth refactor ({label})", "agent_id": "alice"})
        sid_a = started["session_id"]
        sa = {"session_id": sid_a} if explicit_sessions else {}
        claimed = await call(a, "claim_work", {"work_type": "issue", "work_id": item, "repo": "org/app", **sa})
        check(claimed["claimed"] is True, f"{label}: claim failed: {claimed}")
        check(claimed["claim"]["session_id"] == sid_a, f"{label}: claimed for the wrong session")

        started = await call(b, "session_start", {"context": f"billing ({label})", "agent_id": "bob"})
        sid_b = started["session_id"]
        sb = {"session_id": sid_b} if explicit_sessions else {}
        conflict = await call(b, "claim_work", {"work_type": "issue", "work_id": str(item), "repo": "org/app", **sb})
        check(conflict["claimed"] is False, f"{label}: second claim granted: {conflict}")
        check(conflict["claimed_by"]["agent"] == "alice", f"{label}: wrong holder: {conflict}")
        check(conflict["claimed_by"]["session"] == sid_a, f"{label}: wrong holder session: {conflict}")

        # B tells A's session something, and asks A's agent for a review that A accepts and completes.
        sent = await call(b, "message", {"action": "send", "to": sid_a, "type": "interface_ready", "text": f"API ready ({label})", **sb})
        check(sent["delivered_to"] == [f"session:{sid_a}"], f"{label}: send gave {sent}")
        inbox = await call(a, "message", {"action": "inbox", **sa})
        got = [(m["text"], m["new"]) for m in inbox["messages"] if m["type"] == "interface_ready"]
        check(got == [(f"API ready ({label})", True)], f"{label}: inbox gave {got}")
        again = await call(a, "message", {"action": "inbox", "unread": True, **sa})
        check(all(m["type"] != "interface_ready" for m in again["messages"]), f"{label}: a message was new twice: {again}")
        acked = await call(a, "message", {"action": "ack", "id": sent["message"]["id"], **sa})
        check(acked["acked"] == [sent["message"]["id"]], f"{label}: ack gave {acked}")
        made = await call(b, "request", {"action": "make", "to": "alice", "type": "review", "text": "review #16", **sb})
        rid = made["request"]["id"]
        refused = await b.call_tool("request", {"action": "accept", "id": rid, **sb})
        check(refused.is_error and "alice" in refused.content[0].text, f"{label}: B answered its own request: {refused}")
        await call(a, "request", {"action": "accept", "id": rid, "response": "on it", **sa})
        done = await call(a, "request", {"action": "complete", "id": rid, "response": "LGTM", **sa})
        check(done["status"] == "completed", f"{label}: complete gave {done}")
        told = await call(b, "message", {"action": "inbox", **sb})
        answers = [m["text"] for m in told["messages"] if m["type"] == "response" and m["request_id"] == rid]
        check(answers == ["accepted: on it", "completed: LGTM"], f"{label}: B was told {answers}")
        mine = await call(b, "request", {"action": "list", "which": "mine", "status": "completed", **sb})
        check([r["response"] for r in mine["requests"] if r["id"] == rid] == ["LGTM"], f"{label}: requests gave {mine}")

        # B needs A's interface; A declares it and B is told; B asks who should take a piece of work.
        await call(b, "team", {"action": "needs", "name": f"Api{item}", "from": sid_a, **sb})
        exported = await call(a, "team", {"action": "export", "name": f"Api{item}", "file": "src/api/mod.rs", **sa})
        check(exported["told"] == [f"session:{sid_b}"], f"{label}: export told {exported}")
        ready = await call(b, "message", {"action": "inbox", "unread": True, **sb})
        check(any(m["type"] == "interface_ready" for m in ready["messages"]), f"{label}: no interface_ready: {ready}")
        rec = await call(b, "team", {"action": "recommend", "text": f"use Api{item} in the router", **sb})
        check(rec["session_id"] == sid_a, f"{label}: recommend gave {rec}")

        logged = await call(a, "session_log", {"kind": "decision", "text": "JWT", "rationale": "stateless", **sa})
        check(logged["session_id"] == sid_a, f"{label}: logged to the wrong session")
        released = await call(
            a, "release_work",
            {"work_type": "issue", "work_id": item, "repo": "org/app", "status": "completed", "notes": "PR #16", **sa},
        )
        check(released["released"] is True, f"{label}: release failed: {released}")

        changes = await call(a, "what_changed", {"since": "0", "kind": "claim", "agent_id": "alice"})
        mine = [e["kind"] for e in changes["events"] if e.get("session_id") == sid_a]
        check(mine == ["claim.granted", "claim.released"], f"{label}: what_changed gave {mine}")

        ended = await call(
            a, "session_end",
            {"summary": "login done", "handoff_notes": f"refresh tokens next ({label})", "next": ["tests"], **sa},
        )
        check(ended["session"]["status"] == "completed", f"{label}: end gave {ended}")
        digest = await call(b, "digest", sb)
        notes = (digest.get("last_handoff") or {}).get("handoff", {}).get("notes")
        check(notes == f"refresh tokens next ({label})", f"{label}: the handoff did not reach B: {notes}")

        bad = await b.call_tool("claim_work", {"work_type": "Bad Type", "work_id": "1", **sb})
        text = bad.content[0].text if bad.content else ""
        check(bad.is_error and "'Bad Type'" in text, f"{label}: bad input gave {bad}")

        closed = await call(b, "session_close", {"abandon": True, "reason": "test over", **sb})
        check(closed["session"]["status"] == "abandoned", f"{label}: close gave {closed}")
        version = a.protocol_version
    print(f"ok: {label} (protocol {version})")


def stdio(mode):
    params = StdioServerParameters(command=BATON, args=["mcp"], env=baton_env(), cwd=REPO)
    return lambda: Client(params, mode=mode)


@contextlib.contextmanager
def http_server(*extra):
    proc = subprocess.Popen(
        [BATON, "mcp", "--http", "127.0.0.1:0", *extra],
        env=baton_env(), cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stderr.readline()
        check("/mcp" in line, f"baton mcp --http printed {line!r}")
        yield line.strip().rsplit(" ", 1)[-1]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def http(url, mode, token=None):
    @contextlib.asynccontextmanager
    async def connect():
        headers = {"Authorization": f"Bearer {token}"} if token else None
        async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=300)) as hc:
            async with Client(streamable_http_client(url, http_client=hc), mode=mode) as c:
                yield c

    return connect


async def main():
    await scenario("stdio, auto", stdio("auto"), explicit_sessions=False, item=15)
    await scenario("stdio, legacy", stdio("legacy"), explicit_sessions=False, item=16)
    with http_server() as url:
        # The 2026-07-28 protocol has no sessions: each call names its session.
        await scenario("http, auto", http(url, "auto"), explicit_sessions=True, item=17)
        # initialize + Mcp-Session-Id: the connection remembers its session.
        await scenario("http, legacy", http(url, "legacy"), explicit_sessions=False, item=18)
    with http_server("--token", "s3cret") as url:
        await scenario("http with a token", http(url, "legacy", token="s3cret"), explicit_sessions=False, item=19)
        try:
            async with http(url, "legacy")() as c:
                await c.list_tools()
            refused = False
        except Exception:  # the SDK's error type for a 401 is its own business
            refused = True
        check(refused, "a client without the token was served")
        print("ok: http without the token is refused")
    print("all checks passed")


asyncio.run(main())
