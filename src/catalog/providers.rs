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
    /// Namespace when it is not the provider's (None: the provider's).
    pub namespace: Option<&'static str>,
    /// Chart version when it does not follow the provider's version (None: the provider's).
    pub version: Option<&'static str>,
    /// `-f` values files (URLs; `{version}` is replaced by the provider's version).
    pub values_files: &'static [&'static str],
}

/// A chart with no extra values, in the provider's namespace, at the provider's version.
const CHART: ChartFact =
    ChartFact { release: "", chart: "", values: &[], namespace: None, version: None, values_files: &[] };

/// RBAC a provider needs beyond what its charts create (granted with `kubectl create`).
#[derive(Debug, Clone, Copy)]
pub struct RbacFact {
    /// ClusterRole and ClusterRoleBinding name.
    pub name: &'static str,
    /// `resource.group` the role grants.
    pub resource: &'static str,
    pub verbs: &'static [&'static str],
    /// `namespace:name` of the ServiceAccount bound.
    pub service_account: &'static str,
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
    /// Control-plane version installed when the profile names none (providers outside llm-d's helmfiles).
    pub pinned_version: &'static str,
    /// RBAC to grant after the charts.
    pub extra_rbac: &'static [RbacFact],
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
            ChartFact { release: "istio-base", chart: "istio/base", ..CHART },
            ChartFact {
                release: "istiod",
                chart: "istio/istiod",
                values: &[("pilot.env.ENABLE_GATEWAY_API_INFERENCE_EXTENSION", "true")],
                ..CHART
            },
        ],
        pinned_version: "",
        extra_rbac: &[],
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
        pinned_version: "",
        extra_rbac: &[],
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
            ChartFact { release: "agentgateway-crds", chart: "oci://cr.agentgateway.dev/charts/agentgateway-crds", ..CHART },
            ChartFact {
                release: "agentgateway",
                chart: "oci://cr.agentgateway.dev/charts/agentgateway",
                values: &[("inferenceExtension.enabled", "true")],
                ..CHART
            },
        ],
        pinned_version: "",
        extra_rbac: &[],
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
            ChartFact { release: "kgateway-crds", chart: "oci://cr.kgateway.dev/kgateway-dev/charts/kgateway-crds", ..CHART },
            ChartFact {
                release: "kgateway",
                chart: "oci://cr.kgateway.dev/kgateway-dev/charts/kgateway",
                values: &[("inferenceExtension.enabled", "true")],
                ..CHART
            },
        ],
        pinned_version: "",
        extra_rbac: &[],
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
        pinned_version: "",
        extra_rbac: &[],
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
        // GAIE's getting-started guide: `helm install ngf oci://ghcr.io/nginx/charts/nginx-gateway-fabric
        // -n nginx-gateway --set nginxGateway.gwAPIInferenceExtension.enable=true` (unpinned; llm-d
        // documents no version: we pin the first release that speaks InferencePool v1).
        charts: &[ChartFact {
            release: "ngf",
            chart: "oci://ghcr.io/nginx/charts/nginx-gateway-fabric",
            values: &[("nginxGateway.gwAPIInferenceExtension.enable", "true")],
            ..CHART
        }],
        pinned_version: "2.2.0",
        extra_rbac: &[],
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
        // Envoy AI Gateway v0.4 docs (getting-started/prerequisites.md, installation.md): Envoy Gateway
        // v1.5.4 with the AI Gateway values and the InferencePool add-on (backendResources
        // inference.networking.k8s.io/v1 InferencePool), then the AI Gateway CRD chart and controller.
        charts: &[
            ChartFact {
                release: "eg",
                chart: "oci://docker.io/envoyproxy/gateway-helm",
                version: Some("v1.5.4"),
                values_files: &[
                    "https://raw.githubusercontent.com/envoyproxy/ai-gateway/{version}/manifests/envoy-gateway-values.yaml",
                    "https://raw.githubusercontent.com/envoyproxy/ai-gateway/{version}/examples/inference-pool/envoy-gateway-values-addon.yaml",
                ],
                ..CHART
            },
            ChartFact {
                release: "aieg-crd",
                chart: "oci://docker.io/envoyproxy/ai-gateway-crds-helm",
                namespace: Some("envoy-ai-gateway-system"),
                ..CHART
            },
            ChartFact {
                release: "aieg",
                chart: "oci://docker.io/envoyproxy/ai-gateway-helm",
                namespace: Some("envoy-ai-gateway-system"),
                ..CHART
            },
        ],
        pinned_version: "v0.4.0",
        // Envoy Gateway's own ClusterRole does not cover InferencePools: it must read them to route
        // to a pool (the ClusterRole the InferencePool guides add for its ServiceAccount).
        extra_rbac: &[RbacFact {
            name: "envoy-gateway-inferencepools",
            resource: "inferencepools.inference.networking.k8s.io",
            verbs: &["get", "list", "watch"],
            service_account: "envoy-gateway-system:envoy-gateway",
        }],
        enable_hint: "add InferencePool (group inference.networking.k8s.io, version v1) to Envoy Gateway's extensionManager.backendResources",
    },
];

impl Provider {
    /// The helm chart whose `--set` values carry the inference switch (the controller chart), when there is one.
    pub fn switch_chart(&self) -> Option<&'static ChartFact> {
        self.charts.iter().find(|c| !c.values.is_empty())
    }

    /// The namespace a chart is installed in.
    pub fn chart_namespace(&self, chart: &ChartFact) -> &'static str {
        chart.namespace.unwrap_or(self.namespace)
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
