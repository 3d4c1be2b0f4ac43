//! Tracking codes: what a resident keeps to follow a report, "PA-" and 8 letters and
//! digits without look-alikes ("PA-7KQM-2HXD").
//!
//! A code is not drawn at random: each new report takes the next number of a counter the
//! database keeps (handed out in blocks, so that a node asks for numbers once in 4,096
//! reports), and its code is that number encrypted with a key only this deployment
//! holds (FF1, NIST SP 800-38G, with AES-256, on the 8 symbols of the code). So codes
//! look random and cannot be guessed from one another, as drawn ones did, but the
//! database indexes the numbers, which grow: a batch of new reports lands on one or two
//! pages of that index, where random codes scattered it over the whole index (one page
//! written per report, measured in BENCHMARKS.md). A code is found again by decrypting it
//! back into its number.
//!
//! Reports stored before this scheme keep the codes they were given (`tracking_no` is
//! NULL for them): they are looked up by their code, and a number whose code one of them
//! already holds is skipped.

use std::collections::HashSet;
use std::ops::Range;
use std::sync::Arc;

use aes::Aes256;
use aes::cipher::{BlockEncrypt, BlockSizeUser, KeyInit, consts::U16, generic_array::GenericArray};

use crate::store::{Store, StoreError, StoreResult};

/// The symbols of a code: no 0/O, 1/I/L to mix up on the phone.
const ALPHABET: &[u8; 31] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const DIGITS: usize = 8;
/// 31^8: how many codes there are, and so how many numbers.
const SPACE: u64 = 852_891_037_441;
/// Numbers a node takes from the counter at a time. Those of a block it did not use
/// (it stopped) are never used: 4,096 of 852 billion per restart.
pub const BLOCK: u64 = 4096;
/// The setting that holds the deployment's key (the counter is `tracking_next`: see
/// `ReportStore::reserve_tracking_numbers`).
const KEY_SETTING: &str = "tracking_key";

/// Turns numbers into codes and codes back into numbers, with this deployment's key.
pub struct TrackingCodes {
    ff1: Ff1<Aes256>,
}

impl TrackingCodes {
    pub fn new(key: &[u8; 32]) -> Self {
        let ff1 = Ff1::new(Aes256::new(GenericArray::from_slice(key)), 31, DIGITS)
            .expect("31 symbols, 8 of them, suit FF1");
        Self { ff1 }
    }

    /// The code of number `no` (below 31^8).
    pub fn code_of(&self, no: u64) -> String {
        debug_assert!(no < SPACE);
        let digits = self.ff1.digits(no % SPACE, DIGITS);
        written(&self.ff1.encrypt(&[], &digits))
    }

    /// The number a well-formed code stands for; `None` for anything that is not a code.
    /// Every well-formed code stands for some number, whether or not a report has it.
    pub fn number_of(&self, code: &str) -> Option<u64> {
        self.read(code).map(|(_, no)| no)
    }

    /// What a resident typed ("pa 7kqm 2hxd") as the code is written ("PA-7KQM-2HXD")
    /// and the number it stands for; `None` if it is not a code.
    pub fn read(&self, typed: &str) -> Option<(String, u64)> {
        let digits = parse(typed)?;
        let no = self.ff1.num(&self.ff1.decrypt(&[], &digits));
        Some((written(&digits), no))
    }
}

fn written(digits: &[u16]) -> String {
    let mut out = String::with_capacity(12);
    out.push_str("PA-");
    for (i, d) in digits.iter().enumerate() {
        if i == 4 {
            out.push('-');
        }
        out.push(ALPHABET[*d as usize] as char);
    }
    out
}

