//! RFC 5545 iCalendar writer for duty rosters, so that a team can subscribe to its
//! duties from any calendar app.
//!
//! All event times are wall-clock times in Asia/Ho_Chi_Minh and are written with
//! `TZID=Asia/Ho_Chi_Minh` plus one embedded VTIMEZONE: RFC 5545 §3.2.19 requires a
//! VTIMEZONE for every TZID used, and a local time survives a subscriber's own zone
//! changes where a UTC one would not. Only DTSTAMP is UTC, as §3.8.7.2 demands.

use chrono::{DateTime, NaiveDateTime, Utc};

const TZID: &str = "Asia/Ho_Chi_Minh";
/// RFC 5545 §3.1: content lines SHOULD NOT be longer than 75 octets, CRLF excluded.
const MAX_LINE_OCTETS: usize = 75;
const LOCAL_FORMAT: &str = "%Y%m%dT%H%M%S";

/// One published calendar (one `.ics` feed).
#[derive(Debug, Clone, PartialEq)]
pub struct Calendar {
    /// Written as X-WR-CALNAME, the de facto name shown by Google, Apple and Outlook.
    pub name: String,
    /// Written as X-WR-CALDESC, the matching de facto description.
    pub description: Option<String>,
    pub events: Vec<Event>,
}

/// One duty (VEVENT). Local times are in Asia/Ho_Chi_Minh.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Globally unique, e.g. "duty-42-20261129@wardwatch".
    pub uid: String,
    pub dtstamp: DateTime<Utc>,
    pub start: NaiveDateTime,
    /// Must be after `start` (§3.8.2.2); an end at or before the start is left out,
    /// which makes the event an instant rather than an invalid file.
    pub end: NaiveDateTime,
    pub summary: String,
    pub description: Option<String>,
    pub location: Option<String>,
    /// (latitude, longitude) in degrees; left out unless finite and in range.
    pub geo: Option<(f64, f64)>,
    pub categories: Vec<String>,
    /// The RRULE value without "RRULE:", e.g. "FREQ=WEEKLY;BYDAY=SU"; written as is.
    pub rrule: Option<String>,
    pub exdates: Vec<NaiveDateTime>,
    pub rdates: Vec<NaiveDateTime>,
    pub status: Option<Status>,
    pub sequence: u32,
    pub url: Option<String>,
    /// Display names; each becomes an ATTENDEE with a `urn:wardwatch:person:` address.
    pub attendees: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Confirmed,
    Tentative,
    Cancelled,
}

impl Status {
    /// The VEVENT STATUS value (§3.8.1.11).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Confirmed => "CONFIRMED",
            Status::Tentative => "TENTATIVE",
            Status::Cancelled => "CANCELLED",
        }
    }
}

/// Renders the whole calendar as an RFC 5545 document: CRLF line ends, folded lines.
pub fn render(cal: &Calendar) -> String {
    let mut w = Writer::default();
    w.line("BEGIN:VCALENDAR");
    w.line("VERSION:2.0");
    w.line("PRODID:-//wardwatch//duty//VI");
    w.line("CALSCALE:GREGORIAN");
    w.line("METHOD:PUBLISH");
    w.line(&format!("X-WR-CALNAME:{}", escape_text(&cal.name)));
    if let Some(desc) = &cal.description {
        w.line(&format!("X-WR-CALDESC:{}", escape_text(desc)));
    }
    w.line(&format!("X-WR-TIMEZONE:{TZID}"));
    write_vtimezone(&mut w);
    for event in &cal.events {
        write_event(&mut w, event);
    }
    w.line("END:VCALENDAR");
    w.out
}

/// Vietnam has kept UTC+7 without DST since 13 June 1975, so one STANDARD observance
/// describes every duty time this service can hold. (tzdata has +08 before that onset;
/// TZOFFSETFROM only places the onset instant itself, which no duty is near.)
fn write_vtimezone(w: &mut Writer) {
    w.line("BEGIN:VTIMEZONE");
    w.line(&format!("TZID:{TZID}"));
    w.line("BEGIN:STANDARD");
    w.line("DTSTART:19750613T000000");
    w.line("TZOFFSETFROM:+0700");
    w.line("TZOFFSETTO:+0700");
    w.line("TZNAME:+07");
    w.line("END:STANDARD");
    w.line("END:VTIMEZONE");
}

