//! The column layouts of the three registries, matching a file's header row to them, and
//! reading one row's cells through the domain's checked constructors.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::read::{Cell, MAX_TITLE_ROWS, Row};
use super::{ImportError, MAX_ROWS, Registry, RowError};
use crate::domain::{self, Invalid, LatLon, Name};
use crate::text;

const NO_HEADER: &str = "Tệp trống: không tìm thấy dòng tiêu đề.";
const NO_DATA: &str = "Tệp không có dòng dữ liệu nào dưới dòng tiêu đề.";
pub(super) const EMPTY: &str = "Không được để trống ô này.";
pub(super) const ARCHIVED: &str = "Bản ghi này đã được lưu trữ; hãy khôi phục trước khi nhập lại.";
pub(super) const SAME_NAME: &str = "Trùng tên với một dòng khác trong tệp.";
pub(super) const NO_GROUP: &str = "Không tìm thấy tổ dân phố này trong phường.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Col {
    /// "STT": the row number wards put in the first column; read and ignored.
    Ordinal,
    GroupCode,
    GroupName,
    Households,
    Residents,
    Lat,
    Lon,
    Notes,
    SiteName,
    SiteKind,
    Group,
    Address,
    Floors,
    Apartments,
    ForeignResidents,
    Rooms,
    Lodgers,
    Visitors,
    LengthM,
    Schedule,
    InUseSince,
    Risk,
    FullName,
    PersonKind,
    Team,
    TeamRole,
    Force,
    BirthDate,
    CitizenId,
    Phone,
    RankTitle,
    Training,
    Equipment,
    JoinedOn,
}

pub(super) struct Column {
    pub col: Col,
    /// The header an export writes; also a translation key.
    pub header: &'static str,
    /// Other headers wards use for the same column.
    pub aliases: &'static [&'static str],
    pub required: bool,
}

const fn optional(col: Col, header: &'static str, aliases: &'static [&'static str]) -> Column {
    Column {
        col,
        header,
        aliases,
        required: false,
    }
}

const fn required(col: Col, header: &'static str, aliases: &'static [&'static str]) -> Column {
    Column {
        col,
        header,
        aliases,
        required: true,
    }
}

const ORDINAL: Column = optional(Col::Ordinal, "STT", &["TT", "Số TT", "Số thứ tự"]);
const RESIDENTS: Column = optional(
    Col::Residents,
    "Số nhân khẩu",
    &["Nhân khẩu", "Số dân", "Dân số", "residents"],
);
const LAT: Column = optional(Col::Lat, "Vĩ độ", &["lat", "latitude"]);
const LON: Column = optional(Col::Lon, "Kinh độ", &["lon", "lng", "longitude"]);
const ADDRESS: Column = optional(Col::Address, "Địa chỉ", &["address"]);
const NOTES: Column = optional(Col::Notes, "Ghi chú", &["notes"]);

const GROUPS: &[Column] = &[
    optional(Col::GroupCode, "Mã tổ", &["Mã", "Mã tổ dân phố", "code"]),
    required(
        Col::GroupName,
        "Tên tổ dân phố",
        &["Tên tổ", "Tổ dân phố", "Tên", "name"],
    ),
    optional(
        Col::Households,
        "Số hộ",
        &["Hộ", "Số hộ gia đình", "households"],
    ),
    RESIDENTS,
    LAT,
    LON,
    NOTES,
];

const GROUP: Column = optional(Col::Group, "Tổ dân phố", &["Tổ", "TDP", "group"]);

const SITES: &[Column] = &[
    required(Col::SiteName, "Tên địa bàn", &["Tên", "Tên cơ sở", "name"]),
    required(Col::SiteKind, "Loại", &["Loại địa bàn", "kind"]),
    GROUP,
    ADDRESS,
    LAT,
    LON,
    optional(Col::Floors, "Số tầng", &["Tầng", "floors"]),
    optional(Col::Apartments, "Số căn hộ", &["Căn hộ", "apartments"]),
    RESIDENTS,
    optional(
        Col::ForeignResidents,
        "Người nước ngoài",
        &["Số người nước ngoài", "foreign residents"],
    ),
    optional(Col::Rooms, "Số phòng", &["Phòng", "rooms"]),
    optional(
        Col::Lodgers,
        "Số người lưu trú",
        &["Người lưu trú", "Lưu trú", "lodgers"],
    ),
    optional(Col::Visitors, "Lượt khách", &["Số lượt khách", "visitors"]),
    optional(Col::LengthM, "Chiều dài (m)", &["Chiều dài", "length"]),
    optional(
        Col::Schedule,
        "Lịch phiên",
        &["Phiên chợ", "Lịch", "schedule"],
    ),
    optional(
        Col::InUseSince,
        "Năm đưa vào sử dụng",
        &["Năm sử dụng", "in use since"],
    ),
    optional(Col::Risk, "Nguy cơ", &["Nguy cơ, phức tạp", "risks"]),
    NOTES,
];

const PEOPLE: &[Column] = &[
    required(
        Col::FullName,
        "Họ và tên",
        &["Họ tên", "Tên", "full name", "name"],
    ),
    optional(Col::PersonKind, "Lực lượng", &["Loại lực lượng", "kind"]),
    optional(
        Col::Team,
        "Tổ bảo vệ",
        &["Tổ bảo vệ ANTT", "Tên tổ bảo vệ", "team"],
    ),
    optional(
        Col::TeamRole,
        "Chức danh",
        &["Chức danh trong tổ", "Vai trò", "role"],
    ),
    optional(Col::Force, "Lực lượng phối hợp", &["force"]),
    optional(
        Col::BirthDate,
        "Ngày sinh",
        &["Ngày tháng năm sinh", "birth date"],
    ),
    optional(
        Col::CitizenId,
        "Số CCCD",
        &[
            "CCCD",
            "Số căn cước",
            "Căn cước công dân",
            "Số CCCD/CMND",
            "CMND",
            "citizen id",
        ],
    ),
    optional(Col::Phone, "Số điện thoại", &["Điện thoại", "SĐT", "phone"]),
    optional(
        Col::Address,
        "Địa chỉ",
        &["Nơi ở", "Chỗ ở hiện nay", "address"],
    ),
    optional(
        Col::Group,
        "Tổ dân phố",
        &["Tổ dân phố nơi ở", "TDP", "group"],
    ),
    optional(
        Col::RankTitle,
        "Cấp bậc, chức vụ",
        &["Cấp bậc", "Chức vụ", "rank"],
    ),
    optional(Col::Training, "Tập huấn", &["training"]),
    optional(Col::Equipment, "Trang bị", &["equipment"]),
    optional(Col::JoinedOn, "Ngày tham gia", &["joined on"]),
    NOTES,
];

/// The columns of a registry, in the order an export writes them.
pub(super) fn columns(registry: Registry) -> &'static [Column] {
    match registry {
        Registry::Groups => GROUPS,
        Registry::Sites => SITES,
        Registry::People => PEOPLE,
    }
}

fn find_column(registry: Registry, header: &str) -> Option<&'static Column> {
    let folded = text::fold(header);
    columns(registry).iter().chain([&ORDINAL]).find(|c| {
        text::fold(c.header) == folded || c.aliases.iter().any(|a| text::fold(a) == folded)
    })
}

