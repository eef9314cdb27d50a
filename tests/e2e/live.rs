//! Live updates over real WebSockets and SSE, on SQLite and on PostgreSQL.
#![forbid(unsafe_code)]

use hub_tests::ws::WsClient;
use hub_tests::{both_backends, Db, TestApp, TestUser};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;

both_backends!(
    new_posts_arrive_live_and_resume_returns_exactly_the_missed_ones,
    thirty_two_writers_one_follower_no_gap_no_duplicate_commit_order,
    two_channels_merge_in_seq_order_and_resume_exactly,
    an_event_on_one_of_several_channels_goes_out_at_once,
    a_replay_withholds_what_was_hidden_since,
    a_replay_longer_than_ten_thousand_events_is_complete,
    a_client_that_stops_reading_its_replay_is_dropped,
    a_stalled_event_stream_is_dropped_and_does_not_hold_up_a_shutdown,
    subscribing_again_without_since_keeps_what_was_not_sent,
    a_channel_added_with_since_keeps_the_connection_in_seq_order,
    live_access_ends_with_the_session_and_follows_revoked_roles,
    a_withheld_thread_is_not_announced,
    pending_posts_and_private_channels_stay_private,
    foreign_origin_reused_ticket_and_oversize_frame_are_refused,
    server_sent_events_carry_the_same_events_and_resume,
    protocol_errors_and_ping,
    a_subscriber_that_falls_behind_is_told_too_slow_and_closed,
    shutdown_closes_live_connections_with_1001,
    live_connections_per_address_are_capped,
);

const WAIT: Duration = Duration::from_secs(10);

fn seqs(events: &[Value]) -> Vec<i64> {
    events.iter().filter_map(|e| e["seq"].as_i64()).collect()
}

async fn new_posts_arrive_live_and_resume_returns_exactly_the_missed_ones(db: Db) {
    let app = TestApp::spawn(db).await;
    let ana = app.register("Ana").await;
    let mut ws = WsClient::connect(&app.ws_url(""), &[])
        .await
        .expect("connect");
    let (replay, head) = ws.subscribe(&["region:europe"], None).await;
    assert!(replay.is_empty());
    let (t, _) = app.thread(&ana, "europe", "Live thread", "opening").await;
    let got = ws.events(2, WAIT).await;
    let kinds: Vec<&str> = got.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(kinds, vec!["thread.created", "post.created"]);
    assert!(got
        .iter()
        .all(|e| e["channel"] == "region:europe" && e["seq"].as_i64() > Some(head)));
    assert_eq!(got[0]["data"]["id"].as_i64(), Some(t));
    // Another region's posts do not arrive here.
    app.thread(&ana, "africa", "Elsewhere", "not for europe")
        .await;
    let p = app.reply(&ana, t, None, "first reply").await;
    let next = ws.events(1, WAIT).await;
    assert_eq!(next[0]["data"]["id"], p["id"]);
    assert_eq!(next[0]["type"], "post.created");
    let last_seen = next[0]["seq"].as_i64().unwrap_or_default();
    ws.close().await;

    // Missed while away: three replies and an edit.
    let mut missed = Vec::new();
    for i in 0..3 {
        missed.push(app.reply(&ana, t, None, &format!("while away {i}")).await["id"].clone());
    }
    app.call(reqwest::Method::PATCH, format!("/posts/{}", p["id"]))
        .by(&ana)
        .json(json!({"body": "edited"}))
        .expect(200)
        .await;
    let mut ws = WsClient::connect(&app.ws_url(""), &[])
        .await
        .expect("reconnect");
    let (replay, head) = ws.subscribe(&["region:europe"], Some(last_seen)).await;
    let kinds: Vec<&str> = replay.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(
        kinds,
        vec![
            "post.created",
            "post.created",
            "post.created",
            "post.updated"
        ]
    );
    assert_eq!(
        replay
            .iter()
            .take(3)
            .map(|e| e["data"]["id"].clone())
            .collect::<Vec<_>>(),
        missed
    );
    let s = seqs(&replay);
    assert!(
        s.windows(2).all(|w| w[0] < w[1]) && s[0] > last_seen && *s.last().unwrap_or(&0) <= head
    );
    // Then live, no repeat of the replay.
    let live = app.reply(&ana, t, None, "after resume").await;
    let got = ws.events(1, WAIT).await;
    assert_eq!(got[0]["data"]["id"], live["id"]);
    assert!(got[0]["seq"].as_i64() > Some(head));
    assert!(
        ws.next_json(Duration::from_millis(300)).await.is_none(),
        "nothing else arrives"
    );
    // The thread channel carries posts of that thread only.
    let mut tw = WsClient::connect(&app.ws_url(""), &[])
        .await
        .expect("connect");
    let (replay, _) = tw.subscribe(&[&format!("thread:{t}")], Some(0)).await;
    assert!(
        replay
            .iter()
            .all(|e| e["data"]["thread_id"].as_i64() == Some(t)
                || e["data"]["id"].as_i64() == Some(t))
    );
    assert_eq!(
        replay
            .iter()
            .filter(|e| e["type"] == "post.created")
            .count(),
        6
    );
    app.finish().await;
}

async fn thirty_two_writers_one_follower_no_gap_no_duplicate_commit_order(db: Db) {
    let app = TestApp::spawn(db).await;
    let ana = app.register("Ana").await;
    let (t, _) = app
        .thread(&ana, "asia-pacific", "Busy thread", "opening")
        .await;
    let mut ws = WsClient::connect(&app.ws_url(""), &[])
        .await
        .expect("connect");
    let (_, head) = ws.subscribe(&[&format!("thread:{t}")], None).await;
    const WRITERS: usize = 32;
    const EACH: usize = 8;
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let http = app.http.clone();
            let url = app.api(&format!("/threads/{t}/posts"));
            let token = ana.token.clone();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                for i in 0..EACH {
                    let res = http
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&json!({"body": format!("writer {w} post {i}"), "kind": "comment"}))
                        .send()
                        .await
                        .expect("post");
                    assert_eq!(res.status(), 201);
                    let v: Value = res.json().await.unwrap_or_default();
                    ids.push(v["id"].as_i64().unwrap_or_default());
                }
                ids
            })
        })
        .collect();
    let mut created = BTreeSet::new();
    for w in writers {
        created.extend(w.await.expect("writer"));
    }
    let got = ws.events(WRITERS * EACH, Duration::from_secs(30)).await;
    let s = seqs(&got);
    assert_eq!(got.len(), WRITERS * EACH, "every post delivered");
    assert!(
        s.windows(2).all(|w| w[0] < w[1]),
        "strictly increasing seq: {s:?}"
    );
    assert!(s[0] > head);
    let ids: BTreeSet<i64> = got
        .iter()
        .filter_map(|e| e["data"]["id"].as_i64())
        .collect();
    assert_eq!(ids, created, "each post exactly once");
    // Commit order: the log, read back from the database, is in the same order.
    let log: Vec<i64> = app
        .server
        .store
        .events_after(head, 10_000)
        .await
        .expect("log")
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(log, s);
    assert!(ws.next_json(Duration::from_millis(300)).await.is_none());
    app.finish().await;
}

