//! The simulated district: a three-tier network modelled on 重庆市江津区's.
//!
//! `jiangjin` is the district; `jiangjin/center` its administrative service center, whose
//! departments `jiangjin/center/dept-NN` each staff 1–3 windows; `jiangjin/town-NN` are the
//! town centers with their own windows; `jiangjin/town-NN/village-MM` the village points, each
//! with one agent (代办员). Every window has two clerks; every department a head who decides
//! and approves extensions. The shape is drawn from the seed, its sizes from [`DistrictShape`].

use serde::{Deserialize, Serialize};

use jiancha_events::OrgKind;

use crate::names::{
    CENTER_NAME, DISTRICT_NAME, SUPERVISION_NAME, THEMES, TOWNS, VILLAGE_HEADS, VILLAGE_TAILS,
};
use crate::rng::{Purpose, Rng};
use crate::SimError;

/// An index into [`District::orgs`].
pub(crate) type OrgId = u32;

/// Clerks staffing each window.
pub(crate) const CLERKS_PER_WINDOW: u32 = 2;

/// The sizes of the simulated district.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DistrictShape {
    /// Departments of the district center (1 to 99).
    pub departments: u32,
    /// Town centers (1 to 99).
    pub towns: u32,
    /// Village points, spread over the towns (0 to 9,999).
    pub villages: u32,
    /// Approval items in the catalog (1 to 9,999).
    pub items: u32,
}

impl Default for DistrictShape {
    /// Jiangjin's size: 20 departments, 30 towns and streets, 300 villages, 200 items.
    fn default() -> Self {
        DistrictShape {
            departments: 20,
            towns: 30,
            villages: 300,
            items: 200,
        }
    }
}

impl DistrictShape {
    /// Checks the sizes against their ranges.
    pub fn validate(&self) -> Result<(), SimError> {
        let check = |field, value: u32, lo: u32, hi: u32| {
            if (lo..=hi).contains(&value) {
                Ok(())
            } else {
                Err(SimError::Config {
                    field,
                    message: format!("must be {lo} to {hi}, got {value}"),
                })
            }
        };
        check("departments", self.departments, 1, 99)?;
        check("towns", self.towns, 1, 99)?;
        check("villages", self.villages, 0, 9_999)?;
        check("items", self.items, 1, 9_999)
    }
}

/// The org tree of a run, as paths: what the generated events name in `org` and `to_org`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrgTree {
    /// `jiangjin`.
    pub district: String,
    /// `jiangjin/center`.
    pub center: String,
    /// `jiangjin/supervision`: the district supervision bureau.
    pub supervision: String,
    /// The center's departments with their windows.
    pub departments: Vec<Unit>,
    /// The town centers with their windows and village points.
    pub towns: Vec<Town>,
}

/// A department of the district center.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unit {
    /// `jiangjin/center/dept-NN`.
    pub org: String,
    /// `jiangjin/center/dept-NN/window-M`.
    pub windows: Vec<String>,
}

/// A town center.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Town {
    /// `jiangjin/town-NN`.
    pub org: String,
    /// `jiangjin/town-NN/window-M`.
    pub windows: Vec<String>,
    /// `jiangjin/town-NN/village-MM`.
    pub villages: Vec<String>,
}

#[derive(Debug)]
pub(crate) struct Department {
    pub(crate) org: OrgId,
    pub(crate) windows: Vec<OrgId>,
    /// The head's number: `head-NN`.
    pub(crate) head: u32,
}

#[derive(Debug)]
pub(crate) struct TownCenter {
    pub(crate) org: OrgId,
    pub(crate) windows: Vec<OrgId>,
    pub(crate) villages: Vec<OrgId>,
}

/// The district as the generator uses it: org paths by index, and who works where.
#[derive(Debug)]
pub(crate) struct District {
    pub(crate) orgs: Vec<String>,
    /// Each org's name and kind, by id (what its `OrgDefined` declares).
    pub(crate) names: Vec<(String, OrgKind)>,
    pub(crate) center: OrgId,
    /// The district supervision bureau.
    pub(crate) supervision: OrgId,
    pub(crate) departments: Vec<Department>,
    pub(crate) towns: Vec<TownCenter>,
    /// Every village point with its town's index and its agent's number.
    pub(crate) villages: Vec<(OrgId, u32, u32)>,
    /// The first clerk number of each org (0 for orgs that are not windows).
    clerk_base: Vec<u32>,
}

