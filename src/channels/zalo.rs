//! Zalo Official Account (OA Open API v3): consultation messages to followers and
//! messages to the OA's group chats.
//!
//! `POST {base}/v3.0/oa/message/cs` with `{"recipient":{"user_id":…},"message":{"text":…}}`
//! and `POST {base}/v3.0/oa/group/message` with `{"recipient":{"group_id":…},…}`, header
//! `access_token`; the answer's `error` is `0` on success, a negative code otherwise.
//!
//! Env: `WARDWATCH_ZALO_ACCESS_TOKEN` (required to configure the channel),
//! `WARDWATCH_ZALO_BASE_URL` (default `https://openapi.zalo.me`).

use std::fmt;

use serde::Deserialize;
use serde_json::json;

use super::{Channel, Message, Recipient, SendError, compose, from_reqwest, from_status};

pub const DEFAULT_BASE_URL: &str = "https://openapi.zalo.me";
/// Zalo's limit on a text message.
pub const MAX_TEXT: usize = 2000;

/// Codes that retrying cannot fix: the access token is invalid (-216) or expired
/// (-124), the user is invalid (-201) or cannot receive from this OA (-213).
const PERMANENT_CODES: [i64; 4] = [-216, -124, -201, -213];

#[derive(Clone)]
pub struct Config {
    pub access_token: String,
    pub base_url: String,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("zalo::Config")
            .field("access_token", &"***")
            .field("base_url", &self.base_url)
            .finish()
    }
}

impl Config {
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Option<Self>> {
        let Some(access_token) = get("WARDWATCH_ZALO_ACCESS_TOKEN") else {
            return Ok(None);
        };
        let base_url = get("WARDWATCH_ZALO_BASE_URL")
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_string())
            .trim()
            .trim_end_matches('/')
            .to_string();
        url::Url::parse(&base_url).map_err(|e| anyhow::anyhow!("WARDWATCH_ZALO_BASE_URL: {e}"))?;
        Ok(Some(Self {
            access_token: access_token.trim().to_string(),
            base_url,
        }))
    }
}

pub struct Zalo {
    config: Config,
    http: reqwest::Client,
}

impl Zalo {
    pub fn new(config: Config, http: reqwest::Client) -> Self {
        Self { config, http }
    }
}

/// What the OA API answers.
#[derive(Debug, Deserialize)]
struct Answer {
    error: i64,
    #[serde(default)]
    message: String,
}

/// The text Zalo shows: title, body and link, at most 2,000 characters.
pub fn text(msg: &Message) -> String {
    compose(&msg.title, &msg.body, msg.url.as_deref(), MAX_TEXT, "…")
}

#[async_trait::async_trait]
impl Channel for Zalo {
    fn kind(&self) -> &'static str {
        "zalo"
    }

    fn accepts(&self, to: &Recipient) -> bool {
        matches!(to, Recipient::ZaloUser(_) | Recipient::ZaloGroup(_))
    }

    async fn send(&self, to: &Recipient, msg: &Message) -> Result<(), SendError> {
        let (path, recipient) = match to {
            Recipient::ZaloUser(id) => ("/v3.0/oa/message/cs", json!({ "user_id": id })),
            Recipient::ZaloGroup(id) => ("/v3.0/oa/group/message", json!({ "group_id": id })),
            _ => return Err(SendError::Permanent("not a Zalo recipient".into())),
        };
        let payload = json!({
            "recipient": recipient,
            "message": { "text": text(msg) },
        });
        let response = self
            .http
            .post(format!("{}{path}", self.config.base_url))
            .header("access_token", &self.config.access_token)
            .json(&payload)
            .send()
            .await
            .map_err(from_reqwest)?;
        let status = response.status();
        let body = response.text().await.map_err(from_reqwest)?;
        if !status.is_success() {
            return Err(from_status(status, &body));
        }
        let answer: Answer = serde_json::from_str(&body).map_err(|e| {
            SendError::Retryable(format!("Zalo answered something that is not its JSON: {e}"))
        })?;
        match answer.error {
            0 => Ok(()),
            code if PERMANENT_CODES.contains(&code) => Err(SendError::Permanent(format!(
                "Zalo error {code}: {}",
                answer.message
            ))),
            code => Err(SendError::Retryable(format!(
                "Zalo error {code}: {}",
                answer.message
            ))),
        }
    }
}
