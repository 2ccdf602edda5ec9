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

/// Turn a kube error into a one-line failure naming the action and the server.
pub fn explain_kube_error(action: &str, server: &str, err: &kube::Error) -> Failure {
    use kube::Error as E;
    match err {
        E::Api(status) if status.is_forbidden() => Failure::with_hint(
            format!("{action} on {server}: forbidden: {}", status.message),
            "ask a cluster administrator for the missing permission, or choose another --context/--user",
        ),
        E::Api(status) if status.code == 401 => Failure::with_hint(
            format!("{action} on {server}: unauthorized: the credentials were rejected (expired or invalid)"),
            "refresh your credentials (e.g. log in again) or pick another --context/--user",
        ),
        E::Api(status) => Failure::new(format!(
            "{action} on {server}: the server answered {} {}: {}",
            status.code, status.reason, status.message
        )),
        E::Auth(e) => Failure::with_hint(
            format!("{action} on {server}: could not obtain credentials: {e}"),
            "check the user entry of your kubeconfig (token, client certificate or exec plugin)",
        ),
        other => {
            let mut cause = root_cause(other);
            if cause.contains("deadline has elapsed") {
                cause = "no answer within the request timeout".into();
            }
            let lower = cause.to_lowercase();
            let hint = if lower.contains("timed out") || lower.contains("elapsed") || lower.contains("timeout") {
                "the server did not answer in time: check that it is up and reachable, or raise --request-timeout"
            } else if lower.contains("refused")
                || lower.contains("dns")
                || lower.contains("resolve")
                || lower.contains("unreachable")
            {
                "the server is unreachable: check that the cluster is running and the kubeconfig's server address"
            } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
                "TLS failed: check certificate-authority-data in your kubeconfig"
            } else {
                "check that the cluster is running and reachable with `kubectl cluster-info`"
            };
            Failure::with_hint(format!("{action} on {server}: {cause}"), hint)
        }
    }
}

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
