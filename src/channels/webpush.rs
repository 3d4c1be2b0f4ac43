//! Web Push: delivery by RFC 8030, payload encryption by RFC 8291 (`aes128gcm` content
//! coding, RFC 8188) and server identification by VAPID (RFC 8292).
//!
//! Env: `WARDWATCH_VAPID_PRIVATE_KEY` (base64url of the raw 32-byte P-256 private
//! scalar; `wardwatch` can generate one with [`generate_vapid_key`]) and
//! `WARDWATCH_VAPID_SUBJECT` (`mailto:…` or an `https:` URL where the push services can
//! reach the operator).
//!
//! The payload is JSON for the service worker:
//! `{"title": …, "body": …, "url": …}` (`url` absent when there is none).

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use hkdf::Hkdf;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use rand::{RngCore, TryRngCore};
use sha2::Sha256;

use super::{Channel, Message, Recipient, SendError, from_reqwest, from_status};

/// The record size announced in the header; one record holds the whole message.
const RECORD_SIZE: u32 = 4096;
/// Header: salt (16) + record size (4) + key id length (1) + key id (65).
const HEADER_LEN: usize = 16 + 4 + 1 + 65;
/// The longest plaintext one 4096-byte record carries: minus the header, the
/// 16-byte tag and the 1-byte delimiter.
pub const MAX_PLAINTEXT: usize = RECORD_SIZE as usize - HEADER_LEN - 16 - 1;
/// How long a VAPID token is valid (RFC 8292: at most 24 hours).
const JWT_LIFETIME_SECS: u64 = 12 * 3600;

#[derive(Clone)]
pub struct Config {
    pub private_key: SecretKey,
    pub subject: String,
    /// How long the push service keeps an undelivered message (the `TTL` header).
    pub ttl_secs: u32,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("webpush::Config")
            .field("private_key", &"***")
            .field("public_key", &self.vapid_public_key())
            .field("subject", &self.subject)
            .field("ttl_secs", &self.ttl_secs)
            .finish()
    }
}

impl Config {
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Option<Self>> {
        let Some(key) = get("WARDWATCH_VAPID_PRIVATE_KEY") else {
            return Ok(None);
        };
        let subject = get("WARDWATCH_VAPID_SUBJECT").ok_or_else(|| {
            anyhow::anyhow!(
                "WARDWATCH_VAPID_SUBJECT (mailto: or https: URL) is required with WARDWATCH_VAPID_PRIVATE_KEY"
            )
        })?;
        Ok(Some(Self::new(&key, &subject)?))
    }

    /// From the base64url private scalar and the `mailto:`/`https:` subject.
    pub fn new(private_key: &str, subject: &str) -> anyhow::Result<Self> {
        let bytes = b64_decode(private_key.trim())
            .map_err(|e| anyhow::anyhow!("WARDWATCH_VAPID_PRIVATE_KEY is not base64url: {e}"))?;
        if bytes.len() != 32 {
            anyhow::bail!(
                "WARDWATCH_VAPID_PRIVATE_KEY must be 32 bytes (a raw P-256 scalar), not {}",
                bytes.len()
            );
        }
        let private_key = SecretKey::from_slice(&bytes)
            .map_err(|_| anyhow::anyhow!("WARDWATCH_VAPID_PRIVATE_KEY is not a P-256 key"))?;
        let subject = subject.trim().to_string();
        if !(subject.starts_with("mailto:") || subject.starts_with("https://")) {
            anyhow::bail!("WARDWATCH_VAPID_SUBJECT must start with mailto: or https://");
        }
        Ok(Self {
            private_key,
            subject,
            ttl_secs: 24 * 3600,
        })
    }

    /// The public key browsers need as `applicationServerKey`: base64url of the
    /// uncompressed point (65 bytes).
    pub fn vapid_public_key(&self) -> String {
        URL_SAFE_NO_PAD.encode(uncompressed(&self.private_key.public_key()))
    }
}

/// A new VAPID private key: base64url of a random P-256 scalar (from the OS).
pub fn generate_vapid_key() -> String {
    URL_SAFE_NO_PAD.encode(random_secret().to_bytes())
}

