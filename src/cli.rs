//! The command line: `serve`, `demo`, `user add`, `apikey add`, `import`, `export`,
//! `backup`, `restore`, `migrate`. It parses arguments and calls the library.

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::{Config, DEFAULT_TILE_URL};
use crate::domain::Role;
use crate::store::Actor;

#[derive(Parser)]
#[command(
    name = "wardwatch",
    version,
    about = "Community security work of a Vietnamese ward"
)]
pub struct Cli {
    /// Data directory (embedded database, uploads).
    #[arg(long, global = true, env = "WARDWATCH_DATA", default_value = "./data")]
    data: PathBuf,
    /// PostgreSQL URL (postgres://…); when unset, SQLite in the data directory.
    #[arg(long, global = true, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web service.
    Serve(ServeArgs),
    /// Load the two demo wards of the source documents (running it twice changes nothing).
    Demo,
    /// Bring the database schema up to date.
    Migrate,
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage the API keys of Open311 client applications.
    Apikey {
        #[command(subcommand)]
        command: ApikeyCommand,
    },
    /// Import a registry sheet (CSV or XLSX) into a ward: all rows or none.
    Import {
        #[arg(long)]
        ward: String,
        /// groups, sites or people
        #[arg(long)]
        registry: String,
        file: PathBuf,
    },
    /// Export a registry of a ward as CSV, XLSX or (sites) GeoJSON.
    Export {
        #[arg(long)]
        ward: String,
        /// groups, sites or people
        #[arg(long)]
        registry: String,
        /// csv, xlsx or geojson; by default from the output file's extension, else csv.
        #[arg(long)]
        format: Option<String>,
        /// Include citizen ID numbers, dates of birth and phones (people).
        #[arg(long)]
        personal_data: bool,
        /// Output file; standard output when absent.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Write a consistent copy of the database while the service runs.
    Backup { file: PathBuf },
    /// Replace the database's records with those of a backup.
    Restore { file: PathBuf },
    /// Print the answer to a captcha token (operators' tool for tests; needs the database).
    #[command(hide = true)]
    CaptchaAnswer { token: String },
}

#[derive(Args)]
struct ServeArgs {
    #[arg(long, env = "WARDWATCH_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Load the demo wards first when the database is empty.
    #[arg(long)]
    demo: bool,
    /// Map tile URL template for Leaflet.
    #[arg(long, env = "WARDWATCH_TILE_URL", default_value = DEFAULT_TILE_URL)]
    tile_url: String,
    /// Mark cookies Secure (when served over HTTPS).
    #[arg(long, env = "WARDWATCH_COOKIE_SECURE")]
    cookie_secure: bool,
    /// Hours a login lasts.
    #[arg(long, env = "WARDWATCH_SESSION_HOURS", default_value_t = 12)]
    session_hours: i64,
    /// The address people reach the service at (links in CAP messages, notifications).
    #[arg(long, env = "WARDWATCH_PUBLIC_URL")]
    public_url: Option<String>,
    /// Take the client address from X-Forwarded-For (behind a trusted proxy).
    #[arg(long, env = "WARDWATCH_TRUST_PROXY")]
    trust_proxy: bool,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account; the password is read from standard input.
    Add {
        #[arg(long)]
        username: String,
        /// admin, officer, leadership, team_leader, team_member, volunteer or resident
        #[arg(long)]
        role: String,
        /// Ward code (all roles but admin).
        #[arg(long)]
        ward: Option<String>,
        /// Residential group code (team leaders and members).
        #[arg(long)]
        group: Option<String>,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum ApikeyCommand {
    /// Issue a key for a client application in one ward; the key is printed on the last
    /// line, once (only its SHA-256 hash is stored).
    Add {
        /// Ward code: the key files reports into this ward only.
        #[arg(long)]
        ward: String,
        /// The application's name, as officers will see it.
        #[arg(long)]
        name: String,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut config = Config::new(cli.data);
    config.database_url = cli.database_url.filter(|u| !u.is_empty());
    match cli.command {
        Command::Serve(args) => {
            config.listen = args.listen;
            config.tile_url = args.tile_url;
            config.cookie_secure = args.cookie_secure;
            config.session_hours = args.session_hours.clamp(1, 24 * 30);
            config.public_url = args.public_url.filter(|u| !u.is_empty());
            config.trust_proxy = args.trust_proxy;
            let store = crate::app::open_store(&config).await?;
            if args.demo {
                if store.wards().await?.is_empty() {
                    let summary = crate::demo::load(store.as_ref()).await?;
                    print_demo(&summary);
                } else {
                    println!("The database already holds wards; demo data not loaded again.");
                }
            }
            tracing::info!(?config, "starting");
            let app = crate::app::Application::with_store(config, store).await?;
            println!("wardwatch listening on http://{}", app.local_addr());
            app.run_until_stopped().await
        }
        Command::Demo => {
            let store = crate::app::open_store(&config).await?;
            let summary = crate::demo::load(store.as_ref()).await?;
            print_demo(&summary);
            store.close().await;
            Ok(())
        }
        Command::Migrate => {
            let store = crate::app::open_store(&config).await?;
            println!("database schema is up to date");
            store.close().await;
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Add {
                    username,
                    role,
                    ward,
                    group,
                    ..
                },
        } => {
            let role = Role::parse(&role).map_err(|e| anyhow::anyhow!("--role: {e}"))?;
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            let password = password.trim_end_matches(['\n', '\r']);
            let store = crate::app::open_store(&config).await?;
            let user = crate::accounts::service::add_user(
                store.as_ref(),
                Actor::default(),
                &username,
                role,
                ward.as_deref(),
                group.as_deref(),
                password,
            )
            .await?;
            println!("created {} ({})", user.username, user.role);
            store.close().await;
            Ok(())
        }
        Command::Apikey {
            command: ApikeyCommand::Add { ward, name },
        } => {
            let store = crate::app::open_store(&config).await?;
            let issued =
                crate::open311::issue_key(store.as_ref(), Actor::default(), &ward, &name).await;
            store.close().await;
            let (key, token) = issued?;
            println!(
                "issued Open311 API key #{} \"{}\" for ward {}; only its hash is stored, so copy the key now:",
                key.id,
                key.name,
                ward.to_lowercase()
            );
            println!("{token}");
            Ok(())
        }
        Command::Import {
            ward,
            registry,
            file,
        } => import(&config, &ward, &registry, &file).await,
        Command::Export {
            ward,
            registry,
            format,
            personal_data,
            output,
        } => {
            export(
                &config,
                &ward,
                &registry,
                format.as_deref(),
                personal_data,
                output,
            )
            .await
        }
        Command::Backup { file } => {
            let store = crate::app::open_store(&config).await?;
            store.backup(&file).await?;
            println!("backup written to {}", file.display());
            store.close().await;
            Ok(())
        }
        Command::CaptchaAnswer { token } => {
            let store = crate::app::open_store(&config).await?;
            let key = store
                .setting_or_init("captcha_key", &crate::http::ctx::random_token())
                .await?;
            store.close().await;
            match crate::reports::captcha::Captcha::new(key.as_bytes()).solve(&token) {
                Some(a) => {
                    println!("{a}");
                    Ok(())
                }
                None => anyhow::bail!("not a token of this deployment"),
            }
        }
        Command::Restore { file } => {
            let store = crate::app::open_store(&config).await?;
            store.restore(&file).await?;
            println!("restored from {}", file.display());
            store.close().await;
            Ok(())
        }
    }
}

fn print_demo(summary: &crate::demo::DemoSummary) {
    if summary.wards_created.is_empty() {
        println!("Demo wards were already loaded; nothing changed.");
    } else {
        println!("Loaded demo wards: {}", summary.wards_created.join(", "));
    }
    println!("Demo accounts:");
    println!(
        "  {:<18} {:<16} {:<14} note",
        "username", "password", "role"
    );
    for a in &summary.accounts {
        println!(
            "  {:<18} {:<16} {:<14} {}{}",
            a.username,
            a.password,
            a.role.as_str(),
            a.ward_code
                .as_deref()
                .map(|w| format!("[{w}] "))
                .unwrap_or_default(),
            a.note
        );
    }
}

async fn import(
    config: &Config,
    ward: &str,
    registry: &str,
    file: &std::path::Path,
) -> anyhow::Result<()> {
    use crate::sheets::{Format, ImportError, Registry};
    let registry = Registry::parse(registry)
        .ok_or_else(|| anyhow::anyhow!("--registry must be groups, sites or people"))?;
    let format = Format::from_path(file)
        .ok_or_else(|| anyhow::anyhow!("the file must end in .csv or .xlsx"))?;
    let meta = std::fs::metadata(file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    if meta.len() as usize > crate::sheets::MAX_BYTES {
        anyhow::bail!(
            "{} is larger than {} MiB",
            file.display(),
            crate::sheets::MAX_BYTES / 1024 / 1024
        );
    }
    let bytes = std::fs::read(file)?;
    let store = crate::app::open_store(config).await?;
    let ward = crate::territory::service::ward_by_code(store.as_ref(), ward)
        .await
        .map_err(|_| anyhow::anyhow!("no ward with code {ward}"))?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} rows")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message("checking");
    let progress = |done: usize, total: usize| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    };
    let result = crate::sheets::import(
        store.as_ref(),
        Actor::default(),
        &ward,
        registry,
        format,
        &bytes,
        &progress,
    )
    .await;
    bar.finish_and_clear();
    store.close().await;
    match result {
        Ok(r) => {
            println!(
                "imported {}: {} created, {} updated",
                file.display(),
                r.created,
                r.updated
            );
            Ok(())
        }
        Err(ImportError::Rows(rows)) => {
            eprintln!("nothing was imported; {} row(s) need fixing:", rows.len());
            for r in &rows {
                let value = if r.value.is_empty() {
                    String::new()
                } else {
                    format!(" (\"{}\")", r.value)
                };
                eprintln!(
                    "  line {}, column {}: {}{value}",
                    r.line,
                    if r.column.is_empty() { "-" } else { &r.column },
                    r.message
                );
            }
            anyhow::bail!("import refused")
        }
        Err(e) => anyhow::bail!("import refused: {e}"),
    }
}

async fn export(
    config: &Config,
    ward: &str,
    registry: &str,
    format: Option<&str>,
    personal_data: bool,
    output: Option<PathBuf>,
) -> anyhow::Result<()> {
    use crate::sheets::{Format, Registry};
    let registry = Registry::parse(registry)
        .ok_or_else(|| anyhow::anyhow!("--registry must be groups, sites or people"))?;
    let format = format
        .map(str::to_string)
        .or_else(|| {
            output
                .as_ref()
                .and_then(|p| p.extension())
                .map(|e| e.to_string_lossy().to_lowercase())
        })
        .unwrap_or_else(|| "csv".into());
    let store = crate::app::open_store(config).await?;
    let ward = crate::territory::service::ward_by_code(store.as_ref(), ward)
        .await
        .map_err(|_| anyhow::anyhow!("no ward with code {ward}"))?;
    let bytes = if format == "geojson" {
        if !matches!(registry, Registry::Sites) {
            anyhow::bail!("GeoJSON is available for sites only");
        }
        serde_json::to_vec_pretty(&crate::sheets::sites_geojson(store.as_ref(), &ward).await?)?
    } else {
        let f = Format::from_name(&format)
            .ok_or_else(|| anyhow::anyhow!("--format must be csv, xlsx or geojson"))?;
        crate::sheets::export(store.as_ref(), &ward, registry, f, personal_data).await?
    };
    store.close().await;
    match output {
        Some(path) => {
            std::fs::write(&path, &bytes)?;
            eprintln!("wrote {}", path.display());
        }
        None => {
            use std::io::Write;
            std::io::stdout().write_all(&bytes)?;
        }
    }
    Ok(())
}
