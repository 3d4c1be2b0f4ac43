//! Reading a CSV or XLSX file into its non-empty rows and cells, refusing a file that is
//! not the format named or too large before any row is checked.

use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::{DataRef, Reader, SheetType, Xlsx};
use chrono::NaiveDate;

use super::{Format, MAX_BYTES, MAX_ROWS};

pub(super) const TOO_LARGE: &str = "Tệp lớn hơn 10 MB; hãy chia thành nhiều tệp nhỏ hơn.";
pub(super) const TOO_MANY_ROWS: &str =
    "Tệp có hơn 50.000 dòng dữ liệu; hãy chia thành nhiều tệp nhỏ hơn.";
const NOT_XLSX: &str = "Tệp không phải là bảng tính XLSX hợp lệ.";
const XLS: &str =
    "Tệp là bảng tính Excel 97-2003 (.xls); hãy mở bằng Excel và lưu lại dưới dạng .xlsx.";
const XLSX_NOT_CSV: &str = "Tệp là bảng tính XLSX, không phải CSV; hãy chọn định dạng XLSX.";
const NOT_CSV: &str = "Tệp không phải là tệp CSV dạng văn bản.";
const NOT_UTF8: &str =
    "Tệp CSV không dùng bảng mã UTF-8; trong Excel hãy lưu bằng \"CSV UTF-8 (Comma delimited)\".";
const BAD_CSV: &str = "Tệp CSV bị lỗi cấu trúc.";
const TOO_MANY_CELLS: &str = "Bảng tính có quá nhiều ô dữ liệu.";
const TOO_LARGE_UNZIPPED: &str = "Bảng tính quá lớn khi giải nén (trên 200 MB).";
const NO_SHEET: &str = "Bảng tính không có trang tính nào.";

/// Rows above the header that hold only a title ("DANH SÁCH TỔ DÂN PHỐ") are skipped.
pub(super) const MAX_TITLE_ROWS: usize = 5;
/// A real registry has a few dozen columns; this bounds memory whatever the file claims.
const MAX_CELLS: usize = MAX_ROWS * 40;
/// An XLSX is a zip: a small file may claim to unpack to gigabytes.
const MAX_UNZIPPED: u64 = 200 * 1024 * 1024;

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0];

/// The message for a file of `format` that could not be parsed at all.
pub(super) fn unreadable(format: Format) -> &'static str {
    match format {
        Format::Csv => BAD_CSV,
        Format::Xlsx => NOT_XLSX,
    }
}

/// A non-empty cell. XLSX keeps numbers and dates typed, so a count can refuse 12.5 and a
/// date cell needs no text form; CSV cells are all text.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Cell {
    Text(String),
    Number(f64),
    Date(NaiveDate),
    /// A formula whose result is an error (#N/A, #DIV/0!, …).
    Error(String),
}

impl Cell {
    /// The cell as a person would type it: 8480.0 → "8480", a date → dd/mm/yyyy.
    pub(super) fn text(&self) -> String {
        match self {
            Cell::Text(s) | Cell::Error(s) => s.trim().to_string(),
            Cell::Number(f) => number_text(*f),
            Cell::Date(d) => d.format("%d/%m/%Y").to_string(),
        }
    }
}

pub(super) fn number_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// One row with at least one non-empty cell; `cells` are (0-based column, value) in order.
#[derive(Debug, Clone)]
pub(super) struct Row {
    pub line: usize,
    pub cells: Vec<(usize, Cell)>,
}

pub(super) fn read(format: Format, bytes: &[u8]) -> Result<Vec<Row>, &'static str> {
    if bytes.len() > MAX_BYTES {
        return Err(TOO_LARGE);
    }
    match format {
        Format::Csv => read_csv(bytes),
        Format::Xlsx => read_xlsx(bytes),
    }
}

/// Counts rows and cells as they are read, so a huge file stops early.
#[derive(Default)]
struct Budget {
    rows: usize,
    cells: usize,
}

impl Budget {
    fn take(&mut self, new_row: bool) -> Result<(), &'static str> {
        self.cells += 1;
        if self.cells > MAX_CELLS {
            return Err(TOO_MANY_CELLS);
        }
        if new_row {
            self.rows += 1;
            if self.rows > MAX_ROWS + 1 + MAX_TITLE_ROWS {
                return Err(TOO_MANY_ROWS);
            }
        }
        Ok(())
    }
}

fn read_csv(bytes: &[u8]) -> Result<Vec<Row>, &'static str> {
    if bytes.starts_with(ZIP_MAGIC) {
        return Err(XLSX_NOT_CSV);
    }
    if bytes.starts_with(OLE_MAGIC) {
        return Err(XLS);
    }
    // Excel's "Unicode text" is UTF-16; its plain "CSV" is the Windows code page.
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(NOT_UTF8);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| NOT_UTF8)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.contains('\0') {
        return Err(NOT_CSV);
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(sniff_delimiter(text))
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut budget = Budget::default();
    for record in reader.records() {
        let record = record.map_err(|_| BAD_CSV)?;
        let line = record
            .position()
            .map_or(rows.len() + 1, |p| p.line() as usize);
        let mut cells = Vec::new();
        for (col, raw) in record.iter().enumerate() {
            let value = unguard(raw);
            if value.trim().is_empty() {
                continue;
            }
            budget.take(cells.is_empty())?;
            cells.push((col, Cell::Text(value.to_string())));
        }
        if !cells.is_empty() {
            rows.push(Row { line, cells });
        }
    }
    Ok(rows)
}

