//! Checks: admission. The Gateway API safe-upgrades ValidatingAdmissionPolicy against the profile and the
//! installed channels, and admission webhooks on Gateway API / GAIE kinds that point at missing Services.

use super::crds::{core, gateway_install_cmd, gateway_install_needed, newest_gateway_bundle, release_version};
use super::{Check, CheckContext, Issue};
use crate::catalog::{self, annotations, GATEWAY_ADMISSION_WEBHOOK, SAFE_UPGRADES_POLICY};
use crate::findings::Category;
use crate::model::{groups, ObjectRef};
use crate::repair::Repair;
use crate::snapshot::{Kind, Snapshot};
use k8s_openapi::api::admissionregistration::v1::{ValidatingAdmissionPolicy, ValidatingWebhookConfiguration};
use semver::Version;

/// Checks of this area.
pub static CHECKS: &[Check] = &[
    Check {
        code: "LLMD-ADM-001",
        title: "The safe-upgrades policy allows installing the Gateway API CRDs the cluster lacks",
        category: Category::Admission,
        needs: &[Kind::AdmissionPolicies, Kind::Crds],
        run: policy_allows_profile,
    },
    Check {
        code: "LLMD-ADM-002",
        title: "The safe-upgrades policy does not block re-applying the installed experimental CRDs",
        category: Category::Admission,
        needs: &[Kind::AdmissionPolicies, Kind::Crds],
        run: policy_allows_channel,
    },
    Check {
        code: "LLMD-ADM-003",
        title: "Admission webhooks on Gateway API and GAIE kinds reach their Services",
        category: Category::Admission,
        needs: &[Kind::Webhooks, Kind::Services, Kind::Crds],
        run: webhooks_reachable,
    },
];

/// The denial messages of the policy (Gateway API v1.5+), fragments users will see.
const DENY_OLD: &str = "Installing CRDs with version before v1.5.0 is prohibited by default.";
const DENY_EXPERIMENTAL: &str =
    "Installing experimental CRDs on top of standard channel CRDs is prohibited by default.";

fn policy_ref() -> ObjectRef {
    ObjectRef::new("ValidatingAdmissionPolicy", "admissionregistration.k8s.io", "", SAFE_UPGRADES_POLICY)
}

fn safe_upgrades_policy(snap: &Snapshot) -> Option<&ValidatingAdmissionPolicy> {
    snap.admission_policies.items().iter().find(|p| p.metadata.name.as_deref() == Some(SAFE_UPGRADES_POLICY))
}

/// The command removing the policy and its binding: the way out its own messages give.
fn delete_policy_cmd() -> String {
    format!("kubectl delete validatingadmissionpolicybinding,validatingadmissionpolicy {SAFE_UPGRADES_POLICY}")
}

/// The oldest bundle the policy admits, read from its own message ("... before vX.Y.Z is prohibited"),
/// so a later policy with a higher floor is honoured; v1.5.0 otherwise.
fn policy_floor(policy: &ValidatingAdmissionPolicy) -> (Version, String) {
    let messages = policy.spec.iter().flat_map(|s| s.validations.iter().flatten()).filter_map(|v| v.message.as_deref());
    for m in messages {
        if let Some(rest) = m.split("version before ").nth(1) {
            let token = rest.split_whitespace().next().unwrap_or("");
            if let Some(v) = catalog::parse_version(token.trim_end_matches('.')) {
                // The first sentence: up to ". " (version numbers hold dots too).
                let sentence = m.find(". ").map_or(m, |i| &m[..=i]).to_string();
                return (v, sentence);
            }
        }
    }
    (Version::new(1, 5, 0), DENY_OLD.to_string())
}

// LLMD-ADM-001
fn policy_allows_profile(ctx: &CheckContext) -> Vec<Issue> {
    let (snap, profile) = (ctx.snapshot, ctx.profile);
    let Some(policy) = safe_upgrades_policy(snap) else { return Vec::new() };
    // Only what a repair would install matters: a cluster that needs no Gateway API install is fine
    // as it is, whatever the policy would say about an older bundle (the profile is a minimum).
    let Some(wanted) = gateway_install_needed(snap, profile) else { return Vec::new() };
    let Some(target) = release_version(&wanted) else { return Vec::new() };
    let (floor, denial) = policy_floor(policy);
    if core(&target) >= core(&floor) {
        return Vec::new();
    }
    vec![Issue::warning(
        policy_ref(),
        format!(
            "ValidatingAdmissionPolicy {SAFE_UPGRADES_POLICY} refuses Gateway API bundles before v{floor}, so installing the Gateway API {wanted} CRDs this cluster lacks is denied: \"{denial}\""
        ),
        format!(
            "install the missing CRDs from a bundle at v{floor} or newer (kubectl llmd doctor --profile current), or remove the policy before installing {wanted}: {}",
            delete_policy_cmd()
        ),
    )]
}

