use chrono::NaiveDate;
use rust_xlsxwriter::{ExcelDateTime, Format as CellFormat, Workbook};
use tempfile::TempDir;

use super::*;
use crate::domain::{Code, ForceKind, Name, SiteKind, UnitKind};
use crate::store::forces::{ForceInput, ForcesStore, PeopleFilter, TeamInput};
use crate::store::sqlite::SqliteStore;
use crate::store::territory::{SiteFilter, Staffing, TerritoryStore, UnitInput};

struct Ward {
    _dir: TempDir,
    store: SqliteStore,
    ward: Unit,
}

fn unit(parent: Option<i64>, kind: UnitKind, code: &str, name: &str) -> UnitInput {
    UnitInput {
        parent_id: parent,
        kind,
        code: Code::parse(code).unwrap(),
        name: Name::parse(name).unwrap(),
        area_ha: None,
        founded_year: None,
        households: None,
        residents: None,
        position: None,
        risk_notes: String::new(),
        notes: String::new(),
        staffing: Staffing::default(),
    }
}

/// A ward with two residential groups, one security team and one partner force.
async fn ward() -> Ward {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("t.db").display());
    let store = SqliteStore::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let a = Actor::default();
    let ward = store
        .create_unit(a, unit(None, UnitKind::Ward, "lach-tray", "Lạch Tray"))
        .await
        .unwrap();
    for n in [1, 2] {
        let code = format!("lach-tray-tdp-0{n}");
        let name = format!("Tổ dân phố số {n}");
        store
            .create_unit(a, unit(Some(ward.id), UnitKind::Group, &code, &name))
            .await
            .unwrap();
    }
    let team = TeamInput {
        ward_id: ward.id,
        name: Name::parse("Tổ bảo vệ ANTT số 1").unwrap(),
        decision_no: String::new(),
        decision_date: None,
        founded_on: None,
        notes: String::new(),
        group_ids: Vec::new(),
    };
    store.create_team(a, team).await.unwrap();
    let force = ForceInput {
        ward_id: ward.id,
        kind: ForceKind::Veterans,
        name: Name::parse("Hội Cựu chiến binh phường").unwrap(),
        founded_on: None,
        notes: String::new(),
    };
    store.create_force(a, force).await.unwrap();
    Ward {
        _dir: dir,
        store,
        ward,
    }
}

impl Ward {
    async fn import(
        &self,
        registry: Registry,
        format: Format,
        bytes: &[u8],
    ) -> Result<ImportReport, ImportError> {
        import(
            &self.store,
            Actor::default(),
            &self.ward,
            registry,
            format,
            bytes,
            &|_, _| {},
        )
        .await
    }

    async fn csv(&self, registry: Registry, text: &str) -> Result<ImportReport, ImportError> {
        self.import(registry, Format::Csv, text.as_bytes()).await
    }

    /// How many records of each registry the ward holds.
    async fn counts(&self) -> (usize, usize, usize) {
        let s = &self.store;
        let groups = s.units_of_ward(self.ward.id).await.unwrap().len();
        let all_sites = SiteFilter {
            include_archived: true,
            ..SiteFilter::default()
        };
        let sites = s.sites(self.ward.id, &all_sites).await.unwrap().len();
        let all_people = PeopleFilter {
            include_archived: true,
            ..PeopleFilter::default()
        };
        let people = s.people(self.ward.id, &all_people).await.unwrap().len();
        (groups, sites, people)
    }

    async fn people(&self) -> Vec<crate::store::forces::Person> {
        self.store
            .people(self.ward.id, &PeopleFilter::default())
            .await
            .unwrap()
    }
}

fn rows(result: Result<ImportReport, ImportError>) -> Vec<RowError> {
    match result {
        Err(ImportError::Rows(rows)) => rows,
        other => panic!("expected row errors, got {other:?}"),
    }
}

