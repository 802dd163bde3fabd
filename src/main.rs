//! The `sferum-bot` binary: only wiring. It reads the settings, picks the adapters they name
//! (Redis or memory, HTTP or sandbox) and starts what the command asks: `run` (Telegram, MAX,
//! or both, and the operations listener), `chat` (this terminal), `check` (the scenarios and
//! locales only), or the operators' `stats`, `unmatched` and `graph`.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};

/// mimalloc rather than glibc's malloc: the bot allocates many small short-lived values per
/// update (JSON, keys, replies), where glibc's allocator took a third of the CPU under load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Gives the kernel back the pages start-up freed (the scripts' and locales' sources and parse
/// trees, the checker's work). mimalloc hands freed pages back only a while later, and only
/// when the thread that freed them allocates again, so an idle bot kept them: its resident
/// memory is 0.5 MB smaller with this call.
fn return_freed_memory() {
    // SAFETY: `mi_collect` only walks mimalloc's own free lists; it may be called at any time.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

use sferum_bot::backend;
use sferum_bot::clock::{Clock, SystemClock};
use sferum_bot::config::Settings;
use sferum_bot::engine::Engine;
use sferum_bot::ops;
use sferum_bot::runtime::messengers::Messengers;
use sferum_bot::runtime::notifier::Notifier;
use sferum_bot::runtime::Assistant;
use sferum_bot::script;
use sferum_bot::service::http::{HttpConfig, HttpService};
use sferum_bot::service::sandbox::Sandbox;
use sferum_bot::service::RegistrationService;
use sferum_bot::startup;
use sferum_bot::store::Channel;
use sferum_bot::transport::max::client::MaxClient;
use sferum_bot::transport::max::transport::Max;
use sferum_bot::transport::{max, telegram, terminal};

#[derive(Parser)]
#[command(
    name = "sferum-bot",
    version,
    about = "Guides families and teachers through registration on the Sferum platform"
)]
struct Cli {
    #[command(subcommand)]
    command: Commands,
}

#[derive(Subcommand)]
enum Commands {
    /// Run the bot in every messenger whose token is set (TELOXIDE_TOKEN, MAX_BOT_TOKEN): long
    /// polling, or webhooks with WEBHOOK_URL / MAX_WEBHOOK_URL; METRICS_LISTEN for operations.
    Run,
    /// Chat with the bot in this terminal (memory and sandbox unless REDIS_URL and
    /// REGISTRATION_API_URL are set).
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
    /// Print the funnel of every step (entered, left forward, back, stalled for a day) from
    /// the store (REDIS_URL).
    Stats {
        /// How many days back, today included (school time).
        #[arg(long, default_value_t = 7)]
        days: u32,
        /// The last day (YYYY-MM-DD; default today).
        #[arg(long, value_name = "DATE")]
        until: Option<chrono::NaiveDate>,
    },
    /// List the questions the bot could not answer, masked, most frequent first (REDIS_URL).
    Unmatched {
        /// How many days back, today included (kept 30).
        #[arg(long, default_value_t = 30)]
        days: u32,
        /// The last day (YYYY-MM-DD; default today).
        #[arg(long, value_name = "DATE")]
        until: Option<chrono::NaiveDate>,
        /// How many to list.
        #[arg(long, default_value_t = 50)]
        top: usize,
    },
    /// Draw every scenario's steps and transitions (Mermaid, or Graphviz DOT) on stdout.
    Graph {
        /// `mermaid` (renders in Markdown) or `dot` (Graphviz: `dot -Tsvg`).
        #[arg(long, value_enum, default_value = "mermaid")]
        format: script::graph::GraphFormat,
        /// Show on each step how many conversations entered it (needs REDIS_URL).
        #[arg(long)]
        stats: bool,
        /// With `--stats`: how many days back, today included (school time).
        #[arg(long, default_value_t = 7)]
        days: u32,
        /// With `--stats`: the last day (YYYY-MM-DD; default today).
        #[arg(long, value_name = "DATE")]
        until: Option<chrono::NaiveDate>,
    },
}