fn write_event(w: &mut Writer, ev: &Event) {
    w.line("BEGIN:VEVENT");
    w.line(&format!("UID:{}", escape_text(&ev.uid)));
    w.line(&format!("DTSTAMP:{}", ev.dtstamp.format("%Y%m%dT%H%M%SZ")));
    w.local("DTSTART", ev.start);
    if ev.end > ev.start {
        w.local("DTEND", ev.end);
    }
    w.line(&format!("SUMMARY:{}", escape_text(&ev.summary)));
    if let Some(text) = &ev.description {
        w.line(&format!("DESCRIPTION:{}", escape_text(text)));
    }
    if let Some(text) = &ev.location {
        w.line(&format!("LOCATION:{}", escape_text(text)));
    }
    if let Some((lat, lon)) = ev.geo {
        // FLOAT (§3.3.7) has no exponent, NaN or infinity; six decimals is the
        // precision §3.8.1.6 provides for.
        let valid = lat.is_finite() && lon.is_finite() && lat.abs() <= 90.0 && lon.abs() <= 180.0;
        if valid {
            w.line(&format!("GEO:{lat:.6};{lon:.6}"));
        }
    }
    // CATEGORIES is a TEXT list: each item escaped, items joined by a bare comma.
    let categories: Vec<String> = ev
        .categories
        .iter()
        .filter(|c| !c.trim().is_empty())
        .map(|c| escape_text(c))
        .collect();
    if !categories.is_empty() {
        w.line(&format!("CATEGORIES:{}", categories.join(",")));
    }
    if let Some(status) = ev.status {
        w.line(&format!("STATUS:{}", status.as_str()));
    }
    w.line(&format!("SEQUENCE:{}", ev.sequence));
    if let Some(url) = &ev.url {
        // URI values are not TEXT-escaped; dropping controls keeps a stray CR/LF
        // from starting a forged property line.
        w.line(&format!("URL:{}", strip_controls(url)));
    }
    if let Some(rule) = &ev.rrule {
        w.line(&format!("RRULE:{}", strip_controls(rule)));
    }
    // One property per date rather than a comma list: §3.8.5 allows both, and a
    // single value per line is the simplest form for readers to get right.
    for &t in &ev.rdates {
        w.local("RDATE", t);
    }
    for &t in &ev.exdates {
        w.local("EXDATE", t);
    }
    for name in ev.attendees.iter().filter(|n| !n.trim().is_empty()) {
        w.line(&format!(
            "ATTENDEE;CN={};ROLE=REQ-PARTICIPANT:urn:wardwatch:person:{}",
            quote_param(name),
            percent_encode(name)
        ));
    }
    w.line("END:VEVENT");
}

/// Escapes a TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and line
/// breaks. Other control characters are not allowed in TEXT at all and are dropped.
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' | '\n' => {
                // A CRLF pair is one line break, not two.
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            c if c.is_control() && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// Quotes a parameter value. RFC 5545 has no escape for DQUOTE or line breaks inside
/// a quoted-string, so they use RFC 6868 caret encoding (^' ^n ^^), which updates it.
fn quote_param(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '^' => out.push_str("^^"),
            '"' => out.push_str("^'"),
            '\r' | '\n' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("^n");
            }
            c if c.is_control() && c != '\t' => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The name as a URN namespace-specific string: the same person gets the same
/// address in every event (clients match attendees by address), and the URI stays
/// ASCII and free of the `:`/`;`/`,` that would need quoting.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn strip_controls(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect()
}

#[derive(Default)]
struct Writer {
    out: String,
}

impl Writer {
    fn local(&mut self, name: &str, t: NaiveDateTime) {
        self.line(&format!("{name};TZID={TZID}:{}", t.format(LOCAL_FORMAT)));
    }