/// The 8 symbols of a code as written ("PA-7KQM-2HXD"; case and the dashes as a
/// resident may type them do not matter).
fn parse(code: &str) -> Option<[u16; DIGITS]> {
    let code = code.trim().to_ascii_uppercase();
    let body = code.strip_prefix("PA")?;
    let mut digits = [0u16; DIGITS];
    let mut n = 0;
    for c in body.bytes().filter(|c| *c != b'-' && *c != b' ') {
        let d = ALPHABET.iter().position(|a| *a == c)?;
        *digits.get_mut(n)? = d as u16;
        n += 1;
    }
    (n == DIGITS).then_some(digits)
}

/// Hands out the tracking numbers and codes of new reports on this node.
pub struct Tracking {
    codes: TrackingCodes,
    store: Arc<dyn Store>,
    block: tokio::sync::Mutex<Range<u64>>,
    /// Codes of reports stored before numbered codes (none in a new deployment).
    legacy: HashSet<String>,
}

impl Tracking {
    /// The deployment's key (made on first start, kept in the settings every node reads)
    /// and the codes stored before numbered codes.
    pub async fn load(store: Arc<dyn Store>) -> StoreResult<Self> {
        let fresh = crate::http::ctx::random_token();
        let key = store.setting_or_init(KEY_SETTING, &fresh).await?;
        let key: [u8; 32] = hex::decode(key.trim())
            .ok()
            .and_then(|k| k.try_into().ok())
            .ok_or_else(|| {
                StoreError::Other(format!("the setting {KEY_SETTING} is not 32 bytes in hex"))
            })?;
        let legacy = store.legacy_tracking_codes().await?.into_iter().collect();
        Ok(Self {
            codes: TrackingCodes::new(&key),
            store,
            block: tokio::sync::Mutex::new(0..0),
            legacy,
        })
    }

    pub fn codes(&self) -> &TrackingCodes {
        &self.codes
    }

    /// The next number and its code.
    pub async fn next(&self) -> StoreResult<(i64, String)> {
        loop {
            let no = self.next_number().await?;
            // Encrypted after the block's lock is let go: concurrent reports do not
            // queue behind each other's code.
            let code = self.codes.code_of(no);
            if !self.legacy.contains(&code) {
                return Ok((no as i64, code));
            }
        }
    }

    /// The next number of this node's block, taking a new block when it is used up.
    async fn next_number(&self) -> StoreResult<u64> {
        let mut block = self.block.lock().await;
        if let Some(no) = block.next() {
            return Ok(no);
        }
        let start = self.store.reserve_tracking_numbers(BLOCK as i64).await?;
        let start = u64::try_from(start).unwrap_or(0).max(1);
        if start + BLOCK > SPACE {
            return Err(StoreError::Other("no tracking codes are left".into()));
        }
        *block = start + 1..start + BLOCK;
        Ok(start)
    }
}

/// FF1 (NIST SP 800-38G) for numeral strings short enough that each half fits in 64 bits
/// and each round's PRF output in one block (b ≤ 8, d ≤ 16), which a tracking code is.
struct Ff1<C> {
    cipher: C,
    radix: u32,
    n: usize,
    u: usize,
    v: usize,
    /// Bytes of a half as a number (b), and of a round's output taken (d).
    b: usize,
    d: usize,
}

impl<C: BlockEncrypt + BlockSizeUser<BlockSize = U16>> Ff1<C> {
    fn new(cipher: C, radix: u32, n: usize) -> Option<Self> {
        let u = n / 2;
        let v = n - u;
        // radix^n ≥ 1,000,000 (Rev. 1), and a half below 2^64.
        let domain = (radix as f64).powi(n as i32);
        let half = (radix as f64).powi(v as i32);
        if !(2..=1 << 16).contains(&radix) || domain < 1e6 || half >= 2f64.powi(63) {
            return None;
        }
        let bits = (v as f64 * (radix as f64).log2()).ceil() as usize;
        let b = bits.div_ceil(8);
        let d = 4 * b.div_ceil(4) + 4;
        (b <= 8 && d <= 16).then_some(Self {
            cipher,
            radix,
            n,
            u,
            v,
            b,
            d,
        })
    }

