//! Printable duty roster (PDF) and monthly per-person duty summary (XLSX).
//!
//! The PDF is written with `pdf-writer` and a DejaVu Sans subset: the font is
//! embedded as a CID font with a ToUnicode map, so Vietnamese prints without a
//! font on the reader's machine and copy/paste/search give back the real text.
//! Layout is hand-made (a table is all we need) to avoid a layout engine's
//! dependency tree. Everything here is CPU-bound: call it from spawn_blocking.

use std::io::Write;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use rust_xlsxwriter::{Color, Format, FormatBorder, Formula, Workbook, XlsxError};
use subsetter::GlyphRemapper;
use unicode_normalization::UnicodeNormalization;

// Vendored by scripts/vendor.sh (npm dejavu-fonts-ttf), so the build needs no system fonts.
static REGULAR: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/vendor/dejavu-fonts-2.37/DejaVuSans.ttf"
));
static BOLD: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/vendor/dejavu-fonts-2.37/DejaVuSans-Bold.ttf"
));

/// A printable roster; every text is already translated and formatted by the caller.
#[derive(Debug, Clone)]
pub struct RosterSheet {
    /// e.g. "Lịch trực tháng 12/2026 — Tổ bảo vệ ANTT tổ dân phố số 3"
    pub title: String,
    /// e.g. the ward's name
    pub subtitle: String,
    /// Headers: date, time, duty, place, people.
    pub columns: [String; 5],
    pub rows: Vec<RosterRow>,
    /// e.g. "In ngày 23/11/2026 lúc 14:05"; the page number "1/3" goes on the right.
    pub footer: String,
}

#[derive(Debug, Clone)]
pub struct RosterRow {
    /// Already formatted, e.g. "Thứ Hai 01/12/2026".
    pub date: String,
    /// e.g. "05:30–11:00"
    pub time: String,
    pub duty: String,
    pub place: String,
    /// One per line in the cell.
    pub people: Vec<String>,
}

/// A month's duty summary, one row per person.
#[derive(Debug, Clone)]
pub struct SummarySheet {
    pub title: String,
    /// Headers: name, team, duties, nights, hours, missed.
    pub columns: Vec<String>,
    pub rows: Vec<SummaryRow>,
}

#[derive(Debug, Clone)]
pub struct SummaryRow {
    pub name: String,
    pub team: String,
    pub duties: u32,
    pub nights: u32,
    pub hours: f64,
    pub missed: u32,
}

// A4 portrait in points.
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN: f32 = 36.0;
const BODY: f32 = 9.0;
const LEADING: f32 = BODY * 1.25;
const PAD: f32 = 3.0;
/// Share of the table width per column: date, time, duty, place, people.
const WIDTHS: [f32; 5] = [0.21, 0.13, 0.21, 0.21, 0.24];
/// Rows stop this far above the bottom edge, leaving room for the footer line.
const BOTTOM: f32 = MARGIN + 16.0;

/// One font in use: it records the glyphs drawn so that only those are embedded.
struct Font {
    face: ttf_parser::Face<'static>,
    data: &'static [u8],
    /// Resource name in the page's /Font dictionary.
    res: &'static [u8],
    remap: GlyphRemapper,
    /// Per new glyph id: advance in 1/1000 em and the char it stands for (ToUnicode).
    glyphs: Vec<(f32, Option<char>)>,
}

impl Font {
    fn new(data: &'static [u8], res: &'static [u8]) -> Font {
        let face = ttf_parser::Face::parse(data, 0).expect("vendored font parses");
        let (remap, glyphs) = (GlyphRemapper::new(), vec![(0.0, None)]); // .notdef keeps id 0
        Font {
            face,
            data,
            res,
            remap,
            glyphs,
        }
    }

    fn units(&self, v: impl Into<f32>) -> f32 {
        v.into() * 1000.0 / f32::from(self.face.units_per_em())
    }

    /// New (subset) glyph ids and the width in points; chars the font lacks print as U+FFFD.
    fn shape(&mut self, text: &str, size: f32) -> (Vec<u16>, f32) {
        let (mut ids, mut width) = (Vec::new(), 0.0);
        for c in text.chars() {
            let (gid, c) = match self.face.glyph_index(c) {
                Some(g) => (g, c),
                None => (
                    self.face.glyph_index('\u{FFFD}').unwrap_or_default(),
                    '\u{FFFD}',
                ),
            };
            let id = self.remap.remap(gid.0);
            if usize::from(id) == self.glyphs.len() {
                let adv = self.face.glyph_hor_advance(gid).unwrap_or(0);
                self.glyphs.push((self.units(adv), Some(c)));
            }
            width += self.glyphs[usize::from(id)].0 * size / 1000.0;
            ids.push(id);
        }
        (ids, width)
    }

