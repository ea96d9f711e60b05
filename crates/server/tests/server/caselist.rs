//! `GET /api/v1/cases` (the case list) and the cursors of the lists: filters combine, paging
//! through 10,000 cases with appends between the pages returns each case once, and a cursor
//! from another query is refused with a 400 naming `cursor`.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use jiancha_events::{Accepted, Channel, EventData, NewEvent, StreamName, Submitted};

use crate::support::*;

/// A case submitted (and, when `accepted`, accepted) at `org` on `day` (`2026-03-DD`), for
/// `item`.
fn new_case(case: &str, org: &str, day: &str, item: &str, accepted: bool) -> Vec<NewEvent> {
    let at = |time: &str| {
        jiancha_events::parse_timestamp(&format!("2026-03-{day}T{time}+08:00")).unwrap()
    };
    let stream = StreamName::parse(case).unwrap();
    let submitted = EventData::Submitted(Submitted {
        item: item.into(),
        channel: Channel::Window,
        materials: vec!["id-card".into()],
    });
    let mut out = vec![NewEvent::new(
        stream.clone(),
        at("09:00:00"),
        "clerk-1",
        org,
        submitted,
    )];
    if accepted {
        let data = EventData::Accepted(Accepted::default());
        out.push(NewEvent::new(stream, at("09:10:00"), "clerk-1", org, data));
    }
    out
}

/// The streams of a page of the case list, in order.
fn streams(answer: &Answer) -> Vec<String> {
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    answer.json["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["stream"].as_str().unwrap().to_owned())
        .collect()
}

async fn list(world: &World, query: &str) -> Vec<String> {
    streams(
        &world
            .get(&format!("/api/v1/cases?{query}"), Who::Supervisor)
            .await,
    )
}

#[tokio::test]
async fn filters_combine() {
    let world = World::new().await;
    // Besides case-t1 and case-t10 (accepted on Monday 2026-03-02, promised 2 working days:
    // due Wednesday 03-04): one accepted on Tuesday (due Thursday), one not yet accepted, one
    // of an item the catalog does not define.
    let mut events = new_case("case-a", TOWN_1, "03", ITEM, true);
    events.extend(new_case("case-s", TOWN_1, "02", ITEM, false));
    events.extend(new_case("case-u", TOWN_10, "02", "permit-99", true));
    world.store.append(events).await.unwrap();
    world.clock.set(at("2026-03-06T10:00:00+08:00"));
    world.settle().await;

    let on = "now=2026-03-04T12:00:00%2B08:00";
    assert_eq!(
        list(&world, &format!("{on}&due_within=0")).await,
        ["case-t1", "case-t10"]
    );
    assert_eq!(
        list(&world, &format!("{on}&due_within=0&org=jiangjin/town-1")).await,
        ["case-t1"]
    );
    assert_eq!(
        list(&world, &format!("{on}&due_within=1")).await,
        ["case-t1", "case-t10", "case-a"]
    );
    assert_eq!(
        list(
            &world,
            &format!("{on}&due_within=1&org=jiangjin/town-1&item={ITEM}")
        )
        .await,
        ["case-t1", "case-a"]
    );
    assert_eq!(
        list(&world, &format!("{on}&overdue=true")).await,
        Vec::<String>::new()
    );
    // Live, on Friday 03-06: the three due cases are overdue, the one of town-10 apart.
    assert_eq!(
        list(&world, "overdue=true").await,
        ["case-t1", "case-t10", "case-a"]
    );
    assert_eq!(
        list(&world, "overdue=true&org=jiangjin/town-10").await,
        ["case-t10"]
    );
    assert_eq!(list(&world, "status=submitted").await, ["case-s"]);
    assert_eq!(
        list(&world, "status=running&item=permit-99").await,
        ["case-u"]
    );
    assert_eq!(list(&world, "status=concluded").await, Vec::<String>::new());
    // Every case, by due date, those without one last.
    assert_eq!(
        list(&world, "").await,
        ["case-t1", "case-t10", "case-a", "case-s", "case-u"]
    );
    let row = &world
        .get(
            "/api/v1/cases?overdue=true&org=jiangjin/town-10",
            Who::Supervisor,
        )
        .await
        .json["cases"][0];
    assert_eq!(row["item"], ITEM);
    assert_eq!(row["org"], TOWN_10);
    assert_eq!(row["status"], "running");
    assert_eq!(row["promised_due_on"], "2026-03-04");
    assert_eq!(row["remaining_days"], -2);
    assert_eq!(row["overdue"], true);
    assert!(row["open_alerts"].as_u64().unwrap() >= 2, "{row}");
    // A unit lists its own org's cases only.
    let own = streams(&world.get("/api/v1/cases", Who::Unit10).await);
    assert_eq!(own, ["case-t10", "case-u"]);
    for (query, field) in [
        ("status=open", "status"),
        ("kind=procurement", "kind"),
        ("due_within=soon", "due_within"),
        ("overdue=1", "overdue"),
        ("limit=-1", "limit"),
        ("limit=10001", "limit"),
        ("limit=18446744073709551615", "limit"),
        ("colour=red", "colour"),
    ] {
        let answer = world
            .get(&format!("/api/v1/cases?{query}"), Who::Supervisor)
            .await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            answer.text
        );
        assert_eq!(answer.json["field"], field, "{query}: {}", answer.text);
    }
    assert_eq!(
        list(&world, "kind=approval&status=submitted").await,
        ["case-s"]
    );
}

