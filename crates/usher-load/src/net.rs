//! Where the clients go and how: the loopback-only target, source addresses, WebSocket
//! connections from a chosen source address, a tiny HTTP client for the admin API, and
//! the clock every process on the machine shares.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::time::Duration;

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// A client's WebSocket.
pub type Ws = WebSocketStream<TcpStream>;

/// The usher under test: always a loopback address.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Target {
    /// Where to connect.
    pub addr: SocketAddr,
    /// The `Host` header (as the user wrote it).
    pub host: String,
}

impl Target {
    /// Parses `http://HOST:PORT`, `ws://HOST:PORT` or `HOST:PORT`; refuses any host that
    /// is not loopback, so the tool cannot be pointed at someone else's server.
    pub fn parse(s: &str) -> anyhow::Result<Target> {
        if s.starts_with("https://") || s.starts_with("wss://") {
            bail!("TLS targets are not supported: usher-load drives a usher on this machine");
        }
        let rest = ["http://", "ws://"]
            .iter()
            .find_map(|p| s.strip_prefix(p))
            .unwrap_or(s);
        let authority = rest.split('/').next().unwrap_or_default();
        let (host, port) = split_host_port(authority)?;
        let ip = match host {
            "localhost" => IpAddr::V4(Ipv4Addr::LOCALHOST),
            h => h
                .parse::<IpAddr>()
                .with_context(|| format!("target host {h:?} is not an IP address"))?,
        };
        if !ip.is_loopback() {
            bail!("refusing target {host}: only 127.0.0.0/8, ::1 and localhost are allowed");
        }
        Ok(Target {
            addr: SocketAddr::new(ip, port),
            host: authority.to_owned(),
        })
    }

    /// Checks that every source address is loopback and of the target's family.
    pub fn check_sources(&self, sources: &[IpAddr]) -> anyhow::Result<()> {
        for ip in sources {
            if !ip.is_loopback() {
                bail!("source address {ip} is not a loopback address");
            }
            if ip.is_ipv4() != self.addr.is_ipv4() {
                bail!("source address {ip} is not of the target's address family");
            }
        }
        Ok(())
    }
}

fn split_host_port(a: &str) -> anyhow::Result<(&str, u16)> {
    let (host, port) = match a.strip_prefix('[') {
        Some(rest) => {
            let (h, p) = rest.split_once(']').context("unclosed [ in the target")?;
            (h, p.strip_prefix(':'))
        }
        None => match a.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (a, None),
        },
    };
    let port = match port {
        Some(p) => p.parse().with_context(|| format!("bad port {p:?}"))?,
        None => 80,
    };
    Ok((host, port))
}

/// Opens a WebSocket to `path`, from `source` if given. The port is picked at connect
/// time (IP_BIND_ADDRESS_NO_PORT), so ports in TIME_WAIT from an earlier run are reused.
pub async fn connect(t: &Target, path: &str, source: Option<IpAddr>) -> anyhow::Result<Ws> {
    let socket = if t.addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    if let Some(ip) = source {
        bind_no_port(&socket);
        socket
            .bind(SocketAddr::new(ip, 0))
            .with_context(|| format!("bind {ip}"))?;
    }
    let stream = socket.connect(t.addr).await.context("connect")?;
    stream.set_nodelay(true)?;
    let url = format!("ws://{}{}", t.host, path);
    // Small buffers, like the server's: 20,000 idle clients must stay cheap here too.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let (ws, _) = tokio_tungstenite::client_async_with_config(url, stream, Some(config))
        .await
        .context("handshake")?;
    Ok(ws)
}

