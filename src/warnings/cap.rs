//! OASIS Common Alerting Protocol 1.2: a ward's warning as one CAP `<alert>` document, and
//! an Atom 1.0 feed (RFC 4287) indexing the published messages.
//!
//! Pure text in, text out. Every message validates against the OASIS schema
//! (`CAP-v1.2.xsd`): elements in the schema's order, times in Asia/Ho_Chi_Minh with an
//! explicit offset (the schema refuses `Z`), and all text escaped, stripped of control
//! characters other than line feed and tab, and NFC.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use unicode_normalization::UnicodeNormalization;

use crate::domain::Invalid;

/// The CAP 1.2 namespace; the feed also uses it for its `cap:` extension elements.
pub const CAP_NS: &str = "urn:oasis:names:tc:emergency:cap:1.2";
/// The media type of one CAP message.
pub const CAP_MIME: &str = "application/cap+xml";
const ATOM_NS: &str = "http://www.w3.org/2005/Atom";

/// A CAP vocabulary: serialised as its CAP spelling, parsed and deserialised in any case.
macro_rules! cap_enum {
    ($(#[$meta:meta])* $name:ident, $err:literal { $($variant:ident => $cap:literal, $label:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The exact CAP spelling.
            pub fn as_cap(self) -> &'static str {
                match self { $($name::$variant => $cap),+ }
            }

            /// Vietnamese label; a translation key for other languages.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            /// Accepts the CAP spelling in any letter case; surrounding spaces are ignored.
            pub fn parse(input: &str) -> Result<Self, Invalid> {
                let input = input.trim();
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_cap().eq_ignore_ascii_case(input))
                    .ok_or(Invalid($err))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_cap())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_cap())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                Self::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

cap_enum!(
    /// What a warning is about (CAP `category`).
    Category, "Lĩnh vực cảnh báo không hợp lệ: Geo, Met, Safety, Security, Rescue, Fire, Health, Env, Transport, Infra, CBRNE hoặc Other." {
        Geo => "Geo", "Địa chất, động đất, sạt lở";
        Met => "Met", "Thời tiết, bão, lũ";
        Safety => "Safety", "An toàn công cộng";
        Security => "Security", "An ninh, trật tự";
        Rescue => "Rescue", "Cứu nạn, cứu hộ";
        Fire => "Fire", "Cháy, nổ";
        Health => "Health", "Y tế, dịch bệnh";
        Env => "Env", "Môi trường";
        Transport => "Transport", "Giao thông, vận tải";
        Infra => "Infra", "Hạ tầng, điện, nước, viễn thông";
        Cbrne => "CBRNE", "Hóa chất, sinh học, phóng xạ, hạt nhân, chất nổ";
        Other => "Other", "Khác";
    }
);

cap_enum!(
    /// How bad it is (CAP `severity`).
    Severity, "Mức độ nghiêm trọng không hợp lệ: Extreme, Severe, Moderate, Minor hoặc Unknown." {
        Extreme => "Extreme", "Đặc biệt nghiêm trọng";
        Severe => "Severe", "Nghiêm trọng";
        Moderate => "Moderate", "Trung bình";
        Minor => "Minor", "Nhẹ";
        Unknown => "Unknown", "Chưa rõ";
    }
);

cap_enum!(
    /// How soon to act (CAP `urgency`).
    Urgency, "Mức độ khẩn cấp không hợp lệ: Immediate, Expected, Future, Past hoặc Unknown." {
        Immediate => "Immediate", "Ngay lập tức";
        Expected => "Expected", "Trong vòng một giờ";
        Future => "Future", "Trong thời gian tới";
        Past => "Past", "Không còn cần hành động";
        Unknown => "Unknown", "Chưa rõ";
    }
);

cap_enum!(
    /// How sure the sender is (CAP `certainty`).
    Certainty, "Mức độ chắc chắn không hợp lệ: Observed, Likely, Possible, Unlikely hoặc Unknown." {
        Observed => "Observed", "Đã xác nhận";
        Likely => "Likely", "Nhiều khả năng";
        Possible => "Possible", "Có thể xảy ra";
        Unlikely => "Unlikely", "Ít khả năng";
        Unknown => "Unknown", "Chưa rõ";
    }
);

cap_enum!(
    /// A new warning, or an update or cancellation of earlier ones (CAP `msgType`).
    MsgType, "Loại thông điệp không hợp lệ: Alert, Update hoặc Cancel." {
        Alert => "Alert", "Cảnh báo mới";
        Update => "Update", "Cập nhật cảnh báo";
        Cancel => "Cancel", "Hủy cảnh báo";
    }
);

/// Where a warning applies (CAP `area`).
#[derive(Debug, Clone, PartialEq)]
pub struct Area {
    pub desc: String,
    /// Centre latitude, centre longitude (WGS 84) and radius in kilometres; a circle outside
    /// those ranges, or not finite, is left out.
    pub circle: Option<(f64, f64, f64)>,
    /// (valueName, value) pairs, e.g. the ward's code.
    pub geocodes: Vec<(String, String)>,
}

