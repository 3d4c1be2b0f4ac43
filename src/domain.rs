//! Checked value types shared by every capability. Each is built only through a
//! constructor that refuses bad input, so nothing past the HTTP edge checks again.
//! Error messages are Vietnamese sentences that double as translation keys.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::text;

/// Why a value was refused; the text is Vietnamese and is translated on display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invalid(pub &'static str);

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// A code for a ward, residential group or province: lowercase letters, digits, dashes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Code(String);

impl Code {
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let code = input.trim().to_ascii_lowercase();
        if code.len() < 2 || code.len() > 60 {
            return Err(Invalid("Mã phải dài từ 2 đến 60 ký tự."));
        }
        if !code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(Invalid(
                "Mã chỉ gồm chữ không dấu, chữ số và dấu gạch ngang (ví dụ: du-hang-kenh).",
            ));
        }
        Ok(Self(code))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person's or place's name: NFC, single-spaced, 1 to `max` graphemes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Name(String);

impl Name {
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let name = text::clean(input);
        if name.is_empty() {
            return Err(Invalid("Không được để trống tên."));
        }
        if text::graphemes_over(&name, 200) {
            return Err(Invalid("Tên dài quá 200 ký tự."));
        }
        if name.chars().any(|c| c.is_control() || c == '<' || c == '>') {
            return Err(Invalid(
                "Tên không được chứa ký tự điều khiển hoặc dấu < >.",
            ));
        }
        Ok(Self(name))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn into_string(self) -> String {
        self.0
    }
}

/// Free text (notes, addresses): NFC, at most 4,000 graphemes; may be empty.
pub fn free_text(input: &str) -> Result<String, Invalid> {
    let t = text::clean_multiline(input);
    if text::graphemes_over(&t, 4000) {
        return Err(Invalid("Nội dung dài quá 4.000 ký tự."));
    }
    if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(Invalid("Nội dung chứa ký tự điều khiển không hợp lệ."));
    }
    Ok(t)
}

/// A Vietnamese phone number, stored as 0xxxxxxxxx (mobile) or 02xxxxxxxxx (landline).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let compact: String = input
            .chars()
            .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')'))
            .collect();
        let national = if let Some(rest) = compact.strip_prefix("+84") {
            format!("0{rest}")
        } else if let Some(rest) = compact.strip_prefix("84").filter(|r| r.len() == 9) {
            format!("0{rest}")
        } else {
            compact
        };
        let digits_ok = national.chars().all(|c| c.is_ascii_digit());
        let mobile =
            national.len() == 10 && national.starts_with('0') && !national.starts_with("02");
        let landline = national.len() == 11 && national.starts_with("02");
        if !digits_ok || !(mobile || landline) {
            return Err(Invalid(
                "Số điện thoại không hợp lệ: cần 10 chữ số bắt đầu bằng 0 (di động) hoặc 11 chữ số bắt đầu bằng 02 (cố định).",
            ));
        }
        Ok(Self(national))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Citizen identity card number (CCCD, 12 digits) or the older ID card (CMND, 9 digits).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct CitizenId(String);

impl CitizenId {
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let id: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        if !(id.len() == 12 || id.len() == 9) || !id.chars().all(|c| c.is_ascii_digit()) {
            return Err(Invalid(
                "Số CCCD phải gồm 12 chữ số (hoặc CMND cũ 9 chữ số).",
            ));
        }
        Ok(Self(id))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Shown to those who may know a member exists but not their ID: last 3 digits.
    pub fn masked(id: &str) -> String {
        let tail: String = id
            .chars()
            .rev()
            .take(3)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("•••••••••{tail}")
    }
}

/// A WGS 84 position.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LatLon {
    pub lat: f64,
    pub lon: f64,
}

impl LatLon {
    pub fn new(lat: f64, lon: f64) -> Result<Self, Invalid> {
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(Invalid("Vĩ độ phải nằm trong khoảng -90 đến 90."));
        }
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(Invalid("Kinh độ phải nằm trong khoảng -180 đến 180."));
        }
        Ok(Self { lat, lon })
    }

    /// Both empty means "no position"; one without the other is an error.
    pub fn parse_pair(lat: &str, lon: &str) -> Result<Option<Self>, Invalid> {
        let (lat, lon) = (lat.trim(), lon.trim());
        if lat.is_empty() && lon.is_empty() {
            return Ok(None);
        }
        let parse = |s: &str| s.replace(',', ".").parse::<f64>();
        match (parse(lat), parse(lon)) {
            (Ok(a), Ok(b)) => Self::new(a, b).map(Some),
            _ => Err(Invalid(
                "Toạ độ phải là hai số thập phân: vĩ độ và kinh độ.",
            )),
        }
    }
}

