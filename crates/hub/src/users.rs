//! `hub user create`, `hub user grant` / `revoke` and `hub user unsuspend`.

use anyhow::{bail, Context};
use hub_domain::validate;
use hub_domain::{Role, RoleKind, StakeholderGroup, User};
use hub_store::{NewUser, Store};

/// Creates an account from the command line (same rules as registration).
#[allow(clippy::too_many_arguments)]
pub async fn create(
    store: &Store,
    config: &crate::Config,
    email: &str,
    password: &str,
    name: &str,
    group: &str,
    organisation: Option<&str>,
    country: Option<&str>,
) -> anyhow::Result<User> {
    let email = validate::email(email).map_err(|e| anyhow::anyhow!("--email {}", e.message))?;
    validate::password(password).map_err(|e| anyhow::anyhow!("--password {}", e.message))?;
    let display_name =
        validate::display_name(name).map_err(|e| anyhow::anyhow!("--name {}", e.message))?;
    let stakeholder_group = StakeholderGroup::parse(group).with_context(|| {
        format!(
            "--group must be one of: {}",
            StakeholderGroup::ALL
                .iter()
                .map(|g| g.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })?;
    let organisation = validate::organisation(organisation)
        .map_err(|e| anyhow::anyhow!("--organisation {}", e.message))?;
    let country = country
        .map(validate::country)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--country {}", e.message))?;
    let password_hash = hub_api::auth::hash_password(
        password,
        config.auth.argon2_memory_kib,
        config.auth.argon2_iterations,
    )
    .map_err(|_| anyhow::anyhow!("cannot hash the password"))?;
    Ok(store
        .create_user(&NewUser {
            email,
            password_hash,
            display_name,
            organisation,
            stakeholder_group,
            country,
            language: None,
            attribution: false,
        })
        .await?)
}

/// Parses a role and its region as given on the command line.
pub fn parse_role(role: &str, region: Option<&str>) -> anyhow::Result<Role> {
    let kind = RoleKind::parse(role)
        .context("--role must be moderator, secretariat, admin or stakeholder")?;
    match (kind, region) {
        (RoleKind::Moderator, Some(r)) if hub_domain::is_region(r) => Ok(Role {
            role: kind,
            region: Some(r.into()),
        }),
        (RoleKind::Moderator, Some(r)) => bail!(
            "--region {r:?} is not one of {}",
            hub_domain::REGION_SLUGS.join(", ")
        ),
        (RoleKind::Moderator, None) => bail!("a moderator needs --region"),
        (_, Some(_)) => bail!("only moderators take --region"),
        (_, None) => Ok(Role {
            role: kind,
            region: None,
        }),
    }
}

/// Lifts every suspension in force of the account with this e-mail.
pub async fn unsuspend(store: &Store, email: &str) -> anyhow::Result<User> {
    let (user, _) = store
        .user_by_email(&email.trim().to_lowercase())
        .await?
        .with_context(|| format!("no account with e-mail {email}"))?;
    if !store.lift_suspension(user.id, None, None).await? {
        bail!("{email} has no suspension in force");
    }
    Ok(user)
}

/// Grants or revokes a role for the account with this e-mail.
pub async fn set_role(
    store: &Store,
    email: &str,
    role: &Role,
    grant: bool,
) -> anyhow::Result<User> {
    let (user, _) = store
        .user_by_email(&email.trim().to_lowercase())
        .await?
        .with_context(|| format!("no account with e-mail {email}"))?;
    if grant {
        store.grant_role(user.id, role).await?;
    } else {
        store.revoke_role(user.id, role).await?;
    }
    Ok(store.user(user.id).await?)
}