/// An earlier message that an Update or Cancel refers to.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    pub sender: String,
    pub identifier: String,
    pub sent: DateTime<Utc>,
}

/// One CAP message with one `info` block (in `language`).
#[derive(Debug, Clone, PartialEq)]
pub struct CapMessage {
    /// e.g. "wardwatch-lach-tray-42"; spaces, commas, `<` and `&` become `-`.
    pub identifier: String,
    /// e.g. "lach-tray@wardwatch.local"; sanitised like the identifier.
    pub sender: String,
    pub sent: DateTime<Utc>,
    pub msg_type: MsgType,
    /// For Update and Cancel: the earlier messages.
    pub references: Vec<Reference>,
    /// `Public`, or `Restricted` to the audience named in `restriction`.
    pub scope_public: bool,
    pub restriction: String,
    /// An RFC 5646 tag such as "vi-VN"; anything else is sent as "vi-VN".
    pub language: String,
    pub category: Category,
    pub event: String,
    pub urgency: Urgency,
    pub severity: Severity,
    pub certainty: Certainty,
    pub expires: Option<DateTime<Utc>>,
    pub sender_name: String,
    pub headline: String,
    pub description: String,
    pub instruction: Option<String>,
    /// Absolute http(s) URL of the warning's page; anything else is left out.
    pub web: Option<String>,
    pub contact: Option<String>,
    pub areas: Vec<Area>,
}

/// One CAP message in the index feed.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedEntry {
    /// The CAP identifier.
    pub id: String,
    pub title: String,
    pub updated: DateTime<Utc>,
    /// Absolute URL of the message (`/cap/alerts/{id}.xml`).
    pub link: String,
    pub summary: String,
    pub msg_type: MsgType,
}

/// The message as a CAP 1.2 document, with its XML declaration.
///
/// Empty optional texts (sender name, headline, description, instruction, contact) are
/// left out; the event and each area's description are always written.
pub fn render(msg: &CapMessage) -> String {
    let mut x = Xml::new();
    x.open("alert", &[("xmlns", CAP_NS)]);
    x.leaf("identifier", &token(&msg.identifier));
    x.leaf("sender", &token(&msg.sender));
    x.leaf("sent", &cap_time(msg.sent));
    x.leaf("status", "Actual");
    x.leaf("msgType", msg.msg_type.as_cap());
    if msg.scope_public {
        x.leaf("scope", "Public");
    } else {
        x.leaf("scope", "Restricted");
        x.leaf("restriction", &line(&msg.restriction));
    }
    if !msg.references.is_empty() {
        let references: Vec<String> = msg
            .references
            .iter()
            .map(|r| {
                format!(
                    "{},{},{}",
                    token(&r.sender),
                    token(&r.identifier),
                    cap_time(r.sent)
                )
            })
            .collect();
        x.leaf("references", &references.join(" "));
    }

    x.open("info", &[]);
    x.leaf("language", language(&msg.language));
    x.leaf("category", msg.category.as_cap());
    x.leaf("event", &line(&msg.event));
    x.leaf("urgency", msg.urgency.as_cap());
    x.leaf("severity", msg.severity.as_cap());
    x.leaf("certainty", msg.certainty.as_cap());
    if let Some(expires) = msg.expires {
        x.leaf("expires", &cap_time(expires));
    }
    x.optional("senderName", &line(&msg.sender_name));
    x.optional("headline", &line(&msg.headline));
    x.optional("description", &block(&msg.description));
    x.optional(
        "instruction",
        &block(msg.instruction.as_deref().unwrap_or("")),
    );
    if let Some(web) = msg.web.as_deref().and_then(http_url) {
        x.leaf("web", &web);
    }
    x.optional("contact", &line(msg.contact.as_deref().unwrap_or("")));
    for area in &msg.areas {
        x.open("area", &[]);
        x.leaf("areaDesc", &line(&area.desc));
        if let Some(circle) = area.circle.and_then(circle) {
            x.leaf("circle", &circle);
        }
        for (name, value) in &area.geocodes {
            x.open("geocode", &[]);
            x.leaf("valueName", &line(name));
            x.leaf("value", &line(value));
            x.close("geocode");
        }
        x.close("area");
    }
    x.close("info");
    x.close("alert");
    x.finish()
}

