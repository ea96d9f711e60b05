//! The notification file: what it accepts, what it refuses (naming the recipient and field),
//! and which alerts each recipient is told of.

use super::*;

const GOOD: &str = r#"
[delivery]
attempts = 3
timeout_ms = 200
first_retry_ms = 10
retry_max_ms = 50
max_age_hours = 48

[[recipient]]
name = "dept-05 leader"
org = "jiangjin/center/dept-05"
severities = ["red"]
escalations = true
webhook = "https://sms-gateway.example/jiancha"
secret = "s3cret"

[[recipient]]
name = "bureau"
org = "jiangjin"
webhook = "http://127.0.0.1:9/hook"
secret = "k"
"#;

fn refusal(text: &str) -> String {
    match NotifyConfig::parse(text) {
        Ok(c) => panic!("accepted: {c:?}"),
        Err(e) => e.to_string(),
    }
}

fn one(fields: &str) -> String {
    format!("[[recipient]]\n{fields}\n")
}

const BASE: &str = "name = \"a\"\norg = \"jiangjin\"\nwebhook = \"http://127.0.0.1/x\"\n\
                    secret = \"k\"";

#[test]
fn a_good_file_reads_with_its_defaults() {
    let c = NotifyConfig::parse(GOOD).unwrap();
    assert_eq!(c.recipients.len(), 2);
    assert_eq!(c.delivery.attempts, 3);
    assert_eq!(c.delivery.timeout, Duration::from_millis(200));
    assert_eq!(c.delivery.max_age, Duration::from_secs(48 * 3600));
    assert_eq!(c.delivery.queue, Delivery::default().queue);
    let bureau = &c.recipients[1];
    assert_eq!(
        bureau.severities,
        [Severity::Yellow, Severity::Red].into_iter().collect()
    );
    assert!(!bureau.escalations);
    // The secret never shows in a debug print.
    assert!(!format!("{c:?}").contains("s3cret"));
    let defaults = NotifyConfig::parse(&one(BASE)).unwrap().delivery;
    assert_eq!(defaults, Delivery::default());
    assert_eq!(defaults.attempts, 8);
    assert!(defaults.first_retry < Duration::from_secs(2));
}

#[test]
fn refusals_name_the_recipient_and_the_field() {
    let cases: &[(String, &str)] = &[
        (
            one(&format!("{BASE}\ncolour = \"red\"")),
            "recipient 1.colour: unknown field `colour`",
        ),
        (
            format!("{}{}", one(BASE), one(BASE)),
            "recipient 2 (\"a\"): name: repeats the name of an earlier recipient",
        ),
        (
            one(&BASE.replace("jiangjin", "jiangjin//x")),
            "recipient 1 (\"a\"): org: bad org path",
        ),
        (
            one(&BASE.replace("http://127.0.0.1/x", "not a url")),
            "recipient 1 (\"a\"): webhook: not a URL",
        ),
        (
            one(&BASE.replace("http://127.0.0.1/x", "ftp://127.0.0.1/x")),
            "webhook: must be an http:// or https:// URL",
        ),
        (
            one(&BASE.replace("secret = \"k\"", "secret = \" \"")),
            "recipient 1 (\"a\"): secret: must not be empty",
        ),
        (
            one(&format!("{BASE}\nseverities = [\"purple\"]")),
            "recipient 1 (\"a\"): severities: unknown severity \"purple\"",
        ),
        (
            one(&BASE.replace("name = \"a\"", "name = \"a/b\"")),
            "recipient 1 (\"a/b\"): name: contains U+002F",
        ),
        (
            one(&BASE.replace("secret = \"k\"", "")),
            "recipient 1: missing field `secret`",
        ),
        (
            format!("[delivery]\nattempts = 0\n{}", one(BASE)),
            "delivery.attempts: must be 1 to 100",
        ),
        (
            format!("[delivery]\nretries = 3\n{}", one(BASE)),
            "delivery.retries: unknown field `retries`",
        ),
        (
            "[delivery]\nattempts = 2\n".to_owned(),
            "must list 1 to 10000 [[recipient]] tables",
        ),
    ];
    for (text, expected) in cases {
        let got = refusal(text);
        assert!(got.contains(expected), "{got:?} lacks {expected:?}");
    }
}

fn alert(org: &str, severity: &'static str, escalated_to: Option<&str>) -> AlertView {
    use jiancha_projections::{Alert, Rule};
    let rule = match severity {
        "warning" => Rule::PromisedWarning,
        "yellow" => Rule::Stalled,
        _ => Rule::PromisedOverdue,
    };
    let alert = Alert {
        rule,
        n: 1,
        raised_at: 0,
        closed_at: None,
        raised_by: 1,
        closed_by: None,
        org: org.into(),
        delivered: false,
        acknowledged: false,
        acknowledged_at: None,
        about: None,
    };
    let mut view = AlertView::new("case-1", &alert, 0);
    view.escalated_to = escalated_to.map(Into::into);
    assert_eq!(view.severity, severity);
    view
}

#[test]
fn recipients_match_by_org_segment_severity_and_escalation() {
    let c = NotifyConfig::parse(GOOD).unwrap();
    let (leader, bureau) = (&c.recipients[0], &c.recipients[1]);
    let dept = "jiangjin/center/dept-05";
    assert!(leader.wants(&alert(dept, "red", None)));
    assert!(leader.wants(&alert("jiangjin/center/dept-05/window-1", "red", None)));
    assert!(!leader.wants(&alert("jiangjin/center/dept-050", "red", None)));
    assert!(!leader.wants(&alert("jiangjin/center", "red", None)));
    assert!(!leader.wants(&alert(dept, "yellow", None)), "severities");
    // Escalated to the leader's org from elsewhere: told, as it asked for escalations.
    let escalated = alert("jiangjin/town-07", "red", Some(dept));
    assert!(leader.wants(&escalated));
    assert!(!leader.wants(&alert(
        "jiangjin/town-07",
        "red",
        Some("jiangjin/center/dept-0")
    )));
    // The bureau covers everything under `jiangjin`, cards only by default.
    assert!(bureau.wants(&alert("jiangjin/town-07", "yellow", None)));
    assert!(!bureau.wants(&alert("jiangjin/town-07", "warning", None)));
    assert!(!bureau.wants(&alert("jiangjinx/town-07", "red", None)));
    // The segment rule, with the prefix `dept-0`.
    let text = one(&BASE.replace("org = \"jiangjin\"", "org = \"jiangjin/dept-0\""));
    let short = &NotifyConfig::parse(&text).unwrap().recipients[0];
    assert!(!short.wants(&alert("jiangjin/dept-05", "red", None)));
    assert!(short.wants(&alert("jiangjin/dept-0/x", "red", None)));
    let escalations_off = one(&format!("{BASE}\nescalations = false"));
    let off = &NotifyConfig::parse(&escalations_off.replace("\"jiangjin\"", "\"jiangjin/a\""))
        .unwrap()
        .recipients[0];
    assert!(!off.wants(&alert("jiangjin/b", "red", Some("jiangjin/a"))));
    assert_eq!(
        leader.notification_id(&escalated),
        format!("{}/dept-05 leader", escalated.id)
    );
}
