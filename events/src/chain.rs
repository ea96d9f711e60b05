//! The hash chain: each stored event's SHA-256 covers its canonical bytes and the previous
//! event's hash, so changing, deleting, inserting or reordering any event breaks the chain.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// A SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hash(pub [u8; 32]);

/// The `prev_hash` of the first event in a log: 32 zero bytes.
pub const GENESIS_HASH: Hash = Hash([0; 32]);

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({self})")
    }
}

impl FromStr for Hash {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes)
            .map_err(|_| format!("not a SHA-256 hash (64 hex digits): {text:?}"))?;
        Ok(Hash(bytes))
    }
}

/// The fields a hash covers, borrowed from wherever the event lives.
#[derive(Debug, Clone, Copy)]
pub struct HashInput<'a> {
    /// Global position.
    pub position: u64,
    /// Stream name.
    pub stream: &'a str,
    /// Version within the stream.
    pub version: u64,
    /// Unique event id.
    pub id: &'a str,
    /// Type name.
    pub event_type: &'a str,
    /// Schema version of `data`.
    pub schema: u32,
    /// Business time, canonical text.
    pub occurred_at: &'a str,
    /// Recording time, canonical text.
    pub recorded_at: &'a str,
    /// Who acted.
    pub actor: &'a str,
    /// For which org.
    pub org: &'a str,
    /// The data's JSON text exactly as stored.
    pub data: &'a str,
    /// The previous event's hash.
    pub prev_hash: &'a Hash,
}

/// SHA-256 over the canonical bytes of an event and its predecessor's hash. Each text field is
/// prefixed by its length and each integer written as fixed little-endian bytes, so no two
/// different events share their canonical bytes.
pub fn event_hash(input: &HashInput<'_>) -> Hash {
    let mut h = Sha256::new();
    h.update(b"jiancha-event-v1");
    h.update(input.position.to_le_bytes());
    h.update(input.version.to_le_bytes());
    h.update(input.schema.to_le_bytes());
    for text in [
        input.stream,
        input.id,
        input.event_type,
        input.occurred_at,
        input.recorded_at,
        input.actor,
        input.org,
        input.data,
    ] {
        h.update((text.len() as u64).to_le_bytes());
        h.update(text.as_bytes());
    }
    h.update(input.prev_hash.0);
    Hash(h.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>(data: &'a str, prev: &'a Hash) -> HashInput<'a> {
        HashInput {
            position: 1,
            stream: "case-1",
            version: 1,
            id: "a",
            event_type: "Concluded",
            schema: 1,
            occurred_at: "2026-03-02T09:15:00+08:00",
            recorded_at: "2026-03-02T09:15:01+08:00",
            actor: "clerk",
            org: "jiangjin",
            data,
            prev_hash: prev,
        }
    }

    #[test]
    fn hash_depends_on_every_byte_and_on_the_predecessor() {
        let a = event_hash(&input("{}", &GENESIS_HASH));
        assert_ne!(a, event_hash(&input("{ }", &GENESIS_HASH)));
        assert_ne!(a, event_hash(&input("{}", &Hash([1; 32]))));
        let mut shifted = input("{}", &GENESIS_HASH);
        shifted.actor = "clerkj";
        shifted.org = "iangjin";
        assert_ne!(
            a,
            event_hash(&shifted),
            "length prefixes keep field boundaries"
        );
        assert_eq!(a, a.to_string().parse::<Hash>().unwrap());
        assert!("zz".parse::<Hash>().is_err());
    }
}

/// Where and why a chain check failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("position {position}: {reason}")]
pub struct ChainBreak {
    /// The first position that does not hold.
    pub position: u64,
    /// What does not hold there.
    pub reason: String,
}

/// Checks a run of stored events, in position order, against the chain: positions follow each
/// other without a gap, each event links to its predecessor and its hash matches its bytes.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    last_position: u64,
    head: Hash,
    checked: u64,
}

impl ChainVerifier {
    /// A verifier that expects the event after `last_position`, whose hash is `head`
    /// (0 and [`GENESIS_HASH`] for a whole log).
    pub fn new(last_position: u64, head: Hash) -> Self {
        ChainVerifier {
            last_position,
            head,
            checked: 0,
        }
    }

    /// Checks the next event.
    pub fn check(&mut self, raw: &crate::envelope::RawEvent) -> Result<(), ChainBreak> {
        let expected = self.last_position + 1;
        if raw.position != expected {
            let reason = if raw.position > expected {
                format!(
                    "missing: the next stored event is at position {}",
                    raw.position
                )
            } else {
                format!(
                    "out of order: position {} follows {}",
                    raw.position, self.last_position
                )
            };
            return Err(ChainBreak {
                position: expected,
                reason,
            });
        }
        if raw.prev_hash != self.head {
            // An event whose own hash holds but whose link does not was not touched itself:
            // its predecessor was rewritten together with its hash.
            if raw.compute_hash() == raw.hash && self.last_position > 0 {
                return Err(ChainBreak {
                    position: self.last_position,
                    reason: format!(
                        "stored with hash {} but its successor recorded {}: the event and its hash were rewritten",
                        self.head, raw.prev_hash
                    ),
                });
            }
            return Err(ChainBreak {
                position: raw.position,
                reason: format!("prev_hash {} does not link to {}", raw.prev_hash, self.head),
            });
        }
        let computed = raw.compute_hash();
        if computed != raw.hash {
            return Err(ChainBreak {
                position: raw.position,
                reason: format!(
                    "stored hash {} does not match its contents ({computed})",
                    raw.hash
                ),
            });
        }
        self.last_position = raw.position;
        self.head = raw.hash;
        self.checked += 1;
        Ok(())
    }

    /// The last position checked.
    pub fn last_position(&self) -> u64 {
        self.last_position
    }

    /// The hash of the last event checked.
    pub fn head(&self) -> Hash {
        self.head
    }

    /// How many events were checked.
    pub fn checked(&self) -> u64 {
        self.checked
    }
}

impl serde::Serialize for Hash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> serde::Deserialize<'de> for Hash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}
