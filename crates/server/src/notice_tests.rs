//! The notice's rendering, from a hand-made escalated card.

use super::*;

fn sample() -> Notice {
    let day = |d: u32| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
    Notice {
        number: number_of("case-t1/supervision.escalated/1", day(30)),
        alert: NoticeAlert {
            id: "case-t1/supervision.escalated/1".into(),
            rule: "supervision.escalated".into(),
            org: "jiangjin/town-1".into(),
            raised_at: "2026-03-27T00:00:00+08:00".into(),
        },
        escalated_to: "jiangjin/supervision".into(),
        card: Some(NoticeAlert {
            id: "case-t1/fee.mismatch/1".into(),
            rule: "fee.mismatch".into(),
            org: "jiangjin/town-1".into(),
            raised_at: "2026-03-02T09:30:00+08:00".into(),
        }),
        case: NoticeCase {
            id: "case-t1".into(),
            item: "permit-01".into(),
            org: "jiangjin/town-1".into(),
            submitted_on: Some(day(2)),
            accepted_on: Some(day(2)),
            promised_due_on: Some(day(16)),
            statutory_due_on: Some(day(30)),
            status: "running".into(),
        },
        order: Some(NoticeOrder {
            position: Some(7),
            ordered_on: day(3),
            days: 3,
            due_on: Some(day(11)),
            round: 1,
        }),
        facts: vec![Fact {
            position: 3,
            occurred_at: "2026-03-02T09:30:00+08:00".into(),
            kind: "FeeCharged".into(),
            actor: "clerk <b>".into(),
            org: "jiangjin/town-1".into(),
            hash: "ab".repeat(32),
        }],
        issued_on: day(30),
        report_by: Some(NaiveDate::from_ymd_opt(2026, 4, 2).unwrap()),
        issuer: "jiangjin/supervision".into(),
        names: Default::default(),
    }
}

#[test]
fn a_notice_states_the_case_the_facts_the_rules_and_the_deadline() {
    let html = render(&sample(), Style::Inline);
    for needle in [
        "<h1>监察建议书</h1>",
        "主送：jiangjin/town-1</p>",
        "case-t1",
        "收费",
        &"ab".repeat(32),
        "fee.mismatch",
        "第五十八条、第五十九条",
        "supervision.escalated",
        "督办升级",
        "2026年3月3日发出的督办通知（日志位置 7）",
        "3 个工作日内",
        "2026年4月2日",
        "办理中",
        "@page { size: A4",
    ] {
        assert!(html.contains(needle), "{needle} missing:\n{html}");
    }
    assert!(html.contains("clerk &lt;b&gt;"), "unescaped: {html}");
    assert!(!html.contains("clerk <b>"));
    // Addressed to the responsible unit alone: the bureau issues it, it is not its addressee.
    assert!(!html.contains("主送：jiangjin/supervision"), "{html}");
    assert!(!html.contains("抄送"), "{html}");
    let linked = render(&sample(), Style::Linked("/notice.css"));
    assert!(linked.contains("<link rel=\"stylesheet\" href=\"/notice.css\">"));
    assert!(!linked.contains("<style>"));
}

#[test]
fn the_number_follows_the_alert() {
    let day = NaiveDate::from_ymd_opt(2026, 3, 30).unwrap();
    let a = number_of("case-t1/supervision.escalated/1", day);
    assert_eq!(a, number_of("case-t1/supervision.escalated/1", day));
    assert_ne!(a, number_of("case-t2/supervision.escalated/1", day));
    assert!(a.starts_with("监建〔2026〕") && a.ends_with('号'), "{a}");
}

#[test]
fn every_rule_and_event_type_has_a_chinese_name() {
    for rule in jiancha_projections::RULES {
        assert!(!basis_of(rule.code(), None).is_empty());
    }
    let catalogue = include_str!("../../../events/catalogue/v2.jsonl");
    for line in catalogue.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let kind = v["type"].as_str().unwrap();
        assert_ne!(event_zh(kind), "其他", "{kind}");
    }
}

#[test]
fn legal_bases_follow_the_rule_families() {
    assert!(basis_of("deadline.statutory.overdue", None).ends_with("第四十二条"));
    assert!(basis_of("intake.correction.late", None).ends_with("第三十二条"));
    assert!(basis_of("suspension.unlawful", None).ends_with("第四十五条"));
    assert!(basis_of("supervision.correction.overdue", None).contains("督办"));
}

/// The catalog's names stand beside the paths and codes; the seal and the issuer line carry
/// the bureau's name; a unit the card was escalated to other than the issuer gets a copy.
#[test]
fn a_notice_names_the_units_and_the_item() {
    let mut n = sample();
    for (code, name) in [
        ("jiangjin/town-1", "白沙镇便民服务中心"),
        ("jiangjin/supervision", "区监察局"),
        ("permit-01", "个体工商户登记"),
    ] {
        n.names.insert(code.into(), name.into());
    }
    let html = render(&n, Style::Inline);
    for needle in [
        "主送：白沙镇便民服务中心（jiangjin/town-1）</p>",
        "<p class=\"issuer\">区监察局</p>",
        "<p class=\"seal\">区监察局</p>",
        "<td>个体工商户登记（permit-01）</td>",
        "请 白沙镇便民服务中心 立即纠正",
    ] {
        assert!(html.contains(needle), "{needle} missing:\n{html}");
    }
    n.escalated_to = "jiangjin".into();
    let html = render(&n, Style::Inline);
    assert!(html.contains("抄送：jiangjin</p>"), "{html}");
    // A case a transfer moved on: its holder has a copy too.
    n.case.org = "jiangjin/town-2".into();
    let html = render(&n, Style::Inline);
    assert!(
        html.contains("抄送：jiangjin；jiangjin/town-2</p>"),
        "{html}"
    );
}