/// At most `max` graphemes of a cell, for a report.
pub(super) fn shorten(value: &str, max: usize) -> String {
    use unicode_segmentation::UnicodeSegmentation;
    if !text::graphemes_over(value, max) {
        return value.to_string();
    }
    let mut out: String = value.graphemes(true).take(max - 1).collect();
    out.push('…');
    out
}

/// The value shown for a duplicate: the cell and the line it repeats.
pub(super) fn repeats(value: &str, earlier: usize) -> String {
    format!("{} (dòng {earlier})", shorten(value, 45))
}

/// A file's header row matched to a registry's columns, and the data rows below it.
pub(super) struct Sheet<'a> {
    /// Each recognised column: its 0-based position in the file and its header text there.
    found: HashMap<Col, (usize, String)>,
    pub rows: &'a [Row],
}

impl<'a> Sheet<'a> {
    pub fn parse(registry: Registry, rows: &'a [Row]) -> Result<Self, ImportError> {
        // Titles above the header are single cells that name no column.
        let titles = rows
            .iter()
            .take(MAX_TITLE_ROWS)
            .take_while(|r| {
                r.cells.len() == 1 && find_column(registry, &r.cells[0].1.text()).is_none()
            })
            .count();
        let header = rows.get(titles).ok_or(ImportError::Unreadable(NO_HEADER))?;
        let data = &rows[titles + 1..];
        let mut errors = Vec::new();
        let mut found: HashMap<Col, (usize, String)> = HashMap::new();
        for (position, cell) in &header.cells {
            let name = cell.text();
            let problem = match find_column(registry, &name) {
                None => "Cột này không có trong mẫu; hãy sửa tên cột hoặc xoá cột.",
                Some(c) if found.contains_key(&c.col) => "Cột này bị lặp lại.",
                Some(c) => {
                    found.insert(c.col, (*position, name));
                    continue;
                }
            };
            errors.push(RowError {
                line: header.line,
                value: shorten(&name, 60),
                column: name,
                message: problem,
            });
        }
        for c in columns(registry).iter().filter(|c| c.required) {
            if !found.contains_key(&c.col) {
                errors.push(RowError {
                    line: header.line,
                    column: String::new(),
                    message: "Thiếu cột bắt buộc.",
                    value: c.header.to_string(),
                });
            }
        }
        if !errors.is_empty() {
            return Err(ImportError::Rows(errors));
        }
        if data.is_empty() {
            return Err(ImportError::Unreadable(NO_DATA));
        }
        if data.len() > MAX_ROWS {
            return Err(ImportError::Unreadable(super::read::TOO_MANY_ROWS));
        }
        Ok(Sheet { found, rows: data })
    }