/// A subscriber of a region and of one of its threads gets each post of that thread twice
/// (once per channel) and everything in `seq` order across both channels, with many writers
/// at once; resuming both channels replays exactly what it missed, merged in order.
async fn two_channels_merge_in_seq_order_and_resume_exactly(db: Db) {
    let app = TestApp::spawn(db).await;
    let ana = app.register("Ana").await;
    let (t, _) = app.thread(&ana, "africa", "Merged", "opening").await;
    let mut ws = WsClient::connect(&app.ws_url(""), &[])
        .await
        .expect("connect");
    let thread_chan = format!("thread:{t}");
    let (_, head) = ws.subscribe(&["region:africa", &thread_chan], None).await;
    const WRITERS: usize = 16;
    const EACH: usize = 6;
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let http = app.http.clone();
            let token = ana.token.clone();
            // Half reply in the thread (both channels), half open threads (region only).
            let (url, body) = if w % 2 == 0 {
                (
                    app.api(&format!("/threads/{t}/posts")),
                    json!({"body": format!("reply {w}"), "kind": "comment"}),
                )
            } else {
                (
                    app.api("/regions/africa/threads"),
                    json!({"title": format!("Thread {w}"), "body": format!("opening {w}"), "kind": "comment",
                           "objectives": [1], "language": "en"}),
                )
            };
            tokio::spawn(async move {
                for i in 0..EACH {
                    let mut b = body.clone();
                    b["body"] = json!(format!("{} #{i}", b["body"].as_str().unwrap_or("")));
                    let res = http
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&b)
                        .send()
                        .await
                        .expect("post");
                    assert_eq!(res.status(), 201);
                }
            })
        })
        .collect();
    for w in writers {
        w.await.expect("writer");
    }
    // The log after `head`, read back: what must arrive, and in which order.
    let log = app
        .server
        .store
        .events_after(head, 10_000)
        .await
        .expect("log");
    let mut expected = Vec::new();
    for e in log.iter().filter(|e| e.audience == "public") {
        if e.region.as_deref() == Some("africa") {
            expected.push((e.seq, "region:africa".to_string()));
        }
        if e.thread_id == Some(t) {
            expected.push((e.seq, thread_chan.clone()));
        }
    }
    let got = ws.events(expected.len(), Duration::from_secs(30)).await;
    let got_pairs: Vec<(i64, String)> = got
        .iter()
        .map(|e| {
            (
                e["seq"].as_i64().unwrap_or_default(),
                e["channel"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let s = seqs(&got);
    assert!(
        s.windows(2).all(|w| w[0] <= w[1]),
        "seq order across channels: {got_pairs:?}"
    );
    let mut sorted_got = got_pairs.clone();
    sorted_got.sort();
    assert_eq!(sorted_got, expected, "every event once per channel");
    assert!(ws.next_json(Duration::from_millis(300)).await.is_none());
    ws.close().await;

    // Resume both channels from the middle: exactly the rest, merged in order.
    let middle = expected[expected.len() / 2].0;
    let mut again = WsClient::connect(&app.ws_url(""), &[])
        .await
        .expect("reconnect");
    let (replay, _) = again
        .subscribe(&["region:africa", &thread_chan], Some(middle))
        .await;
    let replay_pairs: Vec<(i64, String)> = replay
        .iter()
        .map(|e| {
            (
                e["seq"].as_i64().unwrap_or_default(),
                e["channel"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let rest: Vec<(i64, String)> = expected
        .iter()
        .filter(|(seq, _)| *seq > middle)
        .cloned()
        .collect();
    let mut sorted_replay = replay_pairs.clone();
    sorted_replay.sort();
    assert_eq!(
        sorted_replay, rest,
        "the replay is exactly what came after `since`"
    );
    assert!(seqs(&replay).windows(2).all(|w| w[0] <= w[1]));
    app.finish().await;
}

fn author(u: &TestUser) -> hub_domain::AuthorRef {
    hub_domain::AuthorRef {
        id: u.id,
        display_name: "Ana".into(),
        organisation: None,
        stakeholder_group: hub_domain::StakeholderGroup::CivilSociety,
        country: None,
    }
}

/// A subscriber of several channels gets an event that reaches only one of them as soon as
/// it is committed, not when some later event wakes it (each event here is the last for a
/// while, so a frame left waiting would never arrive).
async fn an_event_on_one_of_several_channels_goes_out_at_once(db: Db) {
    let app = TestApp::spawn(db).await;
    let ana = app.register("Ana").await;
    let (t, _) = app.thread(&ana, "europe", "Followed", "opening").await;
    let mut ws = WsClient::connect(&app.ws_url(""), &[])
        .await
        .expect("connect");
    let chan = format!("thread:{t}");
    ws.subscribe(&[&chan, "region:africa"], None).await;

    // On the thread's channel only (its region is not followed).
    let reply = app.reply(&ana, t, None, "only on the thread channel").await;
    let got = ws.events(1, WAIT).await;
    assert_eq!(got.len(), 1, "the reply arrives on its own");
    assert_eq!(
        (&got[0]["channel"], &got[0]["data"]["id"]),
        (&json!(chan), &reply["id"])
    );
    // On the region's channel only: a thread elsewhere (two events, nothing after them).
    let (a, _) = app
        .thread(&ana, "africa", "Elsewhere", "only on africa")
        .await;
    let got = ws.events(2, WAIT).await;
    let kinds: Vec<(&str, &str)> = got
        .iter()
        .filter_map(|e| Some((e["channel"].as_str()?, e["type"].as_str()?)))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("region:africa", "thread.created"),
            ("region:africa", "post.created")
        ]
    );
    assert_eq!(got[0]["data"]["id"].as_i64(), Some(a));
    // And once more on the thread, after the region's events.
    let again = app.reply(&ana, t, None, "the thread again").await;
    let got = ws.events(1, WAIT).await;
    assert_eq!(got.len(), 1, "the second reply arrives on its own");
    assert_eq!(got[0]["data"]["id"], again["id"]);
    app.finish().await;
}

/// A post hidden after it was published: replaying the log shows others its tombstone, not
/// the text that was hidden, on WebSocket and SSE alike; its author and the region's
/// moderators still get it in full.
async fn a_replay_withholds_what_was_hidden_since(db: Db) {
    let app = TestApp::spawn(db).await;
    let ana = app.register("Ana").await;
    let mo = app.register("Mo").await;
    app.grant_moderator(mo.id, "europe").await;
    let (t, _) = app.thread(&ana, "europe", "Replayed", "opening").await;
    let secret = "call me on +44 7700 900123";
    let p = app.reply(&ana, t, None, secret).await;
    let pid = p["id"].as_i64().unwrap_or_default();
    let (s, d) = app
        .post(
            &format!("/moderation/posts/{pid}/decision"),
            &mo.token,
            json!({"action": "hide", "reason": "personal data"}),
        )
        .await;
    assert_eq!(s, 200, "{d}");
    let chan = format!("thread:{t}");
    let created = |events: &[Value]| -> Vec<Value> {
        events
            .iter()
            .filter(|e| e["type"] == "post.created" && e["data"]["id"] == pid)
            .cloned()
            .collect()
    };

    let mut anon = WsClient::connect(&app.ws_url(""), &[])
        .await
        .expect("connect");
    let (replay, _) = anon.subscribe(&[&chan], Some(0)).await;
    let seen = created(&replay);
    assert_eq!(seen.len(), 1, "the post's creation is replayed: {replay:?}");
    assert_eq!(seen[0]["data"]["body"], Value::Null, "{seen:?}");
    assert_eq!(seen[0]["data"]["body_html"], Value::Null, "{seen:?}");
    assert!(
        !replay.iter().any(|e| e.to_string().contains(secret)),
        "{replay:?}"
    );

    for who in [&ana, &mo] {
        let mut ws = WsClient::connect(
            &app.ws_url(""),
            &[("authorization", &format!("Bearer {}", who.token))],
        )
        .await
        .expect("connect");
        let (replay, _) = ws.subscribe(&[&chan], Some(0)).await;
        let seen = created(&replay);
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0]["data"]["body"], secret, "in full to {}", who.email);
    }

    let mut sse = app
        .http
        .get(app.api(&format!("/events?channels={chan}&since=0")))
        .send()
        .await
        .expect("sse");
    assert_eq!(sse.status().as_u16(), 200);
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    while !text.contains("post.hidden") {
        match tokio::time::timeout_at(deadline, sse.chunk()).await {
            Ok(Ok(Some(chunk))) => text.push_str(&String::from_utf8_lossy(&chunk)),
            _ => break,
        }
    }
    assert!(
        text.contains("post.hidden"),
        "the SSE replay reached the hiding: {text}"
    );
    assert!(!text.contains(secret), "{text}");
    // The post's creation is there, as a tombstone.
    let created_block = text
        .split("\n\n")
        .find(|b| b.contains("event: post.created") && b.contains(&format!("\"id\":{pid},")));
    assert!(
        created_block.is_some_and(|b| b.contains("\"body\":null")),
        "{text}"
    );
    app.finish().await;
}

/// More events than one subscribe used to replay (10,000): all of them come, in order, once,
/// and then live events follow with no gap.
async fn a_replay_longer_than_ten_thousand_events_is_complete(db: Db) {
    let app = TestApp::spawn(db).await;
    let ana = app.register("Ana").await;
    let (t, _) = app.thread(&ana, "europe", "Long absence", "opening").await;
    let (_, start) = {
        let mut ws = WsClient::connect(&app.ws_url(""), &[])
            .await
            .expect("connect");
        ws.subscribe(&["region:europe"], None).await
    };
    let total = 10_050usize;
    write_posts(&app, t, &ana, total, |i| format!("missed {i}")).await;

    let mut ws = WsClient::connect(&app.ws_url(""), &[])
        .await
        .expect("connect");
    let (replay, head) = ws.subscribe(&["region:europe"], Some(start)).await;
    let got = seqs(&replay);
    assert_eq!(got.len(), total, "every missed event is replayed");
    assert!(got.windows(2).all(|w| w[0] < w[1]), "in order, once");
    assert_eq!(got.last().copied(), Some(head));
    let bodies: BTreeSet<String> = replay
        .iter()
        .filter_map(|e| e["data"]["body"].as_str().map(str::to_string))
        .collect();
    assert_eq!(bodies.len(), total);
    let after = app.reply(&ana, t, None, "back again").await;
    let live = ws.events(1, WAIT).await;
    assert_eq!(live.len(), 1);
    assert_eq!(live[0]["data"]["id"], after["id"]);
    assert_eq!(
        live[0]["seq"].as_i64(),
        Some(head + 1),
        "no gap after the head"
    );
    app.finish().await;
}

/// Writes `n` published posts in thread `t` through the store, 16 writers at once (group
/// commit keeps this quick), the `i`th with the body `body(i)`.
async fn write_posts(
    app: &TestApp,
    t: i64,
    by: &TestUser,
    n: usize,
    body: impl Fn(usize) -> String + Clone + Send + 'static,
) {
    let mut tasks = Vec::new();
    for w in 0..16 {
        let store = app.server.store.clone();
        let author = author(by);
        let body = body.clone();
        tasks.push(tokio::spawn(async move {
            for i in (w..n).step_by(16) {
                let body = body(i);
                let post = hub_store::NewPost {
                    author: author.clone(),
                    parent_id: None,
                    kind: hub_domain::PostKind::Comment,
                    body_html: format!("<p>{body}</p>"),
                    body,
                    search_terms: String::new(),
                    language: Some("en".into()),
                    language_detected: false,
                    objectives: vec![],
                    aspects: vec![],
                    status: hub_domain::PostStatus::Published,
                };
                store.create_post(t, &post, None).await.expect("post");
            }
        }));
    }
    for task in tasks {
        task.await.expect("writer");
    }
}

/// A hub whose write timeout (`timeout_key`) is 1 s, with one live connection per address (a
/// second connection works only if the first's slot was given back), and a thread of about
/// 50 MB of replay: more than the socket buffers on both sides and the server's write buffer
/// hold.
async fn stall_setup(db: Db, timeout_key: &str) -> (TestApp, i64) {
    use figment::providers::Serialized;
    let app = TestApp::spawn_with(db, |f| {
        f.merge(Serialized::default(timeout_key, 1))
            .merge(Serialized::default("live.connections_per_ip", 1))
    })
    .await;
    let ana = app.register("Ana").await;
    let (t, _) = app.thread(&ana, "europe", "Long posts", "opening").await;
    write_posts(&app, t, &ana, 1_500, |i| {
        format!("{i} {}", "long text ".repeat(1_600))
    })
    .await;
    (app, t)
}

/// A client that asks for a long replay and stops reading is dropped once a write has waited
/// `live.write_timeout_secs`: its subscription and address slot do not stay taken.
async fn a_client_that_stops_reading_its_replay_is_dropped(db: Db) {
    let (app, t) = stall_setup(db, "live.write_timeout_secs").await;
    let mut ws = WsClient::connect(&app.ws_url(""), &[])
        .await
        .expect("connect");
    ws.send(json!({"op": "subscribe", "channels": [format!("thread:{t}")], "since": 0}))
        .await;
    let live = &app.server.live;
    let deadline = tokio::time::Instant::now() + WAIT;
    while live.connections() == 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(live.connections(), 1, "the client is connected");
    // Time enough to write what the buffers take, then wait out the write timeout.
    let deadline = tokio::time::Instant::now() + WAIT * 2;
    while live.connections() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(live.connections(), 0, "the stalled client was dropped");
    // Its address slot is free again: a new connection works and is served.
    let mut again = WsClient::connect(&app.ws_url(""), &[])
        .await
        .expect("connect again");
    let (_, head) = again.subscribe(&["region:africa"], None).await;
    assert!(head > 0);
    drop(ws);
    app.finish().await;
}

/// An event-stream client that stops reading: hyper writes its response, so no loop of ours
/// sees the stall; the connection's write timeout (`write_timeout_secs`) drops it with its
/// subscription and address slot, and a shutdown does not wait for it.
async fn a_stalled_event_stream_is_dropped_and_does_not_hold_up_a_shutdown(db: Db) {
    use tokio::io::AsyncWriteExt;
    let (app, t) = stall_setup(db, "write_timeout_secs").await;
    // A request whose response is never read, from a loopback address of its own (each
    // address has its own live connection slots).
    let addr = app.server.addr;
    let stalled_request = move |from: [u8; 4], path: String| async move {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket
            .bind(std::net::SocketAddr::from((from, 0)))
            .expect("bind");
        let mut tcp = socket.connect(addr).await.expect("connect");
        let req = format!("GET /api/v1{path} HTTP/1.1\r\nHost: localhost\r\n\r\n");
        tcp.write_all(req.as_bytes()).await.expect("request");
        tcp
    };
    let replay_all = format!("/events?channels=thread:{t}&since=0");
    let stalled = stalled_request([127, 0, 0, 1], replay_all.clone()).await;
    let live = &app.server.live;
    let until = |n: i64| async move {
        let deadline = tokio::time::Instant::now() + WAIT * 2;
        while live.connections() != n && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        live.connections()
    };
    assert_eq!(until(1).await, 1, "the stream is served");
    // The buffers fill, then the write times out.
    assert_eq!(until(0).await, 0, "the stalled stream was dropped");
    // Its address slot is free again: another stream from the same address is served.
    let res = app
        .http
        .get(app.api("/events?channels=region:africa"))
        .send()
        .await
        .expect("stream again");
    assert_eq!(res.status(), 200);
    assert_eq!(until(1).await, 1);
    drop(stalled);

    // A shutdown while a client sits on a stalled stream ends once the write times out
    // (without the timeout it waits for ever: nothing polls the stream to see the shutdown).
    let stalled = stalled_request([127, 0, 0, 2], replay_all).await;
    assert_eq!(until(2).await, 2, "the second stalled stream is served");
    tokio::time::timeout(WAIT * 2, app.finish())
        .await
        .expect("the shutdown did not wait for the stalled client");
    drop((stalled, res));
}

/// A channel added with `since` to a subscription whose other channel has events not yet
/// sent: those come with the replay, merged in seq order, not after it (a client resuming
/// from the last seq it saw would have skipped them).
async fn a_channel_added_with_since_keeps_the_connection_in_seq_order(db: Db) {
    let app = TestApp::spawn(db).await;
    let ana = app.register("Ana").await;
    let (e, _) = app.thread(&ana, "europe", "Added", "europe opening").await;
    let (a, _) = app
        .thread(&ana, "africa", "Followed", "africa opening")
        .await;
    let live = &app.server.live;
    let viewer = hub_domain::Viewer::default();
    let africa = hub_live::Channel::authorize("region:africa", &viewer).expect("channel");
    let added = hub_live::Channel::authorize(&format!("thread:{e}"), &viewer).expect("channel");
    let mut sub = live.subscriber(viewer);
    let start = sub
        .subscribe(std::slice::from_ref(&africa), None)
        .await
        .expect("subscribe")
        .head();
    // Alternating: the added thread (replayed), the followed region (live, not yet sent).
    for i in 0..3 {
        app.reply(&ana, e, None, &format!("europe {i}")).await;
        app.reply(&ana, a, None, &format!("africa {i}")).await;
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    while live.head() < start + 6 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        live.head() >= start + 6,
        "the tailer handed the replies out"
    );
    let mut replay = sub
        .subscribe(&[added], Some(start))
        .await
        .expect("add a channel");
    let mut sent = Vec::new();
    loop {
        let page = replay.next_page().await.expect("page");
        if page.is_empty() {
            break;
        }
        sent.extend(page.iter().map(|f| (f.seq(), f.channel().to_string())));
    }
    let expected: Vec<(i64, String)> = (1..=6)
        .map(|k| {
            let chan = if k % 2 == 1 {
                format!("thread:{e}")
            } else {
                "region:africa".to_string()
            };
            (start + k, chan)
        })
        .collect();
    assert_eq!(sent, expected, "one replay, in seq order, both channels");
    // Nothing of them comes again live.
    let again = tokio::time::timeout(Duration::from_millis(300), sub.next()).await;
    assert!(
        again.is_err(),
        "no repeat: {:?}",
        again.ok().map(|r| r.map(|f| f.seq()))
    );
    drop(sub);
    app.finish().await;
}

/// A live connection is checked again every heartbeat: logging out ends it (opened with the
/// session's token or with a ticket from it), and a moderator whose role is revoked loses the
/// region's queue and its pending posts while the connection goes on.
async fn live_access_ends_with_the_session_and_follows_revoked_roles(db: Db) {
    use figment::providers::Serialized;
    let app = TestApp::spawn_with(db, |f| {
        f.merge(Serialized::default("live.heartbeat_secs", 1))
    })
    .await;
    let ana = app.register("Ana").await;
    let ben = app.register("Ben").await;
    let mo = app.register("Mo").await;
    let europe = hub_domain::Role {
        role: hub_domain::RoleKind::Moderator,
        region: Some("europe".into()),
    };
    app.server
        .store
        .grant_role(mo.id, &europe)
        .await
        .expect("grant");
    let (t, _) = app.thread(&ana, "europe", "Checked", "opening").await;
    let bearer = |u: &TestUser| format!("Bearer {}", u.token);

    // Ana by ticket, Ben by token: both log out, both connections end.
    let v = app
        .call(reqwest::Method::POST, "/ws/ticket")
        .by(&ana)
        .expect(201)
        .await;
    let ticket = v["ticket"].as_str().unwrap_or_default().to_string();
    let mut by_ticket = WsClient::connect(&app.ws_url(&format!("?ticket={ticket}")), &[])
        .await
        .expect("connect with the ticket");
    let mut by_token = WsClient::connect(&app.ws_url(""), &[("authorization", &bearer(&ben))])
        .await
        .expect("connect with the token");
    for ws in [&mut by_ticket, &mut by_token] {
        ws.subscribe(&["region:europe"], None).await;
    }
    for u in [&ana, &ben] {
        app.call(reqwest::Method::POST, "/auth/logout")
            .by(u)
            .expect(204)
            .await;
    }
    for (who, ws) in [("ticket", &mut by_ticket), ("token", &mut by_token)] {
        let mut told = None;
        let mut closed = None;
        let deadline = tokio::time::Instant::now() + WAIT;
        while closed.is_none() && tokio::time::Instant::now() < deadline {
            match ws.next_raw(Duration::from_millis(500)).await {
                Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t))) => {
                    let v: Value = serde_json::from_str(t.as_str()).unwrap_or_default();
                    if v["op"] == "error" {
                        told = v["code"].as_str().map(str::to_string);
                    }
                }
                Some(Ok(tokio_tungstenite::tungstenite::Message::Close(f))) => {
                    closed = Some(f.map(|f| u16::from(f.code)));
                }
                Some(Err(_)) => break,
                _ => {}
            }
        }
        assert_eq!(told.as_deref(), Some("unauthorized"), "{who}");
        assert_eq!(closed, Some(Some(1008)), "{who}: closed as a policy matter");
    }

    // The same over SSE: the stream ends with an `unauthorized` error.
    let eve = app.register("Eve").await;
    let mut sse = app
        .http
        .get(app.api("/events?channels=region:europe"))
        .bearer_auth(&eve.token)
        .send()
        .await
        .expect("sse");
    assert_eq!(sse.status().as_u16(), 200);
    let (s, _) = app
        .send(
            reqwest::Method::POST,
            "/auth/logout",
            Some(&eve.token),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let mut text = String::new();
    let mut ended = false;
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::time::Instant::now() < deadline {
        match tokio::time::timeout_at(deadline, sse.chunk()).await {
            Ok(Ok(Some(chunk))) => text.push_str(&String::from_utf8_lossy(&chunk)),
            Ok(Ok(None)) => {
                ended = true;
                break;
            }
            _ => break,
        }
    }
    assert!(ended, "the stream ended: {text}");
    assert!(text.contains("\"code\":\"unauthorized\""), "{text}");

    // Mo loses the role: the queue's channel goes, and so do pending posts on the region's.
    let mut as_mo = WsClient::connect(&app.ws_url(""), &[("authorization", &bearer(&mo))])
        .await
        .expect("connect");
    let chan = format!("thread:{t}");
    as_mo
        .subscribe(&["moderation:europe", "region:europe", &chan], None)
        .await;
    assert!(app
        .server
        .store
        .revoke_role(mo.id, &europe)
        .await
        .expect("revoke"));
    let mut refused = None;
    let deadline = tokio::time::Instant::now() + WAIT;
    while refused.is_none() && tokio::time::Instant::now() < deadline {
        if let Some(v) = as_mo.next_json(Duration::from_millis(500)).await {
            if v["op"] == "error" {
                refused = Some(v);
            }
        }
    }
    let refused = refused.unwrap_or_default();
    assert_eq!(refused["code"], "forbidden", "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .is_some_and(|m| m.contains("moderation:europe")),
        "{refused}"
    );
    let carol = app.register("Carol").await;
    let pending = hub_store::NewPost {
        author: author(&carol),
        parent_id: None,
        kind: hub_domain::PostKind::Comment,
        body: "held for review".into(),
        body_html: "<p>held for review</p>".into(),
        search_terms: String::new(),
        language: Some("en".into()),
        language_detected: false,
        objectives: vec![],
        aspects: vec![],
        status: hub_domain::PostStatus::Pending,
    };
    app.server
        .store
        .create_post(t, &pending, None)
        .await
        .expect("pending post");
    let dana = app.register("Dana").await;
    let public = app.reply(&dana, t, None, "for everyone").await;
    let got = as_mo.events(2, WAIT).await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(
        got.iter().all(|e| e["data"]["id"] == public["id"]),
        "only the public post, on the region and the thread: {got:?}"
    );
    assert!(
        as_mo.next_json(Duration::from_millis(300)).await.is_none(),
        "nothing of the pending post"
    );
    app.finish().await;
}

/// A thread whose opening post awaits pre-moderation, locked by a moderator: the update goes
/// to the author and the region's moderators, not to everyone (its title is not public); and
/// a published thread whose opening post is hidden later shows others no title when its
/// creation is replayed.
async fn a_withheld_thread_is_not_announced(db: Db) {
    let app = TestApp::spawn_premoderated(db, "europe").await;
    let ana = app.register("Ana").await;
    let mo = app.register("Mo").await;
    app.grant_moderator(mo.id, "europe").await;
    let title = "Jane Doe lives at 1 High Street";
    let (s, v) = app
        .post(
            "/regions/europe/threads",
            &ana.token,
            json!({"title": title, "body": "held", "kind": "comment"}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let t = v["id"].as_i64().unwrap_or_default();
    let mut anon = WsClient::connect(&app.ws_url(""), &[])
        .await
        .expect("connect");
    // Africa's channel too: a later event there is the fence that shows nothing came before.
    anon.subscribe(&["region:europe", "region:africa"], None)
        .await;
    let as_user = |u: &TestUser| {
        let (url, token) = (app.ws_url(""), format!("Bearer {}", u.token));
        async move {
            WsClient::connect(&url, &[("authorization", &token)])
                .await
                .expect("connect")
        }
    };
    let mut as_mo = as_user(&mo).await;
    let mut as_ana = as_user(&ana).await;
    for ws in [&mut as_mo, &mut as_ana] {
        ws.subscribe(&["region:europe"], None).await;
    }
    let (s, d) = app
        .post(
            &format!("/moderation/threads/{t}/decision"),
            &mo.token,
            json!({"action": "lock", "reason": "while under review"}),
        )
        .await;
    assert_eq!(s, 200, "{d}");
    for (who, ws) in [("moderator", &mut as_mo), ("author", &mut as_ana)] {
        let got = ws.events(1, WAIT).await;
        assert_eq!(
            got.first()
                .map(|e| (e["type"].clone(), e["data"]["title"].clone())),
            Some((json!("thread.updated"), json!(title))),
            "{who}"
        );
    }
    // A published thread whose opening post is hidden later: replayed, its creation shows no
    // title to others.
    app.grant_moderator(mo.id, "africa").await;
    let (t2, op2) = app
        .thread(&ana, "africa", "Call John Roe on 0700 900 123", "x")
        .await;
    // A reply published while the thread was public.
    let bo = app.register("Bo").await;
    let reply_text = "I met him at the Calais camp last week";
    let reply = app.reply(&bo, t2, None, reply_text).await;
    // Everyone's next event is that thread's creation: the lock before it never reached them.
    let first = anon.events(1, WAIT).await;
    assert_eq!(
        first
            .first()
            .map(|e| (e["channel"].clone(), e["type"].clone())),
        Some((json!("region:africa"), json!("thread.created"))),
        "the locked pending thread is not announced to everyone: {first:?}"
    );
    let (s, d) = app
        .post(
            &format!("/moderation/posts/{op2}/decision"),
            &mo.token,
            json!({"action": "hide", "reason": "personal data"}),
        )
        .await;
    assert_eq!(s, 200, "{d}");
    let mut late = WsClient::connect(&app.ws_url(""), &[])
        .await
        .expect("connect");
    let (replay, _) = late.subscribe(&[&format!("thread:{t2}")], Some(0)).await;
    assert!(
        replay.iter().any(|e| e["type"] == "thread.created"),
        "{replay:?}"
    );
    assert!(
        !replay.iter().any(|e| e.to_string().contains("John Roe")),
        "{replay:?}"
    );
    // The reply's creation is replayed as a tombstone to others: its thread is withheld now.
    let reply_created: Vec<&Value> = replay
        .iter()
        .filter(|e| e["type"] == "post.created" && e["data"]["id"] == reply["id"])
        .collect();
    assert_eq!(reply_created.len(), 1, "{replay:?}");
    assert_eq!(reply_created[0]["data"]["body"], Value::Null, "{replay:?}");
    assert!(
        !replay.iter().any(|e| e.to_string().contains(reply_text)),
        "{replay:?}"
    );
    // Its author still gets it in full.
    let mut as_bo = as_user(&bo).await;
    let (replay, _) = as_bo.subscribe(&[&format!("thread:{t2}")], Some(0)).await;
    assert!(
        replay
            .iter()
            .any(|e| e["type"] == "post.created" && e["data"]["body"] == reply_text),
        "{replay:?}"
    );
    app.finish().await;
}

/// A client that sends its whole list of channels again, without `since`, to add one still
/// gets the events of the channels it had that were handed to it but not yet sent.
async fn subscribing_again_without_since_keeps_what_was_not_sent(db: Db) {
    let app = TestApp::spawn(db).await;
    let ana = app.register("Ana").await;
    let (t, _) = app
        .thread(&ana, "europe", "Followed", "first opening")
        .await;
    let (other, _) = app
        .thread(&ana, "europe", "Added later", "second opening")
        .await;
    let live = &app.server.live;
    let viewer = hub_domain::Viewer::default();
    let region = hub_live::Channel::authorize("region:europe", &viewer).expect("channel");
    let added = hub_live::Channel::authorize(&format!("thread:{other}"), &viewer).expect("channel");
    let mut sub = live.subscriber(viewer);
    let replay = sub
        .subscribe(std::slice::from_ref(&region), None)
        .await
        .expect("subscribe");
    let start = replay.head();
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(app.reply(&ana, t, None, &format!("in flight {i}")).await["id"].clone());
    }
    // Handed to this subscription (in its channel's ring), not yet taken by it.
    let deadline = tokio::time::Instant::now() + WAIT;
    while live.head() < start + 3 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        live.head() >= start + 3,
        "the tailer handed the replies out"
    );
    let again = sub
        .subscribe(&[region.clone(), added], None)
        .await
        .expect("subscribe again");
    assert!(again.head() >= start + 3);
    let mut got = Vec::new();
    while got.len() < 3 {
        match tokio::time::timeout(WAIT, sub.next()).await {
            Ok(Ok(f)) => got.push(f),
            _ => break,
        }
    }
    let seen: Vec<i64> = got.iter().map(hub_live::Frame::seq).collect();
    assert_eq!(
        seen,
        (start + 1..=start + 3).collect::<Vec<_>>(),
        "none lost"
    );
    assert!(got.iter().all(|f| f.channel() == "region:europe"));
    for (f, id) in got.iter().zip(&ids) {
        let v: Value = serde_json::from_str(f.text().as_str()).expect("json");
        assert_eq!(&v["data"]["id"], id);
    }
    drop(sub);
    app.finish().await;
}

async fn pending_posts_and_private_channels_stay_private(db: Db) {
    let app = TestApp::spawn(db).await;
    let ana = app.register("Ana").await;
    let ben = app.register("Ben").await;
    let moderator = app.register("Mo").await;
    let other_mod = app.register("Oz").await;
    let store = &app.server.store;
    let role = |r: &str| hub_domain::Role {
        role: hub_domain::RoleKind::Moderator,
        region: Some(r.into()),
    };
    store
        .grant_role(moderator.id, &role("europe"))
        .await
        .expect("grant");
    store
        .grant_role(other_mod.id, &role("africa"))
        .await
        .expect("grant");
    let (t, _) = app.thread(&ana, "europe", "Visibility", "opening").await;

    let connect = |u: &TestUser| {
        let url = app.ws_url("");
        let token = u.token.clone();
        async move {
            WsClient::connect(&url, &[("authorization", &format!("Bearer {token}"))])
                .await
                .expect("connect")
        }
    };
    let mut as_ana = connect(&ana).await;
    let mut as_ben = connect(&ben).await;
    let mut as_mod = connect(&moderator).await;
    let mut as_other_mod = connect(&other_mod).await;
    let mut anon = WsClient::connect(&app.ws_url(""), &[])
        .await
        .expect("connect");
    let chan = format!("thread:{t}");
    for c in [
        &mut as_ana,
        &mut as_ben,
        &mut as_mod,
        &mut as_other_mod,
        &mut anon,
    ] {
        c.subscribe(&[&chan, "region:europe"], None).await;
    }

    // A pending post (pre-moderation): only its author and Europe's moderators get it.
    let pending = hub_store::NewPost {
        author: author(&ana),
        parent_id: None,
        kind: hub_domain::PostKind::Comment,
        body: "awaiting review".into(),
        body_html: "<p>awaiting review</p>".into(),
        search_terms: String::new(),
        language: Some("en".into()),
        language_detected: false,
        objectives: vec![],
        aspects: vec![],
        status: hub_domain::PostStatus::Pending,
    };
    store
        .create_post(t, &pending, None)
        .await
        .expect("pending post");
    // Then a public one, so everyone has something to wait for.
    let public = app.reply(&ben, t, None, "public reply").await;

    let got_ana = as_ana.events(4, WAIT).await;
    let got_mod = as_mod.events(4, WAIT).await;
    assert!(
        got_ana
            .iter()
            .any(|e| e["data"]["body"] == "awaiting review"),
        "the author sees it"
    );
    assert!(
        got_mod
            .iter()
            .any(|e| e["data"]["body"] == "awaiting review"),
        "the region's moderator sees it"
    );
    for (who, c) in [
        ("ben", &mut as_ben),
        ("africa's moderator", &mut as_other_mod),
        ("anonymous", &mut anon),
    ] {
        let got = c.events(2, WAIT).await;
        assert_eq!(got.len(), 2, "{who}: the public post on two channels");
        assert!(
            got.iter().all(|e| e["data"]["id"] == public["id"]),
            "{who} got {got:?}"
        );
        assert!(
            c.next_json(Duration::from_millis(300)).await.is_none(),
            "{who}: nothing else"
        );
    }
    // Resuming from 0 does not leak it either.
    let mut late = connect(&ben).await;
    let (replay, _) = late.subscribe(&[&chan], Some(0)).await;
    assert!(
        replay
            .iter()
            .all(|e| e["data"]["body"] != "awaiting review"),
        "{replay:?}"
    );

    // Private channels.
    as_ben.send(json!({"op": "subscribe", "channels": ["moderation:europe", format!("user:{}", ana.id)]})).await;
    let e1 = as_ben.next_json(WAIT).await.unwrap_or_default();
    let e2 = as_ben.next_json(WAIT).await.unwrap_or_default();
    assert_eq!(
        (e1["op"].as_str(), e1["code"].as_str()),
        (Some("error"), Some("forbidden"))
    );
    assert_eq!(
        (e2["op"].as_str(), e2["code"].as_str()),
        (Some("error"), Some("forbidden"))
    );
    as_other_mod
        .send(json!({"op": "subscribe", "channels": ["moderation:europe"]}))
        .await;
    let e = as_other_mod.next_json(WAIT).await.unwrap_or_default();
    assert_eq!(
        e["code"], "forbidden",
        "a moderator of Africa cannot read Europe's queue"
    );
    let (_, _) = as_mod.subscribe(&["moderation:europe"], None).await;
    let (_, _) = as_ben.subscribe(&[&format!("user:{}", ben.id)], None).await;
    app.finish().await;
}

async fn foreign_origin_reused_ticket_and_oversize_frame_are_refused(db: Db) {
    let app = TestApp::spawn(db).await;
    let ana = app.register("Ana").await;
    // A foreign browser origin.
    let refused = WsClient::connect(&app.ws_url(""), &[("origin", "https://evil.example")]).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => assert_eq!(res.status(), 403),
        other => panic!("foreign origin was not refused: {:?}", other.err()),
    }
    // The hub's own origin passes.
    let own = format!("http://{}", app.server.addr);
    assert!(WsClient::connect(&app.ws_url(""), &[("origin", &own)])
        .await
        .is_ok());

    // A ticket works once.
    let v = app
        .call(reqwest::Method::POST, "/ws/ticket")
        .by(&ana)
        .expect(201)
        .await;
    let ticket = v["ticket"].as_str().unwrap_or_default().to_string();
    let mut ws = WsClient::connect(&app.ws_url(&format!("?ticket={ticket}")), &[])
        .await
        .expect("first use");
    ws.subscribe(&[&format!("user:{}", ana.id)], None).await;
    match WsClient::connect(&app.ws_url(&format!("?ticket={ticket}")), &[]).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => assert_eq!(res.status(), 401),
        other => panic!("a reused ticket was accepted: {:?}", other.err()),
    }
    match WsClient::connect(&app.ws_url("?ticket=hub_forged"), &[]).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => assert_eq!(res.status(), 401),
        other => panic!("a forged ticket was accepted: {:?}", other.err()),
    }
    app.call(reqwest::Method::POST, "/ws/ticket")
        .expect(401)
        .await;

    // A frame over the limit (16 KiB) closes the connection.
    let mut big = WsClient::connect(&app.ws_url(""), &[])
        .await
        .expect("connect");
    let _ = big
        .send_text(format!(
            "{{\"op\":\"ping\",\"pad\":\"{}\"}}",
            "x".repeat(64 * 1024)
        ))
        .await;
    let mut closed = false;
    for _ in 0..5 {
        match big.next_raw(WAIT).await {
            None | Some(Err(_)) | Some(Ok(tokio_tungstenite::tungstenite::Message::Close(_))) => {
                closed = true;
                break;
            }
            Some(Ok(_)) => {}
        }
    }
    assert!(closed, "oversize frame did not close the connection");
    app.finish().await;
}

