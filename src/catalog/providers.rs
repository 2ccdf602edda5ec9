//! Gateway providers that implement InferencePool: how to recognise them and their inference switch.

/// Known providers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProviderId {
    Istio,
    OpenshiftServiceMesh,
    Agentgateway,
    Kgateway,
    Gke,
    NginxGatewayFabric,
    EnvoyAiGateway,
}

/// How a provider shows that inference support is switched on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InferenceSwitch {
    /// An env var on the controller container must equal "true".
    Env(&'static str),
    /// A container arg must be present.
    Arg(&'static str),
    /// Support is built in when the class exists (managed).
    Builtin,
    /// Configured in the controller's config (not visible in the Deployment).
    Config(&'static str),
}

/// A helm chart of an install recipe.
#[derive(Debug, Clone, Copy)]
pub struct ChartFact {
    /// Helm release name.
    pub release: &'static str,
    /// Chart reference (repo/chart or oci://…).
    pub chart: &'static str,
    /// `--set` values llm-d passes.
    pub values: &'static [(&'static str, &'static str)],
}

/// One provider.
#[derive(Debug, Clone, Copy)]
pub struct Provider {
    pub id: ProviderId,
    /// Human name.
    pub name: &'static str,
    /// GatewayClass names it installs.
    pub class_names: &'static [&'static str],
    /// spec.controllerName values.
    pub controller_names: &'static [&'static str],
    /// Namespace the control plane runs in (by default).
    pub namespace: &'static str,
    /// Name prefixes of the controller Deployment.
    pub deployment_names: &'static [&'static str],
    /// Container image fragments that identify the controller.
    pub image_markers: &'static [&'static str],
    /// How inference support shows.
    pub inference_switch: InferenceSwitch,
    /// Minimum version that speaks InferencePool v1.
    pub min_inference_version: &'static str,
    /// Versions known to break InferencePool routing, with the reason.
    pub known_bad: &'static [(&'static str, &'static str)],
    /// Helm charts, in install order (empty: not installed by us).
    pub charts: &'static [ChartFact],
    /// How inference support is switched on, in words (the printed command is built from the
    /// controller's install method and version: `checks::gatewayclasses::enable_command`).
    pub enable_hint: &'static str,
}