    /// Whether the file has this column; a missing optional column keeps stored values.
    pub fn has(&self, col: Col) -> bool {
        self.found.contains_key(&col)
    }

    /// The column's header as the file writes it, or "".
    pub fn header(&self, col: Col) -> &str {
        self.found.get(&col).map_or("", |(_, h)| h.as_str())
    }

    pub fn check(&'a self, row: &'a Row) -> RowCheck<'a> {
        let mut check = RowCheck {
            line: row.line,
            sheet: self,
            row,
            errors: Vec::new(),
        };
        for (position, cell) in &row.cells {
            let col = self
                .found
                .iter()
                .find(|(_, (p, _))| p == position)
                .map(|(c, _)| *c);
            match (col, cell) {
                (None, _) => check.errors.push(RowError {
                    line: row.line,
                    column: String::new(),
                    message: "Ô có dữ liệu nhưng cột không có tiêu đề.",
                    value: shorten(&cell.text(), 60),
                }),
                (Some(Col::Ordinal), _) => {}
                (Some(col), Cell::Error(_)) => {
                    check.fail(col, "Ô bị lỗi công thức trong bảng tính.")
                }
                _ => {}
            }
        }
        check
    }
}

/// One data row being checked; every problem is collected, at most one per column.
pub(super) struct RowCheck<'a> {
    pub line: usize,
    sheet: &'a Sheet<'a>,
    row: &'a Row,
    pub errors: Vec<RowError>,
}