/// An Atom 1.0 feed indexing CAP messages, entries in the order given.
///
/// Atom wants each entry's `id` to be an IRI, which a CAP identifier is not: the entry's
/// `id` is its message's URL (stable and unique), and the CAP identifier and message type
/// travel as `cap:identifier` and `cap:msgType` extension elements.
pub fn render_feed(
    title: &str,
    self_url: &str,
    updated: DateTime<Utc>,
    entries: &[FeedEntry],
) -> String {
    let title = line(title);
    let self_url = href(self_url);
    let mut x = Xml::new();
    x.open("feed", &[("xmlns", ATOM_NS), ("xmlns:cap", CAP_NS)]);
    x.leaf("id", &self_url);
    x.leaf("title", &title);
    x.leaf("updated", &cap_time(updated));
    x.empty(
        "link",
        &[
            ("rel", "self"),
            ("type", "application/atom+xml"),
            ("href", &self_url),
        ],
    );
    x.open("author", &[]);
    x.leaf("name", &title);
    x.close("author");
    x.leaf("generator", "wardwatch");
    for entry in entries {
        let link = href(&entry.link);
        x.open("entry", &[]);
        x.leaf("id", &link);
        x.leaf("title", &line(&entry.title));
        x.leaf("updated", &cap_time(entry.updated));
        x.empty(
            "link",
            &[("rel", "alternate"), ("type", CAP_MIME), ("href", &link)],
        );
        x.leaf("summary", &block(&entry.summary));
        x.leaf("cap:identifier", &token(&entry.id));
        x.leaf("cap:msgType", entry.msg_type.as_cap());
        x.close("entry");
    }
    x.close("feed");
    x.finish()
}

/// A time in Asia/Ho_Chi_Minh with its offset and whole seconds, as CAP's schema demands
/// (`2025-08-19T08:30:00+07:00`); also valid RFC 3339 for Atom.
fn cap_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&chrono_tz::Asia::Ho_Chi_Minh)
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// Text without control characters other than line feed and tab (CR LF and lone CR become
/// LF), without the characters XML 1.0 cannot carry, in NFC.
fn strip(input: &str) -> String {
    input
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .chars()
        .filter(|&c| match c {
            '\n' | '\t' => true,
            '\u{FFFE}' | '\u{FFFF}' => false,
            c => !c.is_control(),
        })
        .nfc()
        .collect()
}

/// One line: stripped, runs of whitespace (line breaks included) collapsed to one space.
fn line(input: &str) -> String {
    strip(input)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Several lines: stripped, trimmed at both ends.
fn block(input: &str) -> String {
    strip(input).trim().to_string()
}

/// A CAP identifier or sender: no spaces, commas, `<` or `&` (each run becomes one `-`).
fn token(input: &str) -> String {
    let mut out = String::new();
    let mut replaced = false;
    for c in line(input).chars() {
        if c.is_whitespace() || matches!(c, ',' | '<' | '&') {
            if !replaced {
                out.push('-');
            }
            replaced = true;
        } else {
            out.push(c);
            replaced = false;
        }
    }
    out
}

/// The tag if it matches `xs:language` (`[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*`), else "vi-VN".
fn language(input: &str) -> &str {
    let tag = input.trim();
    let valid = tag.split('-').enumerate().all(|(i, part)| {
        (1..=8).contains(&part.len())
            && part.chars().all(|c| {
                if i == 0 {
                    c.is_ascii_alphabetic()
                } else {
                    c.is_ascii_alphanumeric()
                }
            })
    });
    if valid { tag } else { "vi-VN" }
}

/// An absolute http(s) URL, normalised and percent-encoded; `None` for anything else.
fn http_url(input: &str) -> Option<String> {
    let url = url::Url::parse(input.trim()).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.into())
}

/// A link for the feed: the normalised URL, or the cleaned text when it is not one.
fn href(input: &str) -> String {
    http_url(input).unwrap_or_else(|| line(input))
}

/// CAP's `lat,lon radius` (WGS 84 degrees, kilometres), if the numbers make sense.
fn circle((lat, lon, radius): (f64, f64, f64)) -> Option<String> {
    let valid = (-90.0..=90.0).contains(&lat)
        && (-180.0..=180.0).contains(&lon)
        && radius.is_finite()
        && radius >= 0.0;
    valid.then(|| format!("{lat},{lon} {radius}"))
}

/// A small indenting XML writer; every text and attribute value goes through `escape`.
struct Xml {
    out: String,
    depth: usize,
}

impl Xml {
    fn new() -> Self {
        Xml {
            out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
            depth: 0,
        }
    }

    fn start(&mut self, name: &str, attrs: &[(&str, &str)]) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
        self.out.push('<');
        self.out.push_str(name);
        for (key, value) in attrs {
            self.out.push(' ');
            self.out.push_str(key);
            self.out.push_str("=\"");
            self.out.push_str(&quick_xml::escape::escape(*value));
            self.out.push('"');
        }
    }

    fn open(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.start(name, attrs);
        self.out.push_str(">\n");
        self.depth += 1;
    }

    fn close(&mut self, name: &str) {
        self.depth -= 1;
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.start(name, attrs);
        self.out.push_str("/>\n");
    }

    fn leaf(&mut self, name: &str, text: &str) {
        self.start(name, &[]);
        self.out.push('>');
        self.out.push_str(&quick_xml::escape::escape(text));
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    /// A leaf only when there is text for it.
    fn optional(&mut self, name: &str, text: &str) {
        if !text.is_empty() {
            self.leaf(name, text);
        }
    }

    fn finish(self) -> String {
        debug_assert_eq!(self.depth, 0);
        self.out
    }
}

