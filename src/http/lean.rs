//! A lean path for the residents' live warnings. A ward's residents keep
//! `GET /api/v1/warnings/stream` open all day, tens of thousands at once. Served through
//! hyper, every one of those idle connections would hold hyper's 8 KiB read buffer and
//! 8 KiB header buffer besides the stream itself. So connections are sorted as they are
//! accepted: one whose first request is that stream is answered here — its request head
//! is read into a buffer freed once parsed, the caller and the feed are the router's own
//! ([`Caller`], [`warning_feed`]), and each event goes to the socket as an HTTP/1.1 chunk.
//! Every other connection, and any stream request this path does not take (a body, an
//! upgrade, pipelined bytes, a malformed head, an error to answer), goes to the router
//! through hyper, with the bytes already read put back in front of the rest.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use axum::extract::{FromRequestParts, Query};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, Uri};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

use crate::app::{AppState, SECURITY_HEADERS};
use crate::http::ctx::Caller;
use crate::store::warnings::WarningEvent;
use crate::warnings::api::{WardQuery, last_event_id, live_json, warning_feed};

/// How a stream request begins; only such connections are looked at more closely.
const STREAM_REQUEST: &[u8] = b"GET /api/v1/warnings/stream";
const STREAM_PATH: &str = "/api/v1/warnings/stream";
/// A longer head is left to hyper (which refuses it properly).
const MAX_HEAD: usize = 16 * 1024;
/// A client that has not sent its request head by then is dropped.
const HEAD_TIMEOUT: Duration = Duration::from_secs(30);
/// As axum's default keep-alive: a comment every 15 s keeps proxies from closing the stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// A listener that reads nothing for this long is dropped rather than queued for.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// The connections left for the router, as axum's `serve` takes them.
pub struct Incoming {
    rx: mpsc::Receiver<(Conn, SocketAddr)>,
    local: SocketAddr,
}

impl axum::serve::Listener for Incoming {
    type Io = Conn;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Conn, SocketAddr) {
        match self.rx.recv().await {
            Some(c) => c,
            // The accept loop stopped (shutting down): accept nothing more.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local)
    }
}

/// Accept on `listener` until `stop` turns true: live warning streams are served here,
/// everything else comes out of the returned [`Incoming`].
pub fn incoming(
    listener: TcpListener,
    state: AppState,
    stop: watch::Receiver<bool>,
) -> io::Result<Incoming> {
    let local = listener.local_addr()?;
    let (tx, rx) = mpsc::channel(1024);
    tokio::spawn(accept_loop(listener, state, stop, tx));
    Ok(Incoming { rx, local })
}

async fn accept_loop(
    listener: TcpListener,
    state: AppState,
    mut stop: watch::Receiver<bool>,
    tx: mpsc::Sender<(Conn, SocketAddr)>,
) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, addr)) => {
                    tokio::spawn(sort(tcp, addr, state.clone(), stop.clone(), tx.clone()));
                }
                Err(e) if is_connection_error(&e) => {}
                Err(e) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::error!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            },
            _ = stop.changed() => break,
        }
    }
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Look at a new connection's first bytes without taking them, and send it its way.
async fn sort(
    tcp: TcpStream,
    addr: SocketAddr,
    state: AppState,
    stop: watch::Receiver<bool>,
    tx: mpsc::Sender<(Conn, SocketAddr)>,
) {
    let mut first = [0u8; STREAM_REQUEST.len()];
    let peeked = tokio::time::timeout(HEAD_TIMEOUT, tcp.peek(&mut first)).await;
    let conn = match peeked {
        Ok(Ok(n)) if first[..n] == *STREAM_REQUEST => {
            match Box::pin(stream_warnings(tcp, state, stop)).await {
                Some(conn) => conn,
                None => return,
            }
        }
        // Anything else, a request split before its path (rare) included, is hyper's.
        _ => Conn::new(tcp, Vec::new()),
    };
    let _ = tx.send((conn, addr)).await;
}

