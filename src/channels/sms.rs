//! SMS through an HTTP gateway. Vietnamese gateways differ in field names, encoding and
//! success signals, so all of these are configured:
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `WARDWATCH_SMS_URL` | the gateway's send URL (required to configure the channel) | |
//! | `WARDWATCH_SMS_TO_FIELD` | field for the phone number (`84xxxxxxxxx`) | `to` |
//! | `WARDWATCH_SMS_TEXT_FIELD` | field for the text | `text` |
//! | `WARDWATCH_SMS_EXTRA` | static fields, `k=v&k2=v2` (brand name, API keys, …) | |
//! | `WARDWATCH_SMS_FORMAT` | `json` or `form` (`application/x-www-form-urlencoded`) | `json` |
//! | `WARDWATCH_SMS_AUTH` | sent as the `Authorization` header value | |
//! | `WARDWATCH_SMS_OK_FIELD` / `WARDWATCH_SMS_OK_VALUE` | a field of the JSON answer (dots for nesting, e.g. `result.code`) that must equal the value; otherwise any 2xx is success | |
//! | `WARDWATCH_SMS_ASCII` | `1`: send without diacritics (cheaper, fits 160-character parts) | `0` |
//!
//! Texts are at most 480 characters.

use std::fmt;

use serde_json::Value;

use super::{Channel, Message, Recipient, SendError, compose, from_reqwest, from_status};

/// The longest text sent (three to eight SMS parts, depending on the encoding).
pub const MAX_TEXT: usize = 480;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Form,
}

#[derive(Clone)]
pub struct Config {
    pub url: String,
    pub to_field: String,
    pub text_field: String,
    pub extra: Vec<(String, String)>,
    pub format: Format,
    pub auth: Option<String>,
    /// `(field, value)`: the JSON answer's field that must equal the value.
    pub ok: Option<(String, String)>,
    pub ascii: bool,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL's query and the extra fields' values often carry API keys.
        let url = match url::Url::parse(&self.url) {
            Ok(mut u) => {
                if u.query().is_some() {
                    u.set_query(Some("***"));
                }
                if u.password().is_some() {
                    let _ = u.set_password(Some("***"));
                }
                u.to_string()
            }
            Err(_) => "***".to_string(),
        };
        let extra: Vec<String> = self.extra.iter().map(|(k, _)| format!("{k}=***")).collect();
        f.debug_struct("sms::Config")
            .field("url", &url)
            .field("to_field", &self.to_field)
            .field("text_field", &self.text_field)
            .field("extra", &extra)
            .field("format", &self.format)
            .field("auth", &self.auth.as_ref().map(|_| "***"))
            .field("ok", &self.ok)
            .field("ascii", &self.ascii)
            .finish()
    }
}