    fn width(&mut self, text: &str, size: f32) -> f32 {
        self.shape(text, size).1
    }

    /// Greedy word wrap; a word wider than the cell is cut between characters.
    fn wrap(&mut self, text: &str, size: f32, max: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for para in text.split('\n') {
            let mut line = String::new();
            for word in para.split_whitespace() {
                let joined = if line.is_empty() {
                    word.into()
                } else {
                    format!("{line} {word}")
                };
                if self.width(&joined, size) <= max {
                    line = joined;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                for c in word.chars() {
                    line.push(c);
                    if line.chars().count() > 1 && self.width(&line, size) > max {
                        line.pop();
                        lines.push(std::mem::replace(&mut line, c.into()));
                    }
                }
            }
            lines.push(line);
        }
        lines
    }

    /// Shows text at (x, y); the 2-byte codes are the new glyph ids (Identity-H, CID = GID).
    fn show(&mut self, c: &mut Content, size: f32, x: f32, y: f32, s: &str) {
        let codes: Vec<u8> = self
            .shape(s, size)
            .0
            .iter()
            .flat_map(|g| g.to_be_bytes())
            .collect();
        c.begin_text()
            .set_font(Name(self.res), size)
            .next_line(x, y);
        c.show(Str(&codes)).end_text();
    }
}

/// Pages being laid out, top to bottom.
struct Layout {
    /// Regular and bold.
    fonts: [Font; 2],
    pages: Vec<Content>,
    y: f32,
    widths: [f32; 5],
    header: Vec<Vec<String>>,
}

impl Layout {
    /// Body lines that still fit between y and the footer.
    fn room(&self) -> usize {
        ((self.y - BOTTOM - 2.0 * PAD) / LEADING).floor().max(0.0) as usize
    }

    fn cells(&mut self, bold: bool, cols: [&str; 5]) -> Vec<Vec<String>> {
        let (font, w) = (&mut self.fonts[usize::from(bold)], self.widths);
        (0..5)
            .map(|i| font.wrap(&nfc(cols[i]), BODY, w[i] - 2.0 * PAD))
            .collect()
    }

    /// Starts the table on the current page at `y`: line width and the header row.
    fn table_at(&mut self, y: f32) {
        self.y = y;
        let header = std::mem::take(&mut self.header);
        let lines = header.iter().map(Vec::len).max().unwrap_or(1);
        self.pages
            .last_mut()
            .expect("a page is open")
            .set_line_width(0.5);
        self.row(&header, 0, lines, true);
        self.header = header;
    }

    /// Draws lines [from, to) of each cell as one ruled row (the header is bold on grey).
    fn row(&mut self, cells: &[Vec<String>], from: usize, to: usize, header: bool) {
        let page = self.pages.last_mut().expect("a page is open");
        let font = &mut self.fonts[usize::from(header)];
        let (h, mut x) = ((to - from) as f32 * LEADING + 2.0 * PAD, MARGIN);
        for (cell, w) in cells.iter().zip(self.widths) {
            if header {
                page.set_fill_gray(0.88)
                    .rect(x, self.y - h, w, h)
                    .fill_nonzero();
                page.set_fill_gray(0.0);
            }
            page.rect(x, self.y - h, w, h).stroke();
            for (i, line) in cell.iter().enumerate().take(to).skip(from) {
                // Baseline: leave the extra leading above the line for stacked Vietnamese marks.
                let y = self.y - PAD - (i - from + 1) as f32 * LEADING + (LEADING - BODY) * 0.9;
                font.show(page, BODY, x + PAD, y, line);
            }
            x += w;
        }
        self.y -= h;
    }
}

/// NFC: decomposed input (some keyboards, copy/paste) would otherwise print marks as separate
/// glyphs and extract as text that does not match what people search for.
fn nfc(s: &str) -> String {
    s.nfc().collect()
}

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(6));
    z.write_all(data)
        .and_then(|_| z.finish())
        .expect("writing to a Vec cannot fail")
}