async fn server_sent_events_carry_the_same_events_and_resume(db: Db) {
    let app = TestApp::spawn(db).await;
    let ana = app.register("Ana").await;
    let (t, _) = app
        .thread(&ana, "latin-america-caribbean", "SSE", "opening")
        .await;
    let first = app.reply(&ana, t, None, "one").await;
    let _second = app.reply(&ana, t, None, "two").await;
    // Resume after the first reply's event with Last-Event-ID.
    let log = app.server.store.events_after(0, 100).await.expect("log");
    let first_seq = log
        .iter()
        .find(|e| e.post_id == first["id"].as_i64() && e.kind == "post.created")
        .map(|e| e.seq)
        .unwrap_or_default();
    let res = app
        .http
        .get(app.api(&format!("/events?channels=thread:{t}")))
        .header("last-event-id", first_seq.to_string())
        .send()
        .await
        .expect("sse");
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    let mut res = res;
    let third = app.reply(&ana, t, None, "three").await;
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    while text.matches("id: ").count() < 2 {
        match tokio::time::timeout_at(deadline, res.chunk()).await {
            Ok(Ok(Some(chunk))) => text.push_str(&String::from_utf8_lossy(&chunk)),
            _ => break,
        }
    }
    let ids: Vec<i64> = text
        .lines()
        .filter_map(|l| l.strip_prefix("id: "))
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    assert_eq!(ids.len(), 2, "{text}");
    assert!(ids[0] > first_seq && ids[0] < ids[1]);
    assert!(text.contains("event: post.created"));
    assert!(
        text.contains("\"two\"") && text.contains(&format!("\"id\":{}", third["id"])),
        "{text}"
    );
    assert!(
        !text.contains("\"one\""),
        "the event before Last-Event-ID is not repeated"
    );
    // Refusals are problem+json.
    app.call(Method::GET, "/events?channels=moderation:europe")
        .expect(403)
        .await;
    app.call(Method::GET, "/events?channels=nonsense")
        .expect(422)
        .await;
    app.call(Method::GET, "/events").expect(422).await;
    app.finish().await;
}

