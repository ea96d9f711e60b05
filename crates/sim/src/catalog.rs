//! The item catalog (事项目录) of the simulated district: about 200 approval items, each owned
//! by a department, with statutory and shorter promised limits, fee standards, procedures and
//! required materials, and how popular each is with applicants.

use jiancha_events::{ItemDefined, WarningThreshold};

use crate::district::District;
use crate::names::{
    Theme, COMMON_MATERIALS, FEES_CENTS, PROCEDURES, STATUTORY_DAYS, STEP_WEIGHTS, THEMES, VARIANTS,
};
use crate::rng::{cumulative, Rng};

/// An approval item as the generator uses it.
#[derive(Debug)]
pub(crate) struct Item {
    pub(crate) code: String,
    /// A code the catalog does not define, for applications filed under a wrong or local code
    /// (`intake.item.unknown`).
    pub(crate) stray_code: String,
    pub(crate) name: String,
    /// Index into [`District::departments`].
    pub(crate) dept: u32,
    pub(crate) statutory_days: u32,
    pub(crate) promised_days: u32,
    pub(crate) fee_cents: u64,
    pub(crate) steps: &'static [&'static str],
    /// Required materials, at most eight (cases keep material sets as bit masks).
    pub(crate) materials: Vec<&'static str>,
    pub(crate) in_center: bool,
    pub(crate) warning: Option<WarningThreshold>,
    /// The extension cap the item declares (15 for joint handling), or none for the default.
    pub(crate) max_extension_days: Option<u32>,
}

/// The extension cap of an item handled jointly by several departments (Art. 42).
const JOINT_EXTENSION_DAYS: u32 = 15;

/// The share of items handled jointly, with the longer extension cap.
const JOINT_SHARE: f64 = 0.1;

impl Item {
    /// The most days the one lawful extension may add.
    pub(crate) fn extension_cap(&self) -> u32 {
        self.max_extension_days
            .unwrap_or(jiancha_events::vocab::DEFAULT_MAX_EXTENSION_DAYS)
    }

    /// The bit mask of all required materials.
    pub(crate) fn all_materials(&self) -> u8 {
        ((1u16 << self.materials.len()) - 1) as u8
    }

    /// The item as its `ItemDefined` event declares it.
    pub(crate) fn definition(&self, district: &District) -> ItemDefined {
        let dept = district.departments.get(self.dept as usize);
        ItemDefined {
            code: self.code.clone(),
            name: self.name.clone(),
            org: district.org(dept.map_or(0, |d| d.org)).to_owned(),
            statutory_days: self.statutory_days,
            promised_days: self.promised_days,
            fee_cents: self.fee_cents,
            steps: self.steps.iter().map(|s| (*s).to_owned()).collect(),
            required_materials: self.materials.iter().map(|m| (*m).to_owned()).collect(),
            in_center: self.in_center,
            warning: self.warning,
            max_extension_days: self.max_extension_days,
            suspension_expected_days: None,
        }
    }
}

/// The items and their popularity.
#[derive(Debug)]
pub(crate) struct Catalog {
    pub(crate) items: Vec<Item>,
    /// Cumulative popularity weights: a few items (business registration, social assistance)
    /// draw most applications, as in a real center.
    popularity: Vec<u32>,
}

impl Catalog {
    /// Draws `count` items over the district's departments.
    pub(crate) fn new(rng: &mut Rng, district: &District, count: u32) -> Catalog {
        let depts = district.departments.len().max(1);
        let dept_weights: Vec<u32> = (0..depts).map(|_| rng.range(1, 3)).collect();
        let dept_weights = cumulative(&dept_weights);
        let mut per_dept = vec![0u32; depts];
        let mut items = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let dept = rng.weighted(&dept_weights).min(depts - 1);
            let k = per_dept[dept];
            per_dept[dept] += 1;
            items.push(draw_item(rng, dept as u32, k));
        }
        // Popularity by a shuffled rank: weight ∝ 1/(rank + 3), a gentle Zipf.
        let mut ranks: Vec<u32> = (0..count).collect();
        for i in (1..ranks.len()).rev() {
            ranks.swap(i, rng.index(i + 1));
        }
        let weights: Vec<u32> = ranks.iter().map(|&r| 30_000 / (r + 3) + 1).collect();
        Catalog {
            items,
            popularity: cumulative(&weights),
        }
    }

    /// An item drawn by popularity.
    pub(crate) fn pick(&self, rng: &mut Rng) -> u32 {
        rng.weighted(&self.popularity)
            .min(self.items.len().saturating_sub(1)) as u32
    }

    /// The item at an index (the catalog is never empty).
    pub(crate) fn item(&self, index: u32) -> &Item {
        let last = self.items.len().saturating_sub(1);
        &self.items[(index as usize).min(last)]
    }
}

