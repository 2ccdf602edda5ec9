//! What kind of failure a kube error is: the one classifier every caller matches on, instead of
//! looking for "404" or "forbidden" in a message; and the one wording of a kube error for users.

use crate::error::{root_cause, Failure};

/// The kind of a failed API request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Class {
    /// 404: the object (or its kind) does not exist.
    NotFound,
    /// 403, with what the server named (`details.kind` is the resource, e.g. "pods"; `group` its API group).
    Forbidden { resource: Option<String>, group: Option<String> },
    /// 409: a conflict (already exists, or a field owned by another manager).
    Conflict,
    /// 401: the credentials were rejected.
    Unauthorized,
    /// No answer within the request timeout.
    Timeout,
    /// The server could not be reached: connection refused, DNS, no route.
    Unreachable,
    /// The connection was made, then the server closed or reset it before answering.
    Reset,
    /// The TLS handshake failed (certificate not trusted, wrong name, protocol).
    Tls,
    /// The credentials could not be obtained (token file, exec plugin).
    Auth,
    /// Anything else (another status, an unreadable answer).
    Other,
}

/// Classify a kube error by its type (and, for transport errors, by the io/TLS error inside it).
pub fn classify(err: &kube::Error) -> Class {
    use kube::Error as E;
    match err {
        E::Api(status) => match status.code {
            404 => Class::NotFound,
            403 => Class::Forbidden {
                resource: status.details.as_ref().map(|d| d.kind.clone()).filter(|k| !k.is_empty()),
                group: status.details.as_ref().map(|d| d.group.clone()).filter(|g| !g.is_empty()),
            },
            409 => Class::Conflict,
            401 => Class::Unauthorized,
            _ => Class::Other,
        },
        E::Auth(_) => Class::Auth,
        E::RustlsTls(_) => Class::Tls,
        other => transport(other),
    }
}

/// Walk an error chain for the io, TLS or timeout error that says what happened on the wire.
fn transport(err: &(dyn std::error::Error + 'static)) -> Class {
    let mut cur = Some(err);
    let mut found = Class::Other;
    while let Some(e) = cur {
        if e.downcast_ref::<tokio::time::error::Elapsed>().is_some() {
            return Class::Timeout;
        }
        if e.downcast_ref::<rustls::Error>().is_some() {
            return Class::Tls;
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            match io.kind() {
                K::TimedOut => return Class::Timeout,
                K::ConnectionRefused | K::HostUnreachable | K::NetworkUnreachable | K::AddrNotAvailable => {
                    return Class::Unreachable
                }
                K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => return Class::Reset,
                // rustls reports handshake failures as InvalidData wrapping a rustls::Error (found below).
                _ => {}
            }
        }
        if let Some(h) = e.downcast_ref::<hyper::Error>() {
            if h.is_timeout() {
                return Class::Timeout;
            }
            if h.is_incomplete_message() || h.is_canceled() {
                found = Class::Reset;
            }
        }
        if let Some(c) = e.downcast_ref::<hyper_util::client::legacy::Error>() {
            // A connect error without a more specific io cause below it: DNS or routing.
            if c.is_connect() && found == Class::Other {
                found = Class::Unreachable;
            }
        }
        // io::Error::source skips the error it wraps (rustls' InvalidCertificate…): look inside it.
        cur = match e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    found
}

/// True when the error says the object (or its kind) does not exist.
pub fn is_not_found(err: &kube::Error) -> bool {
    classify(err) == Class::NotFound
}

/// True when the error says the request was forbidden.
pub fn is_forbidden(err: &kube::Error) -> bool {
    matches!(classify(err), Class::Forbidden { .. })
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16) -> kube::Error {
        kube::Error::Api(Box::new(kube::core::Status::failure("no", "Reason").with_code(code)))
    }

    #[test]
    fn statuses_are_classified_by_code() {
        assert_eq!(classify(&status(404)), Class::NotFound);
        assert_eq!(classify(&status(403)), Class::Forbidden { resource: None, group: None });
        assert_eq!(classify(&status(409)), Class::Conflict);
        assert_eq!(classify(&status(401)), Class::Unauthorized);
        assert_eq!(classify(&status(500)), Class::Other);
    }

    #[test]
    fn a_reset_is_a_reset_not_tls() {
        let io = |k| kube::Error::Service(Box::new(std::io::Error::new(k, "x")));
        assert_eq!(classify(&io(std::io::ErrorKind::ConnectionReset)), Class::Reset);
        assert_eq!(classify(&io(std::io::ErrorKind::ConnectionRefused)), Class::Unreachable);
        assert_eq!(classify(&io(std::io::ErrorKind::TimedOut)), Class::Timeout);
        let tls = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        assert_eq!(classify(&kube::Error::Service(Box::new(tls))), Class::Tls);
    }
}