fn unreadable(result: Result<ImportReport, ImportError>) -> &'static str {
    match result {
        Err(ImportError::Unreadable(m)) => m,
        other => panic!("expected an unreadable file, got {other:?}"),
    }
}

const SITES: &str = "Tên địa bàn,Loại,Tổ dân phố,Địa chỉ,Vĩ độ,Kinh độ,Số tầng,Số căn hộ,Số nhân khẩu,Lịch phiên\n\
Chung cư SHP,Chung cư cao tầng,Tổ dân phố số 1,Lạch Tray,20.8521,106.6889,25,230,398,\n\
Chợ Hàng,cho,lach-tray-tdp-02,,,,,,,Sáng Chủ nhật hằng tuần\n\
Khu tập thể Đồng Tâm,collective_housing,,,,,4,306,\"935\",\n";

const PEOPLE: &str = "STT,Họ và tên,Lực lượng,Tổ bảo vệ,Chức danh,Lực lượng phối hợp,Ngày sinh,Số CCCD,Số điện thoại\n\
1,Nguyễn Văn An,,Tổ bảo vệ ANTT số 1,Tổ trưởng,,19/08/1970,031070001234,912345678\n\
2,Trần Thị Bình,Thành viên Tổ bảo vệ ANTT,to bao ve antt so 1,to pho,,01-02-1980,,\n\
3,Lê Văn Cường,Tình nguyện viên lực lượng phối hợp,,,Hội Cựu chiến binh phường,,,\n\
4,Phạm Minh Đức,officer,,,,1/7/1990,,+84 912 000 111\n";

#[tokio::test]
async fn groups_csv_imports_and_updates_by_code() {
    let w = ward().await;
    let csv = "Mã tổ,Tên tổ dân phố,Số hộ,Số nhân khẩu,Vĩ độ,Kinh độ,Ghi chú\n\
               ,Tổ dân phố số 3,120,\"1.250\",\"20,85\",106.69,\n\
               lach-tray-tdp-01,Tổ dân phố số 1,300,900,,,Đã sửa\n";
    let calls = std::sync::Mutex::new(Vec::new());
    let progress = |done, total| calls.lock().unwrap().push((done, total));
    let (a, ward) = (Actor::default(), &w.ward);
    let report = import(
        &w.store,
        a,
        ward,
        Registry::Groups,
        Format::Csv,
        csv.as_bytes(),
        &progress,
    )
    .await
    .unwrap();
    assert_eq!((report.created, report.updated), (1, 1));
    assert_eq!(calls.into_inner().unwrap().last(), Some(&(2, 2)));
    let made = w
        .store
        .unit_by_code("lach-tray-tdp-03")
        .await
        .unwrap()
        .expect("default code");
    assert_eq!(
        (made.parent_id, made.residents, made.lat),
        (Some(w.ward.id), Some(1250), Some(20.85))
    );
    assert_eq!(made.kind(), UnitKind::Group);
    let one = w
        .store
        .unit_by_code("lach-tray-tdp-01")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((one.households, one.notes.as_str()), (Some(300), "Đã sửa"));
}