/// Dates are written dd/mm/yyyy; the ISO form of HTML date inputs is accepted too.
pub fn parse_date(input: &str) -> Result<Option<NaiveDate>, Invalid> {
    let s = input.trim();
    if s.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(s, "%d/%m/%Y")
        .or_else(|_| NaiveDate::parse_from_str(s, "%Y-%m-%d"))
        .map(Some)
        .map_err(|_| Invalid("Ngày phải viết theo dạng dd/mm/yyyy, ví dụ 19/08/2024."))
}

pub fn format_date(date: Option<NaiveDate>) -> String {
    date.map(|d| d.format("%d/%m/%Y").to_string())
        .unwrap_or_default()
}

/// A whole number from a form or sheet; empty means unknown. Thousands may be grouped
/// with dots, commas or spaces ("29.628"), but "12.5" is a fraction, not 125.
pub fn parse_count(input: &str) -> Result<Option<i64>, Invalid> {
    let s = input.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let groups: Vec<&str> = s.split(['.', ',', ' ']).collect();
    let grouped_ok = groups.len() == 1
        || (!groups[0].is_empty()
            && groups[0].len() <= 3
            && groups[1..].iter().all(|g| g.len() == 3));
    let digits: String = groups.concat();
    if !grouped_ok || digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(Invalid("Cần một số nguyên không âm."));
    }
    match digits.parse::<i64>() {
        Ok(n) if (0..=100_000_000).contains(&n) => Ok(Some(n)),
        _ => Err(Invalid("Cần một số nguyên không âm.")),
    }
}