fn main() -> ExitCode {
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    let default_level = match cli.command {
        Commands::Run => "info",
        _ => "warn",
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level)),
        )
        .init();
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => return fail(error),
    };
    if let Commands::Check = cli.command {
        return check(&settings);
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(error) => return fail(format!("cannot start the async runtime: {error}")),
    };
    runtime.block_on(async move {
        match cli.command {
            Commands::Run => run(settings).await,
            Commands::Chat { trace, start, lang } => chat(&settings, trace, start, lang).await,
            Commands::Check => ExitCode::SUCCESS,
            Commands::Stats { days, until } => stats(&settings, days, until).await,
            Commands::Unmatched { days, until, top } => {
                unmatched(&settings, days, until, top).await
            }
            Commands::Graph {
                format,
                stats,
                days,
                until,
            } => graph(&settings, format, stats.then_some((days, until))).await,
        }
    })
}

fn fail(error: impl std::fmt::Display) -> ExitCode {
    eprintln!("{error}");
    ExitCode::FAILURE
}

fn check(settings: &Settings) -> ExitCode {
    match startup::load_checked(
        &settings.dialogues_dir,
        &settings.locales_dir,
        &settings.term_choices(),
    ) {
        Ok(checked) => {
            let (scripts, locales) = checked.into_parts();
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
            for (path, ids) in script::path_coverage(&scripts) {
                let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
                println!("{path}: {} IDs ({})", ids.len(), ids.join(" "));
            }
            if coverage.missing.is_empty() {
                ExitCode::SUCCESS
            } else {
                fail(format!(
                    "seed IDs no step delivers: {}",
                    coverage.missing.join(", ")
                ))
            }
        }
        Err(error) => fail(error),
    }
}

/// Prints the scenarios as a graph; with `stats`, each step with its funnel count.
/// Draws the flows; with `stats_days`, each step with how many entered it in those days.
async fn graph(
    settings: &Settings,
    format: script::graph::GraphFormat,
    stats_days: Option<(u32, Option<chrono::NaiveDate>)>,
) -> ExitCode {
    let engine = match startup::engine(settings) {
        Ok(engine) => engine,
        Err(error) => return fail(error),
    };
    let counts = match stats_days {
        Some((days, until)) => match funnel_counts(settings, days, until).await {
            Ok(counts) => counts,
            Err(error) => return fail(error),
        },
        None => None,
    };
    let drawn = script::graph::render(engine.scripts(), format, counts.as_ref());
    // A closed pipe (`graph | head`) is not an error worth a panic.
    let _ = std::io::Write::write_all(&mut std::io::stdout(), drawn.as_bytes());
    ExitCode::SUCCESS
}

/// How many conversations entered each step (`scenario/step` → count) in the last `days`
/// days, from Redis.
async fn funnel_counts(
    settings: &Settings,
    days: u32,
    until: Option<chrono::NaiveDate>,
) -> Result<Option<std::collections::BTreeMap<String, u64>>, String> {
    if settings.redis.is_none() {
        eprintln!("no funnel counts (REDIS_URL unset)");
        return Ok(None);
    }
    let (engine, store) = counts_source(settings).await?;
    let today = last_day(&engine, until);
    let funnel = ops::read_funnel(store.as_ref(), today, days)
        .await
        .map_err(|e| format!("the funnel could not be read: {e}"))?;
    Ok(Some(funnel.entered()))
}

/// The registration service the settings name: HTTP when `REGISTRATION_API_URL` is set, else
/// the sandbox, which prints each code it "sends" on stderr.
fn registration_service(
    settings: &Settings,
    clock: Arc<dyn Clock>,
) -> Result<Arc<dyn RegistrationService>, String> {
    match &settings.registration_api {
        Some(api) => {
            let config = HttpConfig::new(api.url.clone(), api.token.clone());
            let service = HttpService::new(config).map_err(|e| format!("registration API: {e}"))?;
            Ok(Arc::new(service))
        }
        None => Ok(Arc::new(Sandbox::new(clock).on_code_sent(|notice| {
            eprintln!(
                "[sandbox] code for {}: {}",
                notice.masked_address, notice.code
            );
        }))),
    }
}

