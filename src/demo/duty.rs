//! The demo wards' duty, as the articles describe it: Lạch Tray's teams patrol at night
//! with the ward police; Dư Hàng Kênh's veterans direct traffic at the Sunday Chợ Hàng
//! session and at the school gates, and its teams patrol the market streets. This
//! month's and next month's rosters are built so that every page has something to show.

use anyhow::{Context, Result};

use crate::duty::service::{self, Month, TemplateForm};
use crate::store::duty::{PlaceInput, StopInput};
use crate::store::territory::Unit;
use crate::store::{Actor, Store};

/// Load the duty of every demo ward that has none yet.
pub async fn load(store: &dyn Store) -> Result<()> {
    for code in [super::LACH_TRAY, super::DU_HANG_KENH] {
        let Some(ward) = store.unit_by_code(code).await? else {
            continue;
        };
        if !store.templates(ward.id).await?.is_empty() || !store.places(ward.id).await?.is_empty() {
            continue;
        }
        if code == super::LACH_TRAY {
            lach_tray(store, &ward).await
        } else {
            du_hang_kenh(store, &ward).await
        }
        .with_context(|| format!("loading the demo duty of {code}"))?;
        let this = Month::parse("").map_err(|e| anyhow::anyhow!(e.0))?;
        for month in [this, this.next()] {
            service::build_month(
                store,
                Actor::default(),
                ward.id,
                month,
                None,
                true,
                crate::i18n::Lang::Vi,
            )
            .await
            .map_err(|e| anyhow::anyhow!("building the demo roster: {e}"))?;
        }
        tracing::info!(ward = code, "demo duty loaded");
    }
    Ok(())
}

async fn place(
    store: &dyn Store,
    ward: &Unit,
    kind: &str,
    name: &str,
    site: Option<i64>,
    stops: &[(&str, f64, f64)],
) -> Result<i64> {
    let input = PlaceInput {
        ward_id: ward.id,
        kind: kind.into(),
        name: name.into(),
        site_id: site,
        notes: String::new(),
        stops: stops
            .iter()
            .map(|(n, lat, lon)| StopInput {
                name: (*n).into(),
                lat: *lat,
                lon: *lon,
            })
            .collect(),
    };
    Ok(store
        .create_place(Actor::default(), &input, &service::new_qr_key())
        .await?
        .id)
}

/// A template as an officer would type it.
#[allow(clippy::too_many_arguments)]
fn form(
    ward: &Unit,
    kind: &str,
    title: &str,
    place: Option<i64>,
    force: String,
    needed: u32,
    times: (&str, &str),
    rule: &str,
) -> TemplateForm {
    TemplateForm {
        ward: ward.code.clone(),
        kind: kind.into(),
        title: title.into(),
        place: place.map(|p| p.to_string()).unwrap_or_default(),
        force,
        needed: needed.to_string(),
        start_time: times.0.into(),
        end_time: times.1.into(),
        starts_on: "01/01/2026".into(),
        rule: rule.into(),
        ..Default::default()
    }
}

async fn save(store: &dyn Store, ward: &Unit, f: TemplateForm) -> Result<()> {
    let places = store.places(ward.id).await?;
    let teams: Vec<i64> = store
        .teams(ward.id, false)
        .await?
        .iter()
        .map(|t| t.id)
        .collect();
    let forces: Vec<i64> = store.forces(ward.id).await?.iter().map(|f| f.id).collect();
    let (input, _) = service::parse_template(&f, ward.id, &places, &teams, &forces)
        .map_err(|e| anyhow::anyhow!("demo duty {:?} refused: {e:?}", f.title))?;
    store.save_template(Actor::default(), None, &input).await?;
    Ok(())
}

const DAYS: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

async fn lach_tray(store: &dyn Store, ward: &Unit) -> Result<()> {
    let route = place(
        store,
        ward,
        "route",
        "Tuyến tuần tra Lạch Tray – Văn Cao",
        None,
        &[
            ("Ngã tư Lạch Tray – Văn Cao", 20.8531, 106.6935),
            ("Sân vận động Lạch Tray", 20.8556, 106.6897),
            ("Chợ Lạch Tray", 20.8562, 106.6862),
            ("Ngõ 157 Lạch Tray", 20.8540, 106.6880),
        ],
    )
    .await?;
    let teams = store.teams(ward.id, false).await?;
    for (i, t) in teams.iter().enumerate() {
        let day = DAYS[i % 7];
        save(
            store,
            ward,
            form(
                ward,
                "patrol",
                &format!("Tuần tra đêm — {}", t.name),
                Some(route),
                format!("team:{}", t.id),
                2,
                ("22:00", "05:00"),
                &format!("FREQ=WEEKLY;BYDAY={day}"),
            ),
        )
        .await?;
    }
    save(
        store,
        ward,
        form(
            ward,
            "patrol",
            "Tuần tra đêm cùng Công an phường",
            Some(route),
            "police".into(),
            1,
            ("22:00", "05:00"),
            "FREQ=WEEKLY;BYDAY=FR,SA",
        ),
    )
    .await
}

