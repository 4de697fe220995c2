//! A few connections shared by one store's callers: each transaction has one to itself while it runs.
//!
//! Connections are opened when a caller finds none idle, up to the pool's size, so a process that makes
//! one call at a time (every CLI call and hook) keeps a single connection. The most recently returned
//! connection is handed out first: it is warm (its statements are prepared), and the others stay idle.
//! A caller that finds every connection in use waits for one to come back, at most as long as the store
//! waits for a lock, then gives up as busy.

use std::ops::{Deref, DerefMut};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use baton_core::{Error, Result};
use serde_json::json;

use crate::conn::Conn;

/// The pool's size when the URL does not give one: 16 threads on one store with 8 connections did as well
/// as 16 stores of their own in the benchmark (2 CPUs, loaded), where 4 reached 50–87% of them.
pub(crate) const DEFAULT_SIZE: usize = 8;
/// The most connections a `pool_size` may ask for.
pub(crate) const MAX_SIZE: usize = 64;

pub(crate) struct Pool {
    state: Mutex<State>,
    /// Signalled whenever a connection comes back or a slot frees up.
    returned: Condvar,
    size: usize,
}

struct State {
    /// Connections no caller has, the most recently returned last.
    idle: Vec<Conn>,
    /// Connections that exist, idle, in use or being opened.
    open: usize,
}

impl Pool {
    /// A pool of at most `size` connections, starting with `first`.
    pub(crate) fn new(size: usize, first: Conn) -> Pool {
        Pool {
            state: Mutex::new(State {
                idle: vec![first],
                open: 1,
            }),
            returned: Condvar::new(),
            size,
        }
    }

    pub(crate) fn size(&self) -> usize {
        self.size
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A connection for one caller until the lease is dropped: an idle one, else a new one from `open`
    /// while the pool is not full, else the first one returned within `within`.
    pub(crate) fn take(&self, within: Duration, open: impl FnOnce() -> Result<Conn>) -> Result<Lease<'_>> {
        let deadline = Instant::now() + within;
        let mut state = self.state();
        loop {
            if let Some(conn) = state.idle.pop() {
                return Ok(Lease {
                    pool: self,
                    conn: Some(conn),
                });
            }
            if state.open < self.size {
                state.open += 1;
                drop(state);
                return match open() {
                    Ok(conn) => Ok(Lease {
                        pool: self,
                        conn: Some(conn),
                    }),
                    Err(e) => {
                        self.state().open -= 1;
                        self.returned.notify_one();
                        Err(e)
                    }
                };
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(self.exhausted(within));
            }
            state = self
                .returned
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Every connection stayed in use for the whole wait: busy, like a lock held past the lock timeout.
    fn exhausted(&self, waited: Duration) -> Error {
        let n = self.size;
        let connections = if n == 1 { "connection" } else { "connections" };
        Error::busy(
            format!(
                "PostgreSQL is busy: baton waited {} for one of this process's {n} {connections} to the database, all in use by its other calls, and gave up; nothing was changed. Try again, or allow more connections (pool_size in the database URL), or raise lock_timeout (BATON_LOCK_TIMEOUT, or lock_timeout in .baton/config.toml)",
                baton_core::time::human_wait(waited)
            ),
            json!({
                "timeout": "lock_timeout",
                "waited_ms": waited.as_millis() as u64,
                "waited_for": "connection",
                "pool_size": n,
            }),
        )
    }

    /// Takes a connection back; a closed or broken one is dropped, freeing its slot for a new one.
    fn give_back(&self, conn: Conn) {
        let mut state = self.state();
        let closed = if conn.is_closed() {
            state.open -= 1;
            Some(conn)
        } else {
            state.idle.push(conn);
            None
        };
        drop(state);
        self.returned.notify_one();
        drop(closed);
    }
}

/// One connection, the caller's until dropped.
pub(crate) struct Lease<'p> {
    pool: &'p Pool,
    /// Always `Some` until dropped.
    conn: Option<Conn>,
}

impl Deref for Lease<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn.as_ref().expect("a lease holds its connection until dropped")
    }
}

impl DerefMut for Lease<'_> {
    fn deref_mut(&mut self) -> &mut Conn {
        self.conn.as_mut().expect("a lease holds its connection until dropped")
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.pool.give_back(conn);
        }
    }
}
