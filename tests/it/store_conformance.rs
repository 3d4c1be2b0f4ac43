//! The store interface behaves the same on SQLite and PostgreSQL: unique constraints
//! come back under one name, batches are all or nothing, archiving is audited, and
//! the sites filter matches folded terms literally; a batch of reports answers what a
//! later read finds.

use std::sync::Arc;

use wardwatch::domain::{
    CitizenId, Code, ForceKind, Name, PersonKind, Phone, Role, SiteKind, TeamRole, UnitKind,
};
use wardwatch::store::accounts::NewUser;
use wardwatch::store::forces::{ForceInput, PeopleFilter, PersonInput, TeamInput};
use wardwatch::store::reports::NewReport;
use wardwatch::store::territory::{SiteFilter, SiteInput, Staffing, Unit, UnitInput};
use wardwatch::store::{Actor, Store, StoreError, Write};

use crate::both;
use crate::helpers::TestApp;

both!(
    unique_constraints_have_one_name,
    references_are_checked,
    apply_is_all_or_nothing,
    archive_and_restore_are_audited,
    sites_filter_with_folded_terms,
    a_report_batch_answers_what_it_stored,
    intake_numbers_reports_and_skips_legacy_codes,
    a_report_holds_on_to_what_it_names,
);

const SYSTEM: Actor = Actor { user_id: None };

fn unit_input(kind: UnitKind, code: &str, name: &str, parent: Option<i64>) -> UnitInput {
    UnitInput {
        parent_id: parent,
        kind,
        code: Code::parse(code).unwrap(),
        name: Name::parse(name).unwrap(),
        area_ha: None,
        founded_year: None,
        households: Some(100),
        residents: Some(320),
        position: None,
        risk_notes: String::new(),
        notes: String::new(),
        staffing: Staffing::default(),
    }
}

fn site_input(ward: i64, kind: SiteKind, name: &str) -> SiteInput {
    SiteInput {
        ward_id: ward,
        group_id: None,
        parent_site_id: None,
        kind,
        name: Name::parse(name).unwrap(),
        address: String::new(),
        position: None,
        floors: None,
        apartments: None,
        residents: None,
        foreign_residents: None,
        rooms: None,
        lodgers: None,
        visitors: None,
        length_m: None,
        schedule: String::new(),
        in_use_since: None,
        risk_notes: String::new(),
        notes: String::new(),
    }
}

fn team_input(ward: i64, name: &str, groups: &[i64]) -> TeamInput {
    TeamInput {
        ward_id: ward,
        name: Name::parse(name).unwrap(),
        decision_no: String::new(),
        decision_date: None,
        founded_on: None,
        notes: String::new(),
        group_ids: groups.to_vec(),
    }
}

fn member(
    ward: i64,
    name: &str,
    team: Option<i64>,
    role: Option<TeamRole>,
    citizen: Option<&str>,
) -> PersonInput {
    PersonInput {
        ward_id: ward,
        kind: if team.is_some() {
            PersonKind::TeamMember
        } else {
            PersonKind::Officer
        },
        team_id: team,
        team_role: role,
        force_id: None,
        full_name: Name::parse(name).unwrap(),
        phone: Some(Phone::parse("0912345678").unwrap()),
        birth_date: None,
        citizen_id: citizen.map(|c| CitizenId::parse(c).unwrap()),
        address: String::new(),
        group_id: None,
        rank_title: String::new(),
        training: String::new(),
        equipment: String::new(),
        joined_on: None,
        notes: String::new(),
    }
}

/// A ward with two residential groups.
struct Ward {
    ward: Unit,
    groups: [Unit; 2],
}

async fn ward(store: &Arc<dyn Store>, code: &str) -> Ward {
    let ward = store
        .create_unit(
            SYSTEM,
            unit_input(UnitKind::Ward, code, &format!("Phường {code}"), None),
        )
        .await
        .expect("ward");
    assert_eq!(ward.ward_id, Some(ward.id), "a ward owns itself");
    let mut groups = Vec::new();
    for n in 1..=2 {
        let g = store
            .create_unit(
                SYSTEM,
                unit_input(
                    UnitKind::Group,
                    &format!("{code}-tdp-{n}"),
                    &format!("Tổ dân phố số {n}"),
                    Some(ward.id),
                ),
            )
            .await
            .expect("group");
        assert_eq!(g.ward_id, Some(ward.id), "a group belongs to its ward");
        groups.push(g);
    }
    Ward {
        ward,
        groups: groups.try_into().unwrap(),
    }
}

#[track_caller]
fn assert_conflict<T: std::fmt::Debug>(r: Result<T, StoreError>, name: &str) {
    match r {
        Err(StoreError::Conflict(n)) => assert_eq!(n, name),
        other => panic!("expected Conflict({name}), got {other:?}"),
    }
}

async fn audit_len(store: &Arc<dyn Store>) -> usize {
    store
        .audit_trail(None, None, 1_000_000)
        .await
        .unwrap()
        .len()
}

