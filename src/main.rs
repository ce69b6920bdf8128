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
        Command::Import(args) => CommandKind::Import(args.clone()),
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
        CommandKind::Import(args) => {
            db.migrate().await?;
            import(&db, &args).await?;
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
    Import(samverka::cli::ImportArgs),
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

/// `samverka import`: seed-facts through `load_registry`, funders' formats through `import_files`.
async fn import(db: &Db, args: &samverka::cli::ImportArgs) -> anyhow::Result<()> {
    use samverka::domain::import::formats::{InputFile, ReadOptions};
    use samverka::ingest::{ImportFailure, ImportRequest, StderrProgress};
    use std::io::Write;

    let read = |path: &std::path::Path| -> anyhow::Result<InputFile> {
        let bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        Ok(InputFile { name, bytes })
    };
    let Some(format) = args.format.funders() else {
        if args.dry_run || args.skip_invalid || args.mapping.is_some() {
            anyhow::bail!("--dry-run, --skip-invalid and --mapping apply to the funders' formats, not seed-facts");
        }
        for file in &args.files {
            let summary = samverka::load_registry(db, &read(file)?.bytes, "cli").await?;
            print_tables(&summary);
            let total = summary.total();
            eprintln!(
                "imported {}: {} inserted, {} updated, {} deleted, {} unchanged",
                file.display(),
                total.inserted,
                total.updated,
                total.deleted,
                total.unchanged
            );
        }
        return Ok(());
    };
    let request = ImportRequest {
        format,
        files: args.files.iter().map(|f| read(f)).collect::<anyhow::Result<_>>()?,
        read: ReadOptions { countries: args.country.clone(), mapping: args.mapping.as_deref().map(read).transpose()? },
        resolve: samverka::domain::import::intake::ResolveOptions {
            codes_on: args.codes_on,
            nuts_version: args.nuts_version.clone(),
            ..Default::default()
        },
        dry_run: args.dry_run,
        skip_invalid: args.skip_invalid,
    };
    let outcome = samverka::ingest::import_files(db, "cli", request, &mut StderrProgress::default()).await;
    let report = match outcome {
        Ok(report) => report,
        Err(ImportFailure::Invalid(report)) => {
            print_report(&report, args.json)?;
            anyhow::bail!(
                "{} invalid row(s); nothing was written (fix them, or pass --skip-invalid to import the rest)",
                report.invalid.len()
            );
        }
        Err(other) => return Err(other.into()),
    };
    print_report(&report, args.json)?;
    if args.json {
        std::io::stdout().flush()?;
    }
    Ok(())
}

fn print_tables(summary: &samverka::db::import::ImportSummary) {
    for (table, counts) in summary.tables.iter().filter(|(_, c)| c.inserted + c.updated + c.deleted + c.unchanged > 0) {
        eprintln!(
            "{table:<22} inserted {:>6}  updated {:>6}  deleted {:>6}  unchanged {:>6}",
            counts.inserted, counts.updated, counts.deleted, counts.unchanged
        );
    }
}

/// The import report, for people (standard error) or scripts (JSON on standard output).
fn print_report(report: &samverka::ingest::ImportReport, json: bool) -> anyhow::Result<()> {
    use std::io::Write;
    if json {
        writeln!(std::io::stdout(), "{}", serde_json::to_string_pretty(report)?)?;
        return Ok(());
    }
    let m = &report.matching;
    eprintln!("{} ({}): {} rows", report.files.join(", "), report.format, report.rows);
    for (country, day) in &report.codes_on {
        eprintln!("  {country} municipality codes read as of {day}");
    }
    if let Some(version) = &report.nuts_version {
        eprintln!("  NUTS codes read as NUTS {version}");
    }
    for (reason, count) in &report.skipped {
        eprintln!("  skipped {count}: {reason}");
    }
    let matched: Vec<String> = m.matched.iter().map(|(by, n)| format!("{n} by {by:?}")).collect();
    eprintln!(
        "organisations: {} matched ({}), {} new, {} ambiguous, {} candidates, {} given their ROR id, {} NO/SE without a municipality",
        m.matched.values().sum::<u64>(),
        if matched.is_empty() { "none".to_owned() } else { matched.join(", ") },
        m.created,
        m.ambiguous,
        m.candidates,
        m.identified,
        m.unplaced
    );
    for (title, list) in [
        ("matched", &m.matched_examples),
        ("new", &m.created_examples),
        ("ambiguous", &m.ambiguous_examples),
        ("candidates", &m.candidate_examples),
        ("without a municipality", &m.unplaced_examples),
    ] {
        for example in list {
            let target = example.slug.clone().unwrap_or_else(|| example.candidates.join(" | "));
            eprintln!("  {title:<10} {} → {target}  ({})", example.name, example.locator);
        }
    }
    if !report.summary.tables.is_empty() {
        eprintln!("{}:", if report.dry_run { "would write (dry run, nothing written)" } else { "written" });
        print_tables(&report.summary);
    }
    for error in &report.invalid {
        eprintln!("invalid: {error}");
    }
    Ok(())
}
