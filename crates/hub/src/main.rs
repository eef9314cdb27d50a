//! `hub`: the GCM regional discussion hub.
#![forbid(unsafe_code)]

use anyhow::Context;
use clap::{Parser, Subcommand};
use hub::{server, users, Config};
use std::path::PathBuf;

/// Where `hub demo` looks for Pol.is exports when `--polis` is not given: the repository's
/// copy, relative to the current directory.
const DEFAULT_POLIS_DIR: &str = "data/polis";

/// The UN Network on Migration's regional discussion hub.
#[derive(Parser)]
#[command(name = "hub", version, about)]
struct Cli {
    /// A TOML configuration file layered over the defaults (also HUB_CONFIG).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Fill all five spaces with a realistic multilingual generated corpus.
    Demo {
        /// Also import Pol.is exports (folders with comments.csv) from this folder [default:
        /// data/polis, when that folder exists in the current directory].
        #[arg(long, value_name = "DIR")]
        polis: Option<PathBuf>,
        /// Do not import any Pol.is exports.
        #[arg(long, conflicts_with = "polis")]
        no_polis: bool,
        /// Seed of the generator (the same seed gives the same corpus).
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Threads generated per region.
        #[arg(long, default_value_t = 12)]
        threads: usize,
    },
    /// Analysis documents.
    Analysis {
        #[command(subcommand)]
        command: AnalysisCommand,
    },
}

#[derive(Subcommand)]
enum AnalysisCommand {
    /// Build a region's document now, in this process (as the scheduled job does), and print
    /// its metadata.
    Build {
        /// Region slug (africa, arab-region, asia-pacific, europe, latin-america-caribbean).
        #[arg(long)]
        region: String,
        /// Read posts created until the end of this day (UTC); default: now.
        #[arg(long)]
        until: Option<chrono::NaiveDate>,
        /// Also write document.{html,md,json,csv} into this folder.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Label language of the HTML and Markdown written with --out (en, fr, es).
        #[arg(long, default_value = "en")]
        lang: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
        #[arg(long)]
        name: String,
        /// Stakeholder group (civil_society, migrant_org, academia, ...).
        #[arg(long, default_value = "other")]
        group: String,
        #[arg(long)]
        organisation: Option<String>,
        /// ISO 3166-1 alpha-2 country.
        #[arg(long)]
        country: Option<String>,
    },
    /// Grant a role (moderator needs --region).
    Grant {
        #[arg(long)]
        email: String,
        #[arg(long)]
        role: String,
        #[arg(long)]
        region: Option<String>,
    },
    /// Lift every suspension in force of the account (an operator's action, audited without
    /// an actor): the way back for an account no admin can act for.
    Unsuspend {
        #[arg(long)]
        email: String,
    },
    /// Revoke a role.
    Revoke {
        #[arg(long)]
        email: String,
        #[arg(long)]
        role: String,
        #[arg(long)]
        region: Option<String>,
    },
}

fn init_tracing(config: &Config) {
    use tracing_subscriber::{fmt, EnvFilter};
    let filter =
        EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new(&config.log_level));
    if config.log_format == "json" {
        fmt()
            .json()
            .with_env_filter(filter)
            .with_current_span(true)
            .init();
    } else {
        fmt().with_env_filter(filter).init();
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::load(cli.config.as_deref())?;
    init_tracing(&config);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let s = server::start(&config, true).await?;
            s.wait().await
        }
        Command::Migrate => {
            let store = server::open_store(&config).await?;
            println!("migrations applied ({})", store.backend().name());
            store.close().await;
            Ok(())
        }
        Command::User { command } => {
            let store = server::open_store(&config).await?;
            let user = match command {
                UserCommand::Create {
                    email,
                    password,
                    name,
                    group,
                    organisation,
                    country,
                } => {
                    users::create(
                        &store,
                        &config,
                        &email,
                        &password,
                        &name,
                        &group,
                        organisation.as_deref(),
                        country.as_deref(),
                    )
                    .await?
                }
                UserCommand::Grant {
                    email,
                    role,
                    region,
                } => {
                    let role = users::parse_role(&role, region.as_deref())?;
                    users::set_role(&store, &email, &role, true).await?
                }
                UserCommand::Revoke {
                    email,
                    role,
                    region,
                } => {
                    let role = users::parse_role(&role, region.as_deref())?;
                    users::set_role(&store, &email, &role, false).await?
                }
                UserCommand::Unsuspend { email } => users::unsuspend(&store, &email).await?,
            };
            println!(
                "{}",
                serde_json::to_string_pretty(&user).context("cannot print the user")?
            );
            store.close().await;
            Ok(())
        }
        Command::Analysis {
            command:
                AnalysisCommand::Build {
                    region,
                    until,
                    out,
                    lang,
                },
        } => {
            let store = server::open_store(&config).await?;
            let result =
                hub::analysis::build_now(&store, &config, &region, until, out.as_deref(), &lang)
                    .await;
            store.close().await;
            println!("{}", result?);
            Ok(())
        }
        Command::Demo {
            polis,
            no_polis,
            seed,
            threads,
        } => {
            // The repository's copy is imported by default, so that `hub demo` from its root
            // loads real conversations beside the generated ones.
            let polis_dir = match (no_polis, polis) {
                (true, _) => None,
                (false, Some(dir)) => Some(dir),
                (false, None) => Some(PathBuf::from(DEFAULT_POLIS_DIR)).filter(|dir| dir.is_dir()),
            };
            let store = server::open_store(&config).await?;
            let report = hub_demo::demo::run(
                &store,
                &hub_demo::demo::DemoOptions {
                    polis_dir,
                    seed,
                    threads_per_region: threads,
                },
            )
            .await?;
            println!("{report}");
            store.close().await;
            Ok(())
        }
    }
}
