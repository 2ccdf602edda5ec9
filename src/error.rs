//! The one error type a command returns when it could not do its job (exit code 2), and how each
//! layer's typed errors become it.

use std::fmt;

/// A failure the user can act on: one line saying what failed and why, and a hint.
/// `main` alone prints it (`error:`/`hint:` on stderr, or the message as is for a declined change)
/// and exits with its [`Failure::exit_code`].
#[derive(Debug)]
pub struct Failure {
    /// What failed, naming the object, file or server involved.
    pub message: String,
    /// What to do about it, when we know.
    pub hint: Option<String>,
    /// How `main` reports it.
    pub form: Form,
    /// The error this one explains (a kube error, an I/O error), kept for the chain.
    pub source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// How a failure reaches the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `error: message` and `hint: hint`, exit 2: the command could not do its job.
    Error,
    /// The message as is (no `error:`), exit 2: the user declined what the command would have done.
    Declined,
    /// Nothing printed, exit with this code (stdout closed by the reader: a quiet 0, as ripgrep does).
    Quiet(u8),
}

impl Failure {
    /// A failure without a hint.
    pub fn new(message: impl Into<String>) -> Self {
        Failure { message: message.into(), hint: None, form: Form::Error, source: None }
    }

    /// A failure with a hint.
    pub fn with_hint(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Failure { message: message.into(), hint: Some(hint.into()), form: Form::Error, source: None }
    }

    /// The user declined: the message is said as is, exit 2.
    pub fn declined(message: impl Into<String>) -> Self {
        Failure { form: Form::Declined, ..Failure::new(message) }
    }

    /// End the run quietly with `code` (the reader closed stdout).
    pub fn quiet(code: u8) -> Self {
        Failure { form: Form::Quiet(code), ..Failure::new("") }
    }

    /// Keep `source` as the cause of this failure.
    pub fn caused_by(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// The process exit code: 2 (could not run, or declined), or a quiet exit's own.
    pub fn exit_code(&self) -> u8 {
        match self.form {
            Form::Error | Form::Declined => 2,
            Form::Quiet(code) => code,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Result type of every command.
pub type Result<T, E = Failure> = std::result::Result<T, E>;

/// The innermost, most specific message of an error chain, flattened to one line.
pub fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = vec![err.to_string()];
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = e.source();
    }
    // The last one or two causes say the most ("Connection refused (os error 111)").
    let tail: Vec<&String> = parts.iter().rev().take(2).collect();
    let msg = tail.into_iter().rev().cloned().collect::<Vec<_>>().join(": ");
    msg.replace('\n', " ")
}