/// Serve one warnings stream. Answers the connection back, with what was read of it,
/// when the request is one for the router to answer.
async fn stream_warnings(
    mut tcp: TcpStream,
    state: AppState,
    stop: watch::Receiver<bool>,
) -> Option<Conn> {
    let head = match tokio::time::timeout(HEAD_TIMEOUT, read_head(&mut tcp)).await {
        Ok(Ok(head)) => head,
        Ok(Err(Unread::TooLong(head))) => return Some(Conn::new(tcp, head)),
        Ok(Err(Unread::Closed)) | Err(_) => return None,
    };
    let Some(mut parts) = parse_head(&head) else {
        return Some(Conn::new(tcp, head));
    };
    let started = Instant::now();
    // The caller and the feed are worked out exactly as the router's handler does; any
    // error is left for the router to answer, in its words and language.
    let feed = async {
        let caller = Caller::from_request_parts(&mut parts, &state).await.ok()?;
        let Query(q) = Query::<WardQuery>::try_from_uri(&parts.uri).ok()?;
        warning_feed(&state, &caller, &q.ward, last_event_id(&parts.headers))
            .await
            .ok()
    };
    let Some(feed) = feed.await else {
        return Some(Conn::new(tcp, head));
    };
    drop((head, parts));
    if write_timed(&mut tcp, &response_head()).await.is_err() {
        return None;
    }
    state
        .metrics
        .observe(StatusCode::OK, started.elapsed().as_secs_f64());
    tracing::debug!("live warnings stream opened on the lean path");
    serve_feed(tcp, feed, stop).await;
    None
}

enum Unread {
    Closed,
    TooLong(Vec<u8>),
}

/// Read up to the end of the request head (and whatever came with it).
async fn read_head(tcp: &mut TcpStream) -> Result<Vec<u8>, Unread> {
    let mut head = Vec::with_capacity(1024);
    loop {
        if head.len() >= MAX_HEAD {
            return Err(Unread::TooLong(head));
        }
        head.reserve(1024);
        match tcp.read_buf(&mut head).await {
            Ok(0) | Err(_) => return Err(Unread::Closed),
            Ok(_) => {}
        }
        if head.windows(4).any(|w| w == b"\r\n\r\n") {
            return Ok(head);
        }
    }
}

/// The request as the router's extractors take it, when it is a plain HTTP/1.1
/// `GET` of the stream with nothing after its head; `None` leaves it to hyper.
fn parse_head(head: &[u8]) -> Option<axum::http::request::Parts> {
    let mut fields = [httparse::EMPTY_HEADER; 48];
    let mut req = httparse::Request::new(&mut fields);
    let httparse::Status::Complete(len) = req.parse(head).ok()? else {
        return None;
    };
    let path = req.path?;
    let ours = path
        .strip_prefix(STREAM_PATH)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('?'));
    if len != head.len() || req.method != Some("GET") || req.version != Some(1) || !ours {
        return None;
    }
    let mut headers = HeaderMap::with_capacity(req.headers.len());
    for h in req.headers.iter() {
        let name = HeaderName::from_bytes(h.name.as_bytes()).ok()?;
        let has_body = name == axum::http::header::TRANSFER_ENCODING
            || (name == axum::http::header::CONTENT_LENGTH && h.value != b"0");
        if has_body || name == axum::http::header::UPGRADE {
            return None;
        }
        headers.append(name, HeaderValue::from_bytes(h.value).ok()?);
    }
    let uri: Uri = path.parse().ok()?;
    let (mut parts, ()) = Request::builder()
        .method(Method::GET)
        .uri(uri)
        .body(())
        .ok()?
        .into_parts();
    parts.headers = headers;
    Some(parts)
}

/// The response head, with the headers every answer of the router carries.
fn response_head() -> Vec<u8> {
    let mut out = String::from(
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n\
         transfer-encoding: chunked\r\n",
    );
    for (name, value) in SECURITY_HEADERS {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!(
        "date: {}\r\n\r\n",
        httpdate::fmt_http_date(SystemTime::now())
    ));
    out.into_bytes()
}

