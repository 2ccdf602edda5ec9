//! Live only: may each endpoint picker's ServiceAccount read what the picker watches? One
//! SubjectAccessReview per distinct ServiceAccount, verb and resource (`all_picker_access_requests`),
//! run concurrently after the listing. A user who may not create SubjectAccessReviews gets the
//! slot marked Forbidden, so the check is skipped with that reason instead of guessing.

use crate::cluster::Connection;
use crate::error::Result;
use crate::snapshot::{AccessReview, Collected, Snapshot};
use futures::future::join_all;
use k8s_openapi::api::authorization::v1::{ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec};
use kube::api::{Api, PostParams};

/// Fill `snap.picker_access` from the listed objects.
pub async fn collect_picker_access(conn: &Connection, snap: &mut Snapshot) -> Result<()> {
    let requests = snap.all_picker_access_requests();
    let api: Api<SubjectAccessReview> = Api::all(conn.client.clone());
    let jobs = requests.iter().map(|r| {
        let api = api.clone();
        // The identity and groups the API server gives a ServiceAccount token.
        let review = SubjectAccessReview {
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
                    namespace: Some(r.namespace.clone()),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        conn.count_request();
        async move { api.create(&PostParams::default(), &review).await }
    });
    let mut reviews = Vec::new();
    for (request, answer) in requests.iter().zip(join_all(jobs).await) {
        match answer {
            Ok(r) => reviews.push(AccessReview {
                request: request.clone(),
                allowed: r.status.is_some_and(|s| s.allowed),
            }),
            Err(kube::Error::Api(s)) if s.is_forbidden() => {
                snap.picker_access = Collected::Forbidden {
                    verb: "create".into(),
                    resource: "subjectaccessreviews.authorization.k8s.io".into(),
                };
                return Ok(());
            }
            Err(e) => return Err(conn.explain("cannot review the endpoint pickers' permissions", &e)),
        }
    }
    snap.picker_access = Collected::Listed(reviews);
    Ok(())
}