#[tokio::test]
async fn sites_and_people_csv_import() {
    let w = ward().await;
    let report = w.csv(Registry::Sites, SITES).await.unwrap();
    assert_eq!(
        report,
        ImportReport {
            created: 3,
            updated: 0
        }
    );
    let sites = w
        .store
        .sites(w.ward.id, &SiteFilter::default())
        .await
        .unwrap();
    let market = sites.iter().find(|s| s.name == "Chợ Hàng").unwrap();
    assert_eq!(market.kind(), SiteKind::Market);
    assert!(market.group_id.is_some());
    assert_eq!(market.schedule, "Sáng Chủ nhật hằng tuần");

    let report = w.csv(Registry::People, PEOPLE).await.unwrap();
    assert_eq!(
        report,
        ImportReport {
            created: 4,
            updated: 0
        }
    );
    let people = w.people().await;
    let an = people
        .iter()
        .find(|p| p.full_name == "Nguyễn Văn An")
        .unwrap();
    assert_eq!(an.team_role.as_deref(), Some("leader"));
    assert_eq!(an.phone, "0912345678", "the zero Excel drops is put back");
    assert_eq!(an.birth_date, NaiveDate::from_ymd_opt(1970, 8, 19));
    let binh = people
        .iter()
        .find(|p| p.full_name == "Trần Thị Bình")
        .unwrap();
    assert_eq!(
        (binh.team_role.as_deref(), binh.team_id),
        (Some("deputy"), an.team_id)
    );
    let cuong = people
        .iter()
        .find(|p| p.full_name == "Lê Văn Cường")
        .unwrap();
    assert!(cuong.force_id.is_some() && cuong.team_id.is_none());
    let duc = people
        .iter()
        .find(|p| p.full_name == "Phạm Minh Đức")
        .unwrap();
    assert_eq!(
        (duc.birth_date, duc.phone.as_str()),
        (NaiveDate::from_ymd_opt(1990, 7, 1), "0912000111")
    );
}

#[tokio::test]
async fn one_bad_row_changes_nothing_and_is_located() {
    let w = ward().await;
    let before = w.counts().await;
    let bad = SITES.replace(
        "Khu tập thể Đồng Tâm,collective_housing,,,,,4,",
        "Khu tập thể Đồng Tâm,collective_housing,,,,,bốn,",
    );
    let errors = rows(w.csv(Registry::Sites, &bad).await);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        (
            errors[0].line,
            errors[0].column.as_str(),
            errors[0].value.as_str()
        ),
        (4, "Số tầng", "bốn")
    );
    assert_eq!(w.counts().await, before);
}

#[tokio::test]
async fn every_bad_row_is_reported() {
    let w = ward().await;
    let before = w.counts().await;
    let csv = "Họ và tên,Tổ bảo vệ,Chức danh,Ngày sinh,Số CCCD,Số điện thoại\n\
               Nguyễn Văn An,Tổ bảo vệ ANTT số 1,Tổ trưởng,19/08/1970,031070001234,\n\
               ,Tổ bảo vệ ANTT số 9,,31/02/1980,123,\n\
               Trần Văn Ba,Tổ bảo vệ ANTT số 1,Tổ trưởng,,,0912\n\
               Lê Thị Tư,Tổ bảo vệ ANTT số 1,,,031070001234,\n";
    let errors = rows(w.csv(Registry::People, csv).await);
    let at = |line: usize| -> Vec<(&str, &str)> {
        errors
            .iter()
            .filter(|e| e.line == line)
            .map(|e| (e.column.as_str(), e.message))
            .collect()
    };
    let line3 = at(3);
    assert_eq!(line3.len(), 4, "{line3:?}");
    assert!(line3.contains(&("Họ và tên", layout::EMPTY)));
    assert!(line3.contains(&("Tổ bảo vệ", "Không tìm thấy tổ bảo vệ này trong phường.")));
    assert!(line3.iter().any(|(c, _)| *c == "Ngày sinh"));
    assert!(line3.iter().any(|(c, _)| *c == "Số CCCD"));
    assert_eq!(
        at(4),
        vec![
            ("Số điện thoại", at(4)[0].1),
            ("Chức danh", "Tổ bảo vệ này đã có tổ trưởng.")
        ]
    );
    let dup = errors.iter().find(|e| e.line == 5).unwrap();
    assert_eq!(
        (dup.column.as_str(), dup.message),
        ("Số CCCD", "Trùng số CCCD với một dòng khác trong tệp.")
    );
    assert!(dup.value.ends_with("(dòng 2)"), "{}", dup.value);
    assert_eq!(w.counts().await, before);
}