async fn unique_constraints_have_one_name(app: TestApp) {
    let s = &app.store;
    let w = ward(s, "phuong-a").await;
    let other = ward(s, "phuong-b").await;
    let wid = w.ward.id;
    let audit = audit_len(s).await;

    assert_conflict(
        s.create_unit(SYSTEM, unit_input(UnitKind::Ward, "phuong-a", "Khác", None))
            .await,
        "units_code_key",
    );

    s.create_site(SYSTEM, site_input(wid, SiteKind::Market, "Chợ A"))
        .await
        .unwrap();
    assert_conflict(
        s.create_site(SYSTEM, site_input(wid, SiteKind::School, "Chợ A"))
            .await,
        "sites_ward_id_name_key",
    );
    s.create_site(SYSTEM, site_input(other.ward.id, SiteKind::Market, "Chợ A"))
        .await
        .expect("the same name in another ward");

    let t1 = s
        .create_team(SYSTEM, team_input(wid, "Tổ 1", &[w.groups[0].id]))
        .await
        .unwrap();
    assert_conflict(
        s.create_team(SYSTEM, team_input(wid, "Tổ 1", &[w.groups[1].id]))
            .await,
        "teams_ward_id_name_key",
    );
    assert_conflict(
        s.create_team(SYSTEM, team_input(wid, "Tổ 2", &[w.groups[0].id]))
            .await,
        "team_groups_group_id_key",
    );

    let force = ForceInput {
        ward_id: wid,
        kind: ForceKind::Veterans,
        name: Name::parse("Hội Cựu chiến binh").unwrap(),
        founded_on: None,
        notes: String::new(),
    };
    s.create_force(SYSTEM, force.clone()).await.unwrap();
    assert_conflict(
        s.create_force(SYSTEM, force).await,
        "partner_forces_ward_id_name_key",
    );

    // One leader and one deputy per team; any number of members.
    s.create_person(
        SYSTEM,
        member(wid, "Trưởng Một", Some(t1.id), Some(TeamRole::Leader), None),
    )
    .await
    .unwrap();
    assert_conflict(
        s.create_person(
            SYSTEM,
            member(wid, "Trưởng Hai", Some(t1.id), Some(TeamRole::Leader), None),
        )
        .await,
        "people_team_id_team_role_key",
    );
    for n in 1..=3 {
        s.create_person(
            SYSTEM,
            member(
                wid,
                &format!("Tổ viên {n}"),
                Some(t1.id),
                Some(TeamRole::Member),
                None,
            ),
        )
        .await
        .expect("members are many");
    }

    s.create_person(
        SYSTEM,
        member(wid, "Có CCCD", None, None, Some("031200001234")),
    )
    .await
    .unwrap();
    assert_conflict(
        s.create_person(
            SYSTEM,
            member(
                other.ward.id,
                "Trùng CCCD",
                None,
                None,
                Some("031200001234"),
            ),
        )
        .await,
        "people_citizen_id_key",
    );

    let user = NewUser {
        username: "trung.ten".into(),
        display_name: String::new(),
        password_hash: "x".into(),
        role: Role::Officer,
        ward_id: Some(wid),
        group_id: None,
        person_id: None,
    };
    s.create_user(SYSTEM, user.clone()).await.unwrap();
    assert_conflict(s.create_user(SYSTEM, user).await, "users_username_key");

    // Updates are checked too.
    let b = s
        .create_site(SYSTEM, site_input(wid, SiteKind::Market, "Chợ B"))
        .await
        .unwrap();
    assert_conflict(
        s.update_site(SYSTEM, b.id, site_input(wid, SiteKind::Market, "Chợ A"))
            .await,
        "sites_ward_id_name_key",
    );
    assert_eq!(s.site(b.id).await.unwrap().unwrap().name, "Chợ B");

    // Every write that succeeded is audited once; the refused ones not at all.
    // Chợ A twice (two wards), Tổ 1, the force, the leader, 3 members, the person
    // with a citizen ID, the user, Chợ B.
    assert_eq!(audit_len(s).await, audit + 11);
}

