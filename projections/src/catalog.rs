//! The item catalog: each item's definition in force, by code. A redefinition applies to cases
//! accepted after it; cases accepted before keep the definition they were accepted under.
//! Orgs' names (`OrgDefined`) are kept here too, by path: a redefinition renames.

use std::collections::BTreeMap;
use std::sync::Arc;

use hashbrown::HashMap;
use jiancha_events::{ItemDefined, OrgDefined, OrgKind};
use serde::{Deserialize, Serialize};

/// One definition of an item and the position that made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Definition {
    /// Where it was defined.
    pub position: u64,
    /// The definition (kept as its JSON text in snapshots: the wire form is the one place
    /// that knows which fields may be absent).
    #[serde(with = "crate::shared::def")]
    pub item: Arc<ItemDefined>,
}

pub(crate) mod item_json {
    use std::sync::Arc;

    use jiancha_events::ItemDefined;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(item: &Arc<ItemDefined>, s: S) -> Result<S::Ok, S::Error> {
        let text = serde_json::to_string(&**item).map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<ItemDefined>, D::Error> {
        let text = String::deserialize(d)?;
        serde_json::from_str(&text)
            .map(Arc::new)
            .map_err(serde::de::Error::custom)
    }

    /// The same for an optional definition.
    pub mod option {
        use super::*;

        pub fn serialize<S: Serializer>(
            item: &Option<Arc<ItemDefined>>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            let text = item
                .as_ref()
                .map(|i| serde_json::to_string(&**i))
                .transpose()
                .map_err(serde::ser::Error::custom)?;
            serde::Serialize::serialize(&text, s)
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<Arc<ItemDefined>>, D::Error> {
            let text = Option::<String>::deserialize(d)?;
            text.map(|t| serde_json::from_str(&t).map(Arc::new))
                .transpose()
                .map_err(serde::de::Error::custom)
        }
    }
}

/// An org's name and kind, as its latest `OrgDefined` says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgName {
    /// Its name.
    pub name: String,
    /// What kind of unit it is.
    pub kind: OrgKind,
}

/// Every item's definitions, oldest first, and every named org. Only the definitions and the
/// org names are serialised; the index of the current definitions is rebuilt from them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Definitions", into = "Definitions")]
pub struct Catalog {
    items: BTreeMap<String, Vec<Definition>>,
    /// The latest definition of each item, by code (the fold looks one up per submission and
    /// acceptance).
    current: HashMap<String, Definition>,
    /// Each named org's latest name, by path.
    orgs: BTreeMap<String, OrgName>,
}

/// The serialised form of a [`Catalog`].
#[derive(Serialize, Deserialize)]
struct Definitions {
    items: BTreeMap<String, Vec<Definition>>,
    orgs: BTreeMap<String, OrgName>,
}

impl From<Definitions> for Catalog {
    fn from(d: Definitions) -> Self {
        let current = d
            .items
            .iter()
            .filter_map(|(code, defs)| Some((code.clone(), defs.last()?.clone())))
            .collect();
        Catalog {
            items: d.items,
            current,
            orgs: d.orgs,
        }
    }
}

impl From<Catalog> for Definitions {
    fn from(c: Catalog) -> Self {
        Definitions {
            items: c.items,
            orgs: c.orgs,
        }
    }
}

impl Catalog {
    /// Records a definition.
    pub fn define(&mut self, position: u64, item: &ItemDefined) {
        let def = Definition {
            position,
            item: Arc::new(item.clone()),
        };
        self.current.insert(item.code.clone(), def.clone());
        self.items.entry(item.code.clone()).or_default().push(def);
    }

    /// The definition in force now (the latest).
    pub fn current(&self, code: &str) -> Option<&Definition> {
        self.current.get(code)
    }

    /// Every item's current definition, by code.
    pub fn items(&self) -> impl Iterator<Item = &Definition> {
        self.items.values().filter_map(|d| d.last())
    }

    /// Records an org's name; a later one renames it.
    pub fn define_org(&mut self, org: &OrgDefined) {
        self.orgs.insert(
            org.path.clone(),
            OrgName {
                name: org.name.clone(),
                kind: org.kind,
            },
        );
    }

    /// The name of an org, if one was defined.
    pub fn org_name(&self, path: &str) -> Option<&str> {
        self.orgs.get(path).map(|o| o.name.as_str())
    }

    /// The name and kind of an org, if one was defined.
    pub fn org(&self, path: &str) -> Option<&OrgName> {
        self.orgs.get(path)
    }

    /// Every named org, by path.
    pub fn orgs(&self) -> impl Iterator<Item = (&str, &OrgName)> {
        self.orgs.iter().map(|(p, o)| (p.as_str(), o))
    }

    /// The name of an item in its current definition, if it is defined.
    pub fn item_name(&self, code: &str) -> Option<&str> {
        self.current(code).map(|d| d.item.name.as_str())
    }

    /// Every definition of an item, oldest first.
    pub fn history(&self, code: &str) -> &[Definition] {
        self.items.get(code).map_or(&[], Vec::as_slice)
    }
}
