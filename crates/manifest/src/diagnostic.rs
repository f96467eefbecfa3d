//! Problems found in a manifest, and their rustc-style rendering.

use std::{fmt, ops::Range};

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

/// One problem in the manifest, located by a byte range of the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Byte range in the source that the problem points at.
    pub span: Range<usize>,
    /// What is wrong, naming the key: ``"`server.max_body`: ..."``.
    pub message: String,
    /// A short note shown under the caret.
    pub label: String,
    /// How to fix it, when there is something useful to say.
    pub help: Option<String>,
}

impl Problem {
    /// A problem at `span` with a message and a caret label.
    pub fn new(span: Range<usize>, message: impl Into<String>, label: impl Into<String>) -> Self {
        Self { span, message: message.into(), label: label.into(), help: None }
    }

    /// Adds a `help:` line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Every problem found in one manifest file, with the text they point into.
#[derive(Clone, PartialEq, Eq)]
pub struct Diagnostics {
    path: String,
    source: String,
    problems: Vec<Problem>,
}

/// A 1-based line and column (in characters) of a byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineColumn {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
}

impl Diagnostics {
    pub(crate) fn new(path: &str, source: &str, mut problems: Vec<Problem>) -> Self {
        problems.sort_by_key(|p| (p.span.start, p.span.end));
        problems.dedup();
        Self { path: path.to_owned(), source: source.to_owned(), problems }
    }

    /// The problems, in source order.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// Where a problem starts, as line and column.
    pub fn line_column(&self, problem: &Problem) -> LineColumn {
        let start = problem.span.start.min(self.source.len());
        let before = &self.source[..floor_char_boundary(&self.source, start)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        LineColumn { line, column: before[line_start..].chars().count() + 1 }
    }

    /// Renders every problem like rustc does, then a one-line summary.
    /// `styled` adds terminal colours.
    pub fn render(&self, styled: bool) -> String {
        let renderer = if styled { Renderer::styled() } else { Renderer::plain() };
        let mut out = String::new();
        for problem in &self.problems {
            let span = clamp_span(&self.source, &problem.span);
            let mut report = vec![
                Level::ERROR.primary_title(&problem.message).element(
                    Snippet::source(&self.source)
                        .path(&self.path)
                        .annotation(AnnotationKind::Primary.span(span).label(&problem.label)),
                ),
            ];
            if let Some(help) = &problem.help {
                report.push(Group::with_title(Level::HELP.secondary_title(help)));
            }
            out.push_str(&renderer.render(&report));
            out.push_str("\n\n");
        }
        out.push_str(&self.summary());
        out.push('\n');
        out
    }

    /// `"error: junction.toml has 3 problems"`.
    pub fn summary(&self) -> String {
        let n = self.problems.len();
        let noun = if n == 1 { "problem" } else { "problems" };
        format!("error: {} has {n} {noun}", self.path)
    }
}

impl fmt::Debug for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Diagnostics")
            .field("path", &self.path)
            .field("problems", &self.problems)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(false))
    }
}

impl std::error::Error for Diagnostics {}

/// Keeps a span inside the text and on character boundaries, so a span from a
/// recovering parser can never make rendering panic.
fn clamp_span(source: &str, span: &Range<usize>) -> Range<usize> {
    let start = floor_char_boundary(source, span.start.min(source.len()));
    let mut end = span.end.clamp(start, source.len());
    while !source.is_char_boundary(end) {
        end += 1;
    }
    start..end
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}