/// Every provider we know.
pub const PROVIDERS: &[Provider] = &[
    Provider {
        id: ProviderId::Istio,
        name: "Istio",
        class_names: &["istio", "istio-remote", "istio-waypoint", "istio-east-west"],
        controller_names: &["istio.io/gateway-controller"],
        namespace: "istio-system",
        deployment_names: &["istiod"],
        image_markers: &["/pilot:", "istio/pilot"],
        inference_switch: InferenceSwitch::Env("ENABLE_GATEWAY_API_INFERENCE_EXTENSION"),
        min_inference_version: "1.28.0",
        known_bad: &[],
        charts: &[
            ChartFact { release: "istio-base", chart: "istio/base", values: &[] },
            ChartFact {
                release: "istiod",
                chart: "istio/istiod",
                values: &[("pilot.env.ENABLE_GATEWAY_API_INFERENCE_EXTENSION", "true")],
            },
        ],
        enable_hint: "set pilot.env.ENABLE_GATEWAY_API_INFERENCE_EXTENSION=true on istiod",
    },
    // OpenShift's ingress operator runs Istio as OpenShift Service Mesh: istiod
    // `istiod-openshift-gateway` in openshift-ingress, with ENABLE_GATEWAY_API_INFERENCE_EXTENSION set
    // when an InferencePool CRD exists (openshift/cluster-ingress-operator
    // pkg/operator/controller/gatewayclass). Its image tags do not follow Istio's, so no minimum.
    Provider {
        id: ProviderId::OpenshiftServiceMesh,
        name: "OpenShift Service Mesh",
        class_names: &["openshift-default", "data-science-gateway-class"],
        controller_names: &["openshift.io/gateway-controller/v1"],
        namespace: "openshift-ingress",
        deployment_names: &["istiod-openshift-gateway"],
        image_markers: &["openshift-service-mesh/"],
        inference_switch: InferenceSwitch::Env("ENABLE_GATEWAY_API_INFERENCE_EXTENSION"),
        min_inference_version: "",
        known_bad: &[],
        charts: &[],
        enable_hint: "install the InferencePool CRD before creating the GatewayClass: OpenShift's ingress operator sets ENABLE_GATEWAY_API_INFERENCE_EXTENSION=true on istiod-openshift-gateway (namespace openshift-ingress) when the CRD exists",
    },
    Provider {
        id: ProviderId::Agentgateway,
        name: "agentgateway",
        class_names: &["agentgateway"],
        controller_names: &["agentgateway.dev/agentgateway"],
        namespace: "agentgateway-system",
        deployment_names: &["agentgateway"],
        image_markers: &["agentgateway"],
        inference_switch: InferenceSwitch::Env("AGW_ENABLE_INFER_EXT"),
        min_inference_version: "1.0.0",
        known_bad: &[],
        charts: &[
            ChartFact { release: "agentgateway-crds", chart: "oci://cr.agentgateway.dev/charts/agentgateway-crds", values: &[] },
            ChartFact {
                release: "agentgateway",
                chart: "oci://cr.agentgateway.dev/charts/agentgateway",
                values: &[("inferenceExtension.enabled", "true")],
            },
        ],
        enable_hint: "set inferenceExtension.enabled=true in the agentgateway chart values",
    },
    Provider {
        id: ProviderId::Kgateway,
        name: "kgateway",
        class_names: &["kgateway"],
        controller_names: &["kgateway.dev/kgateway", "kgateway.dev/agentgateway"],
        namespace: "kgateway-system",
        deployment_names: &["kgateway"],
        image_markers: &["kgateway"],
        inference_switch: InferenceSwitch::Env("KGW_ENABLE_INFER_EXT"),
        min_inference_version: "2.1.0",
        known_bad: &[("2.0.1", "BackendNotFound regression for InferencePool backends (kgateway#11239)")],
        charts: &[
            ChartFact { release: "kgateway-crds", chart: "oci://cr.kgateway.dev/kgateway-dev/charts/kgateway-crds", values: &[] },
            ChartFact {
                release: "kgateway",
                chart: "oci://cr.kgateway.dev/kgateway-dev/charts/kgateway",
                values: &[("inferenceExtension.enabled", "true")],
            },
        ],
        enable_hint: "set inferenceExtension.enabled=true in the kgateway chart values",
    },
    Provider {
        id: ProviderId::Gke,
        name: "GKE Gateway",
        class_names: &["gke-l7-rilb", "gke-l7-regional-external-managed"],
        controller_names: &["networking.gke.io/gateway"],
        namespace: "",
        deployment_names: &[],
        image_markers: &[],
        inference_switch: InferenceSwitch::Builtin,
        min_inference_version: "1.34.0-gke.1626000",
        known_bad: &[],
        charts: &[],
        enable_hint: "enable the HttpLoadBalancing add-on and create a proxy-only subnet (GKE 1.34.0-gke.1626000 or newer)",
    },
    Provider {
        id: ProviderId::NginxGatewayFabric,
        name: "NGINX Gateway Fabric",
        class_names: &["nginx"],
        controller_names: &["gateway.nginx.org/nginx-gateway-controller"],
        namespace: "nginx-gateway",
        deployment_names: &["nginx-gateway", "ngf-nginx-gateway-fabric"],
        image_markers: &["nginx-gateway-fabric"],
        inference_switch: InferenceSwitch::Arg("--gateway-api-inference-extension"),
        min_inference_version: "2.2.0",
        known_bad: &[],
        charts: &[],
        enable_hint: "set nginxGateway.gwAPIInferenceExtension.enable=true in the nginx-gateway-fabric chart values",
    },
    Provider {
        id: ProviderId::EnvoyAiGateway,
        name: "Envoy AI Gateway",
        class_names: &[],
        controller_names: &["gateway.envoyproxy.io/gatewayclass-controller"],
        namespace: "envoy-gateway-system",
        deployment_names: &["envoy-gateway"],
        image_markers: &["envoyproxy/gateway"],
        inference_switch: InferenceSwitch::Config("extensionManager.backendResources: InferencePool v1"),
        min_inference_version: "0.4.0",
        known_bad: &[],
        charts: &[],
        enable_hint: "add InferencePool (group inference.networking.k8s.io, version v1) to Envoy Gateway's extensionManager.backendResources",
    },
];

/// NGINX Gateway Fabric's chart and its inference switch (not installed by `gateway install`).
const NGF_CHART: ChartFact = ChartFact {
    release: "ngf",
    chart: "oci://ghcr.io/nginx/charts/nginx-gateway-fabric",
    values: &[("nginxGateway.gwAPIInferenceExtension.enable", "true")],
};

impl Provider {
    /// The helm chart whose values carry the inference switch (the controller chart), when there is one.
    pub fn switch_chart(&self) -> Option<&'static ChartFact> {
        match self.id {
            ProviderId::NginxGatewayFabric => Some(&NGF_CHART),
            _ => self.charts.iter().find(|c| !c.values.is_empty()),
        }
    }
}

/// The provider owning a GatewayClass controllerName.
pub fn provider_for_controller(controller_name: &str) -> Option<&'static Provider> {
    PROVIDERS.iter().find(|p| p.controller_names.contains(&controller_name))
}

/// True for Istio and the distributions built on it (OpenShift Service Mesh): their gateways need
/// the same DestinationRule to reach an endpoint picker over TLS.
pub fn is_istio_family(id: ProviderId) -> bool {
    matches!(id, ProviderId::Istio | ProviderId::OpenshiftServiceMesh)
}

/// A provider by id.
pub fn provider(id: ProviderId) -> &'static Provider {
    PROVIDERS.iter().find(|p| p.id == id).unwrap_or(&PROVIDERS[0])
}
