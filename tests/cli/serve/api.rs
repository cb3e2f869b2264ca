//! The JSON endpoints: event pages, filters, errors, keys, sessions and threads.

use super::*;

pub fn all_sessions() -> Vec<String> {
    let mut ids: Vec<String> = sample_files().iter().map(|f| session_of(f)).collect();
    ids.sort();
    ids.dedup();
    ids
}

async fn error_of(res: reqwest::Response, status: StatusCode, kind: &str) -> Value {
    assert_eq!(res.status(), status);
    let header = res.headers()["request-id"].to_str().unwrap().to_string();
    let body: Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], kind, "{body}");
    assert_eq!(body["request_id"], header.as_str());
    body
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_concatenate_to_the_stored_texts() {
    let dir = tempdir();
    let db = sample_db(dir.path());
    import(&db, dir.path(), "shared.json", SHARED, SHARED_PAGE);
    let s = Server::start(opts(&db)).await;
    for session in all_sessions().iter().map(String::as_str).chain([SHARED]) {
        let want = exported(&db, session);
        for limit in [1, 7, 1000] {
            let url = s.url(&format!("/v1/sessions/{session}/events?limit={limit}"));
            let (texts, requests) = all_pages(&url).await;
            assert_eq!(lines(&texts), want, "{session} limit {limit}");
            assert_eq!(
                requests,
                want.len().div_ceil(limit).max(1),
                "{session} {limit}"
            );
        }
        let url = s.url(&format!(
            "/v1/sessions/{session}/events?order=desc&limit=7&beta=true"
        ));
        let (mut texts, _) = all_pages(&url).await;
        texts.reverse();
        assert_eq!(lines(&texts), want, "{session} desc");
    }
    // A text that spanned lines is served exactly as stored, line breaks included.
    let p = page(&s.url(&format!("/v1/sessions/{SHARED}/events?limit=1"))).await;
    assert!(
        p.data[0].get().contains("\n      \"id\""),
        "{}",
        p.data[0].get()
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn filters_by_type_and_time() {
    let dir = tempdir();
    let db = sample_db(dir.path());
    import(&db, dir.path(), "shared.json", SHARED, SHARED_PAGE);
    let s = Server::start(opts(&db)).await;
    let want: Vec<String> = exported(&db, HAPPY)
        .into_iter()
        .filter(|t| {
            t.contains(r#""type":"agent.tool_use""#) || t.contains(r#""type":"user.message""#)
        })
        .collect();
    assert!(want.len() > 3);
    for q in [
        "types%5B%5D=agent.tool_use&types%5B%5D=user.message",
        "types[]=agent.tool_use&types[]=user.message&limit=2",
    ] {
        let (texts, _) = all_pages(&s.url(&format!("/v1/sessions/{HAPPY}/events?{q}"))).await;
        assert_eq!(texts, want, "{q}");
    }
    // Events 2 and 3 share 10:00:01.5 (written "1.500Z" and "1.5Z").
    let ids = |n: &[u8]| -> Vec<String> {
        n.iter()
            .map(|i| format!("sevt_011CZshared000000000000{i}"))
            .collect()
    };
    for (param, at, want) in [
        ("gte", "2026-08-07T10:00:01.500Z", ids(&[2, 3, 4])),
        ("gt", "2026-08-07T10:00:01.5Z", ids(&[4])),
        (
            "lte",
            "2026-08-07T10%3A00%3A01.500000%2B00%3A00",
            ids(&[1, 2, 3]),
        ),
        ("lt", "2026-08-07T10:00:01.500Z", ids(&[1])),
    ] {
        let url = s.url(&format!(
            "/v1/sessions/{SHARED}/events?created_at%5B{param}%5D={at}"
        ));
        let got: Vec<String> = page(&url).await.texts().iter().map(|t| id_of(t)).collect();
        assert_eq!(got, want, "{param}");
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_requests_get_the_api_error_body() {
    let dir = tempdir();
    let s = Server::start(opts(&sample_db(dir.path()))).await;
    let events = format!("/v1/sessions/{HAPPY}/events");
    for (q, names) in [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
        ("order=sideways", "order"),
        ("created_at%5Bgt%5D=yesterday", "created_at[gt]"),
        ("created_at[lte]=2026-13-01T00:00:00Z", "created_at[lte]"),
        ("page=garbage", "page"),
    ] {
        let res = get(&s.url(&format!("{events}?{q}"))).await;
        let body = error_of(res, StatusCode::BAD_REQUEST, "invalid_request_error").await;
        assert!(
            body["error"]["message"].as_str().unwrap().contains(names),
            "{q}: {body}"
        );
    }
    let stream = format!("/v1/sessions/{HAPPY}/events/stream?event_deltas[]=agent.tool_use");
    error_of(
        get(&s.url(&stream)).await,
        StatusCode::BAD_REQUEST,
        "invalid_request_error",
    )
    .await;
    let res = get(&s.url("/v1/sessions?statuses[]=asleep")).await;
    error_of(res, StatusCode::BAD_REQUEST, "invalid_request_error").await;
    for path in [
        "/v1/sessions/sesn_nope",
        "/v1/sessions/sesn_nope/events",
        "/v1/sessions/sesn_nope/events/stream",
        "/v1/sessions/sesn_nope/threads",
        &format!("/v1/sessions/{MULTI}/threads/sthr_nope"),
        &format!("/v1/sessions/{MULTI}/threads/sthr_nope/events"),
        "/v1/sessions/sesn_nope/stream",
        "/v2/nothing",
    ] {
        error_of(
            get(&s.url(path)).await,
            StatusCode::NOT_FOUND,
            "not_found_error",
        )
        .await;
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_configured_key_is_required_in_either_header() {
    let dir = tempdir();
    let mut o = opts(&sample_db(dir.path()));
    o.api_key = Some("sk-test-key".into());
    let s = Server::start(o).await;
    let c = reqwest::Client::new();
    let url = s.url("/v1/sessions");
    let send = |r: reqwest::RequestBuilder| async move { r.send().await.unwrap() };
    for req in [
        c.get(&url),
        c.get(&url).header("x-api-key", "sk-test-kez"),
        c.get(&url).bearer_auth("sk-test-key2"),
        c.get(s.url(&format!("/v1/sessions/{HAPPY}/events/stream"))),
    ] {
        error_of(
            send(req).await,
            StatusCode::UNAUTHORIZED,
            "authentication_error",
        )
        .await;
    }
    for req in [
        c.get(&url)
            .bearer_auth("sk-test-key")
            .header("anthropic-version", "2026-10-21"),
        c.get(format!("{url}?beta=true"))
            .header("x-api-key", "sk-test-key")
            .header("anthropic-version", "2023-06-01"),
    ] {
        let res = send(req).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(
            res.headers()["request-id"]
                .to_str()
                .unwrap()
                .starts_with("req_")
        );
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_page_both_ways_and_no_thread_is_invented() {
    let dir = tempdir();
    let s = Server::start(opts(&sample_db(dir.path()))).await;
    let (texts, requests) = all_pages(&s.url("/v1/sessions?limit=5")).await;
    let listed: Vec<String> = texts.iter().map(|t| id_of(t)).collect();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(sorted, all_sessions());
    assert_eq!(requests, listed.len().div_ceil(5));
    let created: Vec<String> = texts
        .iter()
        .map(|t| serde_json::from_str::<Value>(t).unwrap()["created_at"].to_string())
        .collect();
    assert!(
        created.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {created:?}"
    );
    let first = page(&s.url("/v1/sessions?limit=5")).await;
    assert!(first.prev_page.is_none());
    let second = page(&s.url(&format!(
        "/v1/sessions?limit=5&page={}",
        first.next_page.as_ref().unwrap()
    )))
    .await;
    let back = page(&s.url(&format!(
        "/v1/sessions?limit=5&page={}",
        second.prev_page.unwrap()
    )))
    .await;
    assert_eq!(back.texts(), first.texts());
    let one: Value = get(&s.url(&format!("/v1/sessions/{HAPPY}")))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (one["type"].as_str(), one["id"].as_str()),
        (Some("session"), Some(HAPPY))
    );
    assert_eq!(one["status"], "idle");
    let (terminated, _) = all_pages(&s.url("/v1/sessions?statuses[]=terminated&order=asc")).await;
    assert!(!terminated.is_empty() && terminated.len() < listed.len());
    assert!(
        terminated
            .iter()
            .all(|t| t.contains(r#""status":"terminated""#))
    );

    // The samples hold no thread objects, and none are invented from their events: the list is
    // empty and so is each thread, but the logs of the threads the events name can be read.
    let threads = page(&s.url(&format!("/v1/sessions/{MULTI}/threads"))).await;
    assert!(threads.data.is_empty() && threads.next_page.is_none());
    let tid = "sthr_011CZl6S1ZlVIzDFPXCTBo72";
    let one = get(&s.url(&format!("/v1/sessions/{MULTI}/threads/{tid}"))).await;
    error_of(one, StatusCode::NOT_FOUND, "not_found_error").await;
    let p = page(&s.url(&format!("/v1/sessions/{MULTI}/threads/{tid}/events"))).await;
    assert!(
        p.data.is_empty() && p.next_page.is_none(),
        "the samples hold no thread logs"
    );
    let q = format!("/v1/sessions/{MULTI}/threads?statuses%5B%5D=nope");
    error_of(
        get(&s.url(&q)).await,
        StatusCode::BAD_REQUEST,
        "invalid_request_error",
    )
    .await;
    s.stop().await;
}