/// A4 portrait, title block, table with ruled rows, text wrapped inside cells, page breaks with
/// the header row repeated, page numbers "1/3".
pub fn roster_pdf(sheet: &RosterSheet) -> Vec<u8> {
    let table_w = PAGE_W - 2.0 * MARGIN;
    let fonts = [Font::new(REGULAR, b"F1"), Font::new(BOLD, b"F2")];
    let (widths, pages, header) = (WIDTHS.map(|f| f * table_w), vec![], vec![]);
    let mut l = Layout {
        fonts,
        pages,
        y: 0.0,
        widths,
        header,
    };
    l.header = l.cells(true, sheet.columns.each_ref().map(String::as_str));
    let header_lines = l.header.iter().map(Vec::len).max().unwrap_or(1);
    // Body lines on a page that has only the header row.
    let fresh = ((PAGE_H - MARGIN - BOTTOM - 4.0 * PAD) / LEADING - header_lines as f32) as usize;

    // Title block, centred, first page only.
    let mut y = PAGE_H - MARGIN;
    l.pages.push(Content::new());
    for (s, size) in [(nfc(&sheet.title), 14.0), (nfc(&sheet.subtitle), 11.0)] {
        let lines = l.fonts[1].wrap(&s, size, table_w);
        for line in lines.iter().filter(|l| !l.is_empty()) {
            y -= size * 1.3;
            let x = MARGIN + (table_w - l.fonts[1].width(line, size)) / 2.0;
            l.fonts[1].show(&mut l.pages[0], size, x, y, line);
        }
    }
    l.table_at(y - 10.0);

    let mut page_empty = true;
    for row in &sheet.rows {
        let people = row.people.join("\n"); // one person per line: easy to read and sign off
        let cols = [&row.date, &row.time, &row.duty, &row.place, &people];
        let body = l.cells(false, cols.map(|s| s.as_str()));
        let (total, mut from) = (body.iter().map(Vec::len).max().unwrap_or(1), 0);
        while from < total {
            // A row that does not fit moves to a fresh page; one taller than a page is split,
            // starting right here so that it leaves no half-empty page behind.
            let left = total - from;
            if l.room() < left && !page_empty && (left <= fresh || l.room() == 0) {
                l.pages.push(Content::new());
                l.table_at(PAGE_H - MARGIN);
            }
            let to = total.min(from + l.room().max(1));
            l.row(&body, from, to, false);
            (from, page_empty) = (to, false);
        }
    }

    // Footer and page numbers, now that the page count is known.
    let (n, footer) = (l.pages.len(), nfc(&sheet.footer));
    for (i, page) in l.pages.iter_mut().enumerate() {
        l.fonts[0].show(page, 8.0, MARGIN, MARGIN, &footer);
        let num = format!("{}/{n}", i + 1);
        let x = PAGE_W - MARGIN - l.fonts[0].width(&num, 8.0);
        l.fonts[0].show(page, 8.0, x, MARGIN, &num);
    }

    let mut next = 0;
    let mut alloc = || {
        next += 1;
        Ref::new(next)
    };
    let (catalog, tree, info, f1, f2) = (alloc(), alloc(), alloc(), alloc(), alloc());
    let ids: Vec<(Ref, Ref)> = (0..n).map(|_| (alloc(), alloc())).collect();
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(ids.iter().map(|p| p.0))
        .count(n as i32);
    let doc_title = nfc(&sheet.title);
    pdf.document_info(info)
        .title(TextStr(&doc_title))
        .producer(TextStr("wardwatch"));
    for ((page_id, content_id), content) in ids.into_iter().zip(l.pages) {
        let mut page = pdf.page(page_id);
        page.parent(tree)
            .media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H));
        page.contents(content_id)
            .resources()
            .fonts()
            .pair(Name(b"F1"), f1)
            .pair(Name(b"F2"), f2);
        page.finish();
        let data = deflate(&content.finish());
        pdf.stream(content_id, &data).filter(Filter::FlateDecode);
    }
    // Subset tags: any 6 capitals, distinct per subset in the file (PDF 32000 9.6.4).
    write_font(&mut pdf, f1, &mut alloc, &l.fonts[0], b"AAAAAA+DejaVuSans");
    write_font(
        &mut pdf,
        f2,
        &mut alloc,
        &l.fonts[1],
        b"AAAAAB+DejaVuSans-Bold",
    );
    pdf.finish()
}

