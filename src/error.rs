//! The one error type a command returns when it could not do its job (exit code 2).

use std::fmt;

/// A failure the user can act on: one line saying what failed and why, and a hint.
#[derive(Debug)]
pub struct Failure {
    /// What failed, naming the object, file or server involved.
    pub message: String,
    /// What to do about it, when we know.
    pub hint: Option<String>,
}

impl Failure {
    /// A failure without a hint.
    pub fn new(message: impl Into<String>) -> Self {
        Failure { message: message.into(), hint: None }
    }

    /// A failure with a hint.
    pub fn with_hint(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Failure { message: message.into(), hint: Some(hint.into()) }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

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
            use crate::cluster::error::{classify, Class};
            let mut cause = root_cause(other);
            let class = classify(other);
            if class == Class::Timeout && cause.contains("deadline has elapsed") {
                cause = "no answer within the request timeout".into();
            }
            let hint = match class {
                Class::Timeout => {
                    "the server did not answer in time: check that it is up and reachable, or raise --request-timeout"
                }
                Class::Unreachable => {
                    "the server is unreachable: check that the cluster is running and the kubeconfig's server address"
                }
                Class::Reset => {
                    "the server closed the connection before answering: retry, and check the server (or a proxy in front of it) if it persists"
                }
                Class::Tls => "TLS failed: check certificate-authority-data in your kubeconfig",
                _ => "check that the cluster is running and reachable with `kubectl cluster-info`",
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
