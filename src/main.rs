//! The `sferum-bot` binary: only wiring. `chat` runs the terminal chat, `check` checks the
//! scenarios and locales.

use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use sferum_bot::clock::SystemClock;
use sferum_bot::config::Settings;
use sferum_bot::runtime::Bot;
use sferum_bot::script;
use sferum_bot::service::sandbox::Sandbox;
use sferum_bot::startup;
use sferum_bot::store::memory::MemoryStore;
use sferum_bot::transport::terminal;

#[derive(Parser)]
#[command(
    name = "sferum-bot",
    version,
    about = "Guides families and teachers through registration on Сферум"
)]
struct Cli {
    #[command(subcommand)]
    command: Commands,
}

#[derive(Subcommand)]
enum Commands {
    /// Chat with the bot in this terminal (in-memory sessions, sandbox service).
    Chat {
        /// After each bot turn, print `@ <scenario>/<step> <seed ID>` on stderr.
        #[arg(long)]
        trace: bool,
        /// Start as if opened through a deep link (try `demo-class` or `demo-parent`).
        #[arg(long, value_name = "PAYLOAD")]
        start: Option<String>,
        /// The language to start in (`ru`, `en`).
        #[arg(long)]
        lang: Option<String>,
    },
    /// Check the scenarios and locales, report seed coverage, and exit non-zero on any problem.
    Check,
}

fn main() -> ExitCode {
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let settings = Settings::from_env();
    match cli.command {
        Commands::Check => check(&settings),
        Commands::Chat { trace, start, lang } => chat(&settings, trace, start, lang),
    }
}

fn check(settings: &Settings) -> ExitCode {
    match startup::load_checked(&settings.dialogues_dir, &settings.locales_dir) {
        Ok((scripts, locales)) => {
            let coverage = script::coverage(&scripts);
            let steps: usize = scripts.scenarios.values().map(|s| s.steps.len()).sum();
            println!(
                "ok: {} scenarios, {steps} steps, languages: {}",
                scripts.scenarios.len(),
                locales.languages().collect::<Vec<_>>().join(", ")
            );
            println!(
                "seed coverage: {}/{} IDs delivered",
                coverage.delivered.len(),
                scripts.seed_ids.len()
            );
            if !coverage.missing.is_empty() {
                println!("not delivered by any step: {}", coverage.missing.join(", "));
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}

fn chat(settings: &Settings, trace: bool, start: Option<String>, lang: Option<String>) -> ExitCode {
    let engine = match startup::engine(settings) {
        Ok(engine) => engine,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let clock = Arc::new(SystemClock);
        let sandbox = Sandbox::new(clock.clone()).on_code_sent(|notice| {
            eprintln!(
                "[sandbox] code for {}: {}",
                notice.masked_address, notice.code
            );
        });
        let bot = Bot::new(
            Arc::new(engine),
            Arc::new(sandbox),
            Arc::new(MemoryStore::new()),
            clock,
        );
        let options = terminal::Options {
            trace,
            start,
            echo: !std::io::IsTerminal::is_terminal(&std::io::stdin()),
            lang,
        };
        let stdin = tokio::io::BufReader::new(tokio::io::stdin());
        let result = terminal::run(
            &bot,
            &options,
            stdin,
            &mut std::io::stdout(),
            &mut std::io::stderr(),
        )
        .await;
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("terminal error: {error}");
                ExitCode::FAILURE
            }
        }
    })
}
