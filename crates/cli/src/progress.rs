//! Progress bars on a terminal, nothing elsewhere.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use newsarc::Progress;

/// An indicatif bar on stderr, drawn only when stderr is a terminal.
pub struct Bar {
    bar: Option<ProgressBar>,
    label: &'static str,
}

impl Bar {
    /// A bar for a job named `label`.
    pub fn new(label: &'static str) -> Self {
        Self { bar: None, label }
    }
}

impl Progress for Bar {
    fn start(&mut self, total: u64) {
        if !std::io::stderr().is_terminal() {
            return;
        }
        // A total of 0 means unknown: a count instead of a bar.
        let (bar, template) = if total == 0 {
            (
                ProgressBar::new_spinner(),
                "{prefix} {spinner} {pos} {per_sec}",
            )
        } else {
            (
                ProgressBar::new(total),
                "{prefix} [{bar:40}] {pos}/{len} {per_sec} eta {eta}",
            )
        };
        let style = ProgressStyle::with_template(template)
            .map(|style| style.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_prefix(self.label);
        self.bar = Some(bar);
    }

    fn set(&mut self, done: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(done);
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
