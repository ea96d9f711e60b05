//! The simulator's only source of randomness: xoshiro256** seeded through SplitMix64.
//!
//! Written here rather than taken from a crate so that a seed means the same workload forever:
//! no dependency upgrade can change the stream. Only integer arithmetic and exact float
//! operations are used on the outputs, so runs are byte-identical across platforms.

/// SplitMix64's step: a good mixer for turning seeds (and seed + index pairs) into states.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Separate purposes draw from separate streams, so that adding a draw to one (say, a new
/// irregularity in case planning) does not shift the arrivals or the catalog.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Purpose {
    /// The org tree and the item catalog.
    World = 1,
    /// Arrival counts and times.
    Arrivals = 2,
    /// One case's lifecycle (combined with the case's ordinal).
    Case = 3,
    /// The supervision workflow's acts on one case (combined with the case's ordinal), drawn
    /// apart from the case so that they never change the case's own events.
    Supervision = 4,
    /// The procurement projects of a run: purchasers, budgets, methods, days.
    Projects = 5,
    /// One procurement project's acts (combined with the project's drawing ordinal).
    Project = 6,
    /// The violations drawn for one procurement project, apart from its acts.
    ProjectRules = 7,
}

/// A xoshiro256** generator.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// The generator for `purpose` and `index` (the case ordinal, or 0) under `seed`. Each case
    /// has its own stream, so the first N cases of a run do not depend on how many follow.
    pub(crate) fn new(seed: u64, purpose: Purpose, index: u64) -> Rng {
        let mut mix = seed;
        let a = splitmix64(&mut mix);
        let mut mix = a ^ (purpose as u64).wrapping_mul(0xD1B5_4A32_D192_ED03);
        let b = splitmix64(&mut mix);
        let mut state = b ^ index.wrapping_mul(0xA24B_AED4_963E_E407);
        let s = [
            splitmix64(&mut state),
            splitmix64(&mut state),
            splitmix64(&mut state),
            splitmix64(&mut state),
        ];
        Rng { s }
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// A number in `0..n` (0 when `n` is 0), by Lemire's multiply-shift: the bias is below
    /// 2^-32 for the small ranges used here.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// An index into a slice of length `len` (0 when empty; callers index with `get`).
    pub(crate) fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// A number in `lo..=hi` (`lo` when the range is empty).
    pub(crate) fn range(&mut self, lo: u32, hi: u32) -> u32 {
        if hi <= lo {
            return lo;
        }
        lo + self.below(u64::from(hi - lo) + 1) as u32
    }

    /// A float in `[0, 1)` with 53 random bits.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p`; never for 0, always for 1.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// An approximately standard normal number: the Irwin–Hall sum of 12 uniforms. Exact
    /// float arithmetic only (no `ln` or `cos`), so every platform draws the same value.
    pub(crate) fn normal(&mut self) -> f64 {
        (0..12).map(|_| self.unit()).sum::<f64>() - 6.0
    }

    /// An index drawn by weight from a table of cumulative weights (last entry = total).
    pub(crate) fn weighted(&mut self, cumulative: &[u32]) -> usize {
        let total = cumulative.last().copied().unwrap_or(0);
        let target = self.below(u64::from(total)) as u32;
        cumulative.partition_point(|&c| c <= target)
    }
}

/// Cumulative weights for [`Rng::weighted`].
pub(crate) fn cumulative(weights: &[u32]) -> Vec<u32> {
    weights
        .iter()
        .scan(0u32, |sum, &w| {
            *sum += w;
            Some(*sum)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let draw = |seed, purpose, index| {
            let mut rng = Rng::new(seed, purpose, index);
            (0..4).map(|_| rng.next_u64()).collect::<Vec<_>>()
        };
        assert_eq!(draw(1, Purpose::Case, 7), draw(1, Purpose::Case, 7));
        assert_ne!(draw(1, Purpose::Case, 7), draw(1, Purpose::Case, 8));
        assert_ne!(draw(1, Purpose::Case, 7), draw(2, Purpose::Case, 7));
        assert_ne!(draw(1, Purpose::Case, 0), draw(1, Purpose::Arrivals, 0));
    }

    #[test]
    fn draws_stay_in_range() {
        let mut rng = Rng::new(9, Purpose::World, 0);
        let weights = cumulative(&[1, 0, 3]);
        for _ in 0..10_000 {
            assert!(rng.below(7) < 7);
            let r = rng.range(3, 5);
            assert!((3..=5).contains(&r));
            assert!((0.0..1.0).contains(&rng.unit()));
            assert_ne!(rng.weighted(&weights), 1, "a zero weight is never drawn");
        }
        assert!(!rng.chance(0.0));
        assert!(rng.chance(1.0));
        assert_eq!(rng.range(4, 2), 4);
    }
}
