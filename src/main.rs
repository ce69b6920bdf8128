//! The `samverka` binary: parse the command line, set up logging, dispatch.

use std::process::ExitCode;

use clap::Parser;
use samverka::cli::{Cli, Command, ServeArgs};
use samverka::db::Db;
use samverka::server::App;

#[tokio::main]
async fn main() -> ExitCode {
    samverka::telemetry::init();
    let mut cli = Cli::parse();
    if cli.command.is_none() {
        // No subcommand means `serve`: parse again with it, so SAMVERKA_* settings apply too.
        cli = Cli::parse_from(std::env::args().chain(["serve".to_owned()]));
    }
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let command = cli.command.as_ref().map_or(CommandKind::Serve(ServeArgs::default()), |c| match c {
        Command::Serve(args) => CommandKind::Serve(args.clone()),
        Command::Migrate => CommandKind::Migrate,
        Command::Import { file } => CommandKind::Import(file.clone()),
        Command::ExportSchema { output } => CommandKind::ExportSchema(output.clone()),
        Command::Token(args) => CommandKind::Token(args.clone()),
        Command::Seed(args) => CommandKind::Seed(args.clone()),
        Command::Network(args) => CommandKind::Network(args.clone()),
    });
    if let CommandKind::Token(args) = &command {
        let token = cli.auth.authenticator()?.issue(&args.subject, args.role, args.ttl)?;
        use std::io::Write;
        writeln!(std::io::stdout(), "{token}")?;
        return Ok(());
    }
    if let CommandKind::ExportSchema(output) = &command {
        let sdl = samverka::graphql::sdl();
        if output.as_os_str() == "-" {
            use std::io::Write;
            std::io::stdout().write_all(sdl.as_bytes())?;
        } else {
            std::fs::write(output, sdl)?;
            eprintln!("wrote {}", output.display());
        }
        return Ok(());
    }
    let url = cli.database_url();
    let db =
        Db::connect(&url, cli.db_connections).await.map_err(|e| anyhow::anyhow!("cannot open the database: {e}"))?;
    match command {
        CommandKind::Serve(args) => {
            let app = App::build(db, &args, cli.auth.authenticator()?).await?;
            tracing::info!(listen = %args.listen, port = app.port(), "serving GraphQL at /graphql, GraphiQL at /");
            app.run().await?;
        }
        CommandKind::Migrate => {
            db.migrate().await?;
            eprintln!("migrations applied");
        }
        CommandKind::Import(file) => {
            db.migrate().await?;
            let bytes = std::fs::read(&file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let summary = samverka::load_registry(&db, &bytes, "cli").await?;
            let total = summary.total();
            for (table, counts) in &summary.tables {
                eprintln!(
                    "{table:<22} inserted {:>5}  updated {:>5}  deleted {:>5}  unchanged {:>5}",
                    counts.inserted, counts.updated, counts.deleted, counts.unchanged
                );
            }
            eprintln!(
                "imported {}: {} inserted, {} updated, {} deleted, {} unchanged",
                file.display(),
                total.inserted,
                total.updated,
                total.deleted,
                total.unchanged
            );
        }
        CommandKind::Seed(args) => {
            db.migrate().await?;
            let scale: samverka::db::seed::synthetic::Scale = args.scale.into();
            eprintln!("seeding a synthetic registry: scale {}, seed {}", scale.name(), args.seed);
            let summary = samverka::db::seed::seed_synthetic(&db, scale, args.seed, !args.quiet).await?;
            for (table, rows, took) in &summary.tables {
                eprintln!("{table:<20} {rows:>9} rows  {:>7.2} s", took.as_secs_f64());
            }
            eprintln!(
                "seeded {} rows in {:.1} s (indexes and statistics {:.1} s)",
                summary.rows(),
                summary.total.as_secs_f64(),
                summary.indexes.as_secs_f64()
            );
        }
        CommandKind::Network(args) => network(&db, &args).await?,
        CommandKind::ExportSchema(_) | CommandKind::Token(_) => {}
    }
    Ok(())
}

enum CommandKind {
    Serve(ServeArgs),
    Migrate,
    Import(std::path::PathBuf),
    ExportSchema(std::path::PathBuf),
    Token(samverka::cli::TokenArgs),
    Seed(samverka::cli::SeedArgs),
    Network(samverka::cli::NetworkArgs),
}

/// `samverka network`: select and build the network, then export it or time its analyses.
async fn network(db: &Db, args: &samverka::cli::NetworkArgs) -> anyhow::Result<()> {
    use samverka::db::queries::network::{NetworkFilter, select};
    use samverka::domain::network::{EdgeKind, profile};
    use std::io::Write;
    let mut edges: Vec<EdgeKind> = args.edges.iter().map(|&kind| kind.into()).collect();
    edges.sort();
    edges.dedup();
    let filter = NetworkFilter {
        programme: args.programme.clone(),
        project: args.project.clone(),
        region: args.region.clone(),
        kinds: None,
        country: args.country.clone(),
        period_from: args.from,
        period_to: args.to,
        as_of: args.as_of.unwrap_or_else(|| chrono::Utc::now().date_naive()),
        edges,
    };
    let started = std::time::Instant::now();
    let selection = select(&db.conn, &filter).await?;
    let selected = started.elapsed();
    let started = std::time::Instant::now();
    let (network, unplaced) = selection.network(args.level.into(), args.min_weight.max(1));
    let built = started.elapsed();
    eprintln!(
        "network: {} nodes, {} edges ({unplaced} organisations unplaced); selected in {:.3} s, built in {:.3} s",
        network.len(),
        network.edges.len(),
        selected.as_secs_f64(),
        built.as_secs_f64()
    );
    if let Some(format) = args.format {
        let text = samverka::domain::network::export::write(&network, format.into(), &[]);
        match &args.output {
            Some(path) => std::fs::write(path, text)?,
            None => std::io::stdout().write_all(text.as_bytes())?,
        }
        return Ok(());
    }
    if args.timings {
        if let Some(unknown) = args.only.iter().find(|name| !profile::ANALYSES.contains(&name.as_str())) {
            anyhow::bail!("unknown analysis `{unknown}`; choose from {}", profile::ANALYSES.join(", "));
        }
        let timings = profile::time_all(&network, args.samples, args.repeat.max(1), &args.only);
        let mut out = std::io::stdout();
        if args.json {
            let analyses: serde_json::Map<String, serde_json::Value> =
                timings.iter().map(|(name, took)| (name.to_string(), serde_json::json!(took.as_secs_f64()))).collect();
            let summary = serde_json::json!({
                "nodes": network.len(), "edges": network.edges.len(), "samples": args.samples,
                "select_s": selected.as_secs_f64(), "build_s": built.as_secs_f64(), "analyses": analyses,
            });
            writeln!(out, "{summary}")?;
        } else {
            for (name, took) in &timings {
                writeln!(out, "{name:<28} {:>10.4} s", took.as_secs_f64())?;
            }
        }
    }
    Ok(())
}