#[tokio::test]
async fn headers_are_checked_before_rows() {
    let w = ward().await;
    let errors = rows(
        w.csv(Registry::Sites, "Tên,Màu sắc,Tên cơ sở\nA,B,C\n")
            .await,
    );
    let got: Vec<_> = errors
        .iter()
        .map(|e| (e.line, e.column.as_str(), e.message, e.value.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                1,
                "Màu sắc",
                "Cột này không có trong mẫu; hãy sửa tên cột hoặc xoá cột.",
                "Màu sắc"
            ),
            (1, "Tên cơ sở", "Cột này bị lặp lại.", "Tên cơ sở"),
            (1, "", "Thiếu cột bắt buộc.", "Loại"),
        ]
    );
}

#[tokio::test]
async fn semicolons_and_a_byte_order_mark_are_read() {
    let w = ward().await;
    let csv = "\u{feff}\"Tên địa bàn\";LOAI;Vi do;Kinh do\r\nTrường THCS Lạch Tray;Trường học;20,85;106,69\r\n";
    let report = w.csv(Registry::Sites, csv).await.unwrap();
    assert_eq!(report.created, 1);
    let sites = w
        .store
        .sites(w.ward.id, &SiteFilter::default())
        .await
        .unwrap();
    assert_eq!(
        (sites[0].name.as_str(), sites[0].lon),
        ("Trường THCS Lạch Tray", Some(106.69))
    );
}

fn xlsx(rows: &[&[Option<&str>]], typed: impl Fn(&mut rust_xlsxwriter::Worksheet)) -> Vec<u8> {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            if let Some(text) = cell {
                ws.write_string(r as u32, c as u16, *text).unwrap();
            }
        }
    }
    typed(ws);
    book.save_to_buffer().unwrap()
}

#[tokio::test]
async fn xlsx_with_dates_and_floats_imports() {
    let w = ward().await;
    // A title row above the header, numbers typed as numbers, a real date cell.
    let groups = xlsx(
        &[
            &[Some("DANH SÁCH TỔ DÂN PHỐ")],
            &[],
            &[Some("Tên tổ dân phố"), Some("Số hộ"), Some("Số nhân khẩu")],
            &[Some("Tổ dân phố số 7")],
        ],
        |ws| {
            ws.write_number(3, 1, 8480.0).unwrap();
            ws.write_number(3, 2, 29628.0).unwrap();
        },
    );
    assert_eq!(
        w.import(Registry::Groups, Format::Xlsx, &groups)
            .await
            .unwrap()
            .created,
        1
    );
    let g = w
        .store
        .unit_by_code("lach-tray-tdp-07")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((g.households, g.residents), (Some(8480), Some(29628)));

    let people = xlsx(
        &[
            &[
                Some("Họ và tên"),
                Some("Tổ bảo vệ"),
                Some("Ngày sinh"),
                Some("Số CCCD"),
                Some("Ngày tham gia"),
            ],
            &[Some("Vũ Thị Hoa"), Some("Tổ bảo vệ ANTT số 1")],
        ],
        |ws| {
            let date = CellFormat::new().set_num_format("dd/mm/yyyy");
            let day = ExcelDateTime::from_ymd(1985, 3, 9).unwrap();
            ws.write_datetime_with_format(1, 2, day, &date).unwrap();
            ws.write_number(1, 3, 31085000123.0).unwrap();
            ws.write_string(1, 4, "01/07/2024").unwrap();
        },
    );
    assert_eq!(
        w.import(Registry::People, Format::Xlsx, &people)
            .await
            .unwrap()
            .created,
        1
    );
    let hoa = &w.people().await[0];
    assert_eq!(hoa.birth_date, NaiveDate::from_ymd_opt(1985, 3, 9));
    assert_eq!(hoa.citizen_id.as_deref(), Some("031085000123"));
    assert_eq!(hoa.joined_on, NaiveDate::from_ymd_opt(2024, 7, 1));

    let fraction = xlsx(
        &[
            &[Some("Tên tổ dân phố"), Some("Số hộ")],
            &[Some("Tổ dân phố số 8")],
        ],
        |ws| {
            ws.write_number(1, 1, 12.5).unwrap();
        },
    );
    let errors = rows(w.import(Registry::Groups, Format::Xlsx, &fraction).await);
    assert_eq!((errors[0].line, errors[0].column.as_str()), (2, "Số hộ"));
}