/// The public key for a private key given as `generate_vapid_key` makes it.
pub fn vapid_public_key_of(private_key: &str) -> anyhow::Result<String> {
    Ok(Config::new(private_key, "mailto:unused@example.invalid")?.vapid_public_key())
}

fn random_secret() -> SecretKey {
    loop {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng
            .try_fill_bytes(&mut bytes)
            .unwrap_or_else(|_| rand::rng().fill_bytes(&mut bytes));
        // Fails only for zero or a value at or above the group order (~2^-32).
        if let Ok(key) = SecretKey::from_slice(&bytes) {
            return key;
        }
    }
}

fn uncompressed(key: &PublicKey) -> Vec<u8> {
    key.to_encoded_point(false).as_bytes().to_vec()
}

/// Browsers give base64url without padding; accept padding and the standard alphabet
/// too.
fn b64_decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    let text = text.trim().replace('+', "-").replace('/', "_");
    if text.contains('=') {
        URL_SAFE.decode(text)
    } else {
        URL_SAFE_NO_PAD.decode(text)
    }
}

/// Encrypt `plaintext` for a subscriber (RFC 8291 section 3, one `aes128gcm` record).
/// `ua_public` is the subscription's `p256dh` (65 bytes), `auth` its 16-byte secret.
pub fn encrypt(plaintext: &[u8], ua_public: &[u8], auth: &[u8]) -> Result<Vec<u8>, SendError> {
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(SendError::Permanent(format!(
            "push payload of {} bytes exceeds {MAX_PLAINTEXT}",
            plaintext.len()
        )));
    }
    let ua_key = PublicKey::from_sec1_bytes(ua_public)
        .map_err(|_| SendError::Permanent("the subscription's p256dh is not a P-256 key".into()))?;
    if auth.len() != 16 {
        return Err(SendError::Permanent(
            "the subscription's auth secret is not 16 bytes".into(),
        ));
    }
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    Ok(encrypt_with(
        plaintext,
        &ua_key,
        auth,
        &random_secret(),
        &salt,
    ))
}

/// [`encrypt`] with a given sender key and salt (fresh random ones for every message in
/// real use; fixed ones reproduce RFC 8291's example).
pub(crate) fn encrypt_with(
    plaintext: &[u8],
    ua_key: &PublicKey,
    auth: &[u8],
    as_secret: &SecretKey,
    salt: &[u8; 16],
) -> Vec<u8> {
    let ua_public = uncompressed(ua_key);
    let as_public = uncompressed(&as_secret.public_key());
    let shared = p256::ecdh::diffie_hellman(as_secret.to_nonzero_scalar(), ua_key.as_affine());
    let (cek, nonce) = derive(
        shared.raw_secret_bytes(),
        auth,
        &ua_public,
        &as_public,
        salt,
    );

    let mut padded = Vec::with_capacity(plaintext.len() + 1);
    padded.extend_from_slice(plaintext);
    padded.push(2); // delimiter of the last (only) record
    let cipher = Aes128Gcm::new_from_slice(&cek).expect("16-byte key");
    let sealed = cipher
        .encrypt(Nonce::from_slice(&nonce), padded.as_slice())
        .expect("AES-GCM encrypts any plaintext under 64 GiB");

    let mut out = Vec::with_capacity(HEADER_LEN + sealed.len());
    out.extend_from_slice(salt);
    out.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    out.push(as_public.len() as u8);
    out.extend_from_slice(&as_public);
    out.extend_from_slice(&sealed);
    out
}

/// RFC 8291 section 3.4 then RFC 8188 section 2.2: the content-encryption key and nonce
/// from the ECDH secret, the auth secret, both public keys and the salt.
fn derive(
    ecdh_secret: &[u8],
    auth: &[u8],
    ua_public: &[u8],
    as_public: &[u8],
    salt: &[u8],
) -> ([u8; 16], [u8; 12]) {
    let mut key_info = Vec::with_capacity(14 + 65 + 65);
    key_info.extend_from_slice(b"WebPush: info\0");
    key_info.extend_from_slice(ua_public);
    key_info.extend_from_slice(as_public);
    let mut ikm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(auth), ecdh_secret)
        .expand(&key_info, &mut ikm)
        .expect("32 bytes is a valid HKDF length");
    let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
    let mut cek = [0u8; 16];
    let mut nonce = [0u8; 12];
    prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek)
        .expect("16 bytes is a valid HKDF length");
    prk.expand(b"Content-Encoding: nonce\0", &mut nonce)
        .expect("12 bytes is a valid HKDF length");
    (cek, nonce)
}