/// The delimiter of the header line: `,`, `;` (Excel in locales with a decimal comma,
/// Vietnamese among them) or a tab, whichever occurs most outside quotes.
fn sniff_delimiter(text: &str) -> u8 {
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for b in line.bytes() {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(c) = counts.iter_mut().find(|(d, _)| *d == b) {
            c.1 += 1;
        }
    }
    // max_by_key keeps the last maximum; the comma must win a tie, so look from the end.
    counts
        .iter()
        .rev()
        .max_by_key(|(_, n)| *n)
        .map_or(b',', |(d, _)| *d)
}

/// Starts of a cell that a spreadsheet program would run as a formula.
pub(super) fn is_formula_start(s: &str) -> bool {
    s.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// Exports put `'` before a cell that would start a formula; take it off again.
fn unguard(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if is_formula_start(rest) => rest,
        _ => s,
    }
}

fn read_xlsx(bytes: &[u8]) -> Result<Vec<Row>, &'static str> {
    if bytes.starts_with(OLE_MAGIC) {
        return Err(XLS);
    }
    if !bytes.starts_with(ZIP_MAGIC) {
        return Err(NOT_XLSX);
    }
    check_unzipped_size(bytes)?;
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|_| NOT_XLSX)?;
    let name = book
        .sheets_metadata()
        .iter()
        .find(|s| s.typ == SheetType::WorkSheet)
        .map(|s| s.name.clone())
        .ok_or(NO_SHEET)?;
    let mut reader = book.worksheet_cells_reader(&name).map_err(|_| NOT_XLSX)?;
    let mut rows: BTreeMap<u32, Vec<(usize, Cell)>> = BTreeMap::new();
    let mut budget = Budget::default();
    while let Some(cell) = reader.next_cell().map_err(|_| NOT_XLSX)? {
        let Some(value) = convert(cell.get_value()) else {
            continue;
        };
        let (row, col) = cell.get_position();
        let cells = rows.entry(row).or_default();
        budget.take(cells.is_empty())?;
        cells.push((col as usize, value));
    }
    Ok(rows
        .into_iter()
        .map(|(row, mut cells)| {
            cells.sort_by_key(|(col, _)| *col);
            cells.dedup_by_key(|(col, _)| *col);
            Row {
                line: row as usize + 1,
                cells,
            }
        })
        .collect())
}

fn convert(value: &DataRef<'_>) -> Option<Cell> {
    let cell = match value {
        DataRef::Empty => return None,
        DataRef::Int(i) => Cell::Number(*i as f64),
        DataRef::Float(f) => Cell::Number(*f),
        DataRef::String(s) => Cell::Text(s.clone()),
        DataRef::SharedString(s) => Cell::Text(s.to_string()),
        DataRef::Bool(b) => Cell::Text(if *b { "TRUE" } else { "FALSE" }.into()),
        DataRef::DateTime(dt) if dt.is_datetime() => {
            let (y, m, d, ..) = dt.to_ymd_hms_milli();
            match NaiveDate::from_ymd_opt(y.into(), m.into(), d.into()) {
                Some(date) => Cell::Date(date),
                None => Cell::Number(dt.as_f64()),
            }
        }
        DataRef::DateTime(dt) => Cell::Number(dt.as_f64()),
        DataRef::DateTimeIso(s) => s
            .get(..10)
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .map_or_else(|| Cell::Text(s.clone()), Cell::Date),
        DataRef::DurationIso(s) => Cell::Text(s.clone()),
        DataRef::Error(e) => Cell::Error(e.to_string()),
    };
    match &cell {
        Cell::Text(s) if s.trim().is_empty() => None,
        _ => Some(cell),
    }
}

/// Sums the sizes the zip's central directory declares for its members.
fn check_unzipped_size(bytes: &[u8]) -> Result<(), &'static str> {
    const EOCD: &[u8] = b"PK\x05\x06";
    const ENTRY: &[u8] = b"PK\x01\x02";
    let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]) as usize;
    let u32_at =
        |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    let last = bytes.len().checked_sub(22).ok_or(NOT_XLSX)?;
    let first = last.saturating_sub(u16::MAX as usize);
    let eocd = (first..=last)
        .rev()
        .find(|&i| &bytes[i..i + 4] == EOCD)
        .ok_or(NOT_XLSX)?;
    let entries = u16_at(eocd + 10);
    let mut pos = u32_at(eocd + 16) as usize;
    let mut total: u64 = 0;
    for _ in 0..entries {
        if pos.checked_add(46).is_none_or(|end| end > bytes.len()) || &bytes[pos..pos + 4] != ENTRY
        {
            return Err(NOT_XLSX);
        }
        total += u64::from(u32_at(pos + 24));
        if total > MAX_UNZIPPED {
            return Err(TOO_LARGE_UNZIPPED);
        }
        pos += 46 + u16_at(pos + 28) + u16_at(pos + 30) + u16_at(pos + 32);
    }
    Ok(())
}
