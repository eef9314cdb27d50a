//! Accounts, roles and sessions.

use crate::{from_micros, now_micros, Backend, Result, Store, StoreError, WriteTx};
use hub_domain::{Role, RoleKind, StakeholderGroup, Suspension, User};
use sqlx::any::AnyRow;
use sqlx::Row;

// The statements this module sends, by name: a test prepares each on both backends.
pub(crate) const STATEMENTS: &[(&str, &str)] = &[
    (
        "users::CREATE_USER_STAKEHOLDER_ROLE",
        CREATE_USER_STAKEHOLDER_ROLE,
    ),
    ("users::ROLES_SELECT", ROLES_SELECT),
    ("users::GRANT_ROLE_IN_INSERT", GRANT_ROLE_IN_INSERT),
    ("users::REVOKE_ROLE_IN_DELETE", REVOKE_ROLE_IN_DELETE),
    ("users::CREATE_SESSION_DELETE", CREATE_SESSION_DELETE),
    ("users::CREATE_SESSION_INSERT", CREATE_SESSION_INSERT),
    ("users::DELETE_SESSION_DELETE", DELETE_SESSION_DELETE),
    ("users::DELETE_SESSION_DELETE_2", DELETE_SESSION_DELETE_2),
    ("users::CREATE_WS_TICKET_DELETE", CREATE_WS_TICKET_DELETE),
    ("users::CREATE_WS_TICKET_INSERT", CREATE_WS_TICKET_INSERT),
    ("users::CONSUME_WS_TICKET_DELETE", CONSUME_WS_TICKET_DELETE),
    ("users::CONSUME_WS_TICKET_SELECT", CONSUME_WS_TICKET_SELECT),
];

const CREATE_USER_STAKEHOLDER_ROLE: &str =
    "INSERT INTO user_roles (user_id, role, region, granted_at) VALUES ($1, $2, '', $3)";
const ROLES_SELECT: &str =
    "SELECT role, region FROM user_roles WHERE user_id = $1 ORDER BY role, region";
const GRANT_ROLE_IN_INSERT: &str =
    "INSERT INTO user_roles (user_id, role, region, granted_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, role, region) DO NOTHING";
const REVOKE_ROLE_IN_DELETE: &str =
    "DELETE FROM user_roles WHERE user_id = $1 AND role = $2 AND region = $3";
const CREATE_SESSION_DELETE: &str = "DELETE FROM sessions WHERE user_id = $1 AND expires_at < $2";
const CREATE_SESSION_INSERT: &str =
    "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)";
const DELETE_SESSION_DELETE: &str = "DELETE FROM sessions WHERE token_hash = $1";
const DELETE_SESSION_DELETE_2: &str = "DELETE FROM ws_tickets WHERE session_hash = $1";
const CREATE_WS_TICKET_DELETE: &str = "DELETE FROM ws_tickets WHERE expires_at < $1";
const CREATE_WS_TICKET_INSERT: &str =
    "INSERT INTO ws_tickets (ticket_hash, user_id, expires_at, session_hash) \
             VALUES ($1, $2, $3, $4)";
const CONSUME_WS_TICKET_DELETE: &str = "DELETE FROM ws_tickets WHERE ticket_hash = $1 \
             RETURNING CASE WHEN expires_at > $2 THEN user_id ELSE NULL END AS user_id, session_hash";
const CONSUME_WS_TICKET_SELECT: &str =
    "SELECT user_id FROM sessions WHERE token_hash = $1 AND expires_at > $2";

/// A new account, validated.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Lower-cased e-mail.
    pub email: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Display name.
    pub display_name: String,
    /// Organisation.
    pub organisation: Option<String>,
    /// Stakeholder group.
    pub stakeholder_group: StakeholderGroup,
    /// Country (ISO 3166-1 alpha-2).
    pub country: Option<String>,
    /// Preferred language.
    pub language: Option<String>,
    /// May analysis documents name the organisation.
    pub attribution: bool,
}

const USER_COLUMNS: &str = "id, email, display_name, organisation, stakeholder_group, country, \
                            language, attribution, created_at";

