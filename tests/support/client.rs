//! A typed test client and fixture builders.
//!
//! Each call names the status it expects and returns the body, typed when asked:
//!
//! ```ignore
//! let post: Value = app.call(Method::POST, "/posts/7/flags").by(&ben)
//!     .json(json!({"reason": "spam"})).expect(201).await;
//! let thread = a_thread().in_region("africa").by(&ana).create(&app).await;
//! ```
//!
//! A wrong status fails the test with the method, the path and the body that came back.

use crate::{assert_problem, TestApp, TestUser};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

/// One request being built; send it with [`Call::expect`], [`Call::expect_as`],
/// [`Call::expect_problem`] or [`Call::send`].
#[must_use = "a call does nothing until it is sent"]
pub struct Call<'a> {
    app: &'a TestApp,
    method: Method,
    path: String,
    token: Option<String>,
    body: Option<Value>,
    headers: Vec<(String, String)>,
}

impl TestApp {
    /// A request to `/api/v1` + `path`.
    pub fn call(&self, method: Method, path: impl Into<String>) -> Call<'_> {
        Call {
            app: self,
            method,
            path: path.into(),
            token: None,
            body: None,
            headers: Vec::new(),
        }
    }
}

impl Call<'_> {
    /// Signed in as `user`.
    pub fn by(self, user: &TestUser) -> Self {
        self.token(&user.token)
    }

    /// With this bearer token.
    pub fn token(self, token: &str) -> Self {
        self.token_opt(Some(token))
    }

    /// With this bearer token, or anonymous.
    pub fn token_opt(mut self, token: Option<&str>) -> Self {
        self.token = token.map(str::to_string);
        self
    }

    /// With this JSON body.
    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// With this header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Sends it; returns the status and the JSON body (Null when the body is not JSON).
    pub async fn send(self) -> (u16, Value) {
        let mut req = self
            .app
            .http
            .request(self.method.clone(), self.app.api(&self.path));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        for (k, v) in &self.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        if let Some(b) = &self.body {
            req = req.json(b);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let text = res.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Sends it, asserts the status, returns the body.
    pub async fn expect(self, status: u16) -> Value {
        let what = format!("{} {}", self.method, self.path);
        let (got, body) = self.send().await;
        assert_eq!(got, status, "{what}: {body}");
        body
    }

    /// Sends it, asserts the status, returns the body as a `T`.
    pub async fn expect_as<T: DeserializeOwned>(self, status: u16) -> T {
        let what = format!("{} {}", self.method, self.path);
        let body = self.expect(status).await;
        serde_json::from_value(body.clone())
            .unwrap_or_else(|e| panic!("{what}: the body does not read as expected ({e}): {body}"))
    }

    /// Sends it, asserts a problem+json answer with this status, returns the problem.
    pub async fn expect_problem(self, status: u16) -> Value {
        let what = format!("{} {}", self.method, self.path);
        let (got, body) = self.send().await;
        assert_problem(got, &body, status, &what);
        body
    }
}

/// A thread, as [`ThreadBuilder::create`] made it.
#[derive(Debug, Clone)]
pub struct Thread {
    /// The thread's id.
    pub id: i64,
    /// Its opening post's id.
    pub opening_post: i64,
    /// The whole answer.
    pub body: Value,
}

/// Builds a thread: `a_thread().in_region("africa").by(&ana).create(&app)`.
pub fn a_thread<'u>() -> ThreadBuilder<'u> {
    ThreadBuilder {
        region: "europe".into(),
        title: "A thread".into(),
        body: "An opening post.".into(),
        kind: "comment".into(),
        objectives: vec![6, 16],
        by: None,
    }
}

/// See [`a_thread`].
#[must_use = "a builder does nothing until `create`"]
pub struct ThreadBuilder<'u> {
    region: String,
    title: String,
    body: String,
    kind: String,
    objectives: Vec<u8>,
    by: Option<&'u TestUser>,
}

impl<'u> ThreadBuilder<'u> {
    /// In this region (default `europe`).
    pub fn in_region(mut self, region: &str) -> Self {
        self.region = region.into();
        self
    }

    /// With this title.
    pub fn titled(mut self, title: &str) -> Self {
        self.title = title.into();
        self
    }

    /// Its opening post says this.
    pub fn saying(mut self, body: &str) -> Self {
        self.body = body.into();
        self
    }

    /// Of this kind (default `comment`).
    pub fn of_kind(mut self, kind: &str) -> Self {
        self.kind = kind.into();
        self
    }

    /// On these objectives (default 6 and 16).
    pub fn on_objectives(mut self, objectives: &[u8]) -> Self {
        self.objectives = objectives.to_vec();
        self
    }

    /// Opened by `user` (default: a newly registered stakeholder).
    pub fn by(mut self, user: &'u TestUser) -> Self {
        self.by = Some(user);
        self
    }

    /// Opens it; asserts 201.
    pub async fn create(self, app: &TestApp) -> Thread {
        let registered;
        let user = match self.by {
            Some(u) => u,
            None => {
                registered = app.register("Author").await;
                &registered
            }
        };
        let body = app
            .call(Method::POST, format!("/regions/{}/threads", self.region))
            .by(user)
            .json(json!({
                "title": self.title, "body": self.body, "kind": self.kind,
                "objectives": self.objectives,
            }))
            .expect(201)
            .await;
        Thread {
            id: body["id"].as_i64().expect("thread id"),
            opening_post: body["opening_post"]["id"].as_i64().expect("post id"),
            body,
        }
    }
}

/// Builds a reply: `a_reply().in_thread(t).to(post).by(&ben).create(&app)`.
pub fn a_reply<'u>() -> ReplyBuilder<'u> {
    ReplyBuilder {
        thread: None,
        parent: None,
        body: "A reply.".into(),
        kind: "comment".into(),
        by: None,
    }
}

/// See [`a_reply`].
#[must_use = "a builder does nothing until `create`"]
pub struct ReplyBuilder<'u> {
    thread: Option<i64>,
    parent: Option<i64>,
    body: String,
    kind: String,
    by: Option<&'u TestUser>,
}

impl<'u> ReplyBuilder<'u> {
    /// In this thread (required).
    pub fn in_thread(mut self, thread: i64) -> Self {
        self.thread = Some(thread);
        self
    }

    /// Under this post (default: top level).
    pub fn to(mut self, parent: i64) -> Self {
        self.parent = Some(parent);
        self
    }

    /// Saying this.
    pub fn saying(mut self, body: &str) -> Self {
        self.body = body.into();
        self
    }

    /// Of this kind (default `comment`).
    pub fn of_kind(mut self, kind: &str) -> Self {
        self.kind = kind.into();
        self
    }

    /// Written by `user` (default: a newly registered stakeholder).
    pub fn by(mut self, user: &'u TestUser) -> Self {
        self.by = Some(user);
        self
    }

    /// Posts it; asserts 201 and returns the post.
    pub async fn create(self, app: &TestApp) -> Value {
        let thread = self.thread.expect("a_reply() needs .in_thread(id)");
        let registered;
        let user = match self.by {
            Some(u) => u,
            None => {
                registered = app.register("Replier").await;
                &registered
            }
        };
        app.call(Method::POST, format!("/threads/{thread}/posts"))
            .by(user)
            .json(json!({"body": self.body, "kind": self.kind, "parent_id": self.parent}))
            .expect(201)
            .await
    }
}
