//! `kubectl llmd pool status`: the routing picture of every InferencePool, optionally watched.

use crate::cli::{GlobalFlags, OutputFormat, PoolStatusArgs};
use crate::cluster::{connect, error, Connection};
use crate::collect::kinds::{self, ROUTING_CHAIN};
use crate::commands::doctor::{fleet_contexts_for, for_each_context, inspect, problem, within_request_timeout};
use crate::error::{Failure, Result};
use crate::fleet::{ContextPools, FleetPools, Verdict, SCHEMA_VERSION};
use crate::model::CrdView;
use crate::render::graph::{render_dot, render_mermaid};
use crate::render::pool::{render_fleet_table, render_table, render_tree};
use crate::render::{print_stdout, to_json, to_yaml, Style};
use crate::routing::{pool_statuses, PoolStatus};
use futures::StreamExt;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject};
use kube::runtime::watcher;
use serde::Serialize;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(Serialize)]
struct PoolList<'a> {
    pools: &'a [PoolStatus],
}

/// Run `pool status`.
pub async fn run(global: &GlobalFlags, args: &PoolStatusArgs) -> Result<ExitCode> {
    if args.fleet.is_fleet() {
        return run_fleet(global, args).await;
    }
    let profile = crate::catalog::profile_from_env(args.profile.as_deref())?;
    let conn = connect(&global.into()).await?;
    let namespace = if global.all_namespaces { None } else { Some(conn.namespace.clone()) };
    let style = Style::detect(global.no_color);
    let mut watch = if args.watch { Some(ChangeFeed::start(&conn, namespace.as_deref())) } else { None };
    loop {
        let (snapshot, report) = inspect(&conn, namespace.as_deref(), &profile).await?;
        let started = Instant::now();
        let mut pools = pool_statuses(&snapshot, &report);
        if let Some(name) = &args.name {
            pools.retain(|p| &p.name == name);
            if pools.is_empty() && watch.is_none() {
                let known: Vec<String> = pool_statuses(&snapshot, &report).into_iter().map(|p| p.name).collect();
                return Err(Failure::with_hint(
                    format!(
                        "InferencePool {name:?} not found in {}",
                        namespace.as_deref().map_or("any namespace".to_string(), |n| format!("namespace {n}"))
                    ),
                    if known.is_empty() {
                        "there are no InferencePools here; try -A".to_string()
                    } else {
                        format!("pools here: {}", known.join(", "))
                    },
                ));
            }
        }
        if watch.is_some() && std::io::stdout().is_terminal() {
            print_stdout("\x1b[2J\x1b[H")?;
            // The collector's warnings were just cleared from the screen: say them again.
            for u in &snapshot.unreadable {
                eprintln!("warning: {}", u.warning());
            }
        }
        print_pools(global, args, &pools, namespace.as_deref(), style)?;
        tracing::info!("rendered in {:.0} ms (routing and rendering)", started.elapsed().as_secs_f64() * 1000.0);
        let Some(feed) = watch.as_mut() else { return Ok(ExitCode::SUCCESS) };
        tokio::select! {
            changed = feed.next_change() => changed?,
            _ = tokio::signal::ctrl_c() => return Ok(ExitCode::SUCCESS),
        }
        if !std::io::stdout().is_terminal() {
            print_stdout("\n")?;
        }
    }
}

fn print_pools(
    global: &GlobalFlags,
    args: &PoolStatusArgs,
    pools: &[PoolStatus],
    ns: Option<&str>,
    style: Style,
) -> Result<()> {
    match global.output {
        OutputFormat::Json => print_stdout(&to_json(&PoolList { pools })),
        OutputFormat::Yaml => print_stdout(&to_yaml(&PoolList { pools })),
        OutputFormat::Dot => print_stdout(&render_dot(pools)),
        OutputFormat::Mermaid => print_stdout(&render_mermaid(pools)),
        OutputFormat::Table | OutputFormat::Wide => {
            if pools.is_empty() {
                match ns {
                    Some(n) => eprintln!("No InferencePools found in namespace {n}."),
                    None => eprintln!("No InferencePools found."),
                }
                Ok(())
            } else if args.tree || args.name.is_some() {
                print_stdout(&render_tree(pools, style))
            } else {
                print_stdout(&render_table(pools, ns.is_none(), global.output == OutputFormat::Wide))
            }
        }
    }
}

