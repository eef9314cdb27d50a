//! Every statement the store sends ([`hub_store::statements`]: the literals each module
//! names, those assembled per dialect, and one instance of each built per call) prepares on a
//! freshly migrated database of its backend. PostgreSQL runs when
//! `HUB_TEST_POSTGRES_URL` names a server on which the test may create and drop a database.

use hub_store::{Backend, Store, StoreOptions};
use sqlx::{Connection, Executor};

#[tokio::test]
async fn every_statement_prepares_on_sqlite() -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("hub-store-statements-{}", std::process::id()));
    let url = format!("sqlite:{}/hub.db", dir.display());
    let store = Store::connect(&url, &StoreOptions::default()).await?;
    store.migrate().await?;
    let checked = async {
        let mut conn = store.pool().acquire().await?;
        prepare_all(Backend::Sqlite, &mut *conn).await
    }
    .await;
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    assert!(checked? >= 150, "the SQLite list is all there");
    Ok(())
}

#[tokio::test]
async fn every_statement_prepares_on_postgres() -> anyhow::Result<()> {
    let Ok(admin_url) = std::env::var("HUB_TEST_POSTGRES_URL") else {
        eprintln!("SKIPPED: HUB_TEST_POSTGRES_URL is not set");
        return Ok(());
    };
    let name = format!("hub_t_statements_{}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(&admin_url).await?;
    admin
        .execute(format!("DROP DATABASE IF EXISTS {name}").as_str())
        .await?;
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await?;
    let (base, _) = admin_url.rsplit_once('/').unwrap_or((&admin_url, ""));
    let url = format!("{base}/{name}");
    let store = Store::connect(&url, &StoreOptions::default()).await?;
    // Through PostgreSQL's own driver: the group commit and the thread pages run on it.
    let checked = async {
        store.migrate().await?;
        let mut conn = sqlx::PgConnection::connect(&url).await?;
        let checked = prepare_all(Backend::Postgres, &mut conn).await;
        conn.close().await?;
        checked
    }
    .await;
    store.close().await;
    admin
        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
        .await?;
    assert!(checked? >= 150, "the PostgreSQL list is all there");
    Ok(())
}

/// Prepares each statement of the store's backend, and fails naming every one that does not
/// prepare. SQLite prepares one statement at a time, so a batch of statements sent in one call
/// (`...; ...`) is prepared part by part. Returns how many were prepared.
async fn prepare_all<C>(backend: Backend, conn: &mut C) -> anyhow::Result<usize>
where
    for<'c> &'c mut C: Executor<'c>,
{
    let (mut failed, mut prepared) = (Vec::new(), 0);
    for (name, sql) in hub_store::statements(backend) {
        let parts: Vec<&str> = match backend {
            Backend::Sqlite => sql
                .split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect(),
            Backend::Postgres => vec![sql.as_str()],
        };
        for part in parts {
            match (&mut *conn).prepare(part).await {
                Ok(_) => prepared += 1,
                Err(e) => failed.push(format!("{name}: {e}")),
            }
        }
    }
    eprintln!(
        "{prepared} statements prepared on {}, {} failed",
        backend.name(),
        failed.len()
    );
    assert!(
        failed.is_empty(),
        "statements that do not prepare on {}:\n{}",
        backend.name(),
        failed.join("\n")
    );
    Ok(prepared)
}