async fn protocol_errors_and_ping(db: Db) {
    // Five messages a second (bursts of ten): the six before the flood pass, and a flood of a
    // hundred is limited however slowly a loaded machine reads it (it would have to take
    // eighteen seconds to stay under the limit).
    use figment::providers::Serialized;
    let app = TestApp::spawn_with(db, |f| {
        f.merge(Serialized::default("live.messages_per_second", 5))
    })
    .await;
    let mut ws = WsClient::connect(&app.ws_url(""), &[])
        .await
        .expect("connect");
    ws.send(json!({"op": "ping"})).await;
    assert_eq!(ws.next_json(WAIT).await.unwrap_or_default()["op"], "pong");
    ws.send(json!({"op": "dance"})).await;
    let e = ws.next_json(WAIT).await.unwrap_or_default();
    assert_eq!(
        (e["op"].as_str(), e["code"].as_str()),
        (Some("error"), Some("bad_request"))
    );
    let _ = ws.send_text("not json".into()).await;
    assert_eq!(
        ws.next_json(WAIT).await.unwrap_or_default()["code"],
        "bad_request"
    );
    ws.send(json!({"op": "subscribe", "channels": ["region:atlantis", "thread:abc"]}))
        .await;
    assert_eq!(
        ws.next_json(WAIT).await.unwrap_or_default()["code"],
        "bad_request"
    );
    assert_eq!(
        ws.next_json(WAIT).await.unwrap_or_default()["code"],
        "bad_request"
    );
    // Still usable after errors.
    let (_, head) = ws.subscribe(&["region:africa"], None).await;
    assert!(head >= 0);
    ws.send(json!({"op": "unsubscribe", "channels": ["region:africa"]}))
        .await;
    assert_eq!(
        ws.next_json(WAIT).await.unwrap_or_default()["op"],
        "unsubscribed"
    );
    // Flooding is rate limited, not fatal.
    for _ in 0..100 {
        let _ = ws.send_text("{\"op\":\"ping\"}".into()).await;
    }
    let mut limited = false;
    for _ in 0..100 {
        match ws.next_json(Duration::from_secs(2)).await {
            Some(v) if v["code"] == "rate_limited" => {
                limited = true;
                break;
            }
            Some(_) => {}
            None => break,
        }
    }
    assert!(
        limited,
        "100 messages at once hit the per-connection rate limit"
    );
    app.finish().await;
}

