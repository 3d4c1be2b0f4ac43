//! Who may see and change what: every rule of role and scope in one place, so that pages
//! and API answer alike.

use crate::domain::Role;
use crate::store::accounts::User;
use crate::store::forces::{Person, TeamGroup};

/// How much of a person of the forces a caller may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PeopleAccess {
    /// Name, role and team: the founding decision is posted publicly.
    Public,
    /// Also phone, address, training and equipment: for the ward's leaders and teammates.
    Contact,
    /// Also citizen ID and date of birth: police and administrators only.
    Full,
}

fn in_ward(user: &User, ward_id: i64) -> bool {
    user.ward_id == Some(ward_id)
}

pub fn is_admin(user: Option<&User>) -> bool {
    user.is_some_and(|u| u.role() == Role::Admin)
}

/// Officers of the ward (and administrators) keep the registries.
pub fn can_edit_registry(user: Option<&User>, ward_id: i64) -> bool {
    match user {
        Some(u) => match u.role() {
            Role::Admin => true,
            Role::Officer => in_ward(u, ward_id),
            _ => false,
        },
        None => false,
    }
}

/// Risk notes and the police roster are for the ward's police, leaders and security
/// teams; partner-force volunteers and residents see the public registry.
pub fn can_see_internal(user: Option<&User>, ward_id: i64) -> bool {
    match user {
        Some(u) => match u.role() {
            Role::Admin => true,
            Role::Resident | Role::Volunteer => false,
            _ => in_ward(u, ward_id),
        },
        None => false,
    }
}

/// The change history (audit log) of a ward.
pub fn can_see_history(user: Option<&User>, ward_id: i64) -> bool {
    match user {
        Some(u) => match u.role() {
            Role::Admin => true,
            Role::Officer | Role::Leadership => in_ward(u, ward_id),
            _ => false,
        },
        None => false,
    }
}

/// Provinces and wards are created by administrators; groups by the ward's officers too.
pub fn can_create_unit(user: Option<&User>, ward_id: Option<i64>) -> bool {
    match ward_id {
        Some(w) => can_edit_registry(user, w),
        None => is_admin(user),
    }
}

/// The team that covers the user's residential group, if any.
pub fn own_team(user: &User, team_groups: &[TeamGroup]) -> Option<i64> {
    let group = user.group_id?;
    team_groups
        .iter()
        .find(|tg| tg.group_id == group)
        .map(|tg| tg.team_id)
}

pub fn people_access(
    user: Option<&User>,
    person: &Person,
    team_groups: &[TeamGroup],
) -> PeopleAccess {
    let Some(u) = user else {
        return PeopleAccess::Public;
    };
    if u.person_id == Some(person.id) {
        return PeopleAccess::Full;
    }
    match u.role() {
        Role::Admin => PeopleAccess::Full,
        Role::Officer if in_ward(u, person.ward_id) => PeopleAccess::Full,
        Role::Leadership if in_ward(u, person.ward_id) => PeopleAccess::Contact,
        Role::TeamLeader | Role::TeamMember
            if in_ward(u, person.ward_id)
                && person.team_id.is_some()
                && own_team(u, team_groups) == person.team_id =>
        {
            PeopleAccess::Contact
        }
        _ => PeopleAccess::Public,
    }
}

/// Officers edit anyone in their ward; a team leader keeps the profiles of their own team.
pub fn can_edit_person(user: Option<&User>, person: &Person, team_groups: &[TeamGroup]) -> bool {
    if can_edit_registry(user, person.ward_id) {
        return true;
    }
    match user {
        Some(u) if u.role() == Role::TeamLeader && in_ward(u, person.ward_id) => {
            person.team_id.is_some() && own_team(u, team_groups) == person.team_id
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn user(role: Role, ward: Option<i64>, group: Option<i64>) -> User {
        User {
            id: 1,
            username: "u".into(),
            display_name: String::new(),
            password_hash: String::new(),
            role: role.as_str().into(),
            ward_id: ward,
            group_id: group,
            person_id: None,
            failed_logins: 0,
            locked_until: None,
            created_at: Utc::now(),
            password_changed_at: Utc::now(),
            disabled_at: None,
        }
    }

    fn member(ward: i64, team: i64) -> Person {
        Person {
            id: 9,
            ward_id: ward,
            kind: "team_member".into(),
            team_id: Some(team),
            team_role: Some("member".into()),
            force_id: None,
            full_name: "Nguyễn Văn A".into(),
            search_folded: String::new(),
            phone: "0912345678".into(),
            birth_date: None,
            citizen_id: Some("031200001234".into()),
            address: String::new(),
            group_id: None,
            rank_title: String::new(),
            training: String::new(),
            equipment: String::new(),
            joined_on: None,
            notes: String::new(),
            created_at: Utc::now(),
            updated_at: Utc::now(),
            archived_at: None,
        }
    }

    #[test]
    fn scope_follows_role_and_ward() {
        let tg = [
            TeamGroup {
                team_id: 5,
                group_id: 50,
            },
            TeamGroup {
                team_id: 6,
                group_id: 60,
            },
        ];
        let p = member(1, 5);
        let officer = user(Role::Officer, Some(1), None);
        let other_officer = user(Role::Officer, Some(2), None);
        let leader = user(Role::TeamLeader, Some(1), Some(50));
        let other_leader = user(Role::TeamLeader, Some(1), Some(60));
        let resident = user(Role::Resident, Some(1), Some(50));
        assert_eq!(people_access(Some(&officer), &p, &tg), PeopleAccess::Full);
        assert_eq!(
            people_access(Some(&other_officer), &p, &tg),
            PeopleAccess::Public
        );
        assert_eq!(people_access(Some(&leader), &p, &tg), PeopleAccess::Contact);
        assert_eq!(
            people_access(Some(&other_leader), &p, &tg),
            PeopleAccess::Public
        );
        assert_eq!(
            people_access(Some(&resident), &p, &tg),
            PeopleAccess::Public
        );
        assert_eq!(people_access(None, &p, &tg), PeopleAccess::Public);
        assert!(can_edit_person(Some(&leader), &p, &tg));
        assert!(!can_edit_person(Some(&other_leader), &p, &tg));
        assert!(can_edit_registry(Some(&officer), 1));
        assert!(!can_edit_registry(Some(&other_officer), 1));
        assert!(!can_edit_registry(Some(&leader), 1));
        assert!(can_see_internal(Some(&leader), 1));
        assert!(!can_see_internal(Some(&resident), 1));
        assert!(!can_see_history(Some(&leader), 1));
    }
}
