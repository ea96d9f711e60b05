//! The item catalog: each item's definition in force, by code. A redefinition applies to cases
//! accepted after it; cases accepted before keep the definition they were accepted under.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiancha_events::ItemDefined;

/// One definition of an item and the position that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    /// Where it was defined.
    pub position: u64,
    /// The definition.
    pub item: Arc<ItemDefined>,
}

/// Every item's definitions, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    items: BTreeMap<String, Vec<Definition>>,
}

impl Catalog {
    /// Records a definition.
    pub fn define(&mut self, position: u64, item: &ItemDefined) {
        let defs = self.items.entry(item.code.clone()).or_default();
        defs.push(Definition {
            position,
            item: Arc::new(item.clone()),
        });
    }

    /// The definition in force now (the latest).
    pub fn current(&self, code: &str) -> Option<&Definition> {
        self.items.get(code).and_then(|d| d.last())
    }

    /// Every item's current definition, by code.
    pub fn items(&self) -> impl Iterator<Item = &Definition> {
        self.items.values().filter_map(|d| d.last())
    }

    /// Every definition of an item, oldest first.
    pub fn history(&self, code: &str) -> &[Definition] {
        self.items.get(code).map_or(&[], Vec::as_slice)
    }
}
