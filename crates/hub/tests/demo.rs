use hub_domain::*;
use hub_store::*;
use std::time::Instant;

#[tokio::test]
async fn bench() {
    use sqlx::Connection;
    let name = format!("hub_t_bench{}", std::process::id());
    let mut c = sqlx::PgConnection::connect("postgres://postgres@127.0.0.1:5432/postgres")
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut c)
        .await
        .unwrap();
    let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
    let store = Store::connect(&url, &Default::default()).await.unwrap();
    store.migrate().await.unwrap();
    let t = Instant::now();
    let mut users = vec![];
    for i in 0..200 {
        users.push(
            store
                .create_user(&NewUser {
                    email: format!("u{i}@example.org"),
                    password_hash: "!".into(),
                    display_name: format!("U {i}"),
                    organisation: None,
                    stakeholder_group: StakeholderGroup::Other,
                    country: None,
                    language: None,
                    attribution: false,
                })
                .await
                .unwrap(),
        );
    }
    println!("200 users {:?}", t.elapsed());
    let t = Instant::now();
    for i in 0..50 {
        let _ = hub_api::auth::hash_password("demo password 123", 1024, 1).unwrap();
        let _ = i;
    }
    println!("50 hashes {:?}", t.elapsed());
    let a = AuthorRef {
        id: users[0].id,
        display_name: "x".into(),
        organisation: None,
        stakeholder_group: StakeholderGroup::Other,
        country: None,
    };
    let np = NewPost {
        author: a,
        parent_id: None,
        kind: PostKind::Comment,
        body: "hello".into(),
        body_html: "<p>hello</p>".into(),
        search_terms: "hello".into(),
        language: None,
        language_detected: false,
        objectives: vec![],
        aspects: vec![],
        status: PostStatus::Published,
    };
    let Created::New((th, _)) = store
        .create_thread(
            &NewThread {
                region: "europe".into(),
                title: "T".into(),
                opening: np.clone(),
            },
            None,
        )
        .await
        .unwrap()
    else {
        panic!()
    };
    let t = Instant::now();
    let mut posts = vec![];
    for _ in 0..200 {
        let Created::New(p) = store.create_post(th.id, &np, None).await.unwrap() else {
            panic!()
        };
        posts.push(p.id);
    }
    println!("200 posts {:?}", t.elapsed());
    let t = Instant::now();
    for p in &posts[..20] {
        for u in &users[1..] {
            store.endorse(*p, u.id).await.unwrap();
        }
    }
    println!("{} endorsements {:?}", 20 * 199, t.elapsed());
    let t = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for p in posts[20..40].to_vec() {
        for u in users[1..].to_vec() {
            let s = store.clone();
            set.spawn(async move {
                s.endorse(p, u.id).await.unwrap();
            });
            if set.len() >= 8 {
                set.join_next().await;
            }
        }
    }
    while set.join_next().await.is_some() {}
    println!("{} endorsements concurrent {:?}", 20 * 199, t.elapsed());
    store.close().await;
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut c)
        .await
        .unwrap();
}