#[tokio::test]
async fn exports_import_back_as_updates() {
    let w = ward().await;
    w.csv(Registry::Sites, SITES).await.unwrap();
    w.csv(Registry::People, PEOPLE).await.unwrap();
    let counts = w.counts().await;
    for registry in Registry::ALL {
        for format in [Format::Csv, Format::Xlsx] {
            let file = export(&w.store, &w.ward, *registry, format, true)
                .await
                .unwrap();
            let report = w.import(*registry, format, &file).await.unwrap();
            assert_eq!(report.created, 0, "{registry:?} {format:?}");
            assert!(report.updated >= 2, "{registry:?} {format:?}: {report:?}");
        }
    }
    assert_eq!(w.counts().await, counts);

    // Without personal data the columns are empty, and importing it back keeps what is stored.
    let file = export(&w.store, &w.ward, Registry::People, Format::Csv, false)
        .await
        .unwrap();
    let text = String::from_utf8(file.clone()).unwrap();
    assert!(
        text.starts_with('\u{feff}')
            && !text.contains("031070001234")
            && !text.contains("0912345678")
    );
    assert_eq!(
        w.import(Registry::People, Format::Csv, &file)
            .await
            .unwrap()
            .created,
        0
    );
    let an = w
        .people()
        .await
        .into_iter()
        .find(|p| p.full_name == "Nguyễn Văn An")
        .unwrap();
    assert_eq!(
        (an.citizen_id.as_deref(), an.phone.as_str()),
        (Some("031070001234"), "0912345678")
    );
}

#[tokio::test]
async fn formulas_stay_text_and_exports_cannot_run_them() {
    let w = ward().await;
    let csv = "Tên địa bàn,Loại,Ghi chú\nNhà văn hoá,venue,\"=HYPERLINK(\"\"http://x\"\")\"\n";
    w.csv(Registry::Sites, csv).await.unwrap();
    let file = export(&w.store, &w.ward, Registry::Sites, Format::Csv, true)
        .await
        .unwrap();
    let text = String::from_utf8(file.clone()).unwrap();
    assert!(text.contains("\"'=HYPERLINK"), "{text}");
    w.import(Registry::Sites, Format::Csv, &file).await.unwrap();
    let site = &w
        .store
        .sites(w.ward.id, &SiteFilter::default())
        .await
        .unwrap()[0];
    assert_eq!(site.notes, "=HYPERLINK(\"http://x\")");
}

#[tokio::test]
async fn leaders_may_swap_but_not_double() {
    let w = ward().await;
    w.csv(Registry::People, PEOPLE).await.unwrap();
    let swap = "Họ và tên,Chức danh,Ngày sinh\nNguyễn Văn An,Tổ phó,19/08/1970\nTrần Thị Bình,Tổ trưởng,\n";
    assert_eq!(w.csv(Registry::People, swap).await.unwrap().updated, 2);
    let people = w.people().await;
    let role = |n: &str| {
        people
            .iter()
            .find(|p| p.full_name == n)
            .unwrap()
            .team_role
            .clone()
    };
    assert_eq!(
        (
            role("Nguyễn Văn An").as_deref(),
            role("Trần Thị Bình").as_deref()
        ),
        (Some("deputy"), Some("leader"))
    );

    let second = "Họ và tên,Tổ bảo vệ,Chức danh\nHoàng Văn Em,Tổ bảo vệ ANTT số 1,Tổ trưởng\n";
    let errors = rows(w.csv(Registry::People, second).await);
    assert_eq!(
        (errors[0].line, errors[0].message, errors[0].value.as_str()),
        (2, "Tổ bảo vệ này đã có tổ trưởng.", "Trần Thị Bình")
    );
}