// Statements formatted once, from the column list.
static CREATE_USER: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "INSERT INTO users (email, password_hash, display_name, organisation, \
         stakeholder_group, country, language, attribution, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {USER_COLUMNS}"
    )
});
static USER_BY_ID: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"));
static USER_BY_EMAIL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = $1")
});

fn user_row(row: &AnyRow, roles: Vec<Role>) -> std::result::Result<User, sqlx::Error> {
    let group: String = row.try_get("stakeholder_group")?;
    Ok(User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        display_name: row.try_get("display_name")?,
        organisation: row.try_get("organisation")?,
        stakeholder_group: StakeholderGroup::parse(&group)
            .ok_or_else(|| crate::rows::decode_err("stakeholder_group", &group))?,
        country: row.try_get("country")?,
        language: row.try_get("language")?,
        attribution: row.try_get::<i64, _>("attribution")? != 0,
        roles,
        created_at: from_micros(row.try_get("created_at")?),
    })
}

/// A live session's user with their roles (`role:region`, comma-separated) and active
/// suspension; `$1` the token's hash, `$2` now.
fn session_sql(aggregate: &str) -> String {
    let columns = USER_COLUMNS
        .split(", ")
        .map(|c| format!("u.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    // Only a suspension everywhere comes with the session: one in a region restricts what
    // the user does there, and is looked up where that is done.
    let suspension = "FROM suspensions x WHERE x.user_id = u.id AND x.lifted_at IS NULL \
                      AND x.until > $2 AND x.region IS NULL ORDER BY x.until DESC LIMIT 1";
    format!(
        "SELECT {columns}, (SELECT {aggregate} FROM user_roles r WHERE r.user_id = u.id) AS roles, \
         (SELECT x.until {suspension}) AS suspended_until, \
         (SELECT x.reason {suspension}) AS suspension_reason, \
         CAST(CASE WHEN EXISTS (SELECT 1 FROM suspensions y WHERE y.user_id = u.id \
           AND y.lifted_at IS NULL AND y.until > $2 AND y.region IS NOT NULL) \
           THEN 1 ELSE 0 END AS BIGINT) AS suspended_in_a_region \
         FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.token_hash = $1 AND s.expires_at > $2"
    )
}

static SESSION_SQLITE: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| session_sql("group_concat(r.role || ':' || r.region, ',')"));
static SESSION_POSTGRES: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| session_sql("string_agg(r.role || ':' || r.region, ',')"));

/// The session statement of `backend`, by name (see [`crate::statements`]).
pub(crate) fn statements(backend: Backend) -> Vec<(String, String)> {
    let sql = match backend {
        Backend::Sqlite => &*SESSION_SQLITE,
        Backend::Postgres => &*SESSION_POSTGRES,
    };
    let mut out = vec![("users::session".to_string(), sql.clone())];
    out.extend(crate::listed(STATEMENTS));
    out.extend([
        ("users::CREATE_USER".to_string(), CREATE_USER.clone()),
        ("users::USER_BY_ID".to_string(), USER_BY_ID.clone()),
        ("users::USER_BY_EMAIL".to_string(), USER_BY_EMAIL.clone()),
    ]);
    out
}

/// A live session's user and what restricts them.
#[derive(Debug, Clone)]
pub struct Session {
    /// The user, with their roles.
    pub user: User,
    /// Their suspension everywhere, if any.
    pub suspension: Option<Suspension>,
    /// Whether a suspension in some region is also in force.
    pub suspended_in_a_region: bool,
}

impl Store {
    /// Creates an account with the stakeholder role. A taken e-mail is a conflict.
    pub async fn create_user(&self, u: &NewUser) -> Result<User> {
        let mut tx = self.begin_write().await?;
        let now = now_micros();
        let row = sqlx::query(&CREATE_USER)
            .bind(&u.email)
            .bind(&u.password_hash)
            .bind(&u.display_name)
            .bind(&u.organisation)
            .bind(u.stakeholder_group.as_str())
            .bind(&u.country)
            .bind(&u.language)
            .bind(i64::from(u.attribution))
            .bind(now)
            .fetch_one(&mut *tx.tx)
            .await
            .map_err(StoreError::from)
            .map_err(|e| {
                if e.is_unique_violation() {
                    StoreError::Conflict("an account with this e-mail exists".into())
                } else {
                    e
                }
            })?;
        let stakeholder = Role {
            role: RoleKind::Stakeholder,
            region: None,
        };
        let user = user_row(&row, vec![stakeholder])?;
        sqlx::query(CREATE_USER_STAKEHOLDER_ROLE)
            .bind(user.id)
            .bind(RoleKind::Stakeholder.as_str())
            .bind(now)
            .execute(&mut *tx.tx)
            .await?;
        self.commit(tx).await?;
        Ok(user)
    }

