//! Streamable HTTP at `/mcp`, with an optional bearer token.
//!
//! Two rmcp services sit behind one route. A client that sends `initialize`, and then carries the
//! `Mcp-Session-Id` it got back, is served in rmcp's legacy session mode: one handler per MCP
//! session, so the session it starts is its default, as over stdio. Every other request (a
//! 2026-07-28 client, or a client that drops `Mcp-Session-Id`) goes to a stateless service: a fresh
//! handler per request, where the session comes from `session_id` or from the core's own rule
//! (this agent's only active session in the project). So a client that loses its session id keeps
//! working instead of getting "session id required".

use std::convert::Infallible;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use baton_core::{Error, Result};
use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode, header};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use serde::Deserialize;

use crate::server::{BatonTools, Shared};

/// Largest request body read (the same bound rmcp applies).
const MAX_BODY: usize = 4 * 1024 * 1024;
/// An agent may think or run tests for hours between calls; its MCP session should outlive that.
const SESSION_IDLE: Duration = Duration::from_secs(12 * 3600);

/// Where to listen and which token to require.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// `HOST:PORT`, or a port alone for the loopback address.
    pub addr: String,
    /// When set, every request must carry `Authorization: Bearer <token>`.
    pub token: Option<String>,
}

/// Resolves the address and refuses to listen beyond this machine without a token.
pub(crate) fn check(o: &HttpOptions) -> Result<SocketAddr> {
    let bad = || {
        Error::bad_input(format!(
            "invalid --http address '{}': expected HOST:PORT like 127.0.0.1:8765 or 0.0.0.0:8765, or a port alone for 127.0.0.1",
            o.addr
        ))
    };
    let text = o.addr.trim();
    let addr = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let port: u16 = text.parse().map_err(|_| bad())?;
        SocketAddr::from(([127, 0, 0, 1], port))
    } else {
        text.to_socket_addrs().map_err(|_| bad())?.next().ok_or_else(bad)?
    };
    if let Some(t) = &o.token
        && (t.is_empty() || !t.bytes().all(|b| b.is_ascii_graphic()))
    {
        return Err(Error::bad_input(
            "invalid --token: expected printable ASCII without spaces, like the output of `openssl rand -hex 32`",
        ));
    }
    if !addr.ip().is_loopback() && o.token.is_none() {
        return Err(Error::bad_input(format!(
            "--http {} listens beyond this machine, so it needs a token: pass --token TOKEN or set BATON_TOKEN; clients then send Authorization: Bearer TOKEN",
            o.addr
        )));
    }
    Ok(addr)
}

type Body = BoxBody<Bytes, Infallible>;

/// The `/mcp` route: token check, then the session or the stateless service.
struct Front {
    sessions: StreamableHttpService<BatonTools, LocalSessionManager>,
    stateless: StreamableHttpService<BatonTools, NeverSessionManager>,
    token: Option<String>,
}

pub(crate) async fn serve(shared: Arc<Shared>, addr: SocketAddr, token: Option<String>) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Error::internal(format!("cannot listen on {addr}: {e}")))?;
    let local = listener
        .local_addr()
        .map_err(|e| Error::internal(format!("cannot read the listening address: {e}")))?;
    // Without a token, rmcp's DNS-rebinding guard admits only loopback Host headers; with one, the
    // token is what admits a request, whatever name the client used for this machine.
    let mut config = StreamableHttpServerConfig::default();
    if token.is_some() {
        config = config.disable_allowed_hosts();
    }
    let factory = {
        let shared = shared.clone();
        move || Ok(BatonTools::new(shared.clone()))
    };
    let mut sessions = LocalSessionManager::default();
    sessions.session_config.keep_alive = Some(SESSION_IDLE);
    let front = Arc::new(Front {
        sessions: StreamableHttpService::new(factory.clone(), Arc::new(sessions), config.clone()),
        stateless: StreamableHttpService::new(
            factory,
            Arc::new(NeverSessionManager::default()),
            config.with_legacy_session_mode(false).with_json_response(true),
        ),
        token,
    });
    eprintln!(
        "baton MCP server for agent '{}' in project '{}' at http://{local}/mcp",
        shared.agent(),
        shared.project_key()
    );
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let front = front.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let front = front.clone();
                async move { Ok::<_, Infallible>(front.handle(req).await) }
            });
            // A client that goes away mid-request is its own business.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

