//! Outside channels: warnings reach residents beyond the browser through Zalo Official
//! Account, an SMS gateway, e-mail and Web Push, all behind one [`Channel`] interface.
//!
//! Each channel is configured from environment variables (see each module's `Config`);
//! a channel whose variables are absent is simply not configured. Every HTTP call goes
//! through one shared client with a 10 s timeout. A failed delivery is either
//! [`SendError::Retryable`] (try again later, see [`Backoff`]) or
//! [`SendError::Permanent`] (bad address, revoked token, refused: do not retry).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use unicode_segmentation::UnicodeSegmentation;

pub mod email;
pub mod sms;
pub mod webpush;
pub mod zalo;

#[cfg(test)]
mod tests;

pub use webpush::generate_vapid_key;

/// How long any single call to an outside service may take.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// What is sent: a short title, the text, and optionally a link to the warning's page.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    pub title: String,
    pub body: String,
    pub url: Option<String>,
    /// For Web Push (RFC 8030 `Urgency`); `High` for severe warnings. Other channels
    /// ignore it. `None` leaves the push service's default (`normal`).
    pub urgency: Option<Urgency>,
}

impl Message {
    pub fn new(title: impl Into<String>, body: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            body: body.into(),
            url: None,
            urgency: None,
        }
    }
    pub fn with_url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }
    pub fn with_urgency(mut self, urgency: Urgency) -> Self {
        self.urgency = Some(urgency);
        self
    }
}

/// RFC 8030 section 5.3 urgency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    VeryLow,
    Low,
    Normal,
    High,
}

impl Urgency {
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::VeryLow => "very-low",
            Urgency::Low => "low",
            Urgency::Normal => "normal",
            Urgency::High => "high",
        }
    }
}

/// Who receives a message, in the address form of one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    /// A follower of the Official Account (Zalo `user_id`).
    ZaloUser(String),
    /// A group chat managed by the Official Account (Zalo `group_id`).
    ZaloGroup(String),
    Phone(crate::domain::Phone),
    Email(String),
    Push(PushSubscription),
}

/// A browser's push subscription, as `PushSubscription.toJSON()` gives it (flattened).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushSubscription {
    pub endpoint: String,
    /// The user agent's P-256 public key, base64url (uncompressed point, 65 bytes).
    pub p256dh: String,
    /// The user agent's 16-byte authentication secret, base64url.
    pub auth: String,
}

impl PushSubscription {
    /// Read the JSON a browser's `subscription.toJSON()` produces:
    /// `{"endpoint": …, "keys": {"p256dh": …, "auth": …}}`.
    pub fn from_browser_json(json: &str) -> Result<Self, serde_json::Error> {
        #[derive(Deserialize)]
        struct Keys {
            p256dh: String,
            auth: String,
        }
        #[derive(Deserialize)]
        struct Browser {
            endpoint: String,
            keys: Keys,
        }
        let b: Browser = serde_json::from_str(json)?;
        Ok(Self {
            endpoint: b.endpoint,
            p256dh: b.keys.p256dh,
            auth: b.keys.auth,
        })
    }
}

/// Why a delivery failed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Timeouts, refused connections, 5xx, 429: try again later.
    #[error("temporary delivery failure: {0}")]
    Retryable(String),
    /// Bad address, revoked or invalid credentials, gone subscription, other 4xx:
    /// trying again cannot help.
    #[error("permanent delivery failure: {0}")]
    Permanent(String),
}

impl SendError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, SendError::Retryable(_))
    }
}

/// One way of reaching residents.
#[async_trait::async_trait]
pub trait Channel: Send + Sync {
    /// `"zalo"`, `"sms"`, `"email"` or `"webpush"`.
    fn kind(&self) -> &'static str;
    /// Whether this channel can deliver to that kind of address.
    fn accepts(&self, to: &Recipient) -> bool;
    /// Deliver once; no retry here (see [`send_with_retry`]).
    async fn send(&self, to: &Recipient, msg: &Message) -> Result<(), SendError>;
}

/// The configured channels.
pub struct Channels {
    list: Vec<Arc<dyn Channel>>,
    webpush: Option<Arc<webpush::WebPush>>,
}

impl fmt::Debug for Channels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Channels")
            .field("configured", &self.configured())
            .finish()
    }
}

impl Channels {
    /// No channel at all.
    pub fn none() -> Self {
        Self {
            list: Vec::new(),
            webpush: None,
        }
    }