async fn references_are_checked(app: TestApp) {
    let s = &app.store;
    let w = ward(s, "phuong-a").await;
    let other = ward(s, "phuong-b").await;
    let audit = audit_len(s).await;
    // A team cannot cover another ward's group.
    assert!(matches!(
        s.create_team(
            SYSTEM,
            team_input(w.ward.id, "Tổ lạ", &[other.groups[0].id])
        )
        .await,
        Err(StoreError::Reference)
    ));
    assert!(s.teams(w.ward.id, true).await.unwrap().is_empty());
    // A person in a team that does not exist.
    assert!(matches!(
        s.create_person(
            SYSTEM,
            member(
                w.ward.id,
                "Không tổ",
                Some(999_999),
                Some(TeamRole::Member),
                None
            )
        )
        .await,
        Err(StoreError::Reference)
    ));
    // A unit under a parent that does not exist.
    assert!(matches!(
        s.create_unit(
            SYSTEM,
            unit_input(UnitKind::Group, "mo-coi", "Tổ mồ côi", Some(999_999))
        )
        .await,
        Err(StoreError::Reference)
    ));
    assert!(matches!(
        s.update_site(
            SYSTEM,
            999_999,
            site_input(w.ward.id, SiteKind::Other, "Không có")
        )
        .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(audit_len(s).await, audit, "refused writes leave no audit");
}

async fn apply_is_all_or_nothing(app: TestApp) {
    let s = &app.store;
    let w = ward(s, "phuong-a").await;
    let wid = w.ward.id;
    let existing = s
        .create_site(SYSTEM, site_input(wid, SiteKind::Market, "Có sẵn"))
        .await
        .unwrap();
    let all = SiteFilter {
        include_archived: true,
        ..Default::default()
    };
    let sites = s.sites(wid, &all).await.unwrap().len();
    let audit = audit_len(s).await;

    let batch = [
        Write::Site(None, site_input(wid, SiteKind::Other, "Mới 1")),
        Write::Site(None, site_input(wid, SiteKind::Other, "Mới 2")),
        Write::Site(None, site_input(wid, SiteKind::Other, "Có sẵn")),
        Write::Site(None, site_input(wid, SiteKind::Other, "Mới 3")),
    ];
    let err = s
        .apply(SYSTEM, &batch)
        .await
        .expect_err("the third conflicts");
    assert_eq!(err.index, 2);
    assert!(
        matches!(&err.error, StoreError::Conflict(n) if n == "sites_ward_id_name_key"),
        "{:?}",
        err.error
    );
    assert_eq!(s.sites(wid, &all).await.unwrap().len(), sites);
    assert_eq!(audit_len(s).await, audit, "nothing of the batch is audited");

    // Mixed writes, the conflict inside the batch itself; an update rolled back too.
    let mut renamed = site_input(wid, SiteKind::Market, "Đổi tên");
    renamed.notes = "đã sửa".into();
    let batch = [
        Write::Unit(
            None,
            unit_input(
                UnitKind::Group,
                "phuong-a-tdp-3",
                "Tổ dân phố số 3",
                Some(wid),
            ),
        ),
        Write::Site(Some(existing.id), renamed.clone()),
        Write::Team(None, team_input(wid, "Tổ 1", &[w.groups[0].id])),
        Write::Team(None, team_input(wid, "Tổ 2", &[w.groups[0].id])),
    ];
    let err = s
        .apply(SYSTEM, &batch)
        .await
        .expect_err("group covered twice");
    assert_eq!(err.index, 3);
    assert!(
        matches!(&err.error, StoreError::Conflict(n) if n == "team_groups_group_id_key"),
        "{:?}",
        err.error
    );
    assert!(s.unit_by_code("phuong-a-tdp-3").await.unwrap().is_none());
    assert_eq!(s.site(existing.id).await.unwrap().unwrap().name, "Có sẵn");
    assert!(s.teams(wid, true).await.unwrap().is_empty());
    assert_eq!(audit_len(s).await, audit);

    // An update of a record that does not exist fails at its own index.
    let err = s
        .apply(
            SYSTEM,
            &[
                Write::Site(None, site_input(wid, SiteKind::Other, "Mới 4")),
                Write::Site(Some(999_999), site_input(wid, SiteKind::Other, "Mới 5")),
            ],
        )
        .await
        .expect_err("no such site");
    assert_eq!(err.index, 1);
    assert!(matches!(err.error, StoreError::NotFound), "{:?}", err.error);

    // The same batch without the conflict: everything, audited once each.
    let batch = [
        batch[0].clone(),
        batch[1].clone(),
        batch[2].clone(),
        Write::Site(None, site_input(wid, SiteKind::Other, "Mới 1")),
    ];
    assert_eq!(s.apply(SYSTEM, &batch).await.expect("applies"), 4);
    assert!(s.unit_by_code("phuong-a-tdp-3").await.unwrap().is_some());
    let site = s.site(existing.id).await.unwrap().unwrap();
    assert_eq!(
        (site.name.as_str(), site.notes.as_str()),
        ("Đổi tên", "đã sửa")
    );
    assert_eq!(s.teams(wid, false).await.unwrap().len(), 1);
    assert_eq!(s.sites(wid, &all).await.unwrap().len(), sites + 1);
    assert_eq!(audit_len(s).await, audit + 4);
    assert_eq!(s.apply(SYSTEM, &[]).await.expect("empty batch"), 0);
}

async fn archive_and_restore_are_audited(app: TestApp) {
    let s = &app.store;
    let w = ward(s, "phuong-a").await;
    let wid = w.ward.id;
    let user = s
        .create_user(
            SYSTEM,
            NewUser {
                username: "can.bo".into(),
                display_name: String::new(),
                password_hash: "x".into(),
                role: Role::Officer,
                ward_id: Some(wid),
                group_id: None,
                person_id: None,
            },
        )
        .await
        .unwrap();
    let officer = Actor {
        user_id: Some(user.id),
    };
    let site = s
        .create_site(officer, site_input(wid, SiteKind::Market, "Chợ Lưu"))
        .await
        .unwrap();
    let team = s
        .create_team(officer, team_input(wid, "Tổ Lưu", &[w.groups[0].id]))
        .await
        .unwrap();
    let person = s
        .create_person(
            officer,
            member(
                wid,
                "Người Lưu",
                Some(team.id),
                Some(TeamRole::Member),
                None,
            ),
        )
        .await
        .unwrap();

    let last = |entity: &'static str, id: i64| {
        let s = s.clone();
        async move {
            s.audit_trail(Some(wid), Some((entity, id)), 100)
                .await
                .unwrap()
        }
    };
    let created = last("site", site.id).await;
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].action, "create");
    assert_eq!(created[0].username.as_deref(), Some("can.bo"));
    assert_eq!(created[0].user_id, Some(user.id));

    // Sites.
    s.set_site_archived(officer, site.id, true).await.unwrap();
    let trail = last("site", site.id).await;
    assert_eq!(trail.len(), 2);
    assert_eq!(trail[0].action, "archive", "newest first");
    assert_eq!(trail[0].username.as_deref(), Some("can.bo"));
    assert!(trail[0].id > trail[1].id);
    assert!(
        s.sites(wid, &SiteFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
    let archived = s
        .sites(
            wid,
            &SiteFilter {
                include_archived: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(archived.len(), 1);
    assert!(archived[0].archived_at.is_some());
    s.set_site_archived(SYSTEM, site.id, false).await.unwrap();
    let trail = last("site", site.id).await;
    assert_eq!(trail[0].action, "restore");
    assert_eq!(trail[0].user_id, None);
    assert_eq!(s.sites(wid, &SiteFilter::default()).await.unwrap().len(), 1);

    // Teams.
    s.set_team_archived(officer, team.id, true).await.unwrap();
    assert_eq!(last("team", team.id).await[0].action, "archive");
    assert!(s.teams(wid, false).await.unwrap().is_empty());
    assert_eq!(s.teams(wid, true).await.unwrap().len(), 1);
    s.set_team_archived(officer, team.id, false).await.unwrap();
    assert_eq!(last("team", team.id).await[0].action, "restore");
    assert_eq!(s.teams(wid, false).await.unwrap().len(), 1);

    // People.
    s.set_person_archived(officer, person.id, true)
        .await
        .unwrap();
    assert_eq!(last("person", person.id).await[0].action, "archive");
    assert!(
        s.people(wid, &PeopleFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
    let all = PeopleFilter {
        include_archived: true,
        ..Default::default()
    };
    assert_eq!(s.people(wid, &all).await.unwrap().len(), 1);
    s.set_person_archived(officer, person.id, false)
        .await
        .unwrap();
    assert_eq!(last("person", person.id).await[0].action, "restore");

    // Units: an archived group no longer counts in the ward.
    let groups = |s: Arc<dyn Store>| async move {
        s.wards()
            .await
            .unwrap()
            .into_iter()
            .find(|x| x.id == wid)
            .unwrap()
            .groups
    };
    assert_eq!(groups(s.clone()).await, 2);
    s.set_unit_archived(officer, w.groups[1].id, true)
        .await
        .unwrap();
    assert_eq!(last("unit", w.groups[1].id).await[0].action, "archive");
    assert_eq!(groups(s.clone()).await, 1);
    s.set_unit_archived(officer, w.groups[1].id, false)
        .await
        .unwrap();
    assert_eq!(groups(s.clone()).await, 2);

    // Nothing to archive.
    assert!(matches!(
        s.set_site_archived(officer, 999_999, true).await,
        Err(StoreError::NotFound)
    ));

    // Views of personal data.
    s.record_view(officer, wid, "person", person.id, "citizen_id")
        .await
        .unwrap();
    let v = &last("person", person.id).await[0];
    assert_eq!(
        (v.action.as_str(), v.detail.as_str(), v.ward_id),
        ("view", "citizen_id", Some(wid))
    );

    // The limit keeps the newest.
    let two = s.audit_trail(Some(wid), None, 2).await.unwrap();
    assert_eq!(two.len(), 2);
    assert_eq!(two[0].action, "view");
}

async fn sites_filter_with_folded_terms(app: TestApp) {
    let s = &app.store;
    let w = ward(s, "phuong-a").await;
    let wid = w.ward.id;
    let mut block = site_input(
        wid,
        SiteKind::CollectiveHousing,
        "Khu tập thể Đồng Tâm - Nhà A1",
    );
    block.group_id = Some(w.groups[0].id);
    let block = s.create_site(SYSTEM, block).await.unwrap();
    let mut market = site_input(wid, SiteKind::Market, "Chợ Hàng");
    market.address = "Đường Chợ Hàng".into();
    market.notes = "Họp phiên sáng Chủ nhật, gần cổng trường".into();
    let market = s.create_site(SYSTEM, market).await.unwrap();
    let lodging = s
        .create_site(
            SYSTEM,
            site_input(wid, SiteKind::Lodging, "Nhà nghỉ 500 phòng"),
        )
        .await
        .unwrap();
    let other = ward(s, "phuong-b").await;
    s.create_site(
        SYSTEM,
        site_input(other.ward.id, SiteKind::Market, "Chợ Đồng Tâm"),
    )
    .await
    .unwrap();

    let find = |terms: &[&str]| {
        let s = s.clone();
        let filter = SiteFilter {
            terms: terms.iter().map(|t| t.to_string()).collect(),
            ..Default::default()
        };
        async move {
            let mut ids: Vec<i64> = s
                .sites(wid, &filter)
                .await
                .unwrap()
                .into_iter()
                .map(|x| x.id)
                .collect();
            ids.sort();
            ids
        }
    };
    assert_eq!(find(&["dong", "tam"]).await, [block.id]);
    assert_eq!(find(&["tam", "dong"]).await, [block.id]);
    assert_eq!(find(&["cho", "hang"]).await, [market.id]);
    // The address, the kind's label and the notes are searched too.
    assert_eq!(find(&["duong"]).await, [market.id]);
    assert_eq!(find(&["cong", "truong"]).await, [market.id]);
    assert_eq!(find(&["nha", "nghi"]).await, [lodging.id]);
    assert_eq!(find(&["dong", "hang"]).await, Vec::<i64>::new());
    assert_eq!(find(&[]).await.len(), 3, "no terms: the whole ward");
    // Wildcards in a term are matched literally on both engines.
    assert_eq!(find(&["5_0"]).await, Vec::<i64>::new());
    assert_eq!(find(&["%"]).await, Vec::<i64>::new());
    assert_eq!(find(&["500"]).await, [lodging.id]);

    let by_kind = s
        .sites(
            wid,
            &SiteFilter {
                kind: Some(SiteKind::Market),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        by_kind.iter().map(|x| x.id).collect::<Vec<_>>(),
        [market.id]
    );
    let by_group = s
        .sites(
            wid,
            &SiteFilter {
                group_id: Some(w.groups[0].id),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        by_group.iter().map(|x| x.id).collect::<Vec<_>>(),
        [block.id]
    );

    // Archived sites only when asked for.
    s.set_site_archived(SYSTEM, block.id, true).await.unwrap();
    assert_eq!(find(&["dong", "tam"]).await, Vec::<i64>::new());
    let with_archived = s
        .sites(
            wid,
            &SiteFilter {
                terms: vec!["dong".into()],
                include_archived: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(with_archived.len(), 1);

    // The cross-registry search: people only when asked for.
    s.create_person(SYSTEM, member(wid, "Đồng Văn Hàng", None, None, None))
        .await
        .unwrap();
    let terms = vec!["hang".to_string()];
    let hits = s.search(Some(wid), &terms, false, 100).await.unwrap();
    assert!(hits.iter().all(|h| h.entity != "person"), "{hits:?}");
    assert!(hits.iter().any(|h| h.entity == "site" && h.id == market.id));
    let hits = s.search(Some(wid), &terms, true, 100).await.unwrap();
    assert!(
        hits.iter()
            .any(|h| h.entity == "person" && h.title == "Đồng Văn Hàng"),
        "{hits:?}"
    );
    // Across wards when no ward is given; the limit holds.
    let everywhere = s
        .search(None, &["dong".to_string()], false, 100)
        .await
        .unwrap();
    assert!(everywhere.iter().any(|h| h.title == "Chợ Đồng Tâm"));
    let one = s
        .search(None, &["phuong".to_string()], false, 1)
        .await
        .unwrap();
    assert_eq!(one.len(), 1);
}

/// Tracking numbers of the reports these tests store, one each (intake would take them
/// from the deployment's counter).
static TRACKING_NO: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(1_000_000);

fn new_report(ward_id: i64, code: &str, client_key: Option<&str>) -> NewReport {
    let mut r = NewReport {
        ward_id,
        tracking_no: TRACKING_NO.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        tracking_code: code.to_string(),
        category: "fire".to_string(),
        description: format!("Khói bốc lên ở nhà kho {code}"),
        occurred_at: Some(chrono::Utc::now() - chrono::Duration::minutes(5)),
        lat: Some(20.8412345678),
        lon: Some(106.6798765432),
        place_unknown: false,
        group_id: None,
        site_id: None,
        address: "Số 7 ngõ 12".to_string(),
        priority: 1,
        anonymous: false,
        reporter_name: "Nguyễn Văn A".to_string(),
        reporter_phone: "0912345678".to_string(),
        reporter_email: String::new(),
        reporter_user_id: None,
        source: "api".to_string(),
        service_code: None,
        api_key_id: None,
        client_key: client_key.map(str::to_string),
        search_folded: String::new(),
    };
    r.search_folded = r.search_key();
    r
}

async fn a_report_batch_answers_what_it_stored(app: TestApp) {
    let store = &app.store;
    let w = ward(store, "lo-tom").await;
    let mut batch: Vec<NewReport> = (0..40)
        .map(|i| new_report(w.ward.id, &format!("PA-TEST-{i:04}"), None))
        .collect();
    batch[3].client_key = Some("k-1".into());
    batch[7] = new_report(w.ward.id, "PA-TEST-DUP1", Some("k-1"));
    batch[9].lat = None;
    batch[9].lon = None;
    batch[9].occurred_at = None;
    let answered = store.insert_reports(&batch).await.expect("batch");
    assert_eq!(answered.len(), batch.len());
    for (sent, got) in batch.iter().zip(&answered) {
        let read = store.report(got.id).await.unwrap().expect("stored");
        assert_eq!(
            format!("{got:?}"),
            format!("{read:?}"),
            "answered as stored"
        );
        if sent.client_key.is_none() {
            assert_eq!(got.tracking_code, sent.tracking_code);
        }
        // The history's first step is read from the report itself.
        let events = store.report_events(got.id).await.unwrap();
        assert_eq!(events.len(), 1);
        let created = &events[0];
        assert_eq!(
            (
                created.report_id,
                created.kind.as_str(),
                created.from_status.as_deref()
            ),
            (got.id, "created", None)
        );
        assert_eq!(created.to_status.as_deref(), Some("new"));
        assert_eq!(
            (created.at, created.user_id),
            (got.created_at, got.reporter_user_id)
        );
        assert!(created.public);
    }
    // A report stored before the step was read from the report (migration 0005) has its
    // step stored: it shows once, before the later steps.
    let old = answered[0].id;
    raw_sql(
        &app,
        &format!(
            "INSERT INTO report_events (report_id, at, user_id, kind, from_status, to_status, \
             note, public) VALUES ({old}, '2026-01-02T03:04:05Z', NULL, 'created', NULL, 'new', \
             '', TRUE)"
        ),
    )
    .await;
    store
        .change_report(
            SYSTEM,
            old,
            wardwatch::store::reports::ReportChange {
                status: Some("acknowledged".into()),
                kind: "status",
                ..Default::default()
            },
        )
        .await
        .expect("acknowledged");
    let kinds: Vec<String> = store
        .report_events(old)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, ["created", "status"]);
    // The same client key later in the batch, and in a later batch, answers the first.
    assert_eq!(answered[7].id, answered[3].id);
    let again = store
        .insert_reports(&[new_report(w.ward.id, "PA-TEST-DUP2", Some("k-1"))])
        .await
        .unwrap();
    assert_eq!(again[0].id, answered[3].id);
    // Ids follow the batch's order (live listeners follow ids).
    let fresh: Vec<i64> = answered
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 7)
        .map(|(_, r)| r.id)
        .collect();
    assert!(fresh.windows(2).all(|p| p[0] < p[1]), "{fresh:?}");

    // A refused row sinks its whole batch, named as the constraint; the next batch is
    // stored as usual.
    let mut taken = vec![
        new_report(w.ward.id, "PA-TEST-OK01", None),
        new_report(w.ward.id, "PA-TEST-OK11", None),
    ];
    taken[1].tracking_no = batch[1].tracking_no;
    let err = store.insert_reports(&taken).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(c) if c == "reports_tracking_no_key"),
        "{err:?}"
    );
    let nowhere = vec![new_report(w.ward.id + 1_000_000, "PA-TEST-OK02", None)];
    let err = store.insert_reports(&nowhere).await.unwrap_err();
    assert!(matches!(err, StoreError::Reference), "{err:?}");
    for r in taken.iter().take(1).chain(&nowhere) {
        assert!(
            store
                .report_by_tracking(&r.tracking_code, Some(r.tracking_no))
                .await
                .unwrap()
                .is_none(),
            "{}",
            r.tracking_code
        );
    }
    // A stored report is found by its code and number, and not by its code alone (that
    // finds only reports stored before numbered codes).
    let one = &batch[0];
    let found = store
        .report_by_tracking(&one.tracking_code, Some(one.tracking_no))
        .await
        .unwrap()
        .expect("found by code and number");
    assert_eq!(found.id, answered[0].id);
    for (code, no) in [
        (one.tracking_code.as_str(), None),
        (one.tracking_code.as_str(), Some(batch[1].tracking_no)),
        ("PA-TEST-0001", Some(one.tracking_no)),
    ] {
        assert!(
            store.report_by_tracking(code, no).await.unwrap().is_none(),
            "{code} {no:?}"
        );
    }
    let after = store
        .insert_reports(&[new_report(w.ward.id, "PA-TEST-OK03", None)])
        .await
        .expect("stored after refusals");
    assert!(after[0].id > *fresh.last().unwrap());
}

/// Intake gives every report the next number of the deployment's counter and the code it
/// encrypts to; a code a report stored before numbered codes holds is skipped, and such a
/// report is still found by its code.
async fn intake_numbers_reports_and_skips_legacy_codes(app: TestApp) {
    use wardwatch::reports::tracking::{Tracking, TrackingCodes};
    let store = &app.store;
    let w = ward(store, "lo-tom").await;
    // The deployment's key, as intake will read it.
    let key = store
        .setting_or_init("tracking_key", &"ab".repeat(32))
        .await
        .unwrap();
    let key: [u8; 32] = hex::decode(key).unwrap().try_into().unwrap();
    let codes = TrackingCodes::new(&key);
    // A report from before numbered codes, holding the code of the counter's first number.
    let old = store
        .insert_reports(&[new_report(w.ward.id, "PA-AAAA-AAAA", None)])
        .await
        .expect("old")[0]
        .id;
    let legacy = codes.code_of(1);
    raw_sql(
        &app,
        &format!(
            "UPDATE reports SET tracking_no = NULL, tracking_code = '{legacy}' WHERE id = {old}"
        ),
    )
    .await;
    let live = wardwatch::live::Live::start(store.clone()).await.unwrap();
    let tracking = Tracking::load(store.clone()).await.expect("tracking");
    let intake = wardwatch::reports::intake::Intake::start(store.clone(), live, tracking);
    let first = intake
        .submit(new_report(w.ward.id, "PA-XXXX-XXXX", None))
        .await
        .expect("stored");
    assert_eq!(first.tracking_code, codes.code_of(2), "number 1 is skipped");
    let together = futures_util::future::join_all(
        (0..5).map(|_| intake.submit(new_report(w.ward.id, "PA-XXXX-XXXX", None))),
    )
    .await;
    let mut numbers = vec![2];
    for stored in together.iter().map(|r| r.as_ref().expect("stored")) {
        let no = codes.number_of(&stored.tracking_code).expect("a code");
        numbers.push(no);
        let read = store
            .report_by_tracking(&stored.tracking_code, Some(no as i64))
            .await
            .unwrap()
            .expect("found by its code");
        assert_eq!(read.id, stored.id);
        assert!(
            read.search_folded
                .contains(&stored.tracking_code.to_lowercase().replace('-', " ")),
            "{read:?}"
        );
    }
    numbers.sort();
    assert_eq!(numbers, [2, 3, 4, 5, 6, 7]);
    let found = store
        .report_by_tracking(&legacy, codes.number_of(&legacy).map(|n| n as i64))
        .await
        .unwrap()
        .expect("the old report, by its old code");
    assert_eq!(found.id, old);
    // The next node takes the next block of numbers.
    let next = store.reserve_tracking_numbers(4096).await.unwrap();
    assert_eq!(next, 1 + 4096);
    // A report refused for what it holds (a ward that does not exist) hears why.
    let refused = intake
        .submit(new_report(987_654, "PA-CCCC-CCCC", None))
        .await;
    assert!(matches!(refused, Err(StoreError::Reference)), "{refused:?}");
}

/// The references a new report carries (ward, group, site, account, API key) are checked
/// like foreign keys on both engines, although PostgreSQL checks them once per batch
/// (migration 0006): a batch naming a row that does not exist is refused whole, and a row
/// a report names cannot be deleted or renumbered.
async fn a_report_holds_on_to_what_it_names(app: TestApp) {
    let store = &app.store;
    let w = ward(store, "hai-an").await;
    let site = store
        .create_site(SYSTEM, site_input(w.ward.id, SiteKind::Market, "Chợ Hàng"))
        .await
        .expect("site");
    let user = store
        .create_user(
            SYSTEM,
            NewUser {
                username: "nguoi.bao".into(),
                display_name: String::new(),
                password_hash: "x".into(),
                role: Role::Resident,
                ward_id: Some(w.ward.id),
                group_id: Some(w.groups[0].id),
                person_id: None,
            },
        )
        .await
        .expect("user");
    let key = store
        .create_api_key(SYSTEM, w.ward.id, "Ứng dụng A", "hash-a")
        .await
        .expect("key");
    let spare = store
        .create_api_key(SYSTEM, w.ward.id, "Ứng dụng B", "hash-b")
        .await
        .expect("spare key");
    let naming = |code: &str| {
        let mut r = new_report(w.ward.id, code, None);
        r.group_id = Some(w.groups[0].id);
        r.site_id = Some(site.id);
        r.reporter_user_id = Some(user.id);
        r.api_key_id = Some(key.id);
        r
    };
    let missing = 987_654_321;
    type Spoil = fn(&mut NewReport, i64);
    let spoilers: [(&str, Spoil); 5] = [
        ("ward", |r, id| r.ward_id = id),
        ("group", |r, id| r.group_id = Some(id)),
        ("site", |r, id| r.site_id = Some(id)),
        ("account", |r, id| r.reporter_user_id = Some(id)),
        ("API key", |r, id| r.api_key_id = Some(id)),
    ];
    for (n, (what, spoil)) in spoilers.iter().enumerate() {
        let mut bad = naming(&format!("PA-BAD{n}-0002"));
        spoil(&mut bad, missing);
        let batch = vec![naming(&format!("PA-BAD{n}-0001")), bad];
        let refused = store.insert_reports(&batch).await;
        assert!(
            matches!(refused, Err(StoreError::Reference)),
            "a {what} that does not exist: {refused:?}"
        );
        for r in &batch {
            assert!(
                store
                    .report_by_tracking(&r.tracking_code, Some(r.tracking_no))
                    .await
                    .unwrap()
                    .is_none(),
                "nothing of a refused batch is stored"
            );
        }
    }
    // Several reports naming the same rows, in one batch.
    let stored = store
        .insert_reports(&[naming("PA-GOOD-0001"), naming("PA-GOOD-0002")])
        .await
        .expect("a batch naming rows that exist");
    assert_eq!(stored.len(), 2);
    let refused_deletes = [
        format!("DELETE FROM units WHERE id = {}", w.groups[0].id),
        format!("DELETE FROM units WHERE id = {}", w.ward.id),
        format!("DELETE FROM sites WHERE id = {}", site.id),
        format!("DELETE FROM users WHERE id = {}", user.id),
        format!("DELETE FROM api_keys WHERE id = {}", key.id),
        format!("UPDATE api_keys SET id = {missing} WHERE id = {}", key.id),
    ];
    for sql in &refused_deletes {
        let err = try_sql(&app, sql).await.expect_err(sql);
        assert!(
            err.contains("FOREIGN KEY") || err.contains("violates"),
            "{sql}: {err}"
        );
    }
    assert_eq!(
        store
            .report(stored[1].id)
            .await
            .unwrap()
            .expect("kept")
            .site_id,
        Some(site.id)
    );
    // A row no report names goes as before.
    try_sql(
        &app,
        &format!("DELETE FROM api_keys WHERE id = {}", spare.id),
    )
    .await
    .expect("an unused key can be deleted");
}

/// On PostgreSQL a batch of reports and a delete of a row the batch names take the report
/// order lock in turn (migration 0006), so neither misses the other: a batch that waited
/// for a delete is refused, and a delete that waited for a batch is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_and_a_delete_of_what_it_names_wait_for_each_other() {
    let Some(app) = crate::helpers::spawn_app(crate::helpers::Backend::Postgres).await else {
        eprintln!("skipped: TEST_DATABASE_URL not set");
        return;
    };
    let store = app.store.clone();
    let w = ward(&store, "an-bien").await;
    let first = store
        .create_api_key(SYSTEM, w.ward.id, "Ứng dụng C", "hash-c")
        .await
        .unwrap();
    let second = store
        .create_api_key(SYSTEM, w.ward.id, "Ứng dụng D", "hash-d")
        .await
        .unwrap();
    let pool = sqlx::PgPool::connect(app.database_url.as_deref().unwrap())
        .await
        .unwrap();
    let wait = std::time::Duration::from_millis(300);

    // A delete in progress: the batch naming its row waits, then is refused.
    let mut deleting = pool.begin().await.unwrap();
    sqlx::query("DELETE FROM api_keys WHERE id = $1")
        .bind(first.id)
        .execute(&mut *deleting)
        .await
        .expect("a key no report names can be deleted");
    let mut report = new_report(w.ward.id, "PA-WAIT-0001", None);
    report.api_key_id = Some(first.id);
    let batch = tokio::spawn({
        let store = store.clone();
        async move { store.insert_reports(&[report]).await }
    });
    tokio::time::sleep(wait).await;
    assert!(!batch.is_finished(), "the batch waits for the delete");
    deleting.commit().await.unwrap();
    let refused = batch.await.unwrap();
    assert!(matches!(refused, Err(StoreError::Reference)), "{refused:?}");

    // A batch in progress (what intake's statement does: the lock, then the rows): the
    // delete of a row it names waits, then is refused.
    let mut storing = pool.begin().await.unwrap();
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(wardwatch::store::REPORT_ORDER_LOCK)
        .execute(&mut *storing)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO reports (ward_id, tracking_code, category, description, search_folded, \
         status, priority, anonymous, source, api_key_id, created_at, updated_at) \
         VALUES ($1, 'PA-WAIT-0002', 'fire', 'Khói ở kho', 'khoi o kho', 'new', 1, TRUE, 'open311', \
         $2, now(), now())",
    )
    .bind(w.ward.id)
    .bind(second.id)
    .execute(&mut *storing)
    .await
    .unwrap();
    let delete = tokio::spawn({
        let pool = pool.clone();
        async move {
            sqlx::query("DELETE FROM api_keys WHERE id = $1")
                .bind(second.id)
                .execute(&pool)
                .await
        }
    });
    tokio::time::sleep(wait).await;
    assert!(!delete.is_finished(), "the delete waits for the batch");
    storing.commit().await.unwrap();
    let refused = delete.await.unwrap().expect_err("the key is named now");
    assert!(refused.to_string().contains("violates"), "{refused}");
    assert!(
        store
            .report_by_tracking("PA-WAIT-0002", None)
            .await
            .unwrap()
            .is_some(),
        "the batch's report stays"
    );
    pool.close().await;
}

/// Run one statement on the test's database, outside the store.
async fn raw_sql(app: &TestApp, sql: &str) {
    try_sql(app, sql).await.expect(sql);
}

/// Run one statement on the test's database, outside the store: the rows it touched, or
/// the database's message.
async fn try_sql(app: &TestApp, sql: &str) -> Result<u64, String> {
    let done = match &app.database_url {
        Some(url) => {
            let pool = sqlx::PgPool::connect(url).await.expect("connect");
            let done = sqlx::query(sql)
                .execute(&pool)
                .await
                .map(|d| d.rows_affected());
            pool.close().await;
            done
        }
        None => {
            let url = format!("sqlite:{}", app.data_dir.join("wardwatch.db").display());
            let pool = sqlx::SqlitePool::connect(&url).await.expect("connect");
            let done = sqlx::query(sql)
                .execute(&pool)
                .await
                .map(|d| d.rows_affected());
            pool.close().await;
            done
        }
    };
    done.map_err(|e| e.to_string())
}

/// On PostgreSQL intake makes its commits durable with a commit that writes a
/// logical-decoding message, and, where the role may not call `pg_logical_emit_message`,
/// with an update of `intake_flush`: a batch is stored and answered either way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intake_syncs_where_logical_messages_are_not_allowed() {
    let Some(app) = crate::helpers::spawn_app(crate::helpers::Backend::Postgres).await else {
        eprintln!("skipped: TEST_DATABASE_URL not set");
        return;
    };
    let store = app.store.clone();
    let w = ward(&store, "tan-an").await;
    let url = app.database_url.clone().unwrap();
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let updates = async || -> i64 {
        sqlx::query_scalar("SELECT n FROM intake_flush")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    let before = updates().await;
    store
        .insert_reports(&[new_report(w.ward.id, "PA-SYNC-0001", None)])
        .await
        .expect("stored with a logical message");
    assert_eq!(
        updates().await,
        before,
        "synced by a message, no row updated"
    );

    // A role without the function (revoked in this database only).
    let role = format!("wwtest_role_{:016x}", rand::random::<u64>());
    for sql in [
        format!("CREATE ROLE \"{role}\" LOGIN"),
        format!(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO \"{role}\""
        ),
        format!("GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO \"{role}\""),
        "REVOKE EXECUTE ON FUNCTION pg_logical_emit_message(boolean, text, text) FROM PUBLIC"
            .to_string(),
    ] {
        raw_sql(&app, &sql).await;
    }
    let mut role_url = url::Url::parse(&url).unwrap();
    role_url.set_username(&role).unwrap();
    let limited: Arc<dyn Store> = Arc::new(
        wardwatch::store::postgres::PgStore::connect(role_url.as_str())
            .await
            .unwrap(),
    );
    for (i, code) in ["PA-SYNC-0002", "PA-SYNC-0003"].into_iter().enumerate() {
        let stored = limited
            .insert_reports(&[new_report(w.ward.id, code, None)])
            .await
            .expect("stored with an update");
        assert_eq!(stored[0].tracking_code, code);
        assert_eq!(
            updates().await,
            before + 1 + i as i64,
            "synced by an update"
        );
    }
    drop(limited);
    for sql in [
        format!("DROP OWNED BY \"{role}\""),
        format!("DROP ROLE \"{role}\""),
    ] {
        raw_sql(&app, &sql).await;
    }
    pool.close().await;
}
