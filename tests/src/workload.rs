//! What the `vault_torture` child and the suites that drive it agree on:
//! the account it signs in as, and the seedable generator that varies its
//! work, so that a failing run can be replayed from its seed.

/// The account the child sets up and the suites sign in as.
pub const ACCOUNT_NAME: &str = "Torture Tester";
/// Its member id in the (absent) organisation directory.
pub const ACCOUNT_MEMBER_ID: &str = "m-torture";
/// Its passphrase: strong enough for the vault's policy, and no secret.
pub const ACCOUNT_PASSPHRASE: &str = "violet tractor quietly umbrella 42";

/// SplitMix64: small, seedable and good enough to vary a workload; not for
/// anything secret.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 pseudo-random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n`; `n` must not be zero.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// One of `items`, which must not be empty.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        let index = usize::try_from(self.below(items.len() as u64)).unwrap_or(0);
        &items[index]
    }
}