    /// Channels from the process environment; those whose variables are absent are not
    /// configured. Fails only on a variable that is present but wrong.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(&|name| std::env::var(name).ok())
    }

    /// Channels from any source of variables (`from_env` uses the environment).
    /// Empty values count as absent.
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let get = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let http = http_client()?;
        let mut out = Self::none();
        if let Some(config) = zalo::Config::from_lookup(&get)? {
            out.add(Arc::new(zalo::Zalo::new(config, http.clone())));
        }
        if let Some(config) = sms::Config::from_lookup(&get)? {
            out.add(Arc::new(sms::Sms::new(config, http.clone())));
        }
        if let Some(config) = email::Config::from_lookup(&get)? {
            out.add(Arc::new(email::Email::new(config)?));
        }
        if let Some(config) = webpush::Config::from_lookup(&get)? {
            let push = Arc::new(webpush::WebPush::new(config, http.clone()));
            out.webpush = Some(push.clone());
            out.add(push);
        }
        Ok(out)
    }

    /// Add a channel; the first channel that accepts a recipient serves it.
    pub fn add(&mut self, channel: Arc<dyn Channel>) {
        self.list.push(channel);
    }

    pub fn for_recipient(&self, to: &Recipient) -> Option<&dyn Channel> {
        self.list.iter().find(|c| c.accepts(to)).map(|c| c.as_ref())
    }

    /// The kinds of the configured channels, e.g. `["zalo", "webpush"]`.
    pub fn configured(&self) -> Vec<&'static str> {
        self.list.iter().map(|c| c.kind()).collect()
    }

    /// The Web Push channel, when VAPID is configured.
    pub fn webpush(&self) -> Option<&webpush::WebPush> {
        self.webpush.as_deref()
    }

    /// The key a browser's `pushManager.subscribe({applicationServerKey})` needs.
    pub fn vapid_public_key(&self) -> Option<String> {
        self.webpush().map(|w| w.vapid_public_key())
    }

    /// Deliver through the channel that accepts `to`, retrying as `backoff` says.
    /// Answers the kind of channel used.
    pub async fn send(
        &self,
        to: &Recipient,
        msg: &Message,
        backoff: &Backoff,
    ) -> Result<&'static str, SendError> {
        let channel = self.for_recipient(to).ok_or_else(|| {
            SendError::Permanent(format!(
                "no channel configured for {} recipients",
                recipient_kind(to)
            ))
        })?;
        send_with_retry(channel, to, msg, backoff).await?;
        Ok(channel.kind())
    }
}

fn recipient_kind(to: &Recipient) -> &'static str {
    match to {
        Recipient::ZaloUser(_) => "Zalo user",
        Recipient::ZaloGroup(_) => "Zalo group",
        Recipient::Phone(_) => "phone",
        Recipient::Email(_) => "e-mail",
        Recipient::Push(_) => "push",
    }
}

/// Retry with exponential back-off and jitter: after failed attempt n the wait is
/// about `base * 2^(n-1)` (capped at `cap`; with "equal jitter" it is drawn between half
/// and all of that), and there is no further attempt after `max_attempts`.
/// Permanent errors stop at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
    pub max_attempts: u32,
}

impl Default for Backoff {
    /// 5 attempts within half a minute: waits of 1–2, 2–4, 4–8 and 8–16 s.
    fn default() -> Self {
        Self {
            base: Duration::from_secs(2),
            cap: Duration::from_secs(300),
            max_attempts: 5,
        }
    }
}

impl Backoff {
    /// The wait after failed attempt `attempt` (1-based) before the next one, jittered;
    /// `None` when the attempts are exhausted.
    pub fn delay(&self, attempt: u32) -> Option<Duration> {
        let full = self.nominal(attempt)?;
        let half = full / 2;
        let spread = (full - half).as_millis() as u64;
        let jitter = if spread == 0 {
            0
        } else {
            rand::random_range(0..=spread)
        };
        Some(half + Duration::from_millis(jitter))
    }

    /// The wait without jitter: `base * 2^(attempt-1)`, at most `cap`.
    pub fn nominal(&self, attempt: u32) -> Option<Duration> {
        let attempt = attempt.max(1);
        if attempt >= self.max_attempts {
            return None;
        }
        let factor = 1u32.checked_shl(attempt - 1).unwrap_or(u32::MAX);
        Some(
            self.base
                .checked_mul(factor)
                .map_or(self.cap, |d| d.min(self.cap)),
        )
    }
}

