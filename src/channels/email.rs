//! E-mail over SMTP (lettre; STARTTLS or TLS through rustls with ring).
//!
//! Env: `WARDWATCH_SMTP_URL` in lettre's URL form (required to configure the channel):
//! `smtp://user:pass@host:587?tls=required` (STARTTLS), `smtps://user:pass@host:465`
//! (TLS from the start), `smtp://127.0.0.1:2525` (plain, for a local relay); a path names
//! the EHLO host, e.g. `smtp://host:587/ward.example.vn?tls=required`; user and password
//! are percent-encoded. `WARDWATCH_SMTP_FROM`: the sender, e.g.
//! `Công an phường <canhbao@ward.example.vn>` (required with the URL).
//!
//! Messages are plain text in UTF-8; the subject is the message title.

use std::fmt;
use std::sync::OnceLock;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message as Mail};
use lettre::transport::smtp::AsyncSmtpTransportBuilder;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::{Channel, HTTP_TIMEOUT, Message, Recipient, SendError};

#[derive(Clone)]
pub struct Config {
    pub url: String,
    pub from: Mailbox,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = match url::Url::parse(&self.url) {
            Ok(mut u) => {
                if u.password().is_some() {
                    let _ = u.set_password(Some("***"));
                }
                u.to_string()
            }
            Err(_) => "***".to_string(),
        };
        f.debug_struct("email::Config")
            .field("url", &url)
            .field("from", &self.from.to_string())
            .finish()
    }
}

impl Config {
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Option<Self>> {
        let Some(url) = get("WARDWATCH_SMTP_URL") else {
            return Ok(None);
        };
        let from = get("WARDWATCH_SMTP_FROM").ok_or_else(|| {
            anyhow::anyhow!("WARDWATCH_SMTP_FROM is required with WARDWATCH_SMTP_URL")
        })?;
        let from: Mailbox = from
            .trim()
            .parse()
            .map_err(|e| anyhow::anyhow!("WARDWATCH_SMTP_FROM: {e}"))?;
        Ok(Some(Self {
            url: url.trim().to_string(),
            from,
        }))
    }
}

pub struct Email {
    config: Config,
    builder: AsyncSmtpTransportBuilder,
    /// Built on first use: its connection pool needs a running Tokio runtime, which
    /// reading the configuration does not.
    transport: OnceLock<AsyncSmtpTransport<Tokio1Executor>>,
}

impl Email {
    /// Fails on a malformed URL; the server is first contacted when sending.
    pub fn new(config: Config) -> anyhow::Result<Self> {
        let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(&config.url)
            .map_err(|e| anyhow::anyhow!("WARDWATCH_SMTP_URL: {e}"))?
            .timeout(Some(HTTP_TIMEOUT));
        Ok(Self {
            config,
            builder,
            transport: OnceLock::new(),
        })
    }

    fn transport(&self) -> &AsyncSmtpTransport<Tokio1Executor> {
        self.transport.get_or_init(|| self.builder.clone().build())
    }

    fn mail(&self, to: &str, msg: &Message) -> Result<Mail, SendError> {
        let to: Mailbox = to
            .trim()
            .parse()
            .map_err(|e| SendError::Permanent(format!("bad e-mail address {to:?}: {e}")))?;
        let mut body = msg.body.trim().replace("\r\n", "\n");
        if let Some(url) = msg.url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            body.push_str("\n\n");
            body.push_str(url);
        }
        let domain = self.config.from.email.domain().to_string();
        Mail::builder()
            .from(self.config.from.clone())
            .to(to)
            .subject(msg.title.trim())
            .message_id(Some(format!("<{}@{domain}>", message_id())))
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| SendError::Permanent(format!("cannot build the e-mail: {e}")))
    }
}

fn message_id() -> String {
    let bytes: [u8; 16] = rand::random();
    hex::encode(bytes)
}

#[async_trait::async_trait]
impl Channel for Email {
    fn kind(&self) -> &'static str {
        "email"
    }

    fn accepts(&self, to: &Recipient) -> bool {
        matches!(to, Recipient::Email(_))
    }

    async fn send(&self, to: &Recipient, msg: &Message) -> Result<(), SendError> {
        let Recipient::Email(address) = to else {
            return Err(SendError::Permanent("not an e-mail recipient".into()));
        };
        let mail = self.mail(address, msg)?;
        match self.transport().send(mail).await {
            Ok(_) => Ok(()),
            // 5xx: unknown mailbox, refused sender, failed authentication.
            Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
            // 4xx, timeouts, refused connections, TLS handshakes that failed.
            Err(e) => Err(SendError::Retryable(e.to_string())),
        }
    }
}