/// Generates a string-backed enum with its stored names and Vietnamese labels.
macro_rules! labelled_enum {
    ($(#[$meta:meta])* $name:ident, $err:literal { $($variant:ident => $code:literal, $label:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }
            /// Vietnamese label; a translation key for other languages.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }
            /// Accepts the stored name or the label, in any case and with or without marks.
            pub fn parse(input: &str) -> Result<Self, Invalid> {
                // Stored names come back exactly as written: no folding for them (rows
                // are read on every request).
                match input {
                    $($code => return Ok($name::$variant),)+
                    _ => {}
                }
                let folded = crate::text::fold(input);
                $(
                    if folded == crate::text::fold($code) || folded == crate::text::fold($label) {
                        return Ok($name::$variant);
                    }
                )+
                Err(Invalid($err))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use labelled_enum;

labelled_enum!(
    /// Who a user is; see DESIGN "Who uses it".
    Role, "Vai trò không hợp lệ: admin, officer, leadership, team_leader, team_member, volunteer hoặc resident." {
        Admin => "admin", "Quản trị hệ thống";
        Officer => "officer", "Cán bộ Công an phường";
        Leadership => "leadership", "Lãnh đạo phường";
        TeamLeader => "team_leader", "Tổ trưởng/tổ phó bảo vệ ANTT";
        TeamMember => "team_member", "Tổ viên bảo vệ ANTT";
        Volunteer => "volunteer", "Tình nguyện viên lực lượng phối hợp";
        Resident => "resident", "Người dân";
    }
);

labelled_enum!(
    /// A level of the administrative tree; none is required.
    UnitKind, "Loại đơn vị hành chính không hợp lệ." {
        Province => "province", "Tỉnh/Thành phố";
        District => "district", "Quận/Huyện (cũ)";
        Ward => "ward", "Phường";
        Commune => "commune", "Xã";
        SpecialZone => "special_zone", "Đặc khu";
        Quarter => "quarter", "Khu phố";
        Group => "group", "Tổ dân phố";
        Village => "village", "Thôn";
    }
);

impl UnitKind {
    /// Units that own records (a ward's registers, teams, accounts).
    pub fn is_ward(self) -> bool {
        matches!(
            self,
            UnitKind::Ward | UnitKind::Commune | UnitKind::SpecialZone
        )
    }
    /// Grassroots units: a security team covers one or more of these.
    pub fn is_grassroots(self) -> bool {
        matches!(self, UnitKind::Group | UnitKind::Village)
    }
}

labelled_enum!(
    SiteKind, "Loại địa bàn không hợp lệ." {
        ApartmentBuilding => "apartment_building", "Chung cư cao tầng";
        CollectiveHousing => "collective_housing", "Khu tập thể";
        Lodging => "lodging", "Nhà nghỉ, nhà trọ";
        School => "school", "Trường học";
        Market => "market", "Chợ";
        Road => "road", "Tuyến đường";
        Venue => "venue", "Nhà văn hoá, sân vận động, nơi công cộng";
        Agency => "agency", "Cơ quan, doanh nghiệp";
        Other => "other", "Khác";
    }
);

labelled_enum!(
    PersonKind, "Loại lực lượng không hợp lệ." {
        TeamMember => "team_member", "Thành viên Tổ bảo vệ ANTT";
        Volunteer => "volunteer", "Tình nguyện viên lực lượng phối hợp";
        Officer => "officer", "Cán bộ Công an phường";
    }
);

labelled_enum!(
    TeamRole, "Chức danh trong tổ phải là tổ trưởng, tổ phó hoặc tổ viên." {
        Leader => "leader", "Tổ trưởng";
        Deputy => "deputy", "Tổ phó";
        Member => "member", "Tổ viên";
    }
);

labelled_enum!(
    ForceKind, "Loại lực lượng phối hợp không hợp lệ." {
        Veterans => "veterans", "Hội Cựu chiến binh";
        Militia => "militia", "Dân quân tự vệ";
        YouthUnion => "youth_union", "Đoàn Thanh niên";
        Women => "women", "Hội Liên hiệp Phụ nữ";
        Other => "other", "Lực lượng khác";
    }
);

/// English for the messages and labels above.
pub const TEXTS: crate::i18n::Texts = &[
    (
        "Mã phải dài từ 2 đến 60 ký tự.",
        "A code must be 2 to 60 characters long.",
    ),
    (
        "Mã chỉ gồm chữ không dấu, chữ số và dấu gạch ngang (ví dụ: du-hang-kenh).",
        "A code may only hold unaccented letters, digits and dashes (e.g. du-hang-kenh).",
    ),
    ("Không được để trống tên.", "The name must not be empty."),
    (
        "Tên dài quá 200 ký tự.",
        "The name is longer than 200 characters.",
    ),
    (
        "Tên không được chứa ký tự điều khiển hoặc dấu < >.",
        "The name must not contain control characters or < >.",
    ),
    (
        "Nội dung dài quá 4.000 ký tự.",
        "The text is longer than 4,000 characters.",
    ),
    (
        "Nội dung chứa ký tự điều khiển không hợp lệ.",
        "The text contains invalid control characters.",
    ),
    (
        "Số điện thoại không hợp lệ: cần 10 chữ số bắt đầu bằng 0 (di động) hoặc 11 chữ số bắt đầu bằng 02 (cố định).",
        "Invalid phone number: 10 digits starting with 0 (mobile) or 11 digits starting with 02 (landline).",
    ),
    (
        "Số CCCD phải gồm 12 chữ số (hoặc CMND cũ 9 chữ số).",
        "A citizen ID number has 12 digits (or 9 for the old ID card).",
    ),
    (
        "Vĩ độ phải nằm trong khoảng -90 đến 90.",
        "Latitude must be between -90 and 90.",
    ),
    (
        "Kinh độ phải nằm trong khoảng -180 đến 180.",
        "Longitude must be between -180 and 180.",
    ),
    (
        "Toạ độ phải là hai số thập phân: vĩ độ và kinh độ.",
        "A position is two decimal numbers: latitude and longitude.",
    ),
    (
        "Ngày phải viết theo dạng dd/mm/yyyy, ví dụ 19/08/2024.",
        "Dates are written dd/mm/yyyy, e.g. 19/08/2024.",
    ),
    (
        "Cần một số nguyên không âm.",
        "A whole number, zero or more, is needed.",
    ),
    (
        "Vai trò không hợp lệ: admin, officer, leadership, team_leader, team_member, volunteer hoặc resident.",
        "Invalid role: admin, officer, leadership, team_leader, team_member, volunteer or resident.",
    ),
    ("Quản trị hệ thống", "System administrator"),
    ("Cán bộ Công an phường", "Ward police officer"),
    ("Lãnh đạo phường", "Ward leadership"),
    (
        "Tổ trưởng/tổ phó bảo vệ ANTT",
        "Security team leader/deputy",
    ),
    ("Tổ viên bảo vệ ANTT", "Security team member"),
    (
        "Tình nguyện viên lực lượng phối hợp",
        "Partner-force volunteer",
    ),
    ("Người dân", "Resident"),
    (
        "Loại đơn vị hành chính không hợp lệ.",
        "Invalid kind of administrative unit.",
    ),
    ("Tỉnh/Thành phố", "Province/City"),
    ("Quận/Huyện (cũ)", "District (former)"),
    ("Phường", "Ward"),
    ("Xã", "Commune"),
    ("Đặc khu", "Special zone"),
    ("Khu phố", "Quarter"),
    ("Tổ dân phố", "Residential group"),
    ("Thôn", "Village"),
    ("Loại địa bàn không hợp lệ.", "Invalid kind of site."),
    ("Chung cư cao tầng", "Apartment building"),
    ("Khu tập thể", "Collective housing block"),
    ("Nhà nghỉ, nhà trọ", "Guesthouse / rental rooms"),
    ("Trường học", "School"),
    ("Chợ", "Market"),
    ("Tuyến đường", "Road"),
    (
        "Nhà văn hoá, sân vận động, nơi công cộng",
        "Venue (cultural house, stadium, public place)",
    ),
    ("Cơ quan, doanh nghiệp", "Agency or business"),
    ("Khác", "Other"),
    ("Loại lực lượng không hợp lệ.", "Invalid kind of force."),
    ("Thành viên Tổ bảo vệ ANTT", "Security team member"),
    (
        "Chức danh trong tổ phải là tổ trưởng, tổ phó hoặc tổ viên.",
        "The team role must be leader, deputy or member.",
    ),
    ("Tổ trưởng", "Leader"),
    ("Tổ phó", "Deputy"),
    ("Tổ viên", "Member"),
    (
        "Loại lực lượng phối hợp không hợp lệ.",
        "Invalid kind of partner force.",
    ),
    ("Hội Cựu chiến binh", "Veterans' association"),
    ("Dân quân tự vệ", "Militia"),
    ("Đoàn Thanh niên", "Youth union"),
    ("Hội Liên hiệp Phụ nữ", "Women's union"),
    ("Lực lượng khác", "Other force"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_normalise_or_refuse() {
        assert_eq!(
            Phone::parse("+84 912 345 678").unwrap().as_str(),
            "0912345678"
        );
        assert_eq!(
            Phone::parse("0225.3846.123").unwrap().as_str(),
            "02253846123"
        );
        assert!(Phone::parse("12345").is_err());
        assert!(Phone::parse("09123456ab").is_err());
    }

    #[test]
    fn codes_and_ids() {
        assert_eq!(
            Code::parse(" Du-Hang-Kenh ").unwrap().as_str(),
            "du-hang-kenh"
        );
        assert!(Code::parse("dư hàng").is_err());
        assert!(CitizenId::parse("031200001234").is_ok());
        assert!(CitizenId::parse("03120000123").is_err());
        assert_eq!(CitizenId::masked("031200001234"), "•••••••••234");
    }

    #[test]
    fn positions_dates_counts() {
        assert!(LatLon::parse_pair("20.85", "106.69").unwrap().is_some());
        assert!(LatLon::parse_pair("", "").unwrap().is_none());
        assert!(LatLon::parse_pair("95", "106").is_err());
        assert!(LatLon::parse_pair("20.8", "").is_err());
        let d = parse_date("19/08/2024").unwrap().unwrap();
        assert_eq!(format_date(Some(d)), "19/08/2024");
        assert_eq!(parse_date("2024-08-19").unwrap(), Some(d));
        assert!(parse_date("31/02/2024").is_err());
        assert_eq!(parse_count("8.480").unwrap(), Some(8480));
        assert!(parse_count("-3").is_err());
        assert_eq!(parse_count("29 628").unwrap(), Some(29628));
        assert!(parse_count("12.5").is_err());
        assert!(parse_count("1.2345").is_err());
    }

    #[test]
    fn enums_parse_labels_without_marks() {
        assert_eq!(SiteKind::parse("cho").unwrap(), SiteKind::Market);
        assert_eq!(
            SiteKind::parse("Khu tập thể").unwrap(),
            SiteKind::CollectiveHousing
        );
        assert_eq!(Role::parse("TEAM_LEADER").unwrap(), Role::TeamLeader);
        assert_eq!(TeamRole::parse("tổ phó").unwrap(), TeamRole::Deputy);
        assert!(Role::parse("root").is_err());
    }
}