/// `pool status --contexts/--all-contexts`: every context through doctor's `inspect`, concurrently;
/// one row per pool with its context. Exit 2 when a context could not be read (its row says so).
async fn run_fleet(global: &GlobalFlags, args: &PoolStatusArgs) -> Result<ExitCode> {
    let refused = [
        (args.watch, "--watch", "watch one context: kubectl llmd pool status --context NAME --watch"),
        (args.tree, "--tree", "draw one context's tree: kubectl llmd pool status --context NAME --tree"),
        (
            global.output.is_graph(),
            "-o dot/mermaid",
            "draw one context: kubectl llmd pool status --context NAME -o dot",
        ),
    ];
    if let Some((_, flag, hint)) = refused.iter().find(|(given, _, _)| *given) {
        return Err(Failure::with_hint(format!("{flag} cannot be combined with --contexts or --all-contexts"), *hint));
    }
    let contexts = fleet_contexts_for(global, &args.fleet)?;
    let profile = crate::catalog::profile_from_env(args.profile.as_deref())?;
    let rows = for_each_context(global, &contexts, |one| {
        let (profile, wanted) = (profile.clone(), args.name.clone());
        async move {
            let name = one.context.clone().unwrap_or_default();
            let conn = match connect(&(&one).into()).await {
                Ok(conn) => conn,
                Err(f) => return context_failed(&name, "", None, Verdict::Invalid, f),
            };
            let namespace = if one.all_namespaces { None } else { Some(conn.namespace.clone()) };
            let inspected = inspect(&conn, namespace.as_deref(), &profile);
            match within_request_timeout(&one, &conn, inspected).await {
                Err(f) => context_failed(&name, &conn.server, namespace, Verdict::Unreachable, f),
                Ok((snapshot, report)) => {
                    let mut pools = pool_statuses(&snapshot, &report);
                    if let Some(wanted) = &wanted {
                        pools.retain(|p| &p.name == wanted);
                    }
                    ContextPools {
                        context: name,
                        server: conn.server.clone(),
                        namespace,
                        verdict: None,
                        error: None,
                        pools,
                    }
                }
            }
        }
    })
    .await;
    let failed = rows.iter().any(|r| r.verdict.is_some());
    if let Some(name) = &args.name {
        if !failed && rows.iter().all(|r| r.pools.is_empty()) {
            return Err(Failure::with_hint(
                format!("InferencePool {name:?} not found in any of the {} contexts", rows.len()),
                "check the name and the namespace (-n NS, or -A for every namespace)",
            ));
        }
    }
    for r in &rows {
        if let (Some(verdict), Some(p)) = (r.verdict, &r.error) {
            eprintln!("error: context {} is {}: {}", r.context, verdict.as_str(), p.message);
            if let Some(hint) = &p.hint {
                eprintln!("hint: {hint}");
            }
        } else if r.pools.is_empty() && matches!(global.output, OutputFormat::Table | OutputFormat::Wide) {
            let scope = r.namespace.as_deref().map(|n| format!(" in namespace {n}")).unwrap_or_default();
            eprintln!("No InferencePools found in context {}{scope}.", r.context);
        }
    }
    let fleet = FleetPools { schema_version: SCHEMA_VERSION, contexts: rows };
    match global.output {
        OutputFormat::Json => print_stdout(&to_json(&fleet))?,
        OutputFormat::Yaml => print_stdout(&to_yaml(&fleet))?,
        _ => print_stdout(&render_fleet_table(
            &fleet.contexts,
            global.all_namespaces,
            global.output == OutputFormat::Wide,
        ))?,
    }
    Ok(if failed { ExitCode::from(2) } else { ExitCode::SUCCESS })
}

fn context_failed(
    context: &str,
    server: &str,
    namespace: Option<String>,
    verdict: Verdict,
    f: Failure,
) -> ContextPools {
    ContextPools {
        context: context.to_string(),
        server: server.to_string(),
        namespace,
        verdict: Some(verdict),
        error: Some(problem(f)),
        pools: Vec::new(),
    }
}

/// Why one watch of the change feed failed (the stream goes on unless the kind is not installed).
#[derive(Debug, thiserror::Error)]
enum WatchError {
    /// The CRD of a custom kind could not be read to pick the version to watch.
    #[error("get customresourcedefinitions {resource}: {source}")]
    Crd {
        resource: String,
        #[source]
        source: kube::Error,
    },
    /// The watch itself failed (listing, starting or during the watch).
    #[error("watch {resource}: {source}")]
    Watch {
        resource: String,
        #[source]
        source: watcher::Error,
    },
}

impl WatchError {
    /// The kube error behind it, or the status the server sent during a watch.
    fn cause(&self) -> (Option<&kube::Error>, Option<&kube::core::Status>) {
        match self {
            WatchError::Crd { source, .. } => (Some(source), None),
            WatchError::Watch { source, .. } => match source {
                watcher::Error::InitialListFailed(e)
                | watcher::Error::WatchStartFailed(e)
                | watcher::Error::WatchFailed(e) => (Some(e), None),
                watcher::Error::WatchError(s) => (None, Some(s)),
                watcher::Error::NoResourceVersion => (None, None),
            },
        }
    }

    /// The kind is not installed (404): its stream ends quietly.
    fn not_installed(&self) -> bool {
        match self.cause() {
            (Some(e), _) => error::is_not_found(e),
            (_, Some(s)) => s.is_not_found(),
            _ => false,
        }
    }

    /// The user may not watch (or read) it.
    fn forbidden(&self) -> bool {
        match self.cause() {
            (Some(e), _) => error::is_forbidden(e),
            (_, Some(s)) => s.is_forbidden(),
            _ => false,
        }
    }
}

