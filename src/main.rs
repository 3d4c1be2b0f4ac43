//! The `wardwatch` binary: parse the command line, set up logging, run.

use clap::Parser;

/// mimalloc rather than the system allocator: measured under report intake, the server
/// spent about a quarter of its CPU in glibc's malloc and free (many small allocations
/// made on one thread and freed on another). See BENCHMARKS.md.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "wardwatch=info,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = wardwatch::cli::Cli::parse();
    match wardwatch::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
