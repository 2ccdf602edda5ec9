//! `kubectl llmd pool status`: the routing picture of every InferencePool, optionally watched.

use crate::cli::{GlobalFlags, OutputFormat, PoolStatusArgs};
use crate::cluster::{connect, Connection};
use crate::collect::cluster::collect_cluster;
use crate::commands::doctor::{diagnose, profile_from};
use crate::error::{Failure, Result};
use crate::model::groups;
use crate::render::pool::{render_table, render_tree};
use crate::render::{print_stdout, to_json, to_yaml, Style};
use crate::routing::{pool_statuses, PoolStatus};
use futures::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject};
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
    let profile = profile_from(args.profile.as_deref())?;
    let conn = connect(global).await?;
    let namespace = if global.all_namespaces { None } else { Some(conn.namespace.clone()) };
    let style = Style::detect(global.no_color);
    let mut watch = if args.watch { Some(ChangeFeed::start(&conn, namespace.as_deref())) } else { None };
    loop {
        let snapshot = collect_cluster(&conn, namespace.as_deref()).await?;
        let started = Instant::now();
        let report = diagnose(&snapshot, &profile, conn.context.clone());
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
            print_stdout("\x1b[2J\x1b[H");
        }
        print_pools(global, args, &pools, namespace.as_deref(), style);
        tracing::info!("analysed in {:.0} ms (checks, routing and rendering)", started.elapsed().as_secs_f64() * 1000.0);
        let Some(feed) = watch.as_mut() else { return Ok(ExitCode::SUCCESS) };
        tokio::select! {
            changed = feed.next_change() => changed?,
            _ = tokio::signal::ctrl_c() => return Ok(ExitCode::SUCCESS),
        }
        if !std::io::stdout().is_terminal() {
            print_stdout("\n");
        }
    }
}

fn print_pools(global: &GlobalFlags, args: &PoolStatusArgs, pools: &[PoolStatus], ns: Option<&str>, style: Style) {
    match global.output {
        OutputFormat::Json => print_stdout(&to_json(&PoolList { pools })),
        OutputFormat::Yaml => print_stdout(&to_yaml(&PoolList { pools })),
        OutputFormat::Table | OutputFormat::Wide => {
            if pools.is_empty() {
                match ns {
                    Some(n) => eprintln!("No InferencePools found in namespace {n}."),
                    None => eprintln!("No InferencePools found."),
                }
            } else if args.tree || args.name.is_some() {
                print_stdout(&render_tree(pools, style));
            } else {
                print_stdout(&render_table(pools, ns.is_none(), global.output == OutputFormat::Wide));
            }
        }
    }
}

/// Watches on every kind in the routing chain, merged: yields once per burst of changes.
struct ChangeFeed {
    events: futures::stream::SelectAll<futures::stream::BoxStream<'static, std::result::Result<bool, String>>>,
}

impl ChangeFeed {
    fn start(conn: &Connection, namespace: Option<&str>) -> Self {
        let kinds: [(&str, &str, &str, &str); 8] = [
            (groups::INFERENCE, "v1", "InferencePool", "inferencepools"),
            (groups::INFERENCE_X, "v1alpha2", "InferencePool", "inferencepools"),
            (groups::GATEWAY, "v1", "HTTPRoute", "httproutes"),
            (groups::GATEWAY, "v1", "Gateway", "gateways"),
            ("", "v1", "Service", "services"),
            ("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices"),
            ("apps", "v1", "Deployment", "deployments"),
            ("", "v1", "Pod", "pods"),
        ];
        let mut events = futures::stream::SelectAll::new();
        for (group, version, kind, plural) in kinds {
            let api_version = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
            let ar = ApiResource {
                group: group.into(),
                version: version.into(),
                api_version,
                kind: kind.into(),
                plural: plural.into(),
            };
            let api: Api<DynamicObject> = match namespace {
                Some(ns) => Api::namespaced_with(conn.client.clone(), ns, &ar),
                None => Api::all_with(conn.client.clone(), &ar),
            };
            let resource = format!("{plural}.{group}");
            // true = a real change after the initial listing; errors for kinds that are not installed
            // (404) end that one stream quietly.
            let stream = watcher(api, watcher::Config::default())
                .map(move |e| match e {
                    Ok(watcher::Event::Apply(_) | watcher::Event::Delete(_)) => Ok(true),
                    Ok(_) => Ok(false),
                    Err(err) => Err(format!("watch {resource}: {err}")),
                })
                .take_while(|r| {
                    let go_on =
                        !matches!(r, Err(e) if e.contains("404") || e.contains("not found") || e.contains("NotFound"));
                    futures::future::ready(go_on)
                })
                .boxed();
            events.push(stream);
        }
        ChangeFeed { events }
    }

    /// Wait for the next change, then let a burst settle so one edit redraws once.
    async fn next_change(&mut self) -> Result<()> {
        loop {
            match self.events.next().await {
                Some(Ok(true)) => break,
                Some(Ok(false)) => continue,
                Some(Err(e)) if e.contains("403") || e.to_lowercase().contains("forbidden") => {
                    return Err(Failure::with_hint(
                        format!("cannot {e}"),
                        "watching needs the watch verb on every kind in the chain",
                    ))
                }
                Some(Err(e)) => {
                    tracing::debug!("{e}");
                    tokio::time::sleep(Duration::from_millis(200)).await;
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
