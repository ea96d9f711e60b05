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
        Ok(presized::deserialize::<(K, V), D>(d)?.into_iter().collect())
    }
}

/// A `HashMap` keyed by stream name, written as [`map`] writes it with each name through the
/// snapshot's string table (`crate::shared`), so the name is written once for the case and
/// its ledger entries, and read back as one shared allocation.
pub mod streams {
    use std::sync::Arc;

    use super::*;
    use crate::shared::{Owned, Shared};

    pub fn serialize<V, H, S>(map: &HashMap<Arc<str>, V, H>, s: S) -> Result<S::Ok, S::Error>
    where
        V: Serialize,
        S: Serializer,
    {
        let mut pairs: Vec<(Shared<'_>, &V)> = map.iter().map(|(k, v)| (Shared(k), v)).collect();
        pairs.sort_unstable_by(|a, b| a.0 .0.cmp(b.0 .0));
        pairs.serialize(s)
    }

    pub fn deserialize<'de, V, H, D>(d: D) -> Result<HashMap<Arc<str>, V, H>, D::Error>
    where
        V: Deserialize<'de>,
        H: BuildHasher + Default,
        D: Deserializer<'de>,
    {
        let pairs = presized::deserialize::<(Owned, V), D>(d)?;
        let mut map = HashMap::with_capacity_and_hasher(pairs.len(), H::default());
        map.extend(pairs.into_iter().map(|(k, v)| (k.0, v)));
        Ok(map)
    }
}

/// A `Vec` read in one allocation of the length the encoding gives (postcard writes it first),
/// instead of serde's cautious start and doubling, which for a large snapshot's ledger copied
/// and zeroed the entries several times over. The reservation is bounded (8 GiB), and a
/// refused one falls back to growing as the elements come: a damaged length never aborts.
pub mod presized {
    use std::marker::PhantomData;

    use serde::de::{SeqAccess, Visitor};
    use serde::{Deserialize, Deserializer};

    /// The most bytes reserved up front.
    const RESERVE_MAX_BYTES: usize = 8 << 30;

    pub fn deserialize<'de, T, D>(d: D) -> Result<Vec<T>, D::Error>
    where
        T: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        struct Presized<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for Presized<T> {
            type Value = Vec<T>;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a sequence")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
                let mut out = Vec::new();
                if let Some(n) = seq.size_hint() {
                    let most = RESERVE_MAX_BYTES / std::mem::size_of::<T>().max(1);
                    // Refused (no such memory): the pushes below grow it instead.
                    let _ = out.try_reserve_exact(n.min(most));
                }
                while let Some(x) = seq.next_element()? {
                    out.push(x);
                }
                Ok(out)
            }
        }

        d.deserialize_seq(Presized(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Holder {
        #[serde(deserialize_with = "super::presized::deserialize")]
        items: Vec<(u64, String)>,
    }

    #[test]
    fn a_presized_vec_reads_what_a_plain_one_wrote() {
        let holder = Holder {
            items: (0..1000).map(|i| (i, format!("item-{i}"))).collect(),
        };
        let bytes = postcard::to_allocvec(&holder).unwrap();
        assert_eq!(postcard::from_bytes::<Holder>(&bytes).unwrap(), holder);
        let empty = postcard::to_allocvec(&Holder { items: Vec::new() }).unwrap();
        assert!(postcard::from_bytes::<Holder>(&empty)
            .unwrap()
            .items
            .is_empty());
    }

    #[test]
    fn a_damaged_length_is_an_error_not_an_abort() {
        // A length of 2^62 elements followed by two: the reservation is bounded, the body
        // ends early, and the decoder says so.
        let mut bytes = Vec::new();
        let mut n: u64 = 1 << 62;
        while n >= 0x80 {
            bytes.push((n as u8) | 0x80);
            n >>= 7;
        }
        bytes.push(n as u8);
        bytes.extend(postcard::to_allocvec(&(1u64, "a")).unwrap());
        bytes.extend(postcard::to_allocvec(&(2u64, "b")).unwrap());
        assert!(postcard::from_bytes::<Holder>(&bytes).is_err());
    }
}