impl Config {
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Option<Self>> {
        let Some(url) = get("WARDWATCH_SMS_URL") else {
            return Ok(None);
        };
        let url = url.trim().to_string();
        url::Url::parse(&url).map_err(|e| anyhow::anyhow!("WARDWATCH_SMS_URL: {e}"))?;
        let field = |name: &str, default: &str| {
            get(name)
                .map(|v| v.trim().to_string())
                .unwrap_or_else(|| default.to_string())
        };
        let extra = get("WARDWATCH_SMS_EXTRA")
            .map(|e| {
                url::form_urlencoded::parse(e.trim().as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        let format = match get("WARDWATCH_SMS_FORMAT")
            .map(|f| f.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("json") => Format::Json,
            Some("form") => Format::Form,
            Some(other) => anyhow::bail!("WARDWATCH_SMS_FORMAT must be json or form, not {other}"),
        };
        let ok = match (get("WARDWATCH_SMS_OK_FIELD"), get("WARDWATCH_SMS_OK_VALUE")) {
            (Some(f), Some(v)) => Some((f.trim().to_string(), v.trim().to_string())),
            (None, None) => None,
            _ => anyhow::bail!(
                "WARDWATCH_SMS_OK_FIELD and WARDWATCH_SMS_OK_VALUE go together: set both or neither"
            ),
        };
        let ascii = match get("WARDWATCH_SMS_ASCII")
            .map(|a| a.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("0" | "false" | "no") => false,
            Some("1" | "true" | "yes") => true,
            Some(other) => anyhow::bail!("WARDWATCH_SMS_ASCII must be 1 or 0, not {other}"),
        };
        Ok(Some(Self {
            url,
            to_field: field("WARDWATCH_SMS_TO_FIELD", "to"),
            text_field: field("WARDWATCH_SMS_TEXT_FIELD", "text"),
            extra,
            format,
            auth: get("WARDWATCH_SMS_AUTH").map(|a| a.trim().to_string()),
            ok,
            ascii,
        }))
    }
}

pub struct Sms {
    config: Config,
    http: reqwest::Client,
}

impl Sms {
    pub fn new(config: Config, http: reqwest::Client) -> Self {
        Self { config, http }
    }

    /// The text sent: title, body and link; folded to ASCII when configured.
    pub fn text(&self, msg: &Message) -> String {
        if self.config.ascii {
            let fold = |s: &str| deunicode::deunicode(s);
            compose(
                &fold(&msg.title),
                &fold(&msg.body),
                msg.url.as_deref().map(fold).as_deref(),
                MAX_TEXT,
                "...",
            )
        } else {
            compose(&msg.title, &msg.body, msg.url.as_deref(), MAX_TEXT, "…")
        }
    }
}

/// A phone number in international form without `+`: `0912345678` → `84912345678`.
pub fn international(phone: &crate::domain::Phone) -> String {
    let national = phone.as_str();
    format!("84{}", national.strip_prefix('0').unwrap_or(national))
}

/// The value at a dotted path of a JSON document, as text (`"00"`, `100`, `true`).
fn field_text(doc: &Value, path: &str) -> Option<String> {
    let mut v = doc;
    for key in path.split('.') {
        v = match v {
            Value::Object(map) => map.get(key)?,
            Value::Array(items) => items.get(key.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

#[async_trait::async_trait]
impl Channel for Sms {
    fn kind(&self) -> &'static str {
        "sms"
    }

    fn accepts(&self, to: &Recipient) -> bool {
        matches!(to, Recipient::Phone(_))
    }

    async fn send(&self, to: &Recipient, msg: &Message) -> Result<(), SendError> {
        let Recipient::Phone(phone) = to else {
            return Err(SendError::Permanent("not a phone recipient".into()));
        };
        let c = &self.config;
        let mut fields = vec![
            (c.to_field.clone(), international(phone)),
            (c.text_field.clone(), self.text(msg)),
        ];
        fields.extend(c.extra.iter().cloned());
        let mut request = self.http.post(&c.url);
        if let Some(auth) = &c.auth {
            request = request.header(reqwest::header::AUTHORIZATION, auth);
        }
        request = match c.format {
            Format::Json => {
                let object: serde_json::Map<String, Value> = fields
                    .into_iter()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect();
                request.json(&object)
            }
            Format::Form => request.form(&fields),
        };
        let response = request.send().await.map_err(from_reqwest)?;
        let status = response.status();
        let body = response.text().await.map_err(from_reqwest)?;
        if !status.is_success() {
            return Err(from_status(status, &body));
        }
        let Some((field, expected)) = &c.ok else {
            return Ok(());
        };
        let doc: Value = serde_json::from_str(&body).map_err(|e| {
            SendError::Retryable(format!("the SMS gateway's answer is not JSON: {e}"))
        })?;
        match field_text(&doc, field) {
            Some(got) if got == *expected => Ok(()),
            // The gateway received the request and refused it (bad number, unregistered
            // brand name, no credit): sending the same again would be refused again, and a
            // retry risks a duplicate if the refusal was wrong.
            got => Err(SendError::Permanent(format!(
                "the SMS gateway refused: {field} = {}, expected {expected}; answer: {}",
                got.as_deref().unwrap_or("(absent)"),
                super::shorten(body.trim(), 300, "…")
            ))),
        }
    }
}