async fn du_hang_kenh(store: &dyn Store, ward: &Unit) -> Result<()> {
    let sites = store.sites(ward.id, &Default::default()).await?;
    let site = |name: &str| sites.iter().find(|s| s.name == name);
    let veterans = store
        .forces(ward.id)
        .await?
        .into_iter()
        .next()
        .context("the veterans' association")?;
    let market = site("Chợ Hàng").context("Chợ Hàng")?;
    let (mlat, mlon) = (
        market.lat.unwrap_or(20.8408),
        market.lon.unwrap_or(106.6712),
    );
    let gates = place(
        store,
        ward,
        "traffic_post",
        "Cổng chợ Hàng",
        Some(market.id),
        &[
            ("Cổng chính chợ Hàng", mlat, mlon),
            (
                "Ngã ba Chợ Hàng – Nguyễn Văn Linh",
                mlat + 0.0012,
                mlon - 0.0009,
            ),
        ],
    )
    .await?;
    let mut f = form(
        ward,
        "market_session",
        "Phân luồng giao thông phiên chợ Hàng",
        Some(gates),
        format!("partner:{}", veterans.id),
        6,
        ("05:30", "11:00"),
        "FREQ=WEEKLY;BYDAY=SU",
    );
    f.notes = "Mô hình \"Hội Cựu chiến binh đảm bảo trật tự an toàn giao thông phiên chợ Hàng và cổng trường học\".".into();
    save(store, ward, f).await?;

    for school in ["Trường Tiểu học Dư Hàng Kênh", "Trường THCS Dư Hàng Kênh"] {
        let Some(s) = site(school) else { continue };
        let post = place(
            store,
            ward,
            "traffic_post",
            &format!("Cổng {}", school.replacen("Trường", "trường", 1)),
            Some(s.id),
            &[(school, s.lat.unwrap_or(mlat), s.lon.unwrap_or(mlon))],
        )
        .await?;
        for (when, times) in [
            ("buổi sáng", ("06:30", "07:15")),
            ("buổi chiều", ("16:00", "17:00")),
        ] {
            let mut f = form(
                ward,
                "traffic_post",
                &format!("Cổng trường {when} — {school}"),
                Some(post),
                format!("partner:{}", veterans.id),
                2,
                times,
                "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
            );
            // Summer holidays and Tết: no school, no gate duty.
            f.except_dates = "01/06/2026-31/08/2026, 01/06/2027-31/08/2027".into();
            f.skip_tet = true;
            save(store, ward, f).await?;
        }
    }

    let route = place(
        store,
        ward,
        "route",
        "Tuyến tuần tra khu chợ Hàng",
        None,
        &[
            ("Cổng chính chợ Hàng", mlat, mlon),
            ("Đường Chợ Hàng", mlat + 0.0020, mlon + 0.0006),
            ("Nhà trọ ngõ Chợ Hàng", mlat + 0.0011, mlon + 0.0018),
            ("Đường Nguyễn Văn Linh", mlat - 0.0010, mlon + 0.0022),
        ],
    )
    .await?;
    for (i, t) in store.teams(ward.id, false).await?.iter().enumerate() {
        save(
            store,
            ward,
            form(
                ward,
                "patrol",
                &format!("Tuần tra đêm — {}", t.name),
                Some(route),
                format!("team:{}", t.id),
                2,
                ("22:00", "05:00"),
                &format!("FREQ=WEEKLY;BYDAY={}", DAYS[i % 7]),
            ),
        )
        .await?;
    }
    // Crowds and incense at the first and fifteenth of the lunar month.
    let mut f = form(
        ward,
        "fire_watch",
        "Trực phòng cháy ngày rằm, mùng một",
        Some(gates),
        "police".into(),
        1,
        ("17:00", "21:00"),
        "",
    );
    f.lunar_days = "1,15".into();
    save(store, ward, f).await
}