// LLMD-ADM-002
fn policy_allows_channel(ctx: &CheckContext) -> Vec<Issue> {
    let (snap, profile) = (ctx.snapshot, ctx.profile);
    if safe_upgrades_policy(snap).is_none() {
        return Vec::new();
    }
    // The policy only judges CRDs of gateway.networking.k8s.io.
    let channel_of = |wanted: &str| -> Vec<&str> {
        snap.crds
            .items()
            .iter()
            .filter(|c| c.spec.group == groups::GATEWAY && c.annotation(annotations::GATEWAY_CHANNEL) == Some(wanted))
            .map(|c| c.metadata.name.as_str())
            .collect()
    };
    let (standard, experimental) = (channel_of("standard"), channel_of("experimental"));
    if standard.is_empty() || experimental.is_empty() {
        return Vec::new();
    }
    let version = newest_gateway_bundle(snap).map_or(profile.gateway_api.clone(), |(v, _)| format!("v{v}"));
    vec![Issue::warning(
        policy_ref(),
        format!(
            "Experimental Gateway API CRDs ({}) sit next to standard ones ({}), and ValidatingAdmissionPolicy {SAFE_UPGRADES_POLICY} refuses re-applying the experimental channel over them: \"{DENY_EXPERIMENTAL}\"",
            experimental.join(", "),
            standard.join(", ")
        ),
        format!(
            "to move to the experimental channel, remove the policy first: {} && {}",
            delete_policy_cmd(),
            gateway_install_cmd(&version, true)
        ),
    )]
}

/// True when a webhook rule covers a Gateway API or GAIE group.
fn touches_our_groups(vwc: &ValidatingWebhookConfiguration) -> bool {
    vwc.webhooks.iter().flatten().flat_map(|w| w.rules.iter().flatten()).any(|r| {
        r.api_groups.iter().flatten().any(|g| {
            g == "*"
                || [groups::GATEWAY, groups::GATEWAY_X, groups::INFERENCE, groups::INFERENCE_X, groups::LLMD]
                    .contains(&g.as_str())
        })
    })
}

/// The resources a configuration intercepts, for the message ("gateways, httproutes").
fn resources(vwc: &ValidatingWebhookConfiguration) -> String {
    let mut out: Vec<&str> = vwc
        .webhooks
        .iter()
        .flatten()
        .flat_map(|w| w.rules.iter().flatten())
        .flat_map(|r| r.resources.iter().flatten())
        .map(String::as_str)
        .collect();
    out.sort_unstable();
    out.dedup();
    if out.is_empty() {
        "Gateway API objects".to_string()
    } else {
        out.join(", ")
    }
}

