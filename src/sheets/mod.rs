//! Import and export of a ward's registries (residential groups, sites, forces) in the
//! spreadsheet layouts wards keep in Excel today: Vietnamese headers, CSV or XLSX.
//! An import checks every row before writing anything, then writes all rows in one batch.

mod groups;
mod layout;
mod people;
mod read;
mod sites;
#[cfg(test)]
mod tests;
pub mod web;
mod write;

use std::path::Path;

use serde::Serialize;

use crate::store::territory::Unit;
use crate::store::{Actor, BatchError, Store, StoreError, Write};
use layout::{Col, Sheet};

pub const MAX_BYTES: usize = 10 * 1024 * 1024;
pub const MAX_ROWS: usize = 50_000;

/// Which registry a sheet holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Registry {
    Groups,
    Sites,
    People,
}

impl Registry {
    pub const ALL: &'static [Registry] = &[Registry::Groups, Registry::Sites, Registry::People];

    /// The English names, or the Vietnamese ones with or without marks ("to-dan-pho").
    pub fn parse(input: &str) -> Option<Self> {
        match crate::text::fold(input).as_str() {
            "groups" | "to dan pho" => Some(Registry::Groups),
            "sites" | "dia ban" => Some(Registry::Sites),
            "people" | "luc luong" => Some(Registry::People),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Registry::Groups => "groups",
            Registry::Sites => "sites",
            Registry::People => "people",
        }
    }