/// Send through `channel`, retrying retryable failures as `backoff` says.
pub async fn send_with_retry(
    channel: &dyn Channel,
    to: &Recipient,
    msg: &Message,
    backoff: &Backoff,
) -> Result<(), SendError> {
    let mut attempt = 1;
    loop {
        match channel.send(to, msg).await {
            Ok(()) => return Ok(()),
            Err(SendError::Retryable(why)) => match backoff.delay(attempt) {
                Some(wait) => {
                    tracing::warn!(
                        channel = channel.kind(),
                        attempt,
                        ?wait,
                        "delivery failed, retrying: {why}"
                    );
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                None => return Err(SendError::Retryable(why)),
            },
            Err(permanent) => return Err(permanent),
        }
    }
}

/// The shared HTTP client: rustls (ring), 10 s timeout.
pub fn http_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(HTTP_TIMEOUT)
        .connect_timeout(HTTP_TIMEOUT)
        .user_agent(concat!("wardwatch/", env!("CARGO_PKG_VERSION")))
        .build()?)
}

/// A transport failure: a malformed request cannot succeed later, anything else
/// (timeout, refused or reset connection) may.
/// The URL is left out of the text: SMS gateways often carry API keys in it.
pub(crate) fn from_reqwest(e: reqwest::Error) -> SendError {
    let builder = e.is_builder();
    let e = e.without_url();
    // reqwest's own text is general ("error sending request"); the causes say why.
    let mut why = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        why.push_str(": ");
        why.push_str(&cause.to_string());
        source = cause.source();
    }
    if builder {
        SendError::Permanent(why)
    } else {
        SendError::Retryable(why)
    }
}

/// An unsuccessful HTTP status: 408, 429 and 5xx may pass later; other 4xx will not.
pub(crate) fn from_status(status: reqwest::StatusCode, body: &str) -> SendError {
    let mut why = format!("HTTP {status}");
    let body = body.trim();
    if !body.is_empty() {
        why.push_str(": ");
        why.push_str(&shorten(body, 300, "…"));
    }
    if status.is_server_error()
        || status == reqwest::StatusCode::TOO_MANY_REQUESTS
        || status == reqwest::StatusCode::REQUEST_TIMEOUT
    {
        SendError::Retryable(why)
    } else {
        SendError::Permanent(why)
    }
}

/// At most `max` characters, cut between graphemes, ending with `ellipsis` when cut.
pub(crate) fn shorten(text: &str, max: usize, ellipsis: &str) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let room = max.saturating_sub(ellipsis.chars().count());
    let mut out = String::new();
    let mut used = 0;
    for g in text.graphemes(true) {
        let n = g.chars().count();
        if used + n > room {
            break;
        }
        out.push_str(g);
        used += n;
    }
    let kept = out.trim_end().len();
    out.truncate(kept);
    out.push_str(ellipsis);
    out
}

/// The text form of a message, at most `max` characters: title, body and link on their
/// own lines; the body is shortened first so that the title and link survive.
pub(crate) fn compose(
    title: &str,
    body: &str,
    url: Option<&str>,
    max: usize,
    ellipsis: &str,
) -> String {
    let title = title.trim();
    let body = body.trim();
    let url = url.map(str::trim).filter(|u| !u.is_empty());
    let join = |body: &str| {
        let mut parts = vec![title];
        if !body.is_empty() {
            parts.push(body);
        }
        if let Some(u) = url {
            parts.push(u);
        }
        parts.retain(|p| !p.is_empty());
        parts.join("\n")
    };
    let full = join(body);
    let len = full.chars().count();
    if len <= max {
        return full;
    }
    let body_len = body.chars().count();
    let excess = len - max;
    if excess < body_len {
        let shorter = shorten(body, body_len - excess, ellipsis);
        let text = join(&shorter);
        if text.chars().count() <= max {
            return text;
        }
    }
    shorten(&full, max, ellipsis)
}

/// Vietnamese names of the channels, for pages and delivery records.
pub fn label(kind: &str) -> &'static str {
    match kind {
        "zalo" => "Zalo (tài khoản chính thức)",
        "sms" => "Tin nhắn SMS",
        "email" => "Thư điện tử",
        "webpush" => "Thông báo đẩy trên trình duyệt",
        _ => "Kênh khác",
    }
}

pub const TEXTS: crate::i18n::Texts = &[
    ("Zalo (tài khoản chính thức)", "Zalo (Official Account)"),
    ("Tin nhắn SMS", "SMS"),
    ("Thư điện tử", "E-mail"),
    (
        "Thông báo đẩy trên trình duyệt",
        "Browser push notification",
    ),
    ("Kênh khác", "Other channel"),
];