impl RowCheck<'_> {
    pub fn has(&self, col: Col) -> bool {
        self.sheet.has(col)
    }

    fn cell(&self, col: Col) -> Option<&Cell> {
        let (position, _) = self.sheet.found.get(&col)?;
        self.row
            .cells
            .iter()
            .find(|(p, _)| p == position)
            .map(|(_, c)| c)
    }

    /// The cell's text, trimmed; "" when empty, absent or a formula error.
    pub fn text(&self, col: Col) -> String {
        match self.cell(col) {
            Some(Cell::Error(_)) | None => String::new(),
            Some(c) => c.text(),
        }
    }

    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn fail(&mut self, col: Col, message: &'static str) {
        let value = self
            .cell(col)
            .map(|c| shorten(&c.text(), 60))
            .unwrap_or_default();
        self.fail_with(col, message, value);
    }

    pub fn fail_with(&mut self, col: Col, message: &'static str, value: String) {
        let column = self.sheet.header(col).to_string();
        if self
            .errors
            .iter()
            .any(|e| !column.is_empty() && e.column == column)
        {
            return;
        }
        self.errors.push(RowError {
            line: self.line,
            column,
            message,
            value,
        });
    }

    /// Runs a domain constructor on a non-empty cell; `None` when empty or refused.
    pub fn parse<T>(&mut self, col: Col, f: impl FnOnce(&str) -> Result<T, Invalid>) -> Option<T> {
        let text = self.text(col);
        if text.is_empty() {
            return None;
        }
        f(&text).map_err(|Invalid(m)| self.fail(col, m)).ok()
    }

    /// A required name; records an error when empty.
    pub fn name(&mut self, col: Col) -> Option<Name> {
        if self.text(col).is_empty() {
            self.fail(col, EMPTY);
            return None;
        }
        self.parse(col, Name::parse)
    }

    pub fn free_text(&mut self, col: Col) -> String {
        self.parse(col, domain::free_text).unwrap_or_default()
    }

    /// A whole number; a fraction from a spreadsheet or a misplaced separator is refused
    /// rather than read as thousands (parse_count takes "12.5" for 125).
    pub fn count(&mut self, col: Col) -> Option<i64> {
        let fraction = matches!(self.cell(col), Some(Cell::Number(f)) if f.fract() != 0.0);
        self.parse(col, |s| {
            let grouped = s.split(['.', ',']).skip(1).all(|g| g.len() == 3);
            if fraction || !grouped {
                return Err(Invalid("Cần một số nguyên không âm."));
            }
            domain::parse_count(s)
        })
        .flatten()
    }

    pub fn year(&mut self, col: Col) -> Option<i64> {
        let year = self.count(col)?;
        if (1000..=2999).contains(&year) {
            Some(year)
        } else {
            self.fail(col, "Năm phải là số có 4 chữ số, ví dụ 2017.");
            None
        }
    }

    /// A real spreadsheet date, or dd/mm/yyyy text (also with - or . between the parts).
    pub fn date(&mut self, col: Col) -> Option<NaiveDate> {
        if let Some(Cell::Date(d)) = self.cell(col) {
            return Some(*d);
        }
        self.parse(col, |s| {
            let parts: Vec<&str> = s.split(['/', '-', '.']).collect();
            let day_first = parts.len() == 3 && parts[0].len() <= 2 && parts[2].len() == 4;
            let s = if day_first {
                parts.join("/")
            } else {
                s.to_string()
            };
            domain::parse_date(&s)
        })
        .flatten()
    }

    /// Both coordinate cells together; reported on the latitude column.
    pub fn position(&mut self) -> Option<LatLon> {
        let (lat, lon) = (self.text(Col::Lat), self.text(Col::Lon));
        match LatLon::parse_pair(&lat, &lon) {
            Ok(p) => p,
            Err(Invalid(m)) => {
                let col = if lat.is_empty() { Col::Lon } else { Col::Lat };
                self.fail(col, m);
                None
            }
        }
    }

    /// A reference to a record of the ward by name (or code); `None` when empty or unknown.
    pub fn reference(&mut self, col: Col, lookup: &Lookup, missing: &'static str) -> Option<i64> {
        let text = self.text(col);
        if text.is_empty() {
            return None;
        }
        let found = lookup.find(&text);
        if found.is_none() {
            self.fail(col, missing);
        }
        found
    }

    /// A field that keeps its stored value when the file lacks every one of `cols`.
    pub fn keep<T: Default>(
        &mut self,
        cols: &[Col],
        stored: Option<T>,
        read: impl FnOnce(&mut Self) -> T,
    ) -> T {
        if cols.iter().any(|c| self.has(*c)) {
            read(self)
        } else {
            stored.unwrap_or_default()
        }
    }
}

/// Finds a record by what a user writes for it: exactly (ignoring case), else by the
/// folded form when only one record folds that way.
pub(super) struct Lookup {
    exact: HashMap<String, i64>,
    folded: HashMap<String, Option<i64>>,
}

impl Lookup {
    pub fn new<'s>(keys: impl IntoIterator<Item = (&'s str, i64)>) -> Self {
        let mut lookup = Lookup {
            exact: HashMap::new(),
            folded: HashMap::new(),
        };
        for (key, id) in keys {
            lookup.exact.entry(exact_key(key)).or_insert(id);
            lookup
                .folded
                .entry(text::fold(key))
                .and_modify(|e| {
                    if *e != Some(id) {
                        *e = None
                    }
                })
                .or_insert(Some(id));
        }
        lookup
    }

    pub fn find(&self, key: &str) -> Option<i64> {
        self.exact
            .get(&exact_key(key))
            .copied()
            .or_else(|| self.folded.get(&text::fold(key)).copied().flatten())
    }
}

/// Names compare NFC, single-spaced and without regard to case.
pub(super) fn exact_key(s: &str) -> String {
    text::clean(s).to_lowercase()
}

/// Keys already met in the file, with the line that first had each.
#[derive(Default)]
pub(super) struct Seen(HashMap<String, usize>);

impl Seen {
    /// Records `key` for `check`'s line; a repeat is an error naming the earlier line.
    pub fn note(
        &mut self,
        check: &mut RowCheck<'_>,
        col: Col,
        key: String,
        shown: &str,
        message: &'static str,
    ) {
        match self.0.entry(key) {
            std::collections::hash_map::Entry::Occupied(e) => {
                check.fail_with(col, message, repeats(shown, *e.get()))
            }
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(check.line);
            }
        }
    }
}

/// An exported row in the registry's column order.
pub(super) fn ordered(
    registry: Registry,
    mut cells: Vec<(Col, super::write::Out)>,
) -> Vec<super::write::Out> {
    columns(registry)
        .iter()
        .map(|c| match cells.iter().position(|(col, _)| *col == c.col) {
            Some(i) => cells.swap_remove(i).1,
            None => super::write::Out::Empty,
        })
        .collect()
}