    fn encrypt(&self, tweak: &[u8], x: &[u16]) -> Vec<u16> {
        assert_eq!(x.len(), self.n);
        let (mut a, mut b) = (self.num(&x[..self.u]), self.num(&x[self.u..]));
        let head = self.head(tweak.len());
        for i in 0..10u8 {
            let m = if i % 2 == 0 { self.u } else { self.v };
            let y = self.round(&head, tweak, i, b);
            let c = (u128::from(a) + y % self.pow(m)) % self.pow(m);
            a = b;
            b = c as u64;
        }
        self.join(a, b)
    }

    fn decrypt(&self, tweak: &[u8], x: &[u16]) -> Vec<u16> {
        assert_eq!(x.len(), self.n);
        let (mut a, mut b) = (self.num(&x[..self.u]), self.num(&x[self.u..]));
        let head = self.head(tweak.len());
        for i in (0..10u8).rev() {
            let m = if i % 2 == 0 { self.u } else { self.v };
            let y = self.round(&head, tweak, i, a);
            let c = (u128::from(b) + self.pow(m) - y % self.pow(m)) % self.pow(m);
            b = a;
            a = c as u64;
        }
        self.join(a, b)
    }

    /// The first block of every round's PRF: CIPH_K(P), P depending only on the
    /// parameters and the tweak's length, so it is enciphered once per call.
    fn head(&self, t: usize) -> GenericArray<u8, U16> {
        let mut p = GenericArray::default();
        p[..3].copy_from_slice(&[1, 2, 1]);
        p[3..6].copy_from_slice(&self.radix.to_be_bytes()[1..]);
        p[6] = 10;
        p[7] = (self.u % 256) as u8;
        p[8..12].copy_from_slice(&(self.n as u32).to_be_bytes());
        p[12..16].copy_from_slice(&(t as u32).to_be_bytes());
        self.cipher.encrypt_block(&mut p);
        p
    }

    /// The round function: the first d bytes of PRF(P || Q) as a number, `head` being
    /// P's block enciphered.
    fn round(&self, head: &GenericArray<u8, U16>, tweak: &[u8], i: u8, half: u64) -> u128 {
        let t = tweak.len();
        let pad = (16 - (t + self.b + 1) % 16) % 16;
        let mut q = Vec::with_capacity(t + pad + 1 + self.b);
        q.extend_from_slice(tweak);
        q.resize(t + pad, 0);
        q.push(i);
        q.extend_from_slice(&half.to_be_bytes()[8 - self.b..]);
        // CBC-MAC with a zero IV over P || Q, from P's block on.
        let mut r = *head;
        for chunk in q.chunks(16) {
            for (x, y) in r.iter_mut().zip(chunk) {
                *x ^= y;
            }
            self.cipher.encrypt_block(&mut r);
        }
        r[..self.d]
            .iter()
            .fold(0u128, |y, byte| (y << 8) | u128::from(*byte))
    }

    fn pow(&self, m: usize) -> u128 {
        u128::from(self.radix).pow(m as u32)
    }

    fn num(&self, digits: &[u16]) -> u64 {
        digits
            .iter()
            .fold(0u64, |n, d| n * u64::from(self.radix) + u64::from(*d))
    }

    fn join(&self, a: u64, b: u64) -> Vec<u16> {
        let mut out = self.digits(a, self.u);
        out.extend(self.digits(b, self.v));
        out
    }