/// Type0 font, Identity-H, over a TrueType subset (CIDFontType2) with a ToUnicode map so that
/// text extraction and search give back the Vietnamese text.
fn write_font(pdf: &mut Pdf, id: Ref, alloc: &mut impl FnMut() -> Ref, font: &Font, base: &[u8]) {
    let (cid, desc, file, cmap) = (alloc(), alloc(), alloc(), alloc());
    let (base, f) = (Name(base), &font.face);
    let info = SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    };
    let mut t0 = pdf.type0_font(id);
    t0.base_font(base).encoding_predefined(Name(b"Identity-H"));
    t0.descendant_font(cid).to_unicode(cmap);
    t0.finish();
    let mut cf = pdf.cid_font(cid);
    cf.subtype(CidFontType::Type2)
        .base_font(base)
        .system_info(info)
        .font_descriptor(desc);
    cf.cid_to_gid_map_predefined(Name(b"Identity"));
    cf.widths().consecutive(0, font.glyphs.iter().map(|g| g.0));
    cf.finish();

    let bb = f.global_bounding_box();
    let u = |v: i16| font.units(v);
    let mut d = pdf.font_descriptor(desc);
    d.name(base).flags(FontFlags::SYMBOLIC); // glyphs beyond the standard Latin set
    d.bbox(Rect::new(
        u(bb.x_min),
        u(bb.y_min),
        u(bb.x_max),
        u(bb.y_max),
    ))
    .italic_angle(0.0);
    d.ascent(u(f.ascender())).descent(u(f.descender()));
    d.cap_height(u(f.capital_height().unwrap_or(f.ascender())));
    d.stem_v(if f.is_bold() { 140.0 } else { 80.0 })
        .font_file2(file);
    d.finish();

    let data = subsetter::subset(font.data, 0, &font.remap).expect("vendored font subsets");
    let len = data.len() as i32;
    pdf.stream(file, &deflate(&data))
        .filter(Filter::FlateDecode)
        .pair(Name(b"Length1"), len);

    let mut map = UnicodeCmap::new(Name(b"Custom"), info);
    for (gid, c) in font
        .glyphs
        .iter()
        .enumerate()
        .filter_map(|(g, (_, c))| Some((g, (*c)?)))
    {
        map.pair(gid as u16, c);
    }
    pdf.cmap(cmap, &deflate(&map.finish()))
        .filter(Filter::FlateDecode);
}

/// One worksheet: title row, header row (bold, frozen), one row per person, a totals row with
/// formulas (SUM), hours with one decimal.
pub fn summary_xlsx(sheet: &SummarySheet) -> Result<Vec<u8>, String> {
    summary(sheet).map_err(|e| e.to_string())
}