async fn a_subscriber_that_falls_behind_is_told_too_slow_and_closed(db: Db) {
    use figment::providers::Serialized;
    let app = TestApp::spawn_with(db, |f| {
        f.merge(Serialized::default("live.queue_capacity", 16))
    })
    .await;
    let ana = app.register("Ana").await;
    let (t, _) = app.thread(&ana, "europe", "Firehose", "opening").await;
    let mut slow = WsClient::connect(&app.ws_url(""), &[])
        .await
        .expect("connect");
    slow.subscribe(&[&format!("thread:{t}")], None).await;
    // A reader that keeps up, for comparison.
    let mut fast = WsClient::connect(&app.ws_url(""), &[])
        .await
        .expect("connect");
    fast.subscribe(&[&format!("thread:{t}")], None).await;
    let fast_reader =
        tokio::spawn(async move { fast.events(300, Duration::from_secs(60)).await.len() });
    // The slow one reads nothing while 300 posts of ~12 KB go out: socket buffers fill, the
    // server's writer waits, its queue of 16 fills, and the fan-out gives up on it.
    let body = "Long report paragraph on labour migration corridors. ".repeat(230);
    for i in 0..300 {
        app.reply(&ana, t, None, &format!("{i} {body}")).await;
    }
    let mut saw_too_slow = false;
    let mut closed = false;
    for _ in 0..2000 {
        match slow.next_raw(Duration::from_secs(10)).await {
            Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t))) => {
                let v: Value = serde_json::from_str(t.as_str()).unwrap_or_default();
                if v["code"] == "too_slow" {
                    saw_too_slow = true;
                }
            }
            Some(Ok(tokio_tungstenite::tungstenite::Message::Close(frame))) => {
                assert_eq!(frame.map(|f| u16::from(f.code)), Some(1008));
                closed = true;
                break;
            }
            Some(Ok(_)) => {}
            None | Some(Err(_)) => break,
        }
    }
    assert!(
        saw_too_slow && closed,
        "too_slow: {saw_too_slow}, closed: {closed}"
    );
    assert_eq!(
        fast_reader.await.expect("fast reader"),
        300,
        "a reader that keeps up gets everything"
    );
    app.finish().await;
}