/// English for the labels and messages above.
pub const TEXTS: crate::i18n::Texts = &[
    (
        "Lĩnh vực cảnh báo không hợp lệ: Geo, Met, Safety, Security, Rescue, Fire, Health, Env, Transport, Infra, CBRNE hoặc Other.",
        "Invalid warning category: Geo, Met, Safety, Security, Rescue, Fire, Health, Env, Transport, Infra, CBRNE or Other.",
    ),
    (
        "Mức độ nghiêm trọng không hợp lệ: Extreme, Severe, Moderate, Minor hoặc Unknown.",
        "Invalid severity: Extreme, Severe, Moderate, Minor or Unknown.",
    ),
    (
        "Mức độ khẩn cấp không hợp lệ: Immediate, Expected, Future, Past hoặc Unknown.",
        "Invalid urgency: Immediate, Expected, Future, Past or Unknown.",
    ),
    (
        "Mức độ chắc chắn không hợp lệ: Observed, Likely, Possible, Unlikely hoặc Unknown.",
        "Invalid certainty: Observed, Likely, Possible, Unlikely or Unknown.",
    ),
    (
        "Loại thông điệp không hợp lệ: Alert, Update hoặc Cancel.",
        "Invalid message type: Alert, Update or Cancel.",
    ),
    (
        "Địa chất, động đất, sạt lở",
        "Geophysical: earthquake, landslide",
    ),
    ("Thời tiết, bão, lũ", "Weather, storm, flood"),
    ("An toàn công cộng", "Public safety"),
    ("An ninh, trật tự", "Security and public order"),
    ("Cứu nạn, cứu hộ", "Rescue and recovery"),
    ("Cháy, nổ", "Fire and explosion"),
    ("Y tế, dịch bệnh", "Health and epidemics"),
    ("Môi trường", "Environment"),
    ("Giao thông, vận tải", "Transport and traffic"),
    (
        "Hạ tầng, điện, nước, viễn thông",
        "Infrastructure: power, water, telecoms",
    ),
    (
        "Hóa chất, sinh học, phóng xạ, hạt nhân, chất nổ",
        "Chemical, biological, radiological, nuclear, explosive",
    ),
    ("Khác", "Other"),
    ("Đặc biệt nghiêm trọng", "Extreme"),
    ("Nghiêm trọng", "Severe"),
    ("Trung bình", "Moderate"),
    ("Nhẹ", "Minor"),
    ("Chưa rõ", "Unknown"),
    ("Ngay lập tức", "Immediate"),
    ("Trong vòng một giờ", "Within the hour"),
    ("Trong thời gian tới", "In the near future"),
    ("Không còn cần hành động", "No action needed any more"),
    ("Đã xác nhận", "Observed"),
    ("Nhiều khả năng", "Likely"),
    ("Có thể xảy ra", "Possible"),
    ("Ít khả năng", "Unlikely"),
    ("Cảnh báo mới", "New warning"),
    ("Cập nhật cảnh báo", "Warning update"),
    ("Hủy cảnh báo", "Warning cancelled"),
];

#[cfg(test)]
mod tests {
    use super::*;

    use std::io::Write as _;
    use std::process::Command;

    use chrono::{Duration, TimeZone};
    use quick_xml::events::Event;