fn bind_no_port(socket: &TcpSocket) {
    let one: libc::c_int = 1;
    // SAFETY: a valid socket descriptor, and a c_int option value of the right size. A
    // failure only means the kernel picks the port at bind time, as without the option.
    unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_BIND_ADDRESS_NO_PORT,
            (&one as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

/// Sends one text frame.
pub async fn send(ws: &mut Ws, text: String) -> anyhow::Result<()> {
    ws.send(Message::text(text)).await.context("send")
}

/// What the server sent next.
pub enum Frame {
    /// A text frame (one protocol message).
    Text(tokio_tungstenite::tungstenite::Utf8Bytes),
    /// A close frame: code and reason.
    Closed(u16, String),
}

/// The next text or close frame, within `wait`; an error if the connection broke.
pub async fn next(ws: &mut Ws, wait: Duration) -> anyhow::Result<Frame> {
    tokio::time::timeout(wait, next_frame(ws))
        .await
        .map_err(|_| anyhow::anyhow!("no message within {}s", wait.as_secs()))?
}

/// The next text or close frame, however long it takes.
pub async fn next_frame(ws: &mut Ws) -> anyhow::Result<Frame> {
    loop {
        match ws.next().await {
            None => bail!("connection ended without a close frame"),
            Some(Err(e)) => bail!("socket error: {e}"),
            Some(Ok(Message::Text(t))) => return Ok(Frame::Text(t)),
            Some(Ok(Message::Close(f))) => {
                let (code, reason) = f.map_or((1005, String::new()), |f| {
                    (f.code.into(), f.reason.to_string())
                });
                return Ok(Frame::Closed(code, reason));
            }
            Some(Ok(_)) => {}
        }
    }
}

/// Closes politely, waiting a second at most.
pub async fn close(mut ws: Ws) {
    let _ = tokio::time::timeout(Duration::from_secs(1), ws.close(None)).await;
}

/// The `type` of a server message: read from the front when it is the first field (as
/// in every typed message), else parsed (usher's `error` messages put it last).
pub fn msg_type(text: &str) -> Cow<'_, str> {
    if let Some(t) = text
        .strip_prefix("{\"type\":\"")
        .and_then(|rest| rest.split('"').next())
    {
        return Cow::Borrowed(t);
    }
    let parsed = serde_json::from_str::<Value>(text).ok();
    let t = parsed.as_ref().and_then(|v| v.get("type")?.as_str());
    Cow::Owned(t.unwrap_or("?").to_owned())
}

/// The `code` of an `error` message.
pub fn error_code(text: &str) -> String {
    serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| v.get("code")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| "unparsed".into())
}

/// Microseconds of CLOCK_MONOTONIC: one clock for every process on this machine, so
/// children's timestamps compare with the parent's.
pub fn mono_us() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec that we own.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000 + ts.tv_nsec as u64 / 1_000
}

/// Wall-clock milliseconds since the epoch (the server's clock on loopback).
pub fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// One HTTP/1.1 request to the target; the status and the JSON body (Null if empty).
pub async fn http(
    t: &Target,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: Option<&Value>,
) -> anyhow::Result<(u16, Value)> {
    let mut stream = TcpStream::connect(t.addr)
        .await
        .context("connecting to usher")?;
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
        t.host,
        body.len()
    );
    if let Some(k) = key {
        req += &format!("Authorization: Bearer {k}\r\n");
    }
    if !body.is_empty() {
        req += "Content-Type: application/json\r\n";
    }
    req += "\r\n";
    req += &body;
    stream.write_all(req.as_bytes()).await?;
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut buf))
        .await
        .context("usher did not answer within 30 s")??;
    let text = String::from_utf8_lossy(&buf);
    let (head, rest) = text.split_once("\r\n\r\n").context("bad HTTP answer")?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("bad HTTP status line")?;
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let body = if chunked { dechunk(rest) } else { rest.into() };
    let value = match body.trim() {
        "" => Value::Null,
        b => serde_json::from_str(b).unwrap_or_else(|_| Value::String(b.to_owned())),
    };
    Ok((status, value))
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out += &rest[..n];
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_targets_are_accepted() {
        assert!(Target::parse("http://127.0.0.1:8080").is_ok());
        assert!(Target::parse("ws://127.0.0.9:1").is_ok());
        assert!(Target::parse("localhost:8080").is_ok());
        assert!(Target::parse("http://[::1]:8080/").is_ok());
        assert!(Target::parse("http://10.0.0.1:8080").is_err());
        assert!(Target::parse("http://example.com:8080").is_err());
        assert!(Target::parse("http://[2001:db8::1]:80").is_err());
    }

    #[test]
    fn source_addresses_must_be_loopback_of_the_same_family() {
        let t = Target::parse("127.0.0.1:1").unwrap();
        assert!(t.check_sources(&["127.0.0.2".parse().unwrap()]).is_ok());
        assert!(t.check_sources(&["10.1.1.1".parse().unwrap()]).is_err());
        assert!(t.check_sources(&["::1".parse().unwrap()]).is_err());
    }

    #[test]
    fn the_message_type_is_read_from_the_front() {
        assert_eq!(msg_type(r#"{"type":"status","x":1}"#), "status");
        assert_eq!(msg_type(r#"{"code":"x","type":"error"}"#), "error");
        assert_eq!(msg_type("garbage"), "?");
    }
}
