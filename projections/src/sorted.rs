//! Serialising hash maps in sorted order, so the same state always gives the same
//! snapshot bytes (hash iteration order is not part of the state).

use std::hash::{BuildHasher, Hash};

use hashbrown::HashMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A `HashMap` written as a key-sorted sequence of pairs.
pub mod map {
    use super::*;

    pub fn serialize<K, V, H, S>(map: &HashMap<K, V, H>, s: S) -> Result<S::Ok, S::Error>
    where
        K: Serialize + Ord,
        V: Serialize,
        S: Serializer,
    {
        let mut pairs: Vec<(&K, &V)> = map.iter().collect();
        pairs.sort_unstable_by(|a, b| a.0.cmp(b.0));
        pairs.serialize(s)
    }

    pub fn deserialize<'de, K, V, H, D>(d: D) -> Result<HashMap<K, V, H>, D::Error>
    where
        K: Deserialize<'de> + Hash + Eq,
        V: Deserialize<'de>,
        H: BuildHasher + Default,
        D: Deserializer<'de>,
    {
        Ok(Vec::<(K, V)>::deserialize(d)?.into_iter().collect())
    }
}
