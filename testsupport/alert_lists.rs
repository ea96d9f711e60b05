//! What a test reads of an alert list as JSON: the alerts' ids, or the procurement rules they
//! raise. Shared by the server's and the end-to-end test binaries (each includes this file
//! with `#[path]`).

/// The ids of a JSON list of alerts, in the list's order.
pub fn alert_ids(alerts: &serde_json::Value) -> Vec<&str> {
    alerts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect()
}

/// The `proc.*` rule codes of a JSON list of alerts, sorted.
pub fn proc_rules(alerts: &serde_json::Value) -> Vec<String> {
    let mut out: Vec<String> = alerts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["rule"].as_str().unwrap().to_owned())
        .filter(|r| r.starts_with("proc."))
        .collect();
    out.sort();
    out
}