/// The engine and the session store, for the operators' commands.
async fn counts_source(
    settings: &Settings,
) -> Result<(Engine, Arc<dyn sferum_bot::store::SessionStore>), String> {
    let engine = startup::engine(settings).map_err(|e| e.to_string())?;
    if settings.redis.is_none() {
        eprintln!(
            "REDIS_URL is not set: the counts live in the bot's own memory, so none are here"
        );
    }
    let backends = backend::open(settings)
        .await
        .map_err(|e| format!("Redis: {e}"))?;
    Ok((engine, backends.store))
}

/// The last day an operators' command reads: `--until`, else today in school time.
fn last_day(engine: &Engine, until: Option<chrono::NaiveDate>) -> chrono::NaiveDate {
    until.unwrap_or_else(|| engine.school().day_of(chrono::Utc::now()))
}

async fn stats(settings: &Settings, days: u32, until: Option<chrono::NaiveDate>) -> ExitCode {
    let (engine, store) = match counts_source(settings).await {
        Ok(found) => found,
        Err(error) => return fail(error),
    };
    let today = last_day(&engine, until);
    match ops::read_funnel(store.as_ref(), today, days).await {
        Ok(funnel) => {
            print!(
                "{}",
                ops::funnel::table(engine.scripts(), &funnel, days, today)
            );
            ExitCode::SUCCESS
        }
        Err(error) => fail(format!("the funnel could not be read: {error}")),
    }
}

async fn unmatched(
    settings: &Settings,
    days: u32,
    until: Option<chrono::NaiveDate>,
    top: usize,
) -> ExitCode {
    let (engine, store) = match counts_source(settings).await {
        Ok(found) => found,
        Err(error) => return fail(error),
    };
    let today = last_day(&engine, until);
    match ops::read_unmatched(store.as_ref(), today, days).await {
        Ok(list) => {
            println!("questions not understood in the last {days} day(s), masked (# digits, @ e-mail, * name)");
            for (question, n) in list.into_iter().take(top) {
                println!("{n:>6}  {question}");
            }
            ExitCode::SUCCESS
        }
        Err(error) => fail(format!("the questions could not be read: {error}")),
    }
}

async fn core(settings: &Settings) -> Result<Assistant, String> {
    let engine = startup::engine(settings).map_err(|e| e.to_string())?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let backends = backend::open(settings)
        .await
        .map_err(|e| format!("Redis: {e}"))?;
    let service = registration_service(settings, clock.clone())?;
    Ok(
        Assistant::new(Arc::new(engine), service, backends.store, clock)
            .with_outbox(backends.outbox)
            .with_directory(backends.directory)
            .with_limits(backends.limits, settings.limit_key.expose().as_bytes())
            .with_flood_limit(settings.flood.0, settings.flood.1),
    )
}

async fn chat(
    settings: &Settings,
    trace: bool,
    start: Option<String>,
    lang: Option<String>,
) -> ExitCode {
    let bot = match core(settings).await {
        Ok(bot) => bot,
        Err(error) => return fail(error),
    };
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
        Err(error) => fail(format!("terminal error: {error}")),
    }
}