    const XSD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/standards/CAP-v1.2.xsd");

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 8, 19, h, m, 0).unwrap()
    }

    fn sample() -> CapMessage {
        CapMessage {
            identifier: "wardwatch-lach-tray-42".into(),
            sender: "lach-tray@wardwatch.local".into(),
            sent: at(1, 30),
            msg_type: MsgType::Alert,
            references: Vec::new(),
            scope_public: true,
            restriction: String::new(),
            language: "vi-VN".into(),
            category: Category::Fire,
            event: "Cháy nhà dân".into(),
            urgency: Urgency::Immediate,
            severity: Severity::Extreme,
            certainty: Certainty::Observed,
            expires: Some(at(1, 30) + Duration::hours(6)),
            sender_name: "Công an phường Lạch Tray".into(),
            headline: "Cháy nhà tại ngõ 12 Lạch Tray".into(),
            description: "Đám cháy tại nhà số 5, ngõ 12.\nLực lượng chữa cháy đang có mặt.".into(),
            instruction: Some("Không đến gần; nhường đường cho xe chữa cháy.".into()),
            web: Some("https://wardwatch.local/canh-bao/42".into()),
            contact: Some("Công an phường Lạch Tray, 0225 3847 123".into()),
            areas: vec![Area {
                desc: "Tổ dân phố số 1, phường Lạch Tray".into(),
                circle: Some((20.8449, 106.6881, 0.5)),
                geocodes: vec![("wardwatch:ward".into(), "lach-tray".into())],
            }],
        }
    }

    fn reference(identifier: &str, sent: DateTime<Utc>) -> Reference {
        Reference {
            sender: "lach-tray@wardwatch.local".into(),
            identifier: identifier.into(),
            sent,
        }
    }

    /// Runs `xmllint --noout` on the document, against the CAP schema when `schema`;
    /// skipped with a note when xmllint is not installed.
    fn xmllint(xml: &str, schema: bool) {
        if Command::new("xmllint").arg("--version").output().is_err() {
            println!("note: xmllint is not on PATH; XML validation skipped");
            return;
        }
        let mut file = tempfile::Builder::new().suffix(".xml").tempfile().unwrap();
        file.write_all(xml.as_bytes()).unwrap();
        file.flush().unwrap();
        let mut cmd = Command::new("xmllint");
        cmd.args(["--noout", "--nonet"]);
        if schema {
            assert!(
                std::path::Path::new(XSD).is_file(),
                "CAP schema not found at {XSD}"
            );
            cmd.args(["--schema", XSD]);
        }
        let out = cmd.arg(file.path()).output().unwrap();
        assert!(
            out.status.success(),
            "xmllint refused the document:\n{}\n{xml}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The text of every element with this local name, parsed back with an XML reader.
    fn texts(xml: &str, name: &str) -> Vec<String> {
        let mut reader = quick_xml::Reader::from_str(xml);
        let mut out = Vec::new();
        let mut current: Option<String> = None;
        loop {
            match reader.read_event().unwrap() {
                Event::Start(e) if e.local_name().as_ref() == name.as_bytes() => {
                    current = Some(String::new());
                }
                Event::Text(t) => {
                    if let Some(text) = current.as_mut() {
                        text.push_str(&t.decode().unwrap());
                    }
                }
                Event::GeneralRef(r) => {
                    if let Some(text) = current.as_mut() {
                        match r.resolve_char_ref().unwrap() {
                            Some(c) => text.push(c),
                            None => text.push_str(
                                quick_xml::escape::resolve_predefined_entity(&r.decode().unwrap())
                                    .expect("only predefined entities"),
                            ),
                        }
                    }
                }
                Event::End(e) if e.local_name().as_ref() == name.as_bytes() => {
                    out.push(current.take().unwrap());
                }
                Event::Eof => break,
                _ => {}
            }
        }
        out
    }

    fn one(xml: &str, name: &str) -> String {
        let found = texts(xml, name);
        assert_eq!(found.len(), 1, "one <{name}> expected in\n{xml}");
        found.into_iter().next().unwrap()
    }

    /// Every CAP time carries the Ho Chi Minh City offset, never `Z`.
    fn assert_local_times(xml: &str) {
        for name in ["sent", "effective", "onset", "expires", "updated"] {
            for t in texts(xml, name) {
                assert!(t.ends_with("+07:00"), "<{name}>{t}");
                assert!(!t.contains('Z'), "<{name}>{t}");
            }
        }
        for refs in texts(xml, "references") {
            for r in refs.split(' ') {
                assert!(r.ends_with("+07:00") && !r.contains('Z'), "{r}");
            }
        }
    }

    #[test]
    fn renders_an_alert_that_validates() {
        let xml = render(&sample());
        xmllint(&xml, true);
        assert_local_times(&xml);
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"));
        assert!(xml.contains("<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">"));
        assert!(xml.contains("<severity>Extreme</severity>"));
        assert_eq!(one(&xml, "identifier"), "wardwatch-lach-tray-42");
        assert_eq!(one(&xml, "sent"), "2025-08-19T08:30:00+07:00");
        assert_eq!(one(&xml, "expires"), "2025-08-19T14:30:00+07:00");
        assert_eq!(one(&xml, "status"), "Actual");
        assert_eq!(one(&xml, "msgType"), "Alert");
        assert_eq!(one(&xml, "scope"), "Public");
        assert!(texts(&xml, "restriction").is_empty());
        assert!(texts(&xml, "references").is_empty());
        assert_eq!(one(&xml, "language"), "vi-VN");
        assert_eq!(one(&xml, "category"), "Fire");
        assert_eq!(one(&xml, "urgency"), "Immediate");
        assert_eq!(one(&xml, "certainty"), "Observed");
        assert_eq!(one(&xml, "senderName"), "Công an phường Lạch Tray");
        assert_eq!(one(&xml, "headline"), "Cháy nhà tại ngõ 12 Lạch Tray");
        assert_eq!(
            one(&xml, "description"),
            "Đám cháy tại nhà số 5, ngõ 12.\nLực lượng chữa cháy đang có mặt."
        );
        assert_eq!(one(&xml, "web"), "https://wardwatch.local/canh-bao/42");
        assert_eq!(one(&xml, "areaDesc"), "Tổ dân phố số 1, phường Lạch Tray");
        assert_eq!(one(&xml, "circle"), "20.8449,106.6881 0.5");
        assert_eq!(one(&xml, "valueName"), "wardwatch:ward");
        assert_eq!(one(&xml, "value"), "lach-tray");
    }

    #[test]
    fn an_update_lists_the_earlier_messages() {
        let mut msg = sample();
        msg.identifier = "wardwatch-lach-tray-43".into();
        msg.sent = at(2, 15);
        msg.msg_type = MsgType::Update;
        msg.severity = Severity::Severe;
        msg.references = vec![
            reference("wardwatch-lach-tray-41", at(1, 0)),
            reference("wardwatch-lach-tray-42", at(1, 30)),
        ];
        let xml = render(&msg);
        xmllint(&xml, true);
        assert_local_times(&xml);
        assert_eq!(one(&xml, "msgType"), "Update");
        assert_eq!(
            one(&xml, "references"),
            "lach-tray@wardwatch.local,wardwatch-lach-tray-41,2025-08-19T08:00:00+07:00 \
             lach-tray@wardwatch.local,wardwatch-lach-tray-42,2025-08-19T08:30:00+07:00"
        );
        assert!(xml.contains("<severity>Severe</severity>"));
    }

    #[test]
    fn a_cancel_validates() {
        let mut msg = sample();
        msg.identifier = "wardwatch-lach-tray-44".into();
        msg.sent = at(3, 0);
        msg.msg_type = MsgType::Cancel;
        msg.urgency = Urgency::Past;
        msg.severity = Severity::Minor;
        msg.headline = "Đã dập tắt đám cháy tại ngõ 12 Lạch Tray".into();
        msg.instruction = None;
        msg.expires = None;
        msg.references = vec![reference("wardwatch-lach-tray-42", at(1, 30))];
        let xml = render(&msg);
        xmllint(&xml, true);
        assert_local_times(&xml);
        assert_eq!(one(&xml, "msgType"), "Cancel");
        assert_eq!(one(&xml, "urgency"), "Past");
        assert!(texts(&xml, "expires").is_empty());
        assert!(texts(&xml, "instruction").is_empty());
        assert_eq!(
            one(&xml, "references"),
            "lach-tray@wardwatch.local,wardwatch-lach-tray-42,2025-08-19T08:30:00+07:00"
        );
    }

    #[test]
    fn a_restricted_message_names_its_audience() {
        let mut msg = sample();
        msg.scope_public = false;
        msg.restriction = "Tổ dân phố số 1, phường Lạch Tray".into();
        msg.category = Category::Security;
        msg.certainty = Certainty::Likely;
        let xml = render(&msg);
        xmllint(&xml, true);
        assert_eq!(one(&xml, "scope"), "Restricted");
        assert_eq!(
            one(&xml, "restriction"),
            "Tổ dân phố số 1, phường Lạch Tray"
        );
        let scope = xml.find("<scope>").unwrap();
        let restriction = xml.find("<restriction>").unwrap();
        assert!(scope < restriction && restriction < xml.find("<info>").unwrap());
    }

    #[test]
    fn hostile_text_is_escaped_stripped_and_nfc() {
        let nfd = |s: &str| s.nfd().collect::<String>();
        let mut msg = sample();
        msg.identifier = "wardwatch lạch,tray<42>&x".into();
        msg.sender = "lach tray@wardwatch.local".into();
        msg.event = "Cháy & nổ".into();
        msg.headline = format!(
            "<script>alert(\"x\")</script> & 'Cháy' ở {}",
            nfd("Lạch Tray")
        );
        msg.description =
            "Dòng 1\u{0}\u{7}\u{1b}[31m đỏ\r\nDòng 2\tcó tab\rDòng 3\u{85}\u{FFFF}".into();
        msg.instruction = Some("]]> <!-- --> <![CDATA[ x ]]>".into());
        msg.contact = Some("\"Anh Đức\" <duc@example.org>".into());
        msg.web = Some("javascript:alert(1)".into());
        msg.areas[0].desc = format!("<b>{}</b>", nfd("Ngõ Đồng Tâm"));
        msg.areas[0].geocodes = vec![("a&b".into(), "<c>".into())];
        let xml = render(&msg);
        xmllint(&xml, true);

        assert!(!xml.contains("<script>"));
        assert!(
            xml.contains(
                "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &apos;Cháy&apos;"
            )
        );
        assert_eq!(
            one(&xml, "headline"),
            "<script>alert(\"x\")</script> & 'Cháy' ở Lạch Tray"
        );
        assert!(xml.contains("Lạch Tray")); // NFC, not the decomposed input
        assert!(!xml.contains(&nfd("Lạch Tray")));
        assert_eq!(one(&xml, "event"), "Cháy & nổ");
        assert_eq!(
            one(&xml, "description"),
            "Dòng 1[31m đỏ\nDòng 2\tcó tab\nDòng 3"
        );
        assert_eq!(one(&xml, "instruction"), "]]> <!-- --> <![CDATA[ x ]]>");
        assert_eq!(one(&xml, "contact"), "\"Anh Đức\" <duc@example.org>");
        assert!(texts(&xml, "web").is_empty(), "only http(s) links");
        assert_eq!(one(&xml, "areaDesc"), "<b>Ngõ Đồng Tâm</b>");
        assert_eq!(one(&xml, "valueName"), "a&b");
        assert_eq!(one(&xml, "value"), "<c>");

        let identifier = one(&xml, "identifier");
        assert_eq!(identifier, "wardwatch-lạch-tray-42>-x");
        assert_eq!(one(&xml, "sender"), "lach-tray@wardwatch.local");
        assert!(
            !xml.chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t')
        );
    }

    #[test]
    fn bad_language_circle_and_empty_texts_are_left_safe() {
        let mut msg = sample();
        msg.language = "tiếng Việt".into();
        msg.instruction = Some("  \n ".into());
        msg.contact = None;
        msg.areas = vec![
            Area {
                desc: "Ngoài bản đồ".into(),
                circle: Some((f64::NAN, 106.0, 1.0)),
                geocodes: Vec::new(),
            },
            Area {
                desc: "Bán kính âm".into(),
                circle: Some((20.8, 106.6, -1.0)),
                geocodes: Vec::new(),
            },
            Area {
                desc: "Phường Dư Hàng Kênh".into(),
                circle: Some((20.84, 106.67, 1.25)),
                geocodes: Vec::new(),
            },
        ];
        let xml = render(&msg);
        xmllint(&xml, true);
        assert_eq!(one(&xml, "language"), "vi-VN");
        assert!(texts(&xml, "instruction").is_empty());
        assert!(texts(&xml, "contact").is_empty());
        assert_eq!(texts(&xml, "area").len(), 3);
        assert_eq!(texts(&xml, "circle"), ["20.84,106.67 1.25"]);

        msg.language = "en-US".into();
        assert_eq!(one(&render(&msg), "language"), "en-US");
    }

    #[test]
    fn times_keep_the_local_offset_around_midnight() {
        let late = Utc.with_ymd_and_hms(2025, 12, 31, 17, 5, 9).unwrap();
        assert_eq!(cap_time(late), "2026-01-01T00:05:09+07:00");
        let with_nanos = late + Duration::milliseconds(250);
        assert_eq!(cap_time(with_nanos), "2026-01-01T00:05:09+07:00");
    }

    #[test]
    fn the_feed_lists_every_message() {
        let base = "https://wardwatch.local/cap/alerts";
        let entries: Vec<FeedEntry> = [
            (
                "wardwatch-lach-tray-44",
                MsgType::Cancel,
                "Đã dập tắt đám cháy",
            ),
            (
                "wardwatch-lach-tray-43",
                MsgType::Update,
                "Cháy & khói <dày>",
            ),
            (
                "wardwatch-lach-tray-42",
                MsgType::Alert,
                "Cháy nhà \"ngõ 12\"",
            ),
        ]
        .into_iter()
        .enumerate()
        .map(|(i, (id, msg_type, title))| FeedEntry {
            id: id.into(),
            title: title.into(),
            updated: at(3 - i as u32, 0),
            link: format!("{base}/{id}.xml"),
            summary: format!("{title}\nTổ dân phố số 1 & 2"),
            msg_type,
        })
        .collect();
        let xml = render_feed(
            "Cảnh báo phường Lạch Tray",
            "https://wardwatch.local/cap/alerts.xml",
            at(3, 0),
            &entries,
        );
        xmllint(&xml, false);
        assert_local_times(&xml);
        assert!(xml.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\""));
        assert!(xml.contains(
            "<link rel=\"self\" type=\"application/atom+xml\" href=\"https://wardwatch.local/cap/alerts.xml\"/>"
        ));
        assert_eq!(texts(&xml, "entry").len(), 3);
        let ids = texts(&xml, "id");
        assert_eq!(ids[0], "https://wardwatch.local/cap/alerts.xml");
        let titles = texts(&xml, "title");
        assert_eq!(titles[0], "Cảnh báo phường Lạch Tray");
        assert_eq!(texts(&xml, "updated")[0], "2025-08-19T10:00:00+07:00");
        assert_eq!(
            texts(&xml, "identifier"),
            entries.iter().map(|e| e.id.clone()).collect::<Vec<_>>()
        );
        assert_eq!(texts(&xml, "msgType"), ["Cancel", "Update", "Alert"]);
        for (i, entry) in entries.iter().enumerate() {
            assert_eq!(ids[i + 1], entry.link);
            assert_eq!(titles[i + 1], entry.title);
            assert!(xml.contains(&format!(
                "<link rel=\"alternate\" type=\"application/cap+xml\" href=\"{}\"/>",
                entry.link
            )));
            assert_eq!(texts(&xml, "summary")[i], entry.summary);
        }
        assert!(!xml.contains("<dày>"));

        let empty = render_feed(
            "Cảnh báo",
            "https://wardwatch.local/cap/alerts.xml",
            at(3, 0),
            &[],
        );
        xmllint(&empty, false);
        assert!(texts(&empty, "entry").is_empty());
    }

    #[test]
    fn vocabularies_parse_in_any_case_and_refuse_the_unknown() {
        fn check<T: Copy + PartialEq + fmt::Debug>(
            all: &[T],
            as_cap: fn(T) -> &'static str,
            parse: fn(&str) -> Result<T, Invalid>,
        ) {
            for &v in all {
                let cap = as_cap(v);
                for spelling in [
                    cap.to_string(),
                    cap.to_lowercase(),
                    cap.to_uppercase(),
                    format!("  {cap}\t"),
                ] {
                    assert_eq!(parse(&spelling), Ok(v), "{spelling:?}");
                }
            }
            for bad in ["", "khác", "Unknown!", "Alert Update", "fyre"] {
                let err = parse(bad).expect_err(bad);
                for &v in all {
                    assert!(err.0.contains(as_cap(v)), "{} lists {}", err.0, as_cap(v));
                }
            }
        }
        check(Category::ALL, Category::as_cap, Category::parse);
        check(Severity::ALL, Severity::as_cap, Severity::parse);
        check(Urgency::ALL, Urgency::as_cap, Urgency::parse);
        check(Certainty::ALL, Certainty::as_cap, Certainty::parse);
        check(MsgType::ALL, MsgType::as_cap, MsgType::parse);

        assert_eq!(Category::parse("fire"), Ok(Category::Fire));
        assert_eq!(Category::parse("FIRE"), Ok(Category::Fire));
        assert_eq!(Category::parse("cbrne"), Ok(Category::Cbrne));
        assert_eq!(Category::Cbrne.as_cap(), "CBRNE");
        assert_eq!(Category::ALL.len(), 12);
        assert_eq!(Severity::Extreme.label(), "Đặc biệt nghiêm trọng");
        assert!(MsgType::parse("Ack").is_err());
    }

    #[test]
    fn vocabularies_serialise_as_cap_spelling() {
        assert_eq!(
            serde_json::to_string(&Category::Cbrne).unwrap(),
            "\"CBRNE\""
        );
        assert_eq!(serde_json::to_string(&Category::Fire).unwrap(), "\"Fire\"");
        assert_eq!(
            serde_json::to_string(&[Severity::Extreme, Severity::Unknown]).unwrap(),
            "[\"Extreme\",\"Unknown\"]"
        );
        assert_eq!(
            serde_json::from_str::<Severity>("\"extreme\"").unwrap(),
            Severity::Extreme
        );
        assert_eq!(
            serde_json::from_str::<Urgency>("\"IMMEDIATE\"").unwrap(),
            Urgency::Immediate
        );
        let err = serde_json::from_str::<MsgType>("\"Ack\"").unwrap_err();
        assert!(err.to_string().contains("Loại thông điệp không hợp lệ"));
        for c in Category::ALL {
            let json = serde_json::to_string(c).unwrap();
            assert_eq!(serde_json::from_str::<Category>(&json).unwrap(), *c);
        }
    }

    #[test]
    fn every_label_and_message_has_english_and_is_nfc() {
        let mut vi: Vec<&str> = Vec::new();
        vi.extend(Category::ALL.iter().map(|v| v.label()));
        vi.extend(Severity::ALL.iter().map(|v| v.label()));
        vi.extend(Urgency::ALL.iter().map(|v| v.label()));
        vi.extend(Certainty::ALL.iter().map(|v| v.label()));
        vi.extend(MsgType::ALL.iter().map(|v| v.label()));
        vi.push(Category::parse("?").unwrap_err().0);
        vi.push(Severity::parse("?").unwrap_err().0);
        vi.push(Urgency::parse("?").unwrap_err().0);
        vi.push(Certainty::parse("?").unwrap_err().0);
        vi.push(MsgType::parse("?").unwrap_err().0);
        for s in vi {
            assert!(TEXTS.iter().any(|(k, _)| *k == s), "no English for {s}");
            assert_eq!(s, s.nfc().collect::<String>(), "{s} is not NFC");
        }
        for (k, en) in TEXTS {
            assert_eq!(*k, k.nfc().collect::<String>(), "{k} is not NFC");
            assert!(!en.is_empty());
        }
    }
}