    fn digits(&self, mut x: u64, m: usize) -> Vec<u16> {
        let mut out = vec![0u16; m];
        for d in out.iter_mut().rev() {
            *d = (x % u64::from(self.radix)) as u16;
            x /= u64::from(self.radix);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes::Aes128;

    fn digits(s: &str, radix: u32) -> Vec<u16> {
        s.chars()
            .map(|c| c.to_digit(radix).unwrap() as u16)
            .collect()
    }

    fn text(d: &[u16], radix: u32) -> String {
        d.iter()
            .map(|d| char::from_digit(u32::from(*d), radix).unwrap())
            .collect()
    }

    #[test]
    fn ff1_gives_the_nist_samples() {
        // NIST SP 800-38G, FF1 samples 1-3 (AES-128) and 7-9 (AES-256).
        let k128 = hex::decode("2B7E151628AED2A6ABF7158809CF4F3C").unwrap();
        let k256 = hex::decode("2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94")
            .unwrap();
        let tweak10 = hex::decode("39383736353433323130").unwrap();
        let tweak11 = hex::decode("3737373770717273373737").unwrap();
        let aes128 = || Aes128::new(GenericArray::from_slice(&k128));
        let aes256 = || Aes256::new(GenericArray::from_slice(&k256));
        check(vec![
            (
                Ff1::new(aes128(), 10, 10).unwrap(),
                &[],
                "0123456789",
                "2433477484",
            ),
            (
                Ff1::new(aes128(), 10, 10).unwrap(),
                &tweak10,
                "0123456789",
                "6124200773",
            ),
            (
                Ff1::new(aes128(), 36, 19).unwrap(),
                &tweak11,
                "0123456789abcdefghi",
                "a9tv40mll9kdu509eum",
            ),
        ]);
        check(vec![
            (
                Ff1::new(aes256(), 10, 10).unwrap(),
                &[],
                "0123456789",
                "6657667009",
            ),
            (
                Ff1::new(aes256(), 10, 10).unwrap(),
                &tweak10,
                "0123456789",
                "1001623463",
            ),
            (
                Ff1::new(aes256(), 36, 19).unwrap(),
                &tweak11,
                "0123456789abcdefghi",
                "xs8a0azh2avyalyzuwd",
            ),
        ]);
    }

    /// Each case: the cipher, the tweak, the plain numeral string and the sealed one.
    fn check<C: BlockEncrypt + BlockSizeUser<BlockSize = U16>>(
        cases: Vec<(Ff1<C>, &[u8], &str, &str)>,
    ) {
        for (ff1, tweak, plain, sealed) in cases {
            let r = ff1.radix;
            let got = ff1.encrypt(tweak, &digits(plain, r));
            assert_eq!(text(&got, r), sealed);
            assert_eq!(text(&ff1.decrypt(tweak, &got), r), plain);
        }
    }

    #[test]
    fn codes_come_back_to_their_numbers_and_differ_by_key() {
        let codes = TrackingCodes::new(&[7; 32]);
        let other = TrackingCodes::new(&[8; 32]);
        let mut seen = HashSet::new();
        for no in (1..2000).chain([SPACE - 1, SPACE / 2, 123_456_789]) {
            let code = codes.code_of(no);
            assert_eq!(code.len(), 12, "{code}");
            assert!(
                code.starts_with("PA-") && code.as_bytes()[7] == b'-',
                "{code}"
            );
            assert!(!code[3..].contains(['0', '1', 'O', 'I', 'L']), "{code}");
            assert_eq!(codes.number_of(&code), Some(no), "{code}");
            assert!(seen.insert(code.clone()), "{code} twice");
            assert_ne!(other.code_of(no), code);
        }
        // Neighbouring numbers share nothing visible.
        let (a, b) = (codes.code_of(41), codes.code_of(42));
        assert!(
            a[3..]
                .chars()
                .zip(b[3..].chars())
                .filter(|(x, y)| x == y)
                .count()
                < 5
        );
        // As a resident may type it.
        let code = codes.code_of(77);
        let typed = code.to_lowercase().replace('-', " ");
        assert_eq!(codes.number_of(&format!(" {typed} ")), Some(77));
        assert_eq!(codes.read(&typed), Some((code.clone(), 77)));
        for bad in [
            "",
            "PA-",
            "PA-ABCD-EFG",
            "PA-ABCD-EFGHJ",
            "PB-ABCD-EFGH",
            "PA-ABCD-EFG0",
        ] {
            assert_eq!(codes.number_of(bad), None, "{bad}");
        }
    }
}
