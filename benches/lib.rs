//! Shared helpers for the benchmarks: workload files and figures printed beside their baselines.