#[tokio::test]
async fn a_refusal_from_the_store_names_the_line() {
    let w = ward().await;
    let other = w
        .store
        .create_unit(
            Actor::default(),
            unit(None, UnitKind::Ward, "du-hang-kenh", "Dư Hàng Kênh"),
        )
        .await
        .unwrap();
    let csv = "Họ và tên,Lực lượng,Số CCCD\nĐỗ Văn Giang,officer,031070009999\n";
    import(
        &w.store,
        Actor::default(),
        &other,
        Registry::People,
        Format::Csv,
        csv.as_bytes(),
        &|_, _| {},
    )
    .await
    .unwrap();
    let csv =
        "Họ và tên,Lực lượng,Số CCCD\nNgô Thị Hà,officer,\nĐỗ Văn Giang,officer,031070009999\n";
    let errors = rows(w.csv(Registry::People, csv).await);
    assert_eq!((errors[0].line, errors[0].column.as_str()), (3, "Số CCCD"));
    assert_eq!(w.counts().await.2, 0);
}

#[tokio::test]
async fn oversize_garbage_and_empty_files_are_refused() {
    let w = ward().await;
    let big = vec![b'a'; MAX_BYTES + 1];
    assert_eq!(
        unreadable(w.import(Registry::Sites, Format::Csv, &big).await),
        read::TOO_LARGE
    );
    let garbage = b"PK\x03\x04 this is not a zip at all";
    assert_eq!(
        unreadable(w.import(Registry::Sites, Format::Xlsx, garbage).await),
        "Tệp không phải là bảng tính XLSX hợp lệ."
    );
    assert_eq!(
        unreadable(
            w.import(Registry::Sites, Format::Xlsx, SITES.as_bytes())
                .await
        ),
        "Tệp không phải là bảng tính XLSX hợp lệ."
    );
    let book = export(&w.store, &w.ward, Registry::Sites, Format::Xlsx, true)
        .await
        .unwrap();
    assert!(unreadable(w.import(Registry::Sites, Format::Csv, &book).await).contains("XLSX"));
    assert!(
        unreadable(
            w.import(Registry::Sites, Format::Csv, b"T\xean,Lo\xe1i\n")
                .await
        )
        .contains("UTF-8")
    );
    assert_eq!(
        unreadable(w.csv(Registry::Sites, "Tên địa bàn,Loại\n").await),
        "Tệp không có dòng dữ liệu nào dưới dòng tiêu đề."
    );
    assert_eq!(
        unreadable(w.csv(Registry::Sites, "\n  \n").await),
        "Tệp trống: không tìm thấy dòng tiêu đề."
    );
    let many = format!("Tên địa bàn,Loại\n{}", "a,b\n".repeat(MAX_ROWS + 1));
    assert_eq!(
        unreadable(w.csv(Registry::Sites, &many).await),
        read::TOO_MANY_ROWS
    );
}

#[tokio::test]
async fn geojson_puts_longitude_first() {
    let w = ward().await;
    w.csv(Registry::Sites, SITES).await.unwrap();
    let json = sites_geojson(&w.store, &w.ward).await.unwrap();
    assert_eq!(json["type"], "FeatureCollection");
    let features = json["features"].as_array().unwrap();
    assert_eq!(features.len(), 1, "only sites with a position");
    let shp = &features[0];
    assert_eq!(
        shp["geometry"]["coordinates"],
        serde_json::json!([106.6889, 20.8521])
    );
    assert_eq!(shp["properties"]["kind"], "apartment_building");
    assert_eq!(shp["properties"]["group"], "lach-tray-tdp-01");
    assert_eq!(shp["properties"]["apartments"], 230);
}

