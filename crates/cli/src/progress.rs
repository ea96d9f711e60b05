//! Progress bars for long commands: drawn on a terminal's stderr, silent when piped.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar over `total` units (bytes or events), or a spinner when the total is unknown. Hidden
/// unless stderr is a terminal, so scripts and pipes see nothing of it.
pub fn bar(total: Option<u64>, what: &str) -> ProgressBar {
    let bar = match total {
        Some(total) => ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr()),
        None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
    };
    let template = if total.is_some() {
        "{msg:>10} [{bar:40}] {pos}/{len} ({per_sec}, {eta} left)"
    } else {
        "{msg:>10} {spinner} {pos} ({per_sec})"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_owned());
    bar
}

/// A spinner with the time spent, for work that reports no count (a count stuck at 0 reads as
/// a hang).
pub fn spinner(what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{msg:>10} {spinner} {elapsed}") {
        bar.set_style(style);
    }
    bar.set_message(what.to_owned());
    // Drawn by a thread of its own, so that it moves while the work reports nothing.
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// A bar over bytes of input.
pub fn bytes_bar(total: Option<u64>, what: &str) -> ProgressBar {
    let bar = bar(total, what);
    let template = if total.is_some() {
        "{msg:>10} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)"
    } else {
        "{msg:>10} {spinner} {bytes} ({bytes_per_sec})"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}