fn draw_item(rng: &mut Rng, dept: u32, k: u32) -> Item {
    let theme: &Theme = &THEMES[dept as usize % THEMES.len()];
    let cycle = dept as usize / THEMES.len();
    let code = match cycle {
        0 => format!("{}-{:03}", theme.code, k + 1),
        c => format!("{}{}-{:03}", theme.code, c + 1, k + 1),
    };
    let (subject, act) = theme.subjects[k as usize % theme.subjects.len()];
    let variant = VARIANTS[(k as usize / theme.subjects.len()) % VARIANTS.len()];
    let round = k as usize / (theme.subjects.len() * VARIANTS.len());
    let name = match round {
        0 => format!("{subject}{act}（{variant}）"),
        r => format!("{subject}{act}（{variant}{}）", r + 1),
    };
    let statutory_weights = cumulative(&STATUTORY_DAYS.map(|(_, w)| w));
    let statutory_days = STATUTORY_DAYS[rng.weighted(&statutory_weights).min(5)].0;
    // A promise is a share of the statutory limit (e.g. 5 of 20), always strictly shorter.
    let share_percent = [25, 30, 40, 50, 60, 75][rng.index(6)];
    let promised_days = (statutory_days * share_percent / 100).clamp(1, statutory_days - 1);
    let fee_cents = if rng.chance(0.15) {
        FEES_CENTS[rng.index(FEES_CENTS.len())]
    } else {
        0
    };
    let steps = PROCEDURES[rng
        .weighted(&cumulative(&STEP_WEIGHTS))
        .min(PROCEDURES.len() - 1)];
    let mut materials: Vec<&'static str> = COMMON_MATERIALS.to_vec();
    let extra = rng.range(0, 3) as usize;
    let mut pool: Vec<&'static str> = theme.materials.to_vec();
    for _ in 0..extra.min(pool.len()) {
        materials.push(pool.remove(rng.index(pool.len())));
    }
    let warning = match rng.below(10) {
        0 => Some(WarningThreshold::DaysLeft(rng.range(1, 3))),
        1 => Some(WarningThreshold::ShareUsedPercent([75, 80][rng.index(2)])),
        _ => None,
    };
    let in_center = rng.chance(0.95);
    let max_extension_days = rng.chance(JOINT_SHARE).then_some(JOINT_EXTENSION_DAYS);
    Item {
        stray_code: format!("{code}-X"),
        code,
        name,
        dept,
        statutory_days,
        promised_days,
        fee_cents,
        steps,
        materials,
        in_center,
        warning,
        max_extension_days,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::district::DistrictShape;
    use crate::rng::Purpose;

    #[test]
    fn items_are_valid_and_varied() {
        let district = District::new(&DistrictShape::default(), 5);
        let mut rng = Rng::new(5, Purpose::World, 1);
        let catalog = Catalog::new(&mut rng, &district, 200);
        assert_eq!(catalog.items.len(), 200);
        let mut codes = std::collections::BTreeSet::new();
        for item in &catalog.items {
            assert!(
                codes.insert(item.code.clone()),
                "duplicate code {}",
                item.code
            );
            assert!(item.promised_days >= 1 && item.promised_days < item.statutory_days);
            assert!((2..=4).contains(&item.steps.len()));
            assert!(item.materials.len() <= 8);
            let event = jiancha_events::EventData::ItemDefined(item.definition(&district));
            event.check().unwrap();
            event.check_append().unwrap();
        }
        let free = catalog.items.iter().filter(|i| i.fee_cents == 0).count();
        assert!((140..=195).contains(&free), "{free} free items");
        let outside = catalog.items.iter().filter(|i| !i.in_center).count();
        assert!(
            (1..=25).contains(&outside),
            "{outside} items outside the center"
        );
    }
}
