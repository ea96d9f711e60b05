//! Scenario tests for the projections: one per rule, across holiday blocks.