async fn shutdown_closes_live_connections_with_1001(db: Db) {
    let app = TestApp::spawn(db).await;
    let mut ws = WsClient::connect(&app.ws_url(""), &[])
        .await
        .expect("connect");
    ws.subscribe(&["region:africa"], None).await;
    let finishing = tokio::spawn(app.finish());
    let mut code = None;
    for _ in 0..10 {
        match ws.next_raw(WAIT).await {
            Some(Ok(tokio_tungstenite::tungstenite::Message::Close(frame))) => {
                code = frame.map(|f| u16::from(f.code));
                break;
            }
            Some(Ok(_)) => {}
            _ => break,
        }
    }
    assert_eq!(code, Some(1001));
    finishing.await.expect("shutdown");
}

async fn live_connections_per_address_are_capped(db: Db) {
    use figment::providers::Serialized;
    let app = TestApp::spawn_with(db, |f| {
        f.merge(Serialized::default("live.connections_per_ip", 3))
    })
    .await;
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(
            WsClient::connect(&app.ws_url(""), &[])
                .await
                .expect("within the cap"),
        );
    }
    match WsClient::connect(&app.ws_url(""), &[]).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => assert_eq!(res.status(), 429),
        other => panic!("a fourth connection was accepted: {:?}", other.err()),
    }
    // Closing one frees its slot.
    if let Some(c) = open.pop() {
        c.close().await;
    }
    let mut ok = false;
    for _ in 0..50 {
        if WsClient::connect(&app.ws_url(""), &[]).await.is_ok() {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ok, "a freed slot can be used again");
    app.finish().await;
}