#[test]
fn names_and_formats_parse() {
    assert_eq!(Registry::parse("to-dan-pho"), Some(Registry::Groups));
    assert_eq!(Registry::parse("Địa bàn"), Some(Registry::Sites));
    assert_eq!(Registry::parse("PEOPLE"), Some(Registry::People));
    assert_eq!(Registry::parse("units"), None);
    assert_eq!(
        Format::from_path(Path::new("/tmp/So TDP.XLSX")),
        Some(Format::Xlsx)
    );
    assert_eq!(Format::from_name("csv").map(Format::extension), Some("csv"));
    assert_eq!(Format::from_name("xls"), None);
}

#[test]
fn headers_and_aliases_are_distinct_within_a_registry() {
    for registry in Registry::ALL {
        let mut seen = std::collections::HashSet::new();
        for c in layout::columns(*registry) {
            for name in std::iter::once(&c.header).chain(c.aliases) {
                assert!(seen.insert(crate::text::fold(name)), "{registry:?}: {name}");
            }
        }
    }
}

/// Every Vietnamese sentence this module can show, and every header, has English.
#[test]
fn every_text_has_english() {
    let english = |vi: &str| {
        TEXTS
            .iter()
            .chain(crate::domain::TEXTS)
            .any(|(v, _)| *v == vi)
    };
    for registry in Registry::ALL {
        assert!(english(registry.label()));
        for c in layout::columns(*registry) {
            assert!(english(c.header), "{}", c.header);
        }
    }
    let sources = [
        include_str!("mod.rs"),
        include_str!("layout.rs"),
        include_str!("read.rs"),
        include_str!("groups.rs"),
        include_str!("sites.rs"),
        include_str!("people.rs"),
    ];
    for source in sources {
        // Sentences are the string literals that end with a full stop and hold a Vietnamese letter.
        for literal in string_literals(source) {
            if literal.ends_with('.') && !literal.is_ascii() {
                assert!(english(&literal), "no English for {literal:?}");
            }
        }
    }
}

/// The string literals of a Rust source, unescaped (enough for this module's sources).
fn string_literals(source: &str) -> Vec<String> {
    let (mut out, mut chars) = (Vec::new(), source.chars().peekable());
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                chars.by_ref().find(|c| *c == '\n');
            }
            '\'' if chars.peek() == Some(&'"') => {
                chars.next();
            }
            '"' => {
                let mut literal = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => literal.extend(chars.next()),
                        '"' => break,
                        c => literal.push(c),
                    }
                }
                out.push(literal);
            }
            _ => {}
        }
    }
    out
}

#[tokio::test]
async fn people_are_matched_by_name_only_when_unambiguous() {
    let w = ward().await;
    let csv = "Họ và tên,Lực lượng,Ngày sinh\nNguyễn Văn An,officer,01/01/1970\nNguyễn Văn An,officer,02/02/1980\n";
    assert_eq!(w.csv(Registry::People, csv).await.unwrap().created, 2);
    let errors = rows(
        w.csv(Registry::People, "Họ và tên,Ghi chú\nNguyễn Văn An,x\n")
            .await,
    );
    assert_eq!(
        (errors[0].line, errors[0].column.as_str()),
        (2, "Họ và tên")
    );
    let by_birth = "Họ và tên,Ngày sinh,Ghi chú\nNguyễn Văn An,02/02/1980,x\n";
    assert_eq!(w.csv(Registry::People, by_birth).await.unwrap().updated, 1);
}

#[tokio::test]
async fn the_futures_can_cross_threads() {
    fn send<T: Send>(_: T) {}
    let w = ward().await;
    let store: &dyn Store = &w.store;
    let nothing = |_, _| {};
    send(import(
        store,
        Actor::default(),
        &w.ward,
        Registry::Groups,
        Format::Csv,
        b"",
        &nothing,
    ));
    send(export(
        store,
        &w.ward,
        Registry::People,
        Format::Xlsx,
        false,
    ));
    send(sites_geojson(store, &w.ward));
}
