//! Live only, after the listing: what ServiceAccounts may do, and Envoy Gateway's configuration.
//! - May each endpoint picker's ServiceAccount read what the picker watches (and Envoy Gateway's
//!   controller read InferencePools)? One SubjectAccessReview per distinct ServiceAccount, verb and
//!   resource (`all_access_requests`), run concurrently. A user who may not create
//!   SubjectAccessReviews gets the slot marked Forbidden, so checks are skipped with that reason.
//! - When Envoy Gateway is present (its GatewayClass controllerName or its controller Deployment),
//!   one GET of ConfigMap envoy-gateway-system/envoy-gateway-config (Envoy Gateway's helm chart
//!   renders its EnvoyGateway configuration there, key `envoy-gateway.yaml`:
//!   envoyproxy/gateway charts/gateway-helm/templates/envoy-gateway-config.yaml).

use crate::catalog::{ProviderId, PROVIDERS};
use crate::cluster::Connection;
use crate::error::Result;
use crate::snapshot::{service_account_of, AccessReview, Collected, Snapshot, TrafficPolicyView, ENVOY_GATEWAY_CONFIG};
use futures::stream::{self, StreamExt};
use k8s_openapi::api::authorization::v1::{ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams};
use kube::api::{ApiResource, DynamicObject, ListParams};
use std::collections::BTreeSet;

/// Fill `snap.sa_access` and `snap.envoy_gateway_config` from the listed objects.
pub async fn collect_access(conn: &Connection, snap: &mut Snapshot) -> Result<()> {
    let mut requests = snap.all_access_requests();
    if let Some(eg) = PROVIDERS.iter().find(|p| p.id == ProviderId::EnvoyAiGateway) {
        let class =
            snap.gateway_classes.items().iter().any(|c| eg.controller_names.contains(&c.spec.controller_name.as_str()));
        let controllers: Vec<_> = snap
            .deployments
            .items()
            .iter()
            .filter(|d| {
                d.metadata.namespace.as_deref() == Some(eg.namespace)
                    && eg.deployment_names.contains(&d.metadata.name.as_deref().unwrap_or(""))
            })
            .collect();
        for d in &controllers {
            requests.extend(Snapshot::pool_reader_requests(eg.namespace, service_account_of(&d.spec.template)));
        }
        if class || !controllers.is_empty() {
            collect_envoy_gateway_config(conn, snap).await?;
            collect_traffic_policies(conn, snap).await?;
        }
    }
    collect_reviews(conn, snap, requests).await
}

async fn collect_envoy_gateway_config(conn: &Connection, snap: &mut Snapshot) -> Result<()> {
    let (ns, name, key) = ENVOY_GATEWAY_CONFIG;
    let api: Api<ConfigMap> = Api::namespaced(conn.client.clone(), ns);
    snap.envoy_gateway_config = match api.get_opt(name).await {
        Ok(Some(cm)) => match cm.data.and_then(|mut d| d.remove(key)) {
            Some(text) => Collected::Listed(vec![text]),
            None => Collected::Absent,
        },
        Ok(None) => Collected::Absent,
        Err(kube::Error::Api(s)) if s.is_forbidden() => {
            Collected::Forbidden { verb: "get".into(), resource: format!("configmaps in namespace {ns}") }
        }
        Err(e) => return Err(conn.explain(&format!("cannot read ConfigMap {ns}/{name}"), &e)),
    };
    Ok(())
}

