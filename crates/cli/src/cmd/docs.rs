//! `jiancha docs`: the references an integrator reads, generated from the code: the event
//! reference (`docs/events.md`) and the rule reference (`docs/rules.md`).

use std::io::Write;
use std::path::PathBuf;

/// Arguments of `jiancha docs`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    jiancha docs events --output docs/events.md\n  \
    jiancha docs rules > docs/rules.md")]
pub struct DocsArgs {
    /// Which reference to print.
    #[command(subcommand)]
    pub which: Which,
}

/// The references.
#[derive(Debug, clap::Subcommand)]
pub enum Which {
    /// Every event type: its stream, fields with types and units, and the rules it feeds.
    Events(OutputArgs),
    /// Every rule code: severity, when it fires, what closes it, and its legal basis.
    Rules(OutputArgs),
}

/// Where a reference goes.
#[derive(Debug, clap::Args)]
pub struct OutputArgs {
    /// Write the Markdown to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Prints or writes the chosen reference.
pub fn run(args: &DocsArgs) -> anyhow::Result<()> {
    let (text, output) = match &args.which {
        Which::Events(o) => (jiancha_projections::reference::events_markdown(), &o.output),
        Which::Rules(o) => (jiancha_projections::reference::rules_markdown(), &o.output),
    };
    match output {
        Some(path) => crate::output::write("--output", path, text.as_bytes()),
        None => {
            let mut stdout = crate::stdout::lock();
            stdout.write_all(text.as_bytes())?;
            stdout.flush()?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Compares a generated reference with the committed file (`UPDATE_EXPECT=1` rewrites it).
    fn check_committed(file: &str, generated: &str) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../docs")
            .join(file);
        if std::env::var_os("UPDATE_EXPECT").is_some() {
            std::fs::write(&path, generated).unwrap_or_else(|e| panic!("{file}: {e}"));
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "docs/{file} is not current: run `jiancha docs {} --output docs/{file}` (or \
             UPDATE_EXPECT=1 cargo test -p jiancha-cli docs)",
            file.trim_end_matches(".md")
        );
    }

    #[test]
    fn the_committed_references_are_current() {
        check_committed(
            "events.md",
            &jiancha_projections::reference::events_markdown(),
        );
        check_committed(
            "rules.md",
            &jiancha_projections::reference::rules_markdown(),
        );
    }
}