type ChangeStream = futures::stream::BoxStream<'static, std::result::Result<bool, WatchError>>;

/// Watches on every kind in the routing chain, merged: yields once per burst of changes.
struct ChangeFeed {
    events: futures::stream::SelectAll<ChangeStream>,
    /// For the reconnection probe.
    client: kube::Client,
    /// Since when the watch has been failing (None: it works).
    lost: Option<Instant>,
}

impl ChangeFeed {
    /// One watch per kind of `kinds::ROUTING_CHAIN`, each at the version the collector reads (a
    /// custom kind's CRD is read first to pick one it serves).
    fn start(conn: &Connection, namespace: Option<&str>) -> Self {
        let mut events = futures::stream::SelectAll::new();
        for info in ROUTING_CHAIN.iter().filter_map(|(slot, group)| kinds::lookup(*slot, group)) {
            let (client, namespace) = (conn.client.clone(), namespace.map(str::to_string));
            let resource = info.resource();
            let version = {
                let (client, resource) = (client.clone(), resource.clone());
                async move {
                    if !info.custom {
                        return Ok(info.versions.first().map(|v| v.to_string()));
                    }
                    let crds: Api<CustomResourceDefinition> = Api::all(client);
                    let preferred = info.versions.first().map(|v| v.to_string());
                    match crds.get_opt(&resource).await {
                        // Not installed: nothing to watch.
                        Ok(None) => Ok(None),
                        Ok(Some(crd)) => match crd_view(&crd) {
                            Ok(view) => Ok(info.versions_for(Some(&[view])).into_iter().next()),
                            Err(why) => {
                                tracing::warn!("CRD {resource} cannot be read ({why}): watching {preferred:?}");
                                Ok(preferred)
                            }
                        },
                        // Without access to CRDs, watch the version we prefer (as the collector probes).
                        Err(e) if error::is_forbidden(&e) => Ok(preferred),
                        Err(source) => Err(WatchError::Crd { resource, source }),
                    }
                }
            };
            let stream = futures::stream::once(version)
                .flat_map(move |chosen| -> ChangeStream {
                    let version = match chosen {
                        Err(e) => return futures::stream::once(async { Err(e) }).boxed(),
                        // Not installed: nothing to watch.
                        Ok(None) => return futures::stream::empty().boxed(),
                        Ok(Some(v)) => v,
                    };
                    let ar = info.api_resource(&version);
                    let api: Api<DynamicObject> = match &namespace {
                        Some(ns) if info.namespaced => Api::namespaced_with(client.clone(), ns, &ar),
                        _ => Api::all_with(client.clone(), &ar),
                    };
                    let resource = resource.clone();
                    // true = a real change after the initial listing.
                    watcher(api, watcher::Config::default())
                        .map(move |e| match e {
                            Ok(watcher::Event::Apply(_) | watcher::Event::Delete(_)) => Ok(true),
                            Ok(_) => Ok(false),
                            Err(source) => Err(WatchError::Watch { resource: resource.clone(), source }),
                        })
                        .boxed()
                })
                // A kind that is not installed (404) ends its stream quietly.
                .take_while(|r| futures::future::ready(!matches!(r, Err(e) if e.not_installed())))
                .boxed();
            events.push(stream);
        }
        ChangeFeed { events, client: conn.client.clone(), lost: None }
    }

    /// Wait for the next change, then let a burst settle so one edit redraws once.
    async fn next_change(&mut self) -> Result<()> {
        loop {
            if let Some(since) = self.lost {
                // The watches resume on their own; what changed meanwhile is unknown: redraw once the
                // server answers again.
                if self.client.apiserver_version().await.is_ok() {
                    eprintln!("reconnected to the API server after {:.1}s; redrawing", since.elapsed().as_secs_f64());
                    self.lost = None;
                    return Ok(());
                }
            }
            match self.events.next().await {
                Some(Ok(true)) => break,
                Some(Ok(false)) => continue,
                Some(Err(e)) if e.forbidden() => {
                    return Err(Failure::with_hint(
                        format!("cannot {e}"),
                        "watching needs the watch verb on every kind in the chain",
                    )
                    .caused_by(e))
                }
                Some(Err(e)) => {
                    if self.lost.is_none() {
                        eprintln!("warning: {e}; reconnecting");
                        self.lost = Some(Instant::now());
                    }
                    tracing::debug!("{e}");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                None => return Err(Failure::new("every watch ended; nothing left to watch")),
            }
        }
        let settle = tokio::time::sleep(Duration::from_millis(300));
        tokio::pin!(settle);
        loop {
            tokio::select! {
                _ = &mut settle => return Ok(()),
                e = self.events.next() => if e.is_none() { return Ok(()) },
            }
        }
    }
}

/// A CRD as the kinds table reads it (served versions).
fn crd_view(crd: &CustomResourceDefinition) -> std::result::Result<CrdView, String> {
    let value = serde_json::to_value(crd).map_err(|e| e.to_string())?;
    crate::model::read_view(&value).map_err(|e| e.to_string())
}