    /// Appends one content line, folded to 75 octets per physical line (§3.1).
    fn line(&mut self, logical: &str) {
        let mut rest = logical;
        // A continuation line's leading space counts towards its 75 octets.
        let mut budget = MAX_LINE_OCTETS;
        while rest.len() > budget {
            let cut = fold_point(rest, budget);
            self.out.push_str(&rest[..cut]);
            self.out.push_str("\r\n ");
            rest = &rest[cut..];
            budget = MAX_LINE_OCTETS - 1;
        }
        self.out.push_str(rest);
        self.out.push_str("\r\n");
    }
}

/// Where to fold `s` (longer than `budget` octets): never inside a UTF-8 sequence,
/// and if possible between two non-blank characters and not just after a backslash.
/// §3.1 makes any octet boundary legal, but some readers trim trailing blanks of a
/// physical line or every leading blank of a continuation (eating the spaces of
/// Vietnamese text folded next to them), and line-by-line readers trip on a TEXT
/// escape cut in two.
fn fold_point(s: &str, budget: usize) -> usize {
    let mut hard = budget;
    while !s.is_char_boundary(hard) {
        hard -= 1;
    }
    let bytes = s.as_bytes();
    let blank = |b: u8| b == b' ' || b == b'\t';
    // Only look a little way back so that a blank-heavy value still fills its lines.
    (hard.saturating_sub(16).max(1)..=hard)
        .rev()
        .filter(|&i| s.is_char_boundary(i))
        .find(|&i| !blank(bytes[i - 1]) && !blank(bytes[i]) && bytes[i - 1] != b'\\')
        .unwrap_or(hard)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone};
    use icalendar::parser::{Component, Property, read_calendar, unfold};

    const SUMMARY: &str =
        "Tuần tra đêm tổ dân phố số 3 — chợ Hàng, ngõ 5; cổng sau \\ kho, \"đội 2\"";

    fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|date| date.and_hms_opt(h, min, 0))
            .expect("valid test date")
    }

    fn sample() -> Event {
        Event {
            uid: "duty-42-20261129@wardwatch".into(),
            dtstamp: Utc.with_ymd_and_hms(2026, 11, 20, 8, 15, 0).unwrap(),
            start: local(2026, 11, 29, 22, 0),
            end: local(2026, 11, 30, 5, 30),
            summary: SUMMARY.into(),
            description: Some("Mang đèn pin.\nBáo trực ban trước 06:00; gọi 113, 114".into()),
            location: Some("Nhà văn hoá tổ 3, phố Hàng Bạc".into()),
            geo: Some((21.034_567_8, 105.852_1)),
            categories: vec!["Tuần tra".into(), "Đêm, cuối tuần".into()],
            rrule: Some("FREQ=WEEKLY;BYDAY=SU;COUNT=10".into()),
            exdates: vec![local(2026, 12, 20, 22, 0), local(2026, 12, 27, 22, 0)],
            rdates: vec![local(2026, 12, 24, 22, 0)],
            status: Some(Status::Confirmed),
            sequence: 3,
            url: Some("https://wardwatch.example/duty/42?lang=vi".into()),
            attendees: vec!["Nguyễn Văn An".into(), "Trần, Thị: Bình; \"Út\"".into()],
        }
    }

    fn calendar(events: Vec<Event>) -> Calendar {
        Calendar {
            name: "Lịch trực, phường Hàng Bạc".into(),
            description: Some("Tổ 3; ca đêm".into()),
            events,
        }
    }

    fn prop<'a>(c: &'a Component<'a>, name: &str) -> &'a Property<'a> {
        c.find_prop(name)
            .unwrap_or_else(|| panic!("{name} missing in {}", c.name.as_str()))
    }

    fn props<'a>(c: &'a Component<'a>, name: &str) -> Vec<&'a Property<'a>> {
        c.properties.iter().filter(|p| p.name == name).collect()
    }

    fn param<'a>(p: &'a Property<'a>, key: &str) -> Option<&'a str> {
        (p.params.iter())
            .find(|x| x.key == key)
            .and_then(|x| x.val.as_ref())
            .map(|v| v.as_str())
    }

    /// Physical-line rules of RFC 5545 §3.1, checked on raw octets.
    fn check_physical_lines(text: &str) {
        let bytes = text.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\r' {
                assert_eq!(bytes.get(i + 1), Some(&b'\n'), "bare CR at {i}");
            }
            if b == b'\n' {
                assert!(i > 0 && bytes[i - 1] == b'\r', "bare LF at {i}");
            }
        }
        assert!(text.ends_with("\r\n"));
        let body = &bytes[..bytes.len() - 2];
        for line in body.split(|&b| b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            assert!(line.len() <= 75, "{} octets: {:?}", line.len(), line);
            assert!(std::str::from_utf8(line).is_ok(), "split UTF-8: {line:?}");
            assert!(!line.is_empty(), "empty physical line");
        }
    }

    #[test]
    fn parses_back_with_independent_parser() {
        let ev = sample();
        let text = render(&calendar(vec![ev.clone()]));
        let unfolded = unfold(&text);
        let cal = read_calendar(&unfolded).expect("independent parser accepts it");
        let events: Vec<_> = (cal.components.iter())
            .filter(|c| c.name == "VEVENT")
            .collect();
        assert_eq!(events.len(), 1);
        let e = events[0];

        assert_eq!(prop(e, "UID").val.as_str(), ev.uid);
        assert_eq!(prop(e, "DTSTAMP").val.as_str(), "20261120T081500Z");
        let start = prop(e, "DTSTART");
        assert_eq!(param(start, "TZID"), Some("Asia/Ho_Chi_Minh"));
        assert_eq!(start.val.as_str(), "20261129T220000");
        let end = prop(e, "DTEND");
        assert_eq!(param(end, "TZID"), Some("Asia/Ho_Chi_Minh"));
        assert_eq!(
            end.val.as_str(),
            "20261130T053000",
            "night duty ends next day"
        );
        assert_eq!(
            prop(e, "RRULE").val.as_str(),
            "FREQ=WEEKLY;BYDAY=SU;COUNT=10"
        );

        let exdates = props(e, "EXDATE");
        assert_eq!(exdates.len(), 2);
        for (p, want) in exdates.iter().zip(["20261220T220000", "20261227T220000"]) {
            assert_eq!(param(p, "TZID"), Some("Asia/Ho_Chi_Minh"));
            assert_eq!(p.val.as_str(), want);
        }
        let rdate = prop(e, "RDATE");
        assert_eq!(param(rdate, "TZID"), Some("Asia/Ho_Chi_Minh"));
        assert_eq!(rdate.val.as_str(), "20261224T220000");

        // The parser unescapes TEXT, so these are the caller's strings again.
        assert_eq!(prop(e, "SUMMARY").val.as_str(), SUMMARY);
        assert_eq!(prop(e, "DESCRIPTION").val.as_str(), ev.description.unwrap());
        assert_eq!(prop(e, "LOCATION").val.as_str(), ev.location.unwrap());
        // It leaves TEXT lists raw: the escaped comma stays inside its item.
        assert_eq!(
            prop(e, "CATEGORIES").val.as_str(),
            "Tuần tra,Đêm\\, cuối tuần"
        );

        let geo = prop(e, "GEO").val.as_str();
        let (lat, lon) = geo.split_once(';').expect("GEO is lat;lon");
        assert_eq!(geo, "21.034568;105.852100");
        assert!((lat.parse::<f64>().unwrap() - 21.034_567_8).abs() < 1e-6);
        assert!((lon.parse::<f64>().unwrap() - 105.852_1).abs() < 1e-6);

        assert_eq!(prop(e, "STATUS").val.as_str(), "CONFIRMED");
        assert_eq!(prop(e, "SEQUENCE").val.as_str(), "3");
        assert_eq!(prop(e, "URL").val.as_str(), ev.url.unwrap());

        let attendees = props(e, "ATTENDEE");
        assert_eq!(attendees.len(), 2);
        assert_eq!(param(attendees[0], "CN"), Some("Nguyễn Văn An"));
        assert_eq!(param(attendees[0], "ROLE"), Some("REQ-PARTICIPANT"));
        assert_eq!(
            attendees[0].val.as_str(),
            "urn:wardwatch:person:Nguy%E1%BB%85n%20V%C4%83n%20An"
        );
        // Comma, colon and semicolon survive inside the quotes; the DQUOTE is RFC 6868's ^'.
        assert_eq!(param(attendees[1], "CN"), Some("Trần, Thị: Bình; ^'Út^'"));
        assert!(
            attendees[1]
                .val
                .as_str()
                .starts_with("urn:wardwatch:person:Tr%E1%BA%A7n%2C")
        );
    }

    #[test]
    fn calendar_properties_and_single_vtimezone_before_events() {
        let mut second = sample();
        second.uid = "duty-43-20261130@wardwatch".into();
        let text = render(&calendar(vec![sample(), second]));
        assert!(text.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(text.ends_with("END:VEVENT\r\nEND:VCALENDAR\r\n"));
        assert_eq!(text.matches("BEGIN:VTIMEZONE").count(), 1);
        assert!(text.find("END:VTIMEZONE").unwrap() < text.find("BEGIN:VEVENT").unwrap());

        let unfolded = unfold(&text);
        let cal = read_calendar(&unfolded).expect("parses");
        let value = |name: &str| {
            let p = cal.properties.iter().find(|p| p.name == name);
            p.map(|p| p.val.as_str().to_owned())
        };
        assert_eq!(value("VERSION").as_deref(), Some("2.0"));
        assert_eq!(value("PRODID").as_deref(), Some("-//wardwatch//duty//VI"));
        assert_eq!(value("CALSCALE").as_deref(), Some("GREGORIAN"));
        assert_eq!(value("METHOD").as_deref(), Some("PUBLISH"));
        assert_eq!(value("X-WR-TIMEZONE").as_deref(), Some("Asia/Ho_Chi_Minh"));
        // The parser reads X- properties as TEXT and unescapes them; the raw escapes
        // must be in the output for that round trip to hold.
        assert!(text.contains("\r\nX-WR-CALNAME:Lịch trực\\, phường Hàng Bạc\r\n"));
        assert_eq!(
            value("X-WR-CALNAME").as_deref(),
            Some("Lịch trực, phường Hàng Bạc")
        );
        assert!(text.contains("\r\nX-WR-CALDESC:Tổ 3\\; ca đêm\r\n"));
        assert_eq!(value("X-WR-CALDESC").as_deref(), Some("Tổ 3; ca đêm"));

        let names: Vec<&str> = cal.components.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["VTIMEZONE", "VEVENT", "VEVENT"]);
        let tz = &cal.components[0];
        assert_eq!(prop(tz, "TZID").val.as_str(), "Asia/Ho_Chi_Minh");
        assert_eq!(tz.components.len(), 1);
        let std = &tz.components[0];
        assert_eq!(std.name.as_str(), "STANDARD");
        assert_eq!(prop(std, "DTSTART").val.as_str(), "19750613T000000");
        assert_eq!(prop(std, "TZOFFSETFROM").val.as_str(), "+0700");
        assert_eq!(prop(std, "TZOFFSETTO").val.as_str(), "+0700");
        assert_eq!(prop(std, "TZNAME").val.as_str(), "+07");
        for ev in &cal.components[1..] {
            assert!(ev.find_prop("UID").is_some() && ev.find_prop("DTSTAMP").is_some());
        }
    }

    #[test]
    fn physical_lines_are_crlf_short_and_whole_utf8() {
        let mut ev = sample();
        // Two-, three- and four-octet characters at every offset against the fold.
        ev.summary = format!(
            "{SUMMARY} {} {} {}",
            "đ".repeat(90),
            "ố".repeat(70),
            "🚨".repeat(40)
        );
        // Every boundary here touches a blank, so folds fall back to the octet limit.
        ev.description = Some(format!("{}{}", "ố ".repeat(50), "🚨 ".repeat(30)));
        ev.location = Some("Ghi chú: ".repeat(40));
        ev.attendees =
            vec!["Tôn Nữ Hoàng Thị Phương Thảo, tổ trưởng, tổ dân phố số 3 — chợ Hàng".into()];
        let text = render(&calendar(vec![ev.clone()]));
        check_physical_lines(&text);
        assert!(text.contains("\r\n "), "long lines were folded");

        let unfolded = unfold(&text);
        let cal = read_calendar(&unfolded).expect("parses");
        let e = &cal.components[1];
        assert_eq!(prop(e, "SUMMARY").val.as_str(), ev.summary);
        assert_eq!(prop(e, "DESCRIPTION").val.as_str(), ev.description.unwrap());
        assert_eq!(
            param(prop(e, "ATTENDEE"), "CN"),
            Some(ev.attendees[0].as_str())
        );
    }

    #[test]
    fn folds_keep_blanks_and_escapes_off_line_edges() {
        let mut ev = sample();
        ev.summary = "Tuần tra đêm tổ dân phố số 3 — chợ Hàng ".repeat(8);
        ev.description = Some("Cổng; kho, \\ bãi;,\\ ".repeat(20));
        let text = render(&calendar(vec![ev.clone()]));
        check_physical_lines(&text);
        let lines: Vec<&str> = text.split("\r\n").collect();
        let mut folds = 0;
        for pair in lines.windows(2) {
            let (line, next) = (pair[0], pair[1]);
            if let Some(cont) = next.strip_prefix(' ') {
                folds += 1;
                assert!(!line.ends_with(' '), "blank before a fold: {line:?}");
                assert!(!line.ends_with('\\'), "escape cut by a fold: {line:?}");
                assert!(!cont.starts_with(' '), "blank after a fold: {next:?}");
                // Lines stay well filled despite the choice of fold points.
                assert!(line.len() >= 75 - 16 - 3, "short line: {line:?}");
            }
        }
        assert!(folds > 6);
        let unfolded = unfold(&text);
        let cal = read_calendar(&unfolded).expect("parses");
        let e = &cal.components[1];
        assert_eq!(prop(e, "SUMMARY").val.as_str(), ev.summary);
        assert_eq!(prop(e, "DESCRIPTION").val.as_str(), ev.description.unwrap());
    }

    #[test]
    fn escape_text_escapes_specials() {
        // CRLF, LF and a lone CR are each one line break; BEL is not allowed in TEXT.
        let escaped = escape_text("a\\b;c,d\ne\r\nf\rg\th\u{7}i: chợ");
        assert_eq!(escaped, concat!(r"a\\b\;c\,d\ne\nf\ng", "\thi: chợ"));
        assert_eq!(escape_text(""), "");
    }

    #[test]
    fn control_characters_cannot_forge_properties() {
        let mut ev = sample();
        ev.summary = "Ca sáng\r\nATTENDEE:mailto:x@example.com".into();
        ev.rrule = Some("FREQ=DAILY\r\nX-FORGED:1".into());
        ev.url = Some("https://wardwatch.example/\nX-FORGED:2".into());
        ev.attendees = vec!["An\r\nX-FORGED:3".into()];
        let text = render(&calendar(vec![ev]));
        check_physical_lines(&text);
        assert!(!text.contains("\r\nX-FORGED"));
        let unfolded = unfold(&text);
        let cal = read_calendar(&unfolded).expect("parses");
        let e = &cal.components[1];
        assert_eq!(
            prop(e, "SUMMARY").val.as_str(),
            "Ca sáng\nATTENDEE:mailto:x@example.com"
        );
        assert_eq!(prop(e, "RRULE").val.as_str(), "FREQ=DAILYX-FORGED:1");
        assert_eq!(props(e, "ATTENDEE").len(), 1);
        assert_eq!(param(prop(e, "ATTENDEE"), "CN"), Some("An^nX-FORGED:3"));
        assert!(
            e.properties
                .iter()
                .all(|p| !p.name.as_str().starts_with("X-"))
        );
    }

    #[test]
    fn invalid_values_are_left_out() {
        let mut ev = sample();
        ev.geo = Some((f64::NAN, 105.0));
        ev.end = ev.start;
        ev.status = Some(Status::Cancelled);
        ev.categories = vec![" ".into()];
        ev.attendees = vec!["".into(), "  ".into()];
        ev.description = None;
        let text = render(&calendar(vec![ev]));
        for absent in ["GEO", "DTEND", "CATEGORIES", "ATTENDEE", "DESCRIPTION"] {
            assert!(!text.contains(&format!("\r\n{absent}")), "{absent} written");
        }
        assert!(text.contains("\r\nSTATUS:CANCELLED\r\n"));
        let unfolded = unfold(&text);
        read_calendar(&unfolded).expect("parses");
        assert_eq!(Status::Tentative.as_str(), "TENTATIVE");
    }
}