async fn run(mut settings: Settings) -> ExitCode {
    use teloxide::requests::Requester;

    if settings.telegram.is_none() && settings.max.is_none() {
        return fail(
            "`run` needs TELOXIDE_TOKEN or MAX_BOT_TOKEN (see .env.example); try `chat` to run locally",
        );
    }
    let mut telegram_api = None;
    if let Some(telegram_settings) = settings.telegram.clone() {
        let mut api = teloxide::Bot::new(telegram_settings.token.expose());
        if let Some(url) = telegram_settings.api_url.clone() {
            api = api.set_api_url(url);
        }
        match api.get_me().await {
            Ok(me) => {
                if let Some(username) = me.username.clone() {
                    settings.bot_username = username;
                }
            }
            Err(error) => return fail(format!("Telegram refused the token: {error}")),
        }
        telegram_api = Some((api, telegram_settings.webhook));
    }
    let mut max_client = None;
    if let Some(max_settings) = settings.max.as_mut() {
        let client = match MaxClient::new(max_settings.api_url.clone(), max_settings.token.clone())
        {
            Ok(client) => client,
            Err(error) => return fail(format!("MAX: {error}")),
        };
        // The bot's name makes its links open MAX (`https://max.ru/<name>?start=`).
        match client.me().await {
            Ok(me) => {
                if let Some(username) = me.username.filter(|u| !u.is_empty()) {
                    max_settings.bot_username = Some(username);
                }
            }
            Err(error) => return fail(format!("MAX refused the token: {error}")),
        }
        if max_settings.bot_username.is_none() {
            tracing::warn!("MAX did not say the bot's name (set MAX_BOT_USERNAME): invitations in MAX will link to Telegram");
        }
        max_client = Some((client, max_settings.webhook.clone()));
    }
    let bot = match core(&settings).await {
        Ok(bot) => Arc::new(bot),
        Err(error) => return fail(error),
    };
    return_freed_memory();
    // Every messenger whose token is set, in one process; the notifier sends each notice
    // through the messenger of its chat.
    let mut messengers = Messengers::new();
    let telegram =
        telegram_api.map(|(api, webhook)| (telegram::Telegram::new(api, bot.clone()), webhook));
    if let Some((telegram, _)) = &telegram {
        if let Err(error) = telegram.set_commands().await {
            tracing::warn!(%error, "could not set the command menu");
        }
        messengers = messengers.with(Channel::Telegram, Arc::new(telegram.clone()));
    }
    let max = max_client.map(|(client, webhook)| (Max::new(client, bot.clone()), webhook));
    if let Some((max, _)) = &max {
        messengers = messengers.with(Channel::Max, Arc::new(max.clone()));
    }
    let operations = settings.metrics_listen.map(|address| {
        let bot = bot.clone();
        tokio::spawn(async move {
            if let Err(error) = ops::serve(address, bot, telegram::termination_signal()).await {
                tracing::error!(%error, "the operations listener is not served");
            }
        })
    });
    let (stop_notifier, notifier_stopped) = tokio::sync::oneshot::channel::<()>();
    let notifier = Notifier::new(bot, Arc::new(messengers), settings.replica_name.clone());
    let notifier = tokio::spawn(notifier.run(
        Duration::from_secs(2),
        Duration::from_secs(10 * 60),
        async move {
            let _ = notifier_stopped.await;
        },
    ));
    let serving_max = max.map(|(max, webhook)| {
        tokio::spawn(async move {
            let served = max::serve::serve(max, webhook, telegram::termination_signal()).await;
            if let Err(error) = &served {
                tracing::error!(%error, "MAX is not served");
            }
            served
        })
    });
    let served = match telegram {
        Some((telegram, webhook)) => {
            telegram::serve(telegram, webhook, telegram::termination_signal()).await
        }
        None => Ok(()),
    };
    if served.is_err() {
        if let Some(operations) = &operations {
            operations.abort();
        }
    }
    let served_max = match serving_max {
        // Telegram could not be served: the process stops rather than serve half.
        Some(serving) if served.is_err() => {
            serving.abort();
            Ok(())
        }
        Some(serving) => serving.await.unwrap_or(Ok(())),
        None => Ok(()),
    };
    let _ = stop_notifier.send(());
    let _ = notifier.await;
    if let Some(operations) = operations {
        let _ = operations.await;
    }
    match served.and(served_max) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(error),
    }
}