/// The working days of March 2026 the cases are accepted on.
const DAYS: [&str; 10] = ["02", "03", "04", "05", "06", "09", "10", "11", "12", "13"];

#[tokio::test]
async fn paging_through_10000_cases_with_appends_returns_each_once() {
    let world = World::new().await;
    world.clock.set(at("2026-03-20T10:00:00+08:00"));
    let mut original: Vec<String> = vec![CASE_1.into(), CASE_10.into()];
    for chunk in 0..10 {
        let mut events = Vec::new();
        for i in chunk * 1_000..(chunk + 1) * 1_000 {
            let case = format!("case-p{i:05}");
            let day = DAYS[(i * 7) % DAYS.len()];
            events.extend(new_case(&case, TOWN_1, day, ITEM, true));
            original.push(case);
        }
        world.store.append(events).await.unwrap();
    }
    world.settle().await;

    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut path = "/api/v1/cases?limit=700".to_owned();
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let answer = world.get(&path, Who::Supervisor).await;
        for s in streams(&answer) {
            *seen.entry(s).or_default() += 1;
        }
        pages += 1;
        // Between the pages, new cases due before, at and after the page's end.
        let mut events = Vec::new();
        for (j, day) in DAYS.iter().enumerate() {
            events.extend(new_case(
                &format!("case-n{pages:03}-{j}"),
                TOWN_1,
                day,
                ITEM,
                true,
            ));
        }
        world.store.append(events).await.unwrap();
        match answer.json["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert!(pages >= 15, "{pages} pages");
    for case in &original {
        assert_eq!(
            seen.get(case),
            Some(&1),
            "{case} was listed {:?} times",
            seen.get(case)
        );
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "listed more than once: {twice:?}");
}

#[tokio::test]
async fn a_cursor_from_another_query_is_refused() {
    let world = World::new().await;
    let first = world.get("/api/v1/cases?limit=1", Who::Supervisor).await;
    assert_eq!(streams(&first), [CASE_1]);
    let cursor = first.json["next_cursor"].as_str().unwrap().to_owned();
    let second = world
        .get(
            &format!("/api/v1/cases?limit=1&cursor={cursor}"),
            Who::Supervisor,
        )
        .await;
    assert_eq!(streams(&second), [CASE_10]);
    assert!(second.json["next_cursor"].is_null(), "{}", second.text);

    for other in [
        format!("/api/v1/cases?limit=1&overdue=true&cursor={cursor}"),
        format!("/api/v1/cases?org=jiangjin&cursor={cursor}"),
        format!("/api/v1/alerts?cursor={cursor}"),
        "/api/v1/cases?cursor=not-a-cursor".to_owned(),
    ] {
        let answer = world.get(&other, Who::Supervisor).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{other}: {}",
            answer.text
        );
        assert_eq!(answer.json["field"], "cursor", "{other}: {}", answer.text);
        assert!(answer.text.contains("cursor:"), "{}", answer.text);
    }
}

#[tokio::test]
async fn alerts_page_by_cursor_in_the_same_envelope() {
    let world = World::new().await;
    let all = world.get("/api/v1/alerts", Who::Supervisor).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    assert!(all.json["next_cursor"].is_null(), "{}", all.text);
    let every: Vec<_> = all.json["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].clone())
        .collect();
    assert!(every.len() >= 2, "{}", all.text);

    let mut paged = Vec::new();
    let mut path = "/api/v1/alerts?limit=1".to_owned();
    loop {
        let page = world.get(&path, Who::Supervisor).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        assert_eq!(page.json["total"], every.len());
        paged.extend(
            page.json["alerts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["id"].clone()),
        );
        match page.json["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/alerts?limit=1&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(paged, every);

    let page = world.get("/api/v1/alerts?limit=1", Who::Supervisor).await;
    let cursor = page.json["next_cursor"].as_str().unwrap();
    let other = world
        .get(
            &format!("/api/v1/alerts?open=true&cursor={cursor}"),
            Who::Supervisor,
        )
        .await;
    assert_eq!(other.status, StatusCode::BAD_REQUEST, "{}", other.text);
    assert_eq!(other.json["field"], "cursor");
    let cases = world
        .get(&format!("/api/v1/cases?cursor={cursor}"), Who::Supervisor)
        .await;
    assert_eq!(cases.status, StatusCode::BAD_REQUEST, "{}", cases.text);
}