impl District {
    /// Draws the district for `seed`.
    pub(crate) fn new(shape: &DistrictShape, seed: u64) -> District {
        let mut rng = Rng::new(seed, Purpose::World, 0);
        let mut district = District {
            orgs: Vec::new(),
            names: Vec::new(),
            center: 0,
            supervision: 0,
            departments: Vec::new(),
            towns: Vec::new(),
            villages: Vec::new(),
            clerk_base: Vec::new(),
        };
        district.add(
            "jiangjin".to_owned(),
            DISTRICT_NAME.to_owned(),
            OrgKind::District,
        );
        district.center = district.add(
            "jiangjin/center".to_owned(),
            CENTER_NAME.to_owned(),
            OrgKind::Center,
        );
        for n in 1..=shape.departments {
            let path = format!("jiangjin/center/dept-{n:02}");
            let org = district.add(path, dept_name(n - 1), OrgKind::Department);
            let windows = district.add_windows(&mut rng, org);
            district.departments.push(Department {
                org,
                windows,
                head: n,
            });
        }
        let sizes = village_counts(&mut rng, shape.towns, shape.villages);
        for (t, &size) in sizes.iter().enumerate() {
            let path = format!("jiangjin/town-{:02}", t + 1);
            let org = district.add(path, town_name(t), OrgKind::Town);
            let windows = district.add_windows(&mut rng, org);
            let mut villages = Vec::with_capacity(size as usize);
            for v in 1..=size {
                let path = format!("jiangjin/town-{:02}/village-{v:02}", t + 1);
                let name = village_name(district.villages.len());
                let village = district.add(path, name, OrgKind::Village);
                let agent = district.villages.len() as u32 + 1;
                district.villages.push((village, t as u32, agent));
                villages.push(village);
            }
            district.towns.push(TownCenter {
                org,
                windows,
                villages,
            });
        }
        // Added last, so that it moves no other org's id.
        district.supervision = district.add(
            "jiangjin/supervision".to_owned(),
            SUPERVISION_NAME.to_owned(),
            OrgKind::Supervision,
        );
        district
    }

    fn add(&mut self, path: String, name: String, kind: OrgKind) -> OrgId {
        self.orgs.push(path);
        self.names.push((name, kind));
        self.clerk_base.push(0);
        (self.orgs.len() - 1) as OrgId
    }

    fn add_windows(&mut self, rng: &mut Rng, parent: OrgId) -> Vec<OrgId> {
        let count = rng.range(1, 3);
        let mut windows = Vec::with_capacity(count as usize);
        for m in 1..=count {
            let path = format!("{}/window-{m}", self.org(parent));
            let parent_name = self.names.get(parent as usize).map_or("", |n| n.0.as_str());
            let window = self.add(path, format!("{parent_name}{m}号窗口"), OrgKind::Window);
            let clerks_so_far = self.clerk_base.iter().filter(|&&b| b > 0).count() as u32;
            if let Some(base) = self.clerk_base.get_mut(window as usize) {
                *base = clerks_so_far * CLERKS_PER_WINDOW + 1;
            }
            windows.push(window);
        }
        windows
    }

    /// The path of an org.
    pub(crate) fn org(&self, id: OrgId) -> &str {
        self.orgs
            .get(id as usize)
            .map_or("jiangjin", String::as_str)
    }

    /// A clerk of a window: `clerk-N`.
    pub(crate) fn clerk(&self, rng: &mut Rng, window: OrgId) -> u32 {
        let base = self.clerk_base.get(window as usize).copied().unwrap_or(1);
        base.max(1) + rng.below(u64::from(CLERKS_PER_WINDOW)) as u32
    }

