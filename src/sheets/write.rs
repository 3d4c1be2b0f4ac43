//! Writing a registry as CSV (UTF-8 with a byte-order mark, so Excel shows Vietnamese
//! letters) or XLSX (numbers as numbers, dates as real dates).

use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{ExcelDateTime, Format as CellFormat, Workbook};

use super::read::{is_formula_start, number_text};

/// One exported cell.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Out {
    Empty,
    Text(String),
    Number(f64),
    Date(NaiveDate),
}

impl From<String> for Out {
    fn from(s: String) -> Self {
        if s.is_empty() {
            Out::Empty
        } else {
            Out::Text(s)
        }
    }
}

impl From<&str> for Out {
    fn from(s: &str) -> Self {
        s.to_string().into()
    }
}

impl From<Option<String>> for Out {
    fn from(s: Option<String>) -> Self {
        s.map_or(Out::Empty, Out::from)
    }
}

impl From<Option<i64>> for Out {
    fn from(n: Option<i64>) -> Self {
        n.map_or(Out::Empty, |n| Out::Number(n as f64))
    }
}

impl From<Option<f64>> for Out {
    fn from(n: Option<f64>) -> Self {
        n.map_or(Out::Empty, Out::Number)
    }
}

impl From<Option<NaiveDate>> for Out {
    fn from(d: Option<NaiveDate>) -> Self {
        d.map_or(Out::Empty, Out::Date)
    }
}

pub(super) fn csv(headers: &[&str], rows: &[Vec<Out>]) -> anyhow::Result<Vec<u8>> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    {
        let mut writer = csv::WriterBuilder::new()
            .flexible(false)
            .from_writer(&mut out);
        writer.write_record(headers)?;
        for row in rows {
            writer.write_record(row.iter().map(csv_cell))?;
        }
        writer.flush()?;
    }
    Ok(out)
}

/// Text a spreadsheet program would run as a formula gets a leading `'` (the import
/// takes it off again), so an exported file cannot carry a formula into someone's Excel.
fn csv_cell(cell: &Out) -> String {
    match cell {
        Out::Empty => String::new(),
        Out::Text(s) if is_formula_start(s) => format!("'{s}"),
        Out::Text(s) => s.clone(),
        Out::Number(n) => number_text(*n),
        Out::Date(d) => d.format("%d/%m/%Y").to_string(),
    }
}

pub(super) fn xlsx(sheet: &str, headers: &[&str], rows: &[Vec<Out>]) -> anyhow::Result<Vec<u8>> {
    let mut book = Workbook::new();
    let bold = CellFormat::new().set_bold();
    let date = CellFormat::new().set_num_format("dd/mm/yyyy");
    let ws = book.add_worksheet();
    ws.set_name(sheet)?;
    for (c, h) in headers.iter().enumerate() {
        let c = u16::try_from(c)?;
        ws.write_string_with_format(0, c, *h, &bold)?;
        ws.set_column_width(c, (h.chars().count() + 4).max(12) as f64)?;
    }
    ws.set_freeze_panes(1, 0)?;
    for (r, row) in rows.iter().enumerate() {
        let r = u32::try_from(r + 1)?;
        for (c, cell) in row.iter().enumerate() {
            let c = u16::try_from(c)?;
            match cell {
                Out::Empty => {}
                // Strings are stored as strings: a leading "=" is text, never a formula.
                Out::Text(s) => {
                    ws.write_string(r, c, s)?;
                }
                Out::Number(n) => {
                    ws.write_number(r, c, *n)?;
                }
                Out::Date(d) => {
                    let day = ExcelDateTime::from_ymd(
                        u16::try_from(d.year())?,
                        d.month() as u8,
                        d.day() as u8,
                    )?;
                    ws.write_datetime_with_format(r, c, day, &date)?;
                }
            }
        }
    }
    Ok(book.save_to_buffer()?)
}