/// Write events until the client goes, stops reading, or the server stops.
async fn serve_feed(
    mut tcp: TcpStream,
    mut feed: BoxStream<'static, Arc<WarningEvent>>,
    mut stop: watch::Receiver<bool>,
) {
    let (mut rd, mut wr) = tcp.split();
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + KEEP_ALIVE, KEEP_ALIVE);
    let mut sink = [0u8; 64];
    loop {
        let chunk = tokio::select! {
            e = feed.next() => match e {
                Some(e) => match live_json(&e) {
                    Some(json) => chunk(&format!("id: {}\nevent: warning\ndata: {json}\n\n", e.id)),
                    None => continue,
                },
                None => break,
            },
            _ = tick.tick() => chunk(":\n\n"),
            // Nothing is expected from the client; reading tells when it has gone.
            read = rd.read(&mut sink) => match read {
                Ok(0) | Err(_) => break,
                Ok(_) => continue,
            },
            _ = stop.changed() => break,
        };
        if write_timed(&mut wr, &chunk).await.is_err() {
            break;
        }
    }
    let _ = write_timed(&mut wr, b"0\r\n\r\n").await;
}

/// One HTTP/1.1 chunk.
fn chunk(text: &str) -> Vec<u8> {
    let mut out = format!("{:x}\r\n", text.len()).into_bytes();
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(b"\r\n");
    out
}

async fn write_timed<W: AsyncWrite + Unpin>(w: &mut W, bytes: &[u8]) -> io::Result<()> {
    match tokio::time::timeout(WRITE_TIMEOUT, w.write_all(bytes)).await {
        Ok(r) => r,
        Err(_) => Err(io::ErrorKind::TimedOut.into()),
    }
}

/// A connection handed to hyper: the bytes already read from it come first.
pub struct Conn {
    tcp: TcpStream,
    head: Vec<u8>,
    taken: usize,
}

impl Conn {
    fn new(tcp: TcpStream, head: Vec<u8>) -> Self {
        Self {
            tcp,
            head,
            taken: 0,
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.taken < this.head.len() {
            let n = buf.remaining().min(this.head.len() - this.taken);
            buf.put_slice(&this.head[this.taken..this.taken + n]);
            this.taken += n;
            if this.taken == this.head.len() {
                this.head = Vec::new();
                this.taken = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().tcp).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_stream_request_is_taken_with_its_headers() {
        let head = b"GET /api/v1/warnings/stream?ward=du-hang-kenh HTTP/1.1\r\nHost: x\r\n\
                     Last-Event-ID: 42\r\nCookie: a=b\r\n\r\n";
        let parts = parse_head(head).expect("taken");
        assert_eq!(parts.uri.query(), Some("ward=du-hang-kenh"));
        assert_eq!(last_event_id(&parts.headers), Some(42));
        assert_eq!(parts.headers.get("cookie").unwrap(), "a=b");
    }

    #[test]
    fn anything_unusual_is_left_to_the_router() {
        let left: [&[u8]; 7] = [
            // another path that merely begins alike
            b"GET /api/v1/warnings/streamx?ward=a HTTP/1.1\r\n\r\n",
            // HTTP/1.0
            b"GET /api/v1/warnings/stream?ward=a HTTP/1.0\r\n\r\n",
            // a body
            b"GET /api/v1/warnings/stream?ward=a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
            b"GET /api/v1/warnings/stream?ward=a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            // an upgrade
            b"GET /api/v1/warnings/stream?ward=a HTTP/1.1\r\nUpgrade: websocket\r\n\r\n",
            // a second request pipelined behind the first
            b"GET /api/v1/warnings/stream?ward=a HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n",
            // not HTTP
            b"GET /api/v1/warnings/stream?ward=a HTTP/1.1\r\nbad header\r\n\r\n",
        ];
        for head in left {
            assert!(
                parse_head(head).is_none(),
                "{}",
                String::from_utf8_lossy(head)
            );
        }
    }

    #[test]
    fn events_are_written_as_http_chunks() {
        assert_eq!(chunk("ab\n\n"), b"4\r\nab\n\n\r\n");
        let text = "x".repeat(300);
        assert!(chunk(&text).starts_with(b"12c\r\n"));
        let head = String::from_utf8(response_head()).unwrap();
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(head.contains("transfer-encoding: chunked\r\n"));
        assert!(head.contains("x-frame-options: DENY\r\n"));
        assert!(head.ends_with("\r\n\r\n"));
    }
}
