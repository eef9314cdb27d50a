//! A small HTTP client of the hub's v1 API: the calls the benches make.

use crate::text::Body;
use anyhow::{bail, Context};
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;

/// Which texts a thread read asks for (`?body=`; `both` sends nothing, the default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum BodyParam {
    /// Markdown and HTML (the API's default).
    Both,
    /// HTML only.
    Html,
    /// Markdown only.
    Markdown,
}

impl BodyParam {
    /// The query value, if any.
    pub fn query(self) -> Option<&'static str> {
        match self {
            BodyParam::Both => None,
            BodyParam::Html => Some("html"),
            BodyParam::Markdown => Some("markdown"),
        }
    }

    /// What the store reads for it.
    pub fn bodies(self) -> hub_store::Bodies {
        match self {
            BodyParam::Both => hub_store::Bodies::Both,
            BodyParam::Html => hub_store::Bodies::Html,
            BodyParam::Markdown => hub_store::Bodies::Markdown,
        }
    }
}

/// One HTTP client (keep-alive pool) and the hub's base URL.
#[derive(Clone)]
pub struct Api {
    client: reqwest::Client,
    base: String,
}

/// A post as the benches need it.
#[derive(Debug, Clone, Deserialize)]
pub struct PostLite {
    /// Id.
    pub id: i64,
    /// Parent.
    pub parent_id: Option<i64>,
    /// Depth.
    pub depth: i64,
}

/// A page of posts.
#[derive(Debug, Deserialize)]
pub struct PostPage {
    /// Posts.
    pub items: Vec<PostLite>,
    /// Next page.
    pub next_cursor: Option<String>,
}

#[derive(Deserialize)]
struct Session {
    token: String,
    user: UserLite,
}

#[derive(Deserialize)]
struct UserLite {
    id: i64,
}

#[derive(Deserialize)]
struct ThreadCreated {
    id: i64,
    opening_post: PostLite,
}

/// Reads a response: the body when the status is `expected`, else an error with the problem.
async fn expect(res: reqwest::Response, expected: u16, what: &str) -> anyhow::Result<Vec<u8>> {
    let status = res.status().as_u16();
    let bytes = res
        .bytes()
        .await
        .with_context(|| format!("{what}: reading the response"))?;
    if status != expected {
        let text = String::from_utf8_lossy(&bytes);
        bail!(
            "{what}: HTTP {status}: {}",
            text.chars().take(300).collect::<String>()
        );
    }
    Ok(bytes.to_vec())
}

impl Api {
    /// A client of the hub at `addr`.
    pub fn new(addr: std::net::SocketAddr) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Self {
            client,
            base: format!("http://{addr}/api/v1"),
        })
    }

    /// Registers user number `i`; returns its token and id.
    pub async fn register(&self, i: usize) -> anyhow::Result<(String, i64)> {
        const GROUPS: &[&str] = &[
            "migrant_org",
            "civil_society",
            "trade_union",
            "academia",
            "local_authority",
            "diaspora_org",
        ];
        const COUNTRIES: &[&str] = &["KE", "MA", "PH", "DE", "MX", "JO", "SN", "BD"];
        let body = json!({
            "email": format!("bench-writer-{i}@example.org"),
            "password": "correct horse battery staple",
            "display_name": format!("Bench writer {i}"),
            "organisation": format!("Migrant Rights Network {}", i % 7),
            "stakeholder_group": GROUPS[i % GROUPS.len()],
            "country": COUNTRIES[i % COUNTRIES.len()],
            "language": "en",
        });
        let res = self
            .client
            .post(format!("{}/auth/register", self.base))
            .json(&body)
            .send()
            .await
            .context("register")?;
        let bytes = expect(res, 201, "register").await?;
        let s: Session = serde_json::from_slice(&bytes).context("register: response")?;
        Ok((s.token, s.user.id))
    }

    /// Opens a thread; returns its id and opening post.
    pub async fn create_thread(
        &self,
        token: &str,
        region: &str,
        title: &str,
        b: &Body,
    ) -> anyhow::Result<(i64, PostLite)> {
        let body = json!({
            "title": title,
            "body": b.markdown,
            "kind": b.kind,
            "objectives": b.objectives,
            "aspects": b.aspects,
            "language": b.declared,
        });
        let res = self
            .client
            .post(format!("{}/regions/{region}/threads", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .context("create thread")?;
        let bytes = expect(res, 201, "create thread").await?;
        let t: ThreadCreated = serde_json::from_slice(&bytes).context("create thread: response")?;
        Ok((t.id, t.opening_post))
    }

    /// Posts a reply (or a top-level post when `parent` is `None`). `n` makes the text
    /// unique (the hub refuses the same text from the same author within minutes).
    pub async fn create_post(
        &self,
        token: &str,
        thread_id: i64,
        parent: Option<i64>,
        b: &Body,
        n: u64,
    ) -> anyhow::Result<PostLite> {
        let body = json!({
            "body": format!("{}\n\n_Ref. {n}_", b.markdown),
            "parent_id": parent,
            "kind": b.kind,
            "objectives": b.objectives,
            "aspects": b.aspects,
            "language": b.declared,
        });
        let res = self
            .client
            .post(format!("{}/threads/{thread_id}/posts", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .context("create post")?;
        let bytes = expect(res, 201, "create post").await?;
        serde_json::from_slice(&bytes).context("create post: response")
    }

    /// The size in bytes of the first page of a thread's posts, as sent (no compression).
    pub async fn page_bytes(
        &self,
        thread_id: i64,
        limit: u32,
        body: BodyParam,
    ) -> anyhow::Result<usize> {
        let mut req = self
            .client
            .get(format!("{}/threads/{thread_id}/posts", self.base))
            .query(&[("limit", limit.to_string())]);
        if let Some(b) = body.query() {
            req = req.query(&[("body", b)]);
        }
        let res = req.send().await.context("list posts")?;
        Ok(expect(res, 200, "list posts").await?.len())
    }

    /// One page of a thread's posts.
    pub async fn thread_posts(
        &self,
        thread_id: i64,
        limit: u32,
        cursor: Option<&str>,
        body: BodyParam,
    ) -> anyhow::Result<PostPage> {
        let mut req = self
            .client
            .get(format!("{}/threads/{thread_id}/posts", self.base))
            .query(&[("limit", limit.to_string())]);
        if let Some(b) = body.query() {
            req = req.query(&[("body", b)]);
        }
        if let Some(c) = cursor {
            req = req.query(&[("cursor", c)]);
        }
        let res = req.send().await.context("list posts")?;
        let bytes = expect(res, 200, "list posts").await?;
        serde_json::from_slice(&bytes).context("list posts: response")
    }
}