fn summary(sheet: &SummarySheet) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    // Sheet names: at most 31 chars, none of []:*?/\ ("12/2026" is common in titles). A name
    // Excel still refuses (e.g. "History") just keeps the default.
    let name = sheet
        .title
        .trim()
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '-' } else { c });
    let name: String = name.take(31).collect();
    ws.set_name(name.trim().trim_matches('\'')).ok();
    let head = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xE0E0E0));
    let head = head.set_border_bottom(FormatBorder::Thin);
    let (int, dec) = (
        Format::new().set_num_format("0"),
        Format::new().set_num_format("0.0"),
    );
    let total_fmt = |f: &Format| f.clone().set_bold().set_border_top(FormatBorder::Thin);

    let title = Format::new().set_bold().set_font_size(14);
    ws.merge_range(0, 0, 0, 5, &sheet.title, &title)?;
    for (col, h) in sheet.columns.iter().enumerate() {
        ws.write_string_with_format(1, col as u16, h, &head)?;
    }
    ws.set_freeze_panes(2, 0)?;
    ws.set_repeat_rows(1, 1)?; // header row on every printed page
    for (col, w) in [28, 22, 12, 12, 12, 12].into_iter().enumerate() {
        ws.set_column_width(col as u16, w)?;
    }
    for (i, r) in sheet.rows.iter().enumerate() {
        let row = 2 + i as u32;
        ws.write_string(row, 0, &r.name)?
            .write_string(row, 1, &r.team)?;
        ws.write_number_with_format(row, 2, r.duties, &int)?;
        ws.write_number_with_format(row, 3, r.nights, &int)?;
        ws.write_number_with_format(row, 4, r.hours, &dec)?;
        ws.write_number_with_format(row, 5, r.missed, &int)?;
    }

    // Totals: SUM formulas with the computed result cached, so viewers that do not recalculate
    // (previews, mail clients, calamine) still show the right numbers.
    let last = 2 + sheet.rows.len() as u32;
    ws.write_string_with_format(last, 0, "Σ", &total_fmt(&int))?; // no translated label in the API
    ws.write_blank(last, 1, &total_fmt(&int))?;
    let sum = |f: fn(&SummaryRow) -> f64| sheet.rows.iter().map(f).sum::<f64>();
    let sums = [
        sum(|r| r.duties.into()),
        sum(|r| r.nights.into()),
        sum(|r| r.hours),
        sum(|r| r.missed.into()),
    ];
    for ((col, letter), value) in (2u16..).zip(["C", "D", "E", "F"]).zip(sums) {
        let fmt = total_fmt(if letter == "E" { &dec } else { &int });
        if sheet.rows.is_empty() {
            // SUM(C3:C2) would take in this very cell: a circular reference.
            ws.write_number_with_format(last, col, 0, &fmt)?;
        } else {
            let f = Formula::new(format!("=SUM({letter}3:{letter}{last})"))
                .set_result(value.to_string());
            ws.write_formula_with_format(last, col, f, &fmt)?;
        }
    }
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, Reader, Xlsx};
    use std::io::Cursor;
    use std::process::{Command, Stdio};

    /// Text of the PDF via poppler's pdftotext (pages separated by form feeds); None when the
    /// tool is missing, unless WARDWATCH_REQUIRE_ALL=1 (CI) demands it.
    fn pdftotext(pdf: &[u8]) -> Option<String> {
        let child = Command::new("pdftotext")
            .args(["-enc", "UTF-8", "-", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn();
        let mut child = match child {
            Ok(c) => c,
            Err(e) if std::env::var("WARDWATCH_REQUIRE_ALL").as_deref() == Ok("1") => {
                panic!("pdftotext is required (apt-get install poppler-utils): {e}")
            }
            Err(e) => {
                eprintln!("note: PDF text not checked: no pdftotext ({e}), see poppler-utils");
                return None;
            }
        };
        child.stdin.take().unwrap().write_all(pdf).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "pdftotext failed: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        Some(String::from_utf8(out.stdout).unwrap())
    }

    fn roster(rows: usize) -> RosterSheet {
        let duties = [
            "Trực ban tại trụ sở",
            "Tuần tra đêm",
            "Tuần tra khu vực chợ và ngõ",
        ];
        let names = [
            "Nguyễn Thị Hằng",
            "Trần Văn Đức",
            "Lê Hoàng Yến",
            "Phạm Quốc Việt",
        ];
        let places = ["Chợ Hàng", "Ngõ 172 Lạch Tray, đường Nguyễn Văn Linh"];
        RosterSheet {
            title: "Lịch trực tháng 12/2026 — Tổ bảo vệ ANTT tổ dân phố số 3".into(),
            subtitle: "Phường Dư Hàng Kênh".into(),
            columns: ["Ngày", "Giờ", "Nhiệm vụ", "Địa điểm", "Người trực"].map(String::from),
            rows: (0..rows)
                .map(|i| RosterRow {
                    date: format!("{:02}/12/2026 Thứ Hai", i % 31 + 1),
                    time: "05:30–11:00".into(),
                    duty: duties[i % 3].into(),
                    place: places[i % 2].into(),
                    people: (0..=i % 3)
                        .map(|k| names[(i + k) % 4].to_string())
                        .collect(),
                })
                .collect(),
            footer: "In ngày 23/11/2026 lúc 14:05".into(),
        }
    }

    #[test]
    fn roster_pdf_has_exact_vietnamese_text() {
        let mut sheet = roster(30);
        // Decomposed (NFD) input must still print, and extract, as NFC.
        sheet.rows[1].place = "Chợ Hàng Mới".nfd().collect();
        let pdf = roster_pdf(&sheet);
        assert!(pdf.starts_with(b"%PDF"));
        let Some(text) = pdftotext(&pdf) else { return };
        let want = [
            &sheet.title,
            "Phường Dư Hàng Kênh",
            "Người trực",
            "05:30–11:00",
        ];
        let row = [
            "Nguyễn Thị Hằng",
            "Chợ Hàng",
            "Tuần tra đêm",
            "Chợ Hàng Mới",
        ];
        for s in want
            .into_iter()
            .chain(row)
            .chain(["In ngày 23/11/2026 lúc 14:05"])
        {
            assert!(text.contains(s), "{s:?} missing from:\n{text}");
        }
        assert_eq!(
            text.split('\u{c}').filter(|p| !p.trim().is_empty()).count(),
            2
        );
        assert!(text.contains("1/2") && text.contains("2/2"), "page numbers");
    }

    #[test]
    fn long_roster_breaks_pages_with_header_and_numbers() {
        let pdf = roster_pdf(&roster(200));
        assert!(pdf.starts_with(b"%PDF"));
        let Some(text) = pdftotext(&pdf) else { return };
        let pages: Vec<&str> = text
            .split('\u{c}')
            .filter(|p| !p.trim().is_empty())
            .collect();
        let n = pages.len();
        assert!(n >= 3 && text.contains("2/"), "200 rows on only {n} pages");
        for (i, page) in (1..).zip(&pages) {
            assert!(
                page.contains(&format!("{i}/{n}")),
                "page {i} lacks its number"
            );
            let header = page.contains("Người trực") && page.contains("Địa điểm");
            assert!(header, "page {i} lacks the header row");
        }
        let titles = text.matches("Lịch trực tháng 12/2026").count();
        assert_eq!(titles, 1, "title block on page 1 only");
    }

    #[test]
    fn oversized_cells_wrap_and_split() {
        let mut sheet = roster(3);
        sheet.rows[1].people = (0..150).map(|i| format!("Người số {i}")).collect();
        sheet.rows[2].place = "Khu-tập-thể-".repeat(40);
        let pdf = roster_pdf(&sheet);
        let Some(text) = pdftotext(&pdf) else { return };
        assert!(text.contains("Người số 0") && text.contains("Người số 149"));
        assert!(
            text.contains("2/"),
            "a row taller than a page continues on the next"
        );
    }

    #[test]
    fn summary_xlsx_reads_back() {
        let row = |name: &str, duties, nights, hours, missed| SummaryRow {
            name: name.into(),
            team: "Tổ 3".into(),
            duties,
            nights,
            hours,
            missed,
        };
        let columns = ["Họ tên", "Tổ", "Ca trực", "Ca đêm", "Số giờ", "Vắng"];
        let sheet = SummarySheet {
            title: "Tổng hợp trực tháng 12/2026".into(),
            columns: columns.map(String::from).to_vec(),
            rows: vec![
                row("Nguyễn Thị Hằng", 12, 4, 61.5, 1),
                row("Trần Văn Đức", 9, 6, 48.25, 0),
            ],
        };
        let bytes = summary_xlsx(&sheet).unwrap();
        let mut book = Xlsx::new(Cursor::new(bytes)).unwrap();
        let name = book.sheet_names()[0].clone();
        assert_eq!(name, "Tổng hợp trực tháng 12-2026");
        let r = book.worksheet_range(&name).unwrap();
        let cell = |row, col| r.get_value((row, col)).cloned().unwrap_or(Data::Empty);
        let s = |v: &str| Data::String(v.into());
        assert_eq!(cell(0, 0), s("Tổng hợp trực tháng 12/2026"));
        assert_eq!(cell(1, 0), s("Họ tên"));
        assert_eq!(cell(1, 5), s("Vắng"));
        assert_eq!(cell(2, 0), s("Nguyễn Thị Hằng"));
        assert_eq!(cell(3, 0), s("Trần Văn Đức"));
        assert_eq!(cell(2, 1), s("Tổ 3"));
        assert_eq!(cell(2, 2), Data::Float(12.0));
        assert_eq!(cell(3, 4), Data::Float(48.25));
        assert_eq!(cell(4, 2), Data::Float(21.0));
        assert_eq!(cell(4, 4), Data::Float(109.75));
        assert_eq!(cell(4, 5), Data::Float(1.0));
        let f = book.worksheet_formula(&name).unwrap();
        assert_eq!(f.get_value((4, 2)).map(String::as_str), Some("SUM(C3:C4)"));
        assert_eq!(f.get_value((4, 4)).map(String::as_str), Some("SUM(E3:E4)"));
        let rows = vec![];
        assert!(summary_xlsx(&SummarySheet { rows, ..sheet }).is_ok());
    }
}