/// Envoy Gateway's BackendTrafficPolicies (gateway.envoyproxy.io/v1alpha1), only when their CRD is
/// installed (or CRDs cannot be listed): cluster-wide, or with `-n` in that namespace and the
/// namespaces of the Gateways its routes attach to (a policy attaches to objects of its own
/// namespace). 404 → Absent, 403 → Forbidden.
async fn collect_traffic_policies(conn: &Connection, snap: &mut Snapshot) -> Result<()> {
    const CRD: &str = "backendtrafficpolicies.gateway.envoyproxy.io";
    if snap.crds.is_listed() && snap.crd(CRD).is_none() {
        snap.backend_traffic_policies = Collected::Absent;
        return Ok(());
    }
    let ar = ApiResource {
        group: "gateway.envoyproxy.io".into(),
        version: "v1alpha1".into(),
        api_version: "gateway.envoyproxy.io/v1alpha1".into(),
        kind: "BackendTrafficPolicy".into(),
        plural: "backendtrafficpolicies".into(),
    };
    let scopes: Vec<Option<String>> = match &snap.namespace {
        None => vec![None],
        Some(ns) => {
            let mut namespaces: BTreeSet<String> = BTreeSet::from([ns.clone()]);
            for route in snap.http_routes.items() {
                for parent in &route.spec.parent_refs {
                    namespaces.insert(parent.namespace.clone().unwrap_or_else(|| route.metadata.ns().to_string()));
                }
            }
            namespaces.into_iter().map(Some).collect()
        }
    };
    let mut policies = Vec::new();
    for scope in scopes {
        let api: Api<DynamicObject> = match &scope {
            Some(ns) => Api::namespaced_with(conn.client.clone(), ns, &ar),
            None => Api::all_with(conn.client.clone(), &ar),
        };
        match api.list(&ListParams::default()).await {
            Ok(list) => {
                for obj in list.items {
                    let value = serde_json::to_value(&obj)
                        .map_err(|e| crate::error::Failure::new(format!("cannot read a BackendTrafficPolicy: {e}")))?;
                    policies.push(TrafficPolicyView::from_value(&value));
                }
            }
            Err(kube::Error::Api(s)) if s.code == 404 => {
                snap.backend_traffic_policies = Collected::Absent;
                return Ok(());
            }
            Err(kube::Error::Api(s)) if s.is_forbidden() => {
                let place = scope.map_or(" in all namespaces".to_string(), |ns| format!(" in namespace {ns}"));
                snap.backend_traffic_policies =
                    Collected::Forbidden { verb: "list".into(), resource: format!("{CRD}{place}") };
                return Ok(());
            }
            Err(e) => return Err(conn.explain(&format!("cannot list {CRD}"), &e)),
        }
    }
    snap.backend_traffic_policies = Collected::Listed(policies);
    Ok(())
}

/// SubjectAccessReviews sent at once.
const REVIEWS_IN_FLIGHT: usize = 32;

async fn collect_reviews(
    conn: &Connection,
    snap: &mut Snapshot,
    requests: std::collections::BTreeSet<crate::snapshot::AccessRequest>,
) -> Result<()> {
    let api: Api<SubjectAccessReview> = Api::all(conn.client.clone());
    let reviews: Vec<SubjectAccessReview> = requests
        .iter()
        .map(|r| {
            // The identity and groups the API server gives a ServiceAccount token.
            SubjectAccessReview {
                spec: SubjectAccessReviewSpec {
                    user: Some(format!("system:serviceaccount:{}:{}", r.sa_namespace, r.sa_name)),
                    groups: Some(vec![
                        "system:serviceaccounts".into(),
                        format!("system:serviceaccounts:{}", r.sa_namespace),
                        "system:authenticated".into(),
                    ]),
                    resource_attributes: Some(ResourceAttributes {
                        group: Some(r.group.clone()),
                        resource: Some(r.resource.to_string()),
                        verb: Some(r.verb.to_string()),
                        namespace: Some(r.namespace.clone()).filter(|n| !n.is_empty()),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                ..Default::default()
            }
        })
        .collect();
    let jobs = reviews.into_iter().map(|review| {
        let api = api.clone();
        async move { api.create(&PostParams::default(), &review).await }
    });
    let mut reviews = Vec::new();
    // Bounded: a cluster with hundreds of pickers should not open hundreds of requests at once.
    let answers: Vec<_> = stream::iter(jobs).buffered(REVIEWS_IN_FLIGHT).collect().await;
    for (request, answer) in requests.iter().zip(answers) {
        match answer {
            Ok(r) => {
                reviews.push(AccessReview { request: request.clone(), allowed: r.status.is_some_and(|s| s.allowed) })
            }
            Err(kube::Error::Api(s)) if s.is_forbidden() => {
                snap.sa_access = Collected::Forbidden {
                    verb: "create".into(),
                    resource: "subjectaccessreviews.authorization.k8s.io".into(),
                };
                return Ok(());
            }
            Err(e) => return Err(conn.explain("cannot review the endpoint pickers' permissions", &e)),
        }
    }
    snap.sa_access = Collected::Listed(reviews);
    Ok(())
}