/// The origin of a push endpoint, VAPID's `aud`: `https://push.example.net`.
fn origin(endpoint: &str) -> Result<String, SendError> {
    let url = url::Url::parse(endpoint)
        .map_err(|e| SendError::Permanent(format!("bad push endpoint: {e}")))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(SendError::Permanent(format!(
            "push endpoint is not HTTP(S): {}",
            url.scheme()
        )));
    }
    Ok(url.origin().ascii_serialization())
}

pub struct WebPush {
    config: Config,
    signing: SigningKey,
    public_key: String,
    http: reqwest::Client,
}

impl WebPush {
    pub fn new(config: Config, http: reqwest::Client) -> Self {
        let signing = SigningKey::from(&config.private_key);
        let public_key = config.vapid_public_key();
        Self {
            config,
            signing,
            public_key,
            http,
        }
    }

    /// What the browser's `applicationServerKey` needs.
    pub fn vapid_public_key(&self) -> String {
        self.public_key.clone()
    }

    /// The ES256 JWT for one audience (RFC 8292 section 2).
    pub fn vapid_token(&self, audience: &str) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = serde_json::json!({
            "aud": audience,
            "exp": now + JWT_LIFETIME_SECS,
            "sub": self.config.subject,
        });
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signed = format!("{header}.{claims}");
        let signature: Signature = self.signing.sign(signed.as_bytes());
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    }
}

/// The service worker's JSON, the body shortened until it fits one record.
pub fn payload(msg: &Message) -> Vec<u8> {
    let make = |body: &str| {
        let mut p = serde_json::json!({ "title": msg.title, "body": body });
        if let Some(url) = &msg.url {
            p["url"] = serde_json::Value::String(url.clone());
        }
        p.to_string().into_bytes()
    };
    let mut bytes = make(&msg.body);
    let mut keep = msg.body.chars().count();
    while bytes.len() > MAX_PLAINTEXT && keep > 0 {
        // Shorten by at least the excess (a character is at least one byte).
        let excess = bytes.len() - MAX_PLAINTEXT;
        keep = keep.saturating_sub(excess.max(1));
        bytes = make(&super::shorten(&msg.body, keep, "…"));
    }
    bytes
}

#[async_trait::async_trait]
impl Channel for WebPush {
    fn kind(&self) -> &'static str {
        "webpush"
    }

    fn accepts(&self, to: &Recipient) -> bool {
        matches!(to, Recipient::Push(_))
    }

    async fn send(&self, to: &Recipient, msg: &Message) -> Result<(), SendError> {
        let Recipient::Push(sub) = to else {
            return Err(SendError::Permanent("not a push subscription".into()));
        };
        let audience = origin(&sub.endpoint)?;
        let ua_public = b64_decode(&sub.p256dh).map_err(|_| {
            SendError::Permanent("the subscription's p256dh is not base64url".into())
        })?;
        let auth = b64_decode(&sub.auth)
            .map_err(|_| SendError::Permanent("the subscription's auth is not base64url".into()))?;
        let body = encrypt(&payload(msg), &ua_public, &auth)?;
        let mut request = self
            .http
            .post(&sub.endpoint)
            .header("TTL", self.config.ttl_secs.to_string())
            .header(reqwest::header::CONTENT_ENCODING, "aes128gcm")
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .header(
                reqwest::header::AUTHORIZATION,
                format!(
                    "vapid t={}, k={}",
                    self.vapid_token(&audience),
                    self.public_key
                ),
            )
            .body(body);
        if let Some(urgency) = msg.urgency {
            request = request.header("Urgency", urgency.as_str());
        }
        let response = request.send().await.map_err(from_reqwest)?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let text = response.text().await.unwrap_or_default();
        if matches!(status.as_u16(), 404 | 410) {
            return Err(SendError::Permanent(format!(
                "push subscription gone (HTTP {status})"
            )));
        }
        Err(from_status(status, &text))
    }
}