    /// The public view of the tree.
    pub(crate) fn tree(&self) -> OrgTree {
        let paths = |ids: &[OrgId]| ids.iter().map(|&id| self.org(id).to_owned()).collect();
        OrgTree {
            district: "jiangjin".to_owned(),
            center: self.org(self.center).to_owned(),
            supervision: self.org(self.supervision).to_owned(),
            departments: self
                .departments
                .iter()
                .map(|d| Unit {
                    org: self.org(d.org).to_owned(),
                    windows: paths(&d.windows),
                })
                .collect(),
            towns: self
                .towns
                .iter()
                .map(|t| Town {
                    org: self.org(t.org).to_owned(),
                    windows: paths(&t.windows),
                    villages: paths(&t.villages),
                })
                .collect(),
        }
    }
}

/// A name, numbered from the second round on when a list runs out: `白沙镇（2）`.
fn numbered(list: &[&str], index: usize) -> String {
    let base = list
        .get(index % list.len().max(1))
        .copied()
        .unwrap_or_default();
    match index / list.len().max(1) {
        0 => base.to_owned(),
        round => format!("{base}（{}）", round + 1),
    }
}

/// The name of department `index` (its theme's, as its items' codes are).
fn dept_name(index: u32) -> String {
    let depts: Vec<&str> = THEMES.iter().map(|t| t.dept).collect();
    numbered(&depts, index as usize)
}

/// The name of town `index`.
fn town_name(index: usize) -> String {
    numbered(&TOWNS, index)
}

/// The name of the district's village `index`: two characters and 村 (villages of different
/// towns may share a name, as they do in life).
fn village_name(index: usize) -> String {
    let head = VILLAGE_HEADS[index % VILLAGE_HEADS.len()];
    let tail = VILLAGE_TAILS[(index / VILLAGE_HEADS.len()) % VILLAGE_TAILS.len()];
    format!("{head}{tail}村")
}

/// Villages per town: exactly `total` in all, uneven like real towns. Pairs of towns trade a
/// few villages, which keeps the sum exact without a correction pass.
fn village_counts(rng: &mut Rng, towns: u32, total: u32) -> Vec<u32> {
    let mut counts: Vec<u32> = (0..towns)
        .map(|t| total / towns + u32::from(t < total % towns))
        .collect();
    let n = counts.len();
    for i in 0..n / 2 {
        let j = n - 1 - i;
        let (a, b) = (counts[i], counts[j]);
        let shift = rng.range(0, a.min(b).saturating_sub(1).min(4));
        if rng.chance(0.5) {
            counts[i] = a + shift;
            counts[j] = b - shift;
        } else {
            counts[i] = a - shift;
            counts[j] = b + shift;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tree_has_the_stated_sizes() {
        let district = District::new(&DistrictShape::default(), 42);
        let tree = district.tree();
        assert_eq!(tree.departments.len(), 20);
        assert_eq!(tree.towns.len(), 30);
        let villages: usize = tree.towns.iter().map(|t| t.villages.len()).sum();
        assert_eq!(villages, 300);
        assert!(tree.towns.iter().all(|t| !t.villages.is_empty()));
        let all_windows = tree.departments.iter().map(|d| &d.windows);
        let all_windows = all_windows.chain(tree.towns.iter().map(|t| &t.windows));
        for windows in all_windows {
            assert!((1..=3).contains(&windows.len()));
        }
        assert_eq!(tree.departments[2].org, "jiangjin/center/dept-03");
        assert_eq!(
            tree.departments[2].windows[0],
            "jiangjin/center/dept-03/window-1"
        );
        assert_eq!(tree.towns[6].org, "jiangjin/town-07");
        assert_eq!(tree.towns[6].villages[0], "jiangjin/town-07/village-01");
    }

    #[test]
    fn every_window_has_its_own_clerks() {
        let district = District::new(&DistrictShape::default(), 1);
        let mut rng = Rng::new(1, Purpose::World, 0);
        let windows: Vec<OrgId> = district
            .departments
            .iter()
            .flat_map(|d| d.windows.iter().copied())
            .chain(
                district
                    .towns
                    .iter()
                    .flat_map(|t| t.windows.iter().copied()),
            )
            .collect();
        let mut seen = std::collections::BTreeMap::new();
        for &w in &windows {
            for _ in 0..8 {
                let clerk = district.clerk(&mut rng, w);
                assert_eq!(
                    *seen.entry(clerk).or_insert(w),
                    w,
                    "clerk-{clerk} in two windows"
                );
            }
        }
    }
}
