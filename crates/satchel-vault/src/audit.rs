//! The audit log: append-only, hash-chained, with checkpoints signed by the device key.