impl Front {
    async fn handle(&self, req: Request<Incoming>) -> Response<Body> {
        if req.uri().path() != "/mcp" {
            return plain(StatusCode::NOT_FOUND, "not found: baton serves MCP at /mcp");
        }
        if let Some(token) = &self.token
            && !authorized(req.headers(), token)
        {
            let mut r = plain(
                StatusCode::UNAUTHORIZED,
                "unauthorized: send Authorization: Bearer TOKEN with the server's --token (BATON_TOKEN)",
            );
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, http::HeaderValue::from_static("Bearer"));
            return r;
        }
        if req.headers().contains_key("mcp-session-id") {
            let delete = req.method() == Method::DELETE;
            let mut r = self.sessions.handle(req).await;
            // rmcp answers a closed session with an empty 202; clients (the Python SDK among them)
            // take only 200 or 204 as success.
            if delete && r.status() == StatusCode::ACCEPTED {
                *r.status_mut() = StatusCode::NO_CONTENT;
            }
            return r;
        }
        if req.method() != Method::POST {
            return self.stateless.handle(req).await;
        }
        // Only an `initialize` opens an MCP session; look at the method to route the request.
        let (parts, body) = req.into_parts();
        let bytes = match Limited::new(body, MAX_BODY).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
                return plain(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload too large: requests are limited to 4 MiB",
                );
            }
            Err(e) => return plain(StatusCode::BAD_REQUEST, &format!("cannot read the request body: {e}")),
        };
        let initialize = is_initialize(&bytes);
        let req = Request::from_parts(parts, Full::new(bytes));
        if initialize {
            self.sessions.handle(req).await
        } else {
            self.stateless.handle(req).await
        }
    }
}

fn is_initialize(body: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct Method<'a> {
        #[serde(borrow)]
        method: Option<std::borrow::Cow<'a, str>>,
    }
    serde_json::from_slice::<Method>(body).is_ok_and(|m| m.method.as_deref() == Some("initialize"))
}

/// Compares the bearer token without stopping at the first differing byte.
fn authorized(headers: &HeaderMap, token: &str) -> bool {
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    let (a, b) = (given.trim().as_bytes(), token.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn plain(status: StatusCode, text: &str) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from(format!("{text}\n"))).boxed());
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(addr: &str, token: Option<&str>) -> HttpOptions {
        HttpOptions {
            addr: addr.to_string(),
            token: token.map(str::to_string),
        }
    }

    #[test]
    fn loopback_needs_no_token_and_a_bare_port_means_loopback() {
        assert_eq!(
            check(&opts("8765", None)).ok(),
            Some(SocketAddr::from(([127, 0, 0, 1], 8765)))
        );
        assert!(check(&opts("127.0.0.1:0", None)).is_ok());
        assert!(check(&opts("[::1]:0", None)).is_ok());
    }

    #[test]
    fn other_addresses_need_a_token() {
        let e = check(&opts("0.0.0.0:8765", None))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("0.0.0.0:8765") && e.contains("--token"), "{e}");
        assert!(check(&opts("0.0.0.0:8765", Some("s3cret"))).is_ok());
        let e = check(&opts("0.0.0.0:8765", Some("has space")))
            .err()
            .map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.contains("--token")));
    }

    #[test]
    fn bad_addresses_are_named() {
        let e = check(&opts("nowhere", None))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("'nowhere'") && e.contains("HOST:PORT"), "{e}");
    }

    #[test]
    fn bearer_token_must_match_exactly() {
        let mut h = HeaderMap::new();
        assert!(!authorized(&h, "t0ken"));
        h.insert(header::AUTHORIZATION, http::HeaderValue::from_static("Bearer t0ken"));
        assert!(authorized(&h, "t0ken"));
        assert!(!authorized(&h, "t0ke"));
        h.insert(header::AUTHORIZATION, http::HeaderValue::from_static("Basic t0ken"));
        assert!(!authorized(&h, "t0ken"));
    }

    #[test]
    fn only_initialize_opens_a_session() {
        assert!(is_initialize(
            br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#
        ));
        assert!(!is_initialize(
            br#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{}}"#
        ));
        assert!(!is_initialize(b"not json"));
    }
}