// LLMD-ADM-003
fn webhooks_reachable(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    for vwc in snap.webhooks.items() {
        let name = vwc.metadata.name.as_deref().unwrap_or("");
        let legacy = name == GATEWAY_ADMISSION_WEBHOOK;
        if !legacy && !touches_our_groups(vwc) {
            continue;
        }
        let object = ObjectRef::new("ValidatingWebhookConfiguration", "admissionregistration.k8s.io", "", name);
        let delete = format!("kubectl delete validatingwebhookconfiguration {name}");
        // Services we can vouch for: listed, and in a namespace that was collected.
        let mut missing = Vec::new();
        let mut blocking = false;
        for w in vwc.webhooks.iter().flatten() {
            let Some(svc) = &w.client_config.service else { continue };
            if snap.services.is_listed()
                && snap.in_scope(&svc.namespace)
                && snap.service(&svc.namespace, &svc.name).is_none()
            {
                missing.push(format!("{}/{}", svc.namespace, svc.name));
                blocking |= w.failure_policy.as_deref() != Some("Ignore");
            }
        }
        missing.sort_unstable();
        missing.dedup();
        if !missing.is_empty() {
            let what = resources(vwc);
            let message = if blocking {
                format!(
                    "ValidatingWebhookConfiguration {name} sends writes of {what} to Service {}, which does not exist: every create or update of them fails with failed calling webhook",
                    missing.join(", ")
                )
            } else {
                format!(
                    "ValidatingWebhookConfiguration {name} sends writes of {what} to Service {}, which does not exist (failurePolicy Ignore: writes pass unvalidated after each call fails)",
                    missing.join(", ")
                )
            };
            let hint = if legacy {
                format!("{delete} (the Gateway API v1.0 admission webhook; validation moved into the CRDs in v1.1)")
            } else {
                format!(
                    "{delete}, if the component that registered it is gone; otherwise restore Service {}",
                    missing[0]
                )
            };
            let issue = if blocking {
                Issue::error(object.clone(), message, hint)
            } else {
                Issue::warning(object.clone(), message, hint)
            };
            out.push(if legacy { issue.repair(Repair::Delete { target: object }) } else { issue });
            continue;
        }
        // The v1.0 webhook still running next to newer CRDs validates with v1.0's rules.
        if legacy {
            if let Some((installed, _)) = newest_gateway_bundle(snap) {
                if core(&installed) >= (1, 1, 0) {
                    out.push(
                        Issue::warning(
                            object.clone(),
                            format!(
                                "The Gateway API v1.0 admission webhook {name} is still registered though the CRDs are at v{installed}: it validates routes with v1.0's rules and may reject fields added since"
                            ),
                            format!("{delete} (validation lives in the CRDs since v1.1)"),
                        )
                        .repair(Repair::Delete { target: object }),
                    );
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Profile;
    use crate::checks::crds::testing::{crd, gateway_standard};
    use crate::checks::fixtures;
    use crate::findings::Severity;

    fn issues(code: &str, yaml: &str, profile: &Profile) -> Vec<Issue> {
        let snap = fixtures::snapshot(yaml);
        let ctx = CheckContext { snapshot: &snap, profile };
        (CHECKS.iter().find(|c| c.code == code).expect("code").run)(&ctx)
    }

    fn policy(floor: &str) -> String {
        format!(
            "apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: safe-upgrades.gateway.networking.k8s.io
spec:
  failurePolicy: Fail
  validations:
  - expression: \"true\"
    message: \"Installing experimental CRDs on top of standard channel CRDs is prohibited by default. Uninstall it.\"
  - expression: \"true\"
    message: \"Installing CRDs with version before {floor} is prohibited by default. Uninstall it.\"
---
"
        )
    }

    #[test]
    fn adm_001_a_newer_install_than_the_profile_is_not_a_finding() {
        // The current guides' install (v1.5.1 with its policy) judged by the prerequisite's minimum v1.3.0:
        // nothing needs installing, so the policy's refusal of v1.3.0 is nobody's problem.
        let yaml = gateway_standard("v1.5.1") + &policy("v1.5.0");
        assert_eq!(fixtures::run(CHECKS, &fixtures::snapshot(&yaml), &fixtures::prereq()), vec![]);
        assert!(issues("LLMD-ADM-001", &yaml, &fixtures::current()).is_empty());
        assert!(issues("LLMD-ADM-001", &gateway_standard("v1.3.0"), &fixtures::prereq()).is_empty());
    }

    #[test]
    fn adm_001_policy_refuses_the_bundle_a_repair_would_install() {
        // The CRDs are gone but the policy stayed: installing the profile's v1.3.0 is denied.
        let yaml = policy("v1.5.0");
        let found = fixtures::run(CHECKS, &fixtures::snapshot(&yaml), &fixtures::prereq());
        assert_eq!(found, vec![("LLMD-ADM-001".to_string(), SAFE_UPGRADES_POLICY.to_string(), Severity::Warning)]);
        let i = &issues("LLMD-ADM-001", &yaml, &fixtures::prereq())[0];
        assert!(i.message.contains("v1.3.0") && i.message.contains(DENY_OLD), "{}", i.message);
        assert!(i.hint.contains(&delete_policy_cmd()));
        assert!(issues("LLMD-ADM-001", &yaml, &fixtures::current()).is_empty());
    }

    #[test]
    fn adm_002_policy_blocks_the_experimental_channel() {
        let exp = crd(
            "tcproutes.gateway.networking.k8s.io",
            "TCPRoute",
            &["v1alpha2"],
            &["v1alpha2"],
            &[(annotations::GATEWAY_BUNDLE, "v1.5.1"), (annotations::GATEWAY_CHANNEL, "experimental")],
        );
        let yaml = gateway_standard("v1.5.1") + &exp + &policy("v1.5.0");
        let found = fixtures::run(CHECKS, &fixtures::snapshot(&yaml), &fixtures::current());
        assert_eq!(found, vec![("LLMD-ADM-002".to_string(), SAFE_UPGRADES_POLICY.to_string(), Severity::Warning)]);
        let i = &issues("LLMD-ADM-002", &yaml, &fixtures::current())[0];
        assert!(i.message.contains(DENY_EXPERIMENTAL) && i.message.contains("tcproutes"));
        assert!(i.hint.contains("config/crd/experimental?ref=v1.5.1") && i.hint.contains(&delete_policy_cmd()));
        // Without the policy, or on a single channel, nothing to refuse.
        assert!(issues("LLMD-ADM-002", &(gateway_standard("v1.5.1") + &exp), &fixtures::current()).is_empty());
        let one = gateway_standard("v1.5.1") + &policy("v1.5.0");
        assert!(issues("LLMD-ADM-002", &one, &fixtures::current()).is_empty());
    }

    fn webhook(name: &str, svc_ns: &str, svc: &str, groups: &str, failure: &str) -> String {
        format!(
            "apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: {name}
webhooks:
- name: validate.{name}.example.com
  admissionReviewVersions: [v1]
  sideEffects: None
  failurePolicy: {failure}
  clientConfig:
    service: {{name: {svc}, namespace: {svc_ns}, path: /validate}}
  rules:
  - apiGroups: [{groups}]
    apiVersions: ['*']
    operations: [CREATE, UPDATE]
    resources: [gateways, httproutes]
---
"
        )
    }

    const ADMISSION_SVC: &str = "apiVersion: v1
kind: Service
metadata: {name: gateway-api-admission-server, namespace: gateway-system}
spec:
  ports: [{port: 443}]
---
";

    #[test]
    fn adm_003_leftover_gateway_webhook_without_service() {
        let yaml = gateway_standard("v1.3.0")
            + &webhook(
                GATEWAY_ADMISSION_WEBHOOK,
                "gateway-system",
                "gateway-api-admission-server",
                "gateway.networking.k8s.io",
                "Fail",
            );
        let found = fixtures::run(CHECKS, &fixtures::snapshot(&yaml), &fixtures::prereq());
        assert_eq!(found, vec![("LLMD-ADM-003".to_string(), GATEWAY_ADMISSION_WEBHOOK.to_string(), Severity::Error)]);
        let i = &issues("LLMD-ADM-003", &yaml, &fixtures::prereq())[0];
        assert!(i.repair.is_some());
        assert!(i.message.contains("gateway-system/gateway-api-admission-server") && i.message.contains("httproutes"));
        assert!(i.hint.starts_with("kubectl delete validatingwebhookconfiguration gateway-api-admission"));
    }

    #[test]
    fn adm_003_respects_scope_and_service_presence() {
        let hook = webhook(
            GATEWAY_ADMISSION_WEBHOOK,
            "gateway-system",
            "gateway-api-admission-server",
            "gateway.networking.k8s.io",
            "Fail",
        );
        // Service present with v1.0 CRDs: the webhook belongs there.
        let v10 = gateway_standard("v1.0.0") + &hook + ADMISSION_SVC;
        assert!(issues("LLMD-ADM-003", &v10, &fixtures::prereq()).is_empty());
        // Service present but CRDs are newer: the webhook is a leftover (warning, still fixable).
        let v13 = gateway_standard("v1.3.0") + &hook + ADMISSION_SVC;
        let i = &issues("LLMD-ADM-003", &v13, &fixtures::prereq())[0];
        assert_eq!(i.severity, Severity::Warning);
        assert!(i.repair.is_some());
        // `-n other`: gateway-system was not collected, so the Service cannot be called missing.
        let mut snap = fixtures::snapshot(&(gateway_standard("v1.0.0") + &hook));
        snap.namespace = Some("other".into());
        let ctx = CheckContext { snapshot: &snap, profile: &fixtures::prereq() };
        assert!(webhooks_reachable(&ctx).is_empty());
    }

    #[test]
    fn adm_003_other_webhooks_on_inference_kinds() {
        let hook = webhook("pool-validator", "llm", "pool-validator", "inference.networking.k8s.io", "Fail");
        let i = &issues("LLMD-ADM-003", &hook, &fixtures::prereq())[0];
        assert_eq!(i.severity, Severity::Error);
        assert!(i.repair.is_none());
        assert!(i.hint.contains("restore Service llm/pool-validator"));
        let ignore = webhook("pool-validator", "llm", "pool-validator", "inference.networking.k8s.io", "Ignore");
        assert_eq!(issues("LLMD-ADM-003", &ignore, &fixtures::prereq())[0].severity, Severity::Warning);
        // Webhooks on unrelated groups are someone else's business.
        let other = webhook("cert-checker", "x", "gone", "cert-manager.io", "Fail");
        assert!(issues("LLMD-ADM-003", &other, &fixtures::prereq()).is_empty());
    }
}