    /// Vietnamese name, used as the worksheet's name in an export.
    pub fn label(self) -> &'static str {
        match self {
            Registry::Groups => "Tổ dân phố",
            Registry::Sites => "Địa bàn",
            Registry::People => "Lực lượng",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    pub fn from_path(path: &Path) -> Option<Self> {
        Self::from_name(path.extension()?.to_str()?)
    }

    pub fn from_name(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "xlsx" => Some(Format::Xlsx),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }
}

/// One problem in an imported file, located as the spreadsheet user sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// 1-based line (CSV) or row (XLSX) number; the header row's own number for header problems.
    pub line: usize,
    /// The header as written in the file, or "" when the problem is not in one column.
    pub column: String,
    /// A Vietnamese sentence and translation key.
    pub message: &'static str,
    /// The offending cell, at most 60 characters; a duplicate names the earlier line here.
    pub value: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file as a whole cannot be used; the text is Vietnamese.
    #[error("{0}")]
    Unreadable(&'static str),
    /// Every bad row, in file order; nothing was written.
    #[error("{} problem(s) in the file", .0.len())]
    Rows(Vec<RowError>),
    #[error("store: {0}")]
    Store(StoreError),
}

impl From<StoreError> for ImportError {
    fn from(e: StoreError) -> Self {
        ImportError::Store(e)
    }
}

const NOT_A_WARD: &str = "Đơn vị được chọn không phải là phường, xã hoặc đặc khu.";

/// The checked rows of a file, ready for one `apply`.
#[derive(Default)]
struct Plan {
    writes: Vec<Write>,
    /// The file line of each write, to place a refusal from the store.
    lines: Vec<usize>,
    created: usize,
    updated: usize,
}

impl Plan {
    fn push(&mut self, line: usize, write: Write) {
        self.writes.push(write);
        self.lines.push(line);
    }
}

/// Calls `progress` every few rows and at the end, so a bar moves without flooding a channel.
fn tick(progress: &(dyn Fn(usize, usize) + Send + Sync), done: usize, total: usize) {
    if done.is_multiple_of(250) || done == total {
        progress(done, total);
    }
}

/// All or nothing: any bad row -> Err(Rows(all bad rows)), nothing written.
pub async fn import(
    store: &dyn Store,
    actor: Actor,
    ward: &Unit,
    registry: Registry,
    format: Format,
    bytes: &[u8],
    progress: &(dyn Fn(usize, usize) + Send + Sync),
) -> Result<ImportReport, ImportError> {
    if !ward.kind().is_ward() {
        return Err(ImportError::Unreadable(NOT_A_WARD));
    }
    if bytes.len() > MAX_BYTES {
        return Err(ImportError::Unreadable(read::TOO_LARGE));
    }
    // Unzipping and parsing a large sheet is heavy; keep it off the async threads. A panic
    // inside a parser on a hostile file ends that task only.
    let owned = bytes.to_vec();
    let rows = tokio::task::spawn_blocking(move || read::read(format, &owned))
        .await
        .map_err(|_| ImportError::Unreadable(read::unreadable(format)))?
        .map_err(ImportError::Unreadable)?;
    let sheet = Sheet::parse(registry, &rows)?;
    progress(0, sheet.rows.len());
    let plan = match registry {
        Registry::Groups => {
            let data = groups::Data::load(store, ward).await?;
            groups::plan(ward, &data, &sheet, progress)
        }
        Registry::Sites => {
            let data = sites::Data::load(store, ward).await?;
            sites::plan(ward, &data, &sheet, progress)
        }
        Registry::People => {
            let data = people::Data::load(store, ward).await?;
            people::plan(ward, &data, &sheet, progress)
        }
    }
    .map_err(|mut errors| {
        errors.sort_by_key(|e| e.line);
        ImportError::Rows(errors)
    })?;
    store
        .apply(actor, &plan.writes)
        .await
        .map_err(|e| refused(&sheet, &plan.lines, e))?;
    Ok(ImportReport {
        created: plan.created,
        updated: plan.updated,
    })
}

/// A refusal the checks could not foresee (a concurrent edit, another ward's record):
/// constraint failures become a row error on the write's line, the rest a store error.
fn refused(sheet: &Sheet, lines: &[usize], e: BatchError) -> ImportError {
    let Some(&line) = lines.get(e.index) else {
        return ImportError::Store(e.error);
    };
    let (col, message) = match &e.error {
        StoreError::Conflict(name) => match name.as_str() {
            "units_code_key" => (
                Some(Col::GroupCode),
                "Mã này đã được dùng cho một đơn vị khác.",
            ),
            "sites_ward_id_name_key" => (Some(Col::SiteName), "Phường đã có địa bàn cùng tên."),
            "people_citizen_id_key" => (
                Some(Col::CitizenId),
                "Số CCCD này đã có trong hồ sơ khác (có thể ở phường khác).",
            ),
            "people_team_id_team_role_key" => (
                Some(Col::TeamRole),
                "Tổ bảo vệ này đã có tổ trưởng hoặc tổ phó.",
            ),
            _ => (None, "Dữ liệu trùng với một bản ghi đã có."),
        },
        StoreError::Reference => (
            None,
            "Dòng này tham chiếu tới một bản ghi không còn tồn tại.",
        ),
        _ => return ImportError::Store(e.error),
    };
    let column = col.map(|c| sheet.header(c).to_string()).unwrap_or_default();
    ImportError::Rows(vec![RowError {
        line,
        column,
        message,
        value: String::new(),
    }])
}

/// Same columns as the import reads, so an export can be edited and imported back.
pub async fn export(
    store: &dyn Store,
    ward: &Unit,
    registry: Registry,
    format: Format,
    personal_data: bool,
) -> anyhow::Result<Vec<u8>> {
    let rows = match registry {
        Registry::Groups => groups::export(store, ward).await?,
        Registry::Sites => sites::export(store, ward).await?,
        Registry::People => people::export(store, ward, personal_data).await?,
    };
    let headers: Vec<&'static str> = layout::columns(registry).iter().map(|c| c.header).collect();
    match format {
        Format::Csv => write::csv(&headers, &rows),
        Format::Xlsx => {
            tokio::task::spawn_blocking(move || write::xlsx(registry.label(), &headers, &rows))
                .await?
        }
    }
}

/// RFC 7946 FeatureCollection of the ward's non-archived sites that have a position.
pub async fn sites_geojson(store: &dyn Store, ward: &Unit) -> anyhow::Result<serde_json::Value> {
    sites::geojson(store, ward).await
}

pub const TEXTS: crate::i18n::Texts = &[
    // Registries
    ("Địa bàn", "Sites"),
    ("Lực lượng", "Forces"),
    // Headers
    ("STT", "No."),
    ("Mã tổ", "Group code"),
    ("Tên tổ dân phố", "Residential group name"),
    ("Số hộ", "Households"),
    ("Số nhân khẩu", "Residents"),
    ("Vĩ độ", "Latitude"),
    ("Kinh độ", "Longitude"),
    ("Ghi chú", "Notes"),
    ("Tên địa bàn", "Site name"),
    ("Loại", "Kind"),
    ("Địa chỉ", "Address"),
    ("Số tầng", "Floors"),
    ("Số căn hộ", "Apartments"),
    ("Người nước ngoài", "Foreign residents"),
    ("Số phòng", "Rooms"),
    ("Số người lưu trú", "Lodgers"),
    ("Lượt khách", "Visitors"),
    ("Chiều dài (m)", "Length (m)"),
    ("Lịch phiên", "Session schedule"),
    ("Năm đưa vào sử dụng", "In use since (year)"),
    ("Nguy cơ", "Risks"),
    ("Họ và tên", "Full name"),
    ("Tổ bảo vệ", "Security team"),
    ("Chức danh", "Team role"),
    ("Lực lượng phối hợp", "Partner force"),
    ("Ngày sinh", "Date of birth"),
    ("Số CCCD", "Citizen ID number"),
    ("Số điện thoại", "Phone number"),
    ("Cấp bậc, chức vụ", "Rank, position"),
    ("Tập huấn", "Training"),
    ("Trang bị", "Equipment"),
    ("Ngày tham gia", "Joined on"),
    // The file as a whole
    (
        NOT_A_WARD,
        "The selected unit is not a ward, commune or special zone.",
    ),
    (
        "Tệp lớn hơn 10 MB; hãy chia thành nhiều tệp nhỏ hơn.",
        "The file is larger than 10 MB; split it into smaller files.",
    ),
    (
        "Tệp có hơn 50.000 dòng dữ liệu; hãy chia thành nhiều tệp nhỏ hơn.",
        "The file has more than 50,000 data rows; split it into smaller files.",
    ),
    (
        "Tệp trống: không tìm thấy dòng tiêu đề.",
        "The file is empty: no header row was found.",
    ),
    (
        "Tệp không có dòng dữ liệu nào dưới dòng tiêu đề.",
        "The file has no data rows below the header row.",
    ),
    (
        "Tệp không phải là bảng tính XLSX hợp lệ.",
        "The file is not a valid XLSX spreadsheet.",
    ),
    (
        "Tệp là bảng tính Excel 97-2003 (.xls); hãy mở bằng Excel và lưu lại dưới dạng .xlsx.",
        "The file is an Excel 97-2003 workbook (.xls); open it in Excel and save it as .xlsx.",
    ),
    (
        "Tệp là bảng tính XLSX, không phải CSV; hãy chọn định dạng XLSX.",
        "The file is an XLSX workbook, not CSV; choose the XLSX format.",
    ),
    (
        "Tệp không phải là tệp CSV dạng văn bản.",
        "The file is not a CSV text file.",
    ),
    (
        "Tệp CSV không dùng bảng mã UTF-8; trong Excel hãy lưu bằng \"CSV UTF-8 (Comma delimited)\".",
        "The CSV file is not UTF-8; in Excel save it as \"CSV UTF-8 (Comma delimited)\".",
    ),
    ("Tệp CSV bị lỗi cấu trúc.", "The CSV file is malformed."),
    (
        "Bảng tính có quá nhiều ô dữ liệu.",
        "The spreadsheet has too many cells.",
    ),
    (
        "Bảng tính quá lớn khi giải nén (trên 200 MB).",
        "The spreadsheet is too large when uncompressed (over 200 MB).",
    ),
    (
        "Bảng tính không có trang tính nào.",
        "The workbook has no worksheet.",
    ),
    // Header row
    (
        "Cột này không có trong mẫu; hãy sửa tên cột hoặc xoá cột.",
        "This column is not part of the layout; rename or remove it.",
    ),
    ("Cột này bị lặp lại.", "This column appears twice."),
    ("Thiếu cột bắt buộc.", "A required column is missing."),
    // Rows
    (
        "Ô có dữ liệu nhưng cột không có tiêu đề.",
        "This cell has data but its column has no header.",
    ),
    (
        "Ô bị lỗi công thức trong bảng tính.",
        "The cell holds a formula error.",
    ),
    ("Không được để trống ô này.", "This cell must not be empty."),
    (
        "Năm phải là số có 4 chữ số, ví dụ 2017.",
        "A year has 4 digits, e.g. 2017.",
    ),
    (
        "Bản ghi này đã được lưu trữ; hãy khôi phục trước khi nhập lại.",
        "This record is archived; restore it before importing it again.",
    ),
    (
        "Mã này đã được dùng cho một đơn vị khác.",
        "This code is already used by another unit.",
    ),
    (
        "Phường đã có tổ dân phố cùng tên với mã khác; hãy sửa mã cho khớp hoặc để trống ô mã.",
        "The ward has a residential group of this name under another code; correct the code or leave it empty.",
    ),
    (
        "Không tạo được mã từ tên tổ; hãy ghi mã vào cột Mã tổ.",
        "No code can be made from this name; write one in the group code column.",
    ),
    (
        "Mã tạo từ tên tổ đã được dùng; hãy ghi mã vào cột Mã tổ.",
        "The code made from this name is taken; write one in the group code column.",
    ),
    (
        "Trùng mã với một dòng khác trong tệp.",
        "Same code as another line of the file.",
    ),
    (
        "Trùng tên với một dòng khác trong tệp.",
        "Same name as another line of the file.",
    ),
    (
        "Trùng số CCCD với một dòng khác trong tệp.",
        "Same citizen ID number as another line of the file.",
    ),
    (
        "Dòng này chỉ cùng một người với một dòng khác trong tệp.",
        "This line refers to the same person as another line of the file.",
    ),
    (
        "Trùng họ tên (và ngày sinh) với một dòng khác trong tệp; nếu là hai người khác nhau, hãy ghi số CCCD.",
        "Same full name (and date of birth) as another line of the file; if they are two people, add their citizen ID numbers.",
    ),
    (
        "Không tìm thấy tổ dân phố này trong phường.",
        "No such residential group in the ward.",
    ),
    (
        "Không tìm thấy tổ bảo vệ này trong phường.",
        "No such security team in the ward.",
    ),
    (
        "Không tìm thấy lực lượng phối hợp này trong phường.",
        "No such partner force in the ward.",
    ),
    (
        "Thành viên Tổ bảo vệ ANTT phải ghi tên tổ bảo vệ.",
        "A security team member needs the name of their team.",
    ),
    (
        "Tình nguyện viên phải ghi tên lực lượng phối hợp.",
        "A volunteer needs the name of their partner force.",
    ),
    (
        "Chỉ thành viên Tổ bảo vệ ANTT mới ghi tổ bảo vệ và chức danh trong tổ.",
        "Only security team members have a team and a team role.",
    ),
    (
        "Chỉ tình nguyện viên mới ghi lực lượng phối hợp.",
        "Only volunteers have a partner force.",
    ),
    (
        "Có nhiều người cùng họ tên trong phường; hãy ghi số CCCD hoặc ngày sinh để phân biệt.",
        "Several people in the ward have this name; add the citizen ID number or date of birth.",
    ),
    (
        "Tổ bảo vệ này đã có tổ trưởng.",
        "This team already has a leader.",
    ),
    (
        "Tổ bảo vệ này đã có tổ phó.",
        "This team already has a deputy.",
    ),
    // Refusals from the store
    (
        "Phường đã có địa bàn cùng tên.",
        "The ward already has a site of this name.",
    ),
    (
        "Số CCCD này đã có trong hồ sơ khác (có thể ở phường khác).",
        "This citizen ID number is already on another record (perhaps in another ward).",
    ),
    (
        "Tổ bảo vệ này đã có tổ trưởng hoặc tổ phó.",
        "This team already has a leader or deputy.",
    ),
    (
        "Dữ liệu trùng với một bản ghi đã có.",
        "The data duplicates an existing record.",
    ),
    (
        "Dòng này tham chiếu tới một bản ghi không còn tồn tại.",
        "This line refers to a record that no longer exists.",
    ),
];