    async fn roles(&self, user_id: i64) -> Result<Vec<Role>> {
        let rows = sqlx::query(ROLES_SELECT)
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let role: String = r.try_get("role")?;
                let region: String = r.try_get("region")?;
                Ok(Role {
                    role: RoleKind::parse(&role)
                        .ok_or_else(|| crate::rows::decode_err("role", &role))?,
                    region: (!region.is_empty()).then_some(region),
                })
            })
            .collect()
    }

    /// The account with this id.
    pub async fn user(&self, id: i64) -> Result<User> {
        let row = sqlx::query(&USER_BY_ID)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("user"))?;
        let roles = self.roles(id).await?;
        Ok(user_row(&row, roles)?)
    }

    /// The account with this e-mail and its password hash, for signing in.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<(User, String)>> {
        let Some(row) = sqlx::query(&USER_BY_EMAIL)
            .bind(email)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let id: i64 = row.try_get("id")?;
        let hash: String = row.try_get("password_hash")?;
        let roles = self.roles(id).await?;
        Ok(Some((user_row(&row, roles)?, hash)))
    }

    /// Grants a role (idempotent). Moderators must name a region, others must not.
    pub async fn grant_role(&self, user_id: i64, role: &Role) -> Result<()> {
        let mut tx = self.begin_write().await?;
        self.grant_role_in(&mut tx, user_id, role).await?;
        self.commit(tx).await
    }

    /// Grants a role in a write transaction.
    pub(crate) async fn grant_role_in(
        &self,
        tx: &mut WriteTx,
        user_id: i64,
        role: &Role,
    ) -> Result<()> {
        sqlx::query(GRANT_ROLE_IN_INSERT)
            .bind(user_id)
            .bind(role.role.as_str())
            .bind(role.region.clone().unwrap_or_default())
            .bind(now_micros())
            .execute(&mut *tx.tx)
            .await
            .map_err(|e| match StoreError::from(e) {
                StoreError::Db(sqlx::Error::Database(d)) if d.is_foreign_key_violation() => {
                    StoreError::NotFound("user")
                }
                other => other,
            })?;
        Ok(())
    }

    /// Revokes a role; true when the user had it.
    pub async fn revoke_role(&self, user_id: i64, role: &Role) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = self.revoke_role_in(&mut tx, user_id, role).await?;
        self.commit(tx).await?;
        Ok(done)
    }

    /// Revokes a role in a write transaction; true when the user had it.
    pub(crate) async fn revoke_role_in(
        &self,
        tx: &mut WriteTx,
        user_id: i64,
        role: &Role,
    ) -> Result<bool> {
        let done = sqlx::query(REVOKE_ROLE_IN_DELETE)
            .bind(user_id)
            .bind(role.role.as_str())
            .bind(role.region.clone().unwrap_or_default())
            .execute(&mut *tx.tx)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Records a session for a token (stored as its hash only).
    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        expires_at: i64,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let now = now_micros();
        // Expired sessions are swept as new ones are made, so the table stays small.
        sqlx::query(CREATE_SESSION_DELETE)
            .bind(user_id)
            .bind(now)
            .execute(&mut *tx.tx)
            .await?;
        sqlx::query(CREATE_SESSION_INSERT)
            .bind(token_hash)
            .bind(user_id)
            .bind(now)
            .bind(expires_at)
            .execute(&mut *tx.tx)
            .await?;
        self.commit(tx).await
    }

    /// The user of a live session, or `None` for an unknown, revoked or expired token.
    pub async fn session_user(&self, token_hash: &str) -> Result<Option<User>> {
        Ok(self.session(token_hash).await?.map(|(user, _)| user))
    }

    /// The user of a live session with their roles and suspension everywhere, if any, in one
    /// query (every signed-in request makes it); `None` for an unknown, revoked or expired
    /// token.
    pub async fn session(&self, token_hash: &str) -> Result<Option<(User, Option<Suspension>)>> {
        Ok(self
            .session_full(token_hash)
            .await?
            .map(|s| (s.user, s.suspension)))
    }

    /// [`Store::session`], and whether the user is also suspended in some region (posting
    /// there then checks which, see `Store::suspension_in`).
    pub async fn session_full(&self, token_hash: &str) -> Result<Option<Session>> {
        let sql = match self.backend {
            Backend::Sqlite => &*SESSION_SQLITE,
            Backend::Postgres => &*SESSION_POSTGRES,
        };
        let row = sqlx::query(sql)
            .bind(token_hash)
            .bind(now_micros())
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let mut pairs: Vec<(String, String)> = row
            .try_get::<Option<String>, _>("roles")?
            .unwrap_or_default()
            .split(',')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (role, region) = p.split_once(':').unwrap_or((p, ""));
                (role.to_string(), region.to_string())
            })
            .collect();
        // As `roles` lists them: by role, then region.
        pairs.sort();
        let roles = pairs
            .into_iter()
            .map(|(role, region)| {
                Ok(Role {
                    role: RoleKind::parse(&role)
                        .ok_or_else(|| crate::rows::decode_err("role", &role))?,
                    region: (!region.is_empty()).then_some(region),
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let user = user_row(&row, roles)?;
        let suspension = match row.try_get::<Option<i64>, _>("suspended_until")? {
            Some(until) => Some(Suspension {
                user_id: user.id,
                until: from_micros(until),
                reason: row
                    .try_get::<Option<String>, _>("suspension_reason")?
                    .unwrap_or_default(),
                region: None,
            }),
            None => None,
        };
        Ok(Some(Session {
            user,
            suspension,
            suspended_in_a_region: row.try_get::<i64, _>("suspended_in_a_region")? != 0,
        }))
    }

    /// Ends a session, and the live-connection tickets minted from it; true when it existed.
    pub async fn delete_session(&self, token_hash: &str) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(DELETE_SESSION_DELETE)
            .bind(token_hash)
            .execute(&mut *tx.tx)
            .await?;
        sqlx::query(DELETE_SESSION_DELETE_2)
            .bind(token_hash)
            .execute(&mut *tx.tx)
            .await?;
        self.commit(tx).await?;
        Ok(done.rows_affected() > 0)
    }
}

impl Store {
    /// Records a one-time WebSocket ticket (stored as its hash).
    pub async fn create_ws_ticket(
        &self,
        ticket_hash: &str,
        user_id: i64,
        expires_at: i64,
        session_hash: Option<&str>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(CREATE_WS_TICKET_DELETE)
            .bind(now_micros())
            .execute(&mut *tx.tx)
            .await?;
        sqlx::query(CREATE_WS_TICKET_INSERT)
            .bind(ticket_hash)
            .bind(user_id)
            .bind(expires_at)
            .bind(session_hash)
            .execute(&mut *tx.tx)
            .await?;
        self.commit(tx).await
    }

    /// Uses up a ticket: the user it was issued to and the hash of the session it was issued
    /// from (if it was), once; `None` if unknown, used or expired.
    pub async fn consume_ws_ticket(
        &self,
        ticket_hash: &str,
    ) -> Result<Option<(User, Option<String>)>> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(CONSUME_WS_TICKET_DELETE)
            .bind(ticket_hash)
            .bind(now_micros())
            .fetch_optional(&mut *tx.tx)
            .await?;
        self.commit(tx).await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let Some(id) = row.try_get::<Option<i64>, _>("user_id")? else {
            return Ok(None);
        };
        let session = row.try_get::<Option<String>, _>("session_hash")?;
        // A ticket is worth what its session is: one minted before a logout (or an expiry)
        // opens nothing after it.
        if let Some(h) = &session {
            let live: Option<i64> = sqlx::query_scalar(CONSUME_WS_TICKET_SELECT)
                .bind(h)
                .bind(now_micros())
                .fetch_optional(&self.pool)
                .await?;
            if live != Some(id) {
                return Ok(None);
            }
        }
        Ok(Some((self.user(id).await?, session)))
    }
}
