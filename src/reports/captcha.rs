//! A self-hosted captcha for anonymous reports: a small sum drawn as strokes (not text) in
//! an inline SVG, with a signed token. Verification is stateless (the key is shared by all
//! nodes through the settings table); a used token is remembered on its node.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::Sha256;

use crate::domain::Invalid;

/// A challenge stays valid this long.
const TTL_SECS: i64 = 15 * 60;

pub struct Captcha {
    key: Vec<u8>,
    used: Mutex<HashMap<String, i64>>,
}

pub struct Challenge {
    pub token: String,
    pub svg: String,
}

impl Captcha {
    pub fn new(key: &[u8]) -> Self {
        Self {
            key: key.to_vec(),
            used: Mutex::new(HashMap::new()),
        }
    }

    fn sign(&self, body: &str, answer: i64) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key");
        mac.update(body.as_bytes());
        mac.update(b"|");
        mac.update(answer.to_string().as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    pub fn challenge(&self) -> Challenge {
        let mut rng = rand::rng();
        let (a, b) = (rng.random_range(2..=9), rng.random_range(1..=9));
        let nonce: [u8; 12] = rng.random();
        let body = format!(
            "{}.{}",
            Utc::now().timestamp() + TTL_SECS,
            URL_SAFE_NO_PAD.encode(nonce)
        );
        let token = format!("{body}.{}", self.sign(&body, a + b));
        Challenge {
            token,
            svg: draw(a, b, &mut rng),
        }
    }

    /// The answer to a challenge, found with the key: for the operator's tools and tests
    /// (`wardwatch captcha-answer`), which hold the database and so the key anyway.
    pub fn solve(&self, token: &str) -> Option<i64> {
        let (body, sig) = token.rsplit_once('.')?;
        (2..=18).find(|a| {
            crate::http::ctx::constant_time_eq(self.sign(body, *a).as_bytes(), sig.as_bytes())
        })
    }

    /// Check an answer; a token is good for one report only.
    pub fn verify(&self, token: &str, answer: &str) -> Result<(), Invalid> {
        let wrong = Invalid("Kết quả phép tính chưa đúng; hãy tính lại theo hình mới.");
        let Some((body, sig)) = token.rsplit_once('.') else {
            return Err(wrong);
        };
        let expires: i64 = body
            .split('.')
            .next()
            .and_then(|e| e.parse().ok())
            .ok_or(wrong)?;
        let now = Utc::now().timestamp();
        if expires < now {
            return Err(Invalid(
                "Mã kiểm tra đã hết hạn; hãy tính lại theo hình mới.",
            ));
        }
        // Any answer, right or wrong, uses a genuine token up: guessing through the
        // 17 possible sums on one picture gets nowhere.
        if self.solve(token).is_none() {
            return Err(wrong);
        }
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        used.retain(|_, exp| *exp >= now);
        if used.insert(body.to_string(), expires).is_some() {
            return Err(Invalid(
                "Mã kiểm tra này đã được dùng; hãy tính lại theo hình mới.",
            ));
        }
        drop(used);
        let answer: i64 = answer.trim().parse().map_err(|_| wrong)?;
        let expected = self.sign(body, answer);
        if !crate::http::ctx::constant_time_eq(expected.as_bytes(), sig.as_bytes()) {
            return Err(wrong);
        }
        Ok(())
    }
}

/// Seven-segment strokes for each digit: a, b, c, d, e, f, g.
const SEGMENTS: [u8; 10] = [
    0b1111110, 0b0110000, 0b1101101, 0b1111001, 0b0110011, 0b1011011, 0b1011111, 0b1110000,
    0b1111111, 0b1111011,
];

fn draw(a: i64, b: i64, rng: &mut impl Rng) -> String {
    let mut paths = String::new();
    let mut jitter = |v: f64| v + rng.random_range(-1.5..1.5);
    let mut digit = |x0: f64, d: i64, paths: &mut String| {
        let (w, h) = (16.0, 14.0);
        let pts = [
            ((0.0, 0.0), (w, 0.0)),
            ((w, 0.0), (w, h)),
            ((w, h), (w, 2.0 * h)),
            ((0.0, 2.0 * h), (w, 2.0 * h)),
            ((0.0, h), (0.0, 2.0 * h)),
            ((0.0, 0.0), (0.0, h)),
            ((0.0, h), (w, h)),
        ];
        for (i, ((x1, y1), (x2, y2))) in pts.iter().enumerate() {
            if SEGMENTS[d as usize] & (1 << (6 - i)) != 0 {
                paths.push_str(&format!(
                    "<path d=\"M{:.1} {:.1} L{:.1} {:.1}\"/>",
                    jitter(x0 + x1),
                    jitter(8.0 + y1),
                    jitter(x0 + x2),
                    jitter(8.0 + y2)
                ));
            }
        }
    };
    digit(8.0, a, &mut paths);
    // The plus sign.
    paths.push_str("<path d=\"M40 22 L54 22 M47 15 L47 29\"/>");
    digit(64.0, b, &mut paths);
    // "=" and a question mark drawn as strokes.
    paths.push_str("<path d=\"M92 18 L106 18 M92 26 L106 26\"/>");
    paths.push_str("<path d=\"M116 12 Q124 4 130 12 Q132 18 124 22 L124 28 M124 33 L124 35\"/>");
    let mut noise = String::new();
    for _ in 0..4 {
        noise.push_str(&format!(
            "<path d=\"M{} {} L{} {}\"/>",
            rng.random_range(0..140),
            rng.random_range(0..44),
            rng.random_range(0..140),
            rng.random_range(0..44)
        ));
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 140 44\" width=\"210\" height=\"66\" \
         role=\"img\" aria-label=\"captcha\"><rect width=\"140\" height=\"44\" fill=\"#f4f1e8\"/>\
         <g stroke=\"#1d232a\" stroke-width=\"3\" stroke-linecap=\"round\" fill=\"none\">{paths}</g>\
         <g stroke=\"#8a8f96\" stroke-width=\"1\" fill=\"none\">{noise}</g></svg>"
    )
}

pub const TEXTS: crate::i18n::Texts = &[
    (
        "Kết quả phép tính chưa đúng; hãy tính lại theo hình mới.",
        "The sum is not right; solve the new picture.",
    ),
    (
        "Mã kiểm tra đã hết hạn; hãy tính lại theo hình mới.",
        "The check has expired; solve the new picture.",
    ),
    (
        "Mã kiểm tra này đã được dùng; hãy tính lại theo hình mới.",
        "This check was already used; solve the new picture.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn answer_of(c: &Captcha, token: &str) -> i64 {
        c.solve(token).unwrap()
    }

    #[test]
    fn right_answer_once_wrong_never() {
        let c = Captcha::new(b"key");
        let ch = c.challenge();
        assert!(ch.svg.starts_with("<svg") && !ch.svg.contains("<text"));
        let right = answer_of(&c, &ch.token);
        assert!(c.verify(&ch.token, &(right + 1).to_string()).is_err());
        assert!(
            c.verify(&ch.token, &right.to_string()).is_err(),
            "a wrong answer used the token up"
        );
        // A garbled answer uses its token up too.
        let ch = c.challenge();
        assert!(c.verify(&ch.token, "abc").is_err());
        assert!(
            c.verify(&ch.token, &answer_of(&c, &ch.token).to_string())
                .is_err()
        );
        // The right answer passes once.
        let ch = c.challenge();
        let right = answer_of(&c, &ch.token);
        assert!(c.verify(&ch.token, &right.to_string()).is_ok());
        assert!(
            c.verify(&ch.token, &right.to_string()).is_err(),
            "replay refused"
        );
        // Another key cannot forge a token.
        let other = Captcha::new(b"other");
        assert!(
            other
                .verify(&c.challenge().token, &right.to_string())
                .is_err()
        );
    }
}
