//! `junction status`: a running server's dependencies and queues, read
//! through the management API and printed as tables.

use std::{net::SocketAddr, process::ExitCode, time::Duration};

use anyhow::{Context, bail};
use serde_json::Value;

use crate::{args::StatusArgs, check::load_or_report};

pub(crate) fn run(args: &StatusArgs) -> anyhow::Result<ExitCode> {
    let base = match &args.url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let Some(manifest) = load_or_report(&args.config) else { return Ok(ExitCode::FAILURE) };
            local_url(manifest.server.listen)
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
        let dependencies = get(&client, &base, "/v1/dependencies", &args.key).await?;
        let queues = get(&client, &base, "/v1/queues", &args.key).await?;
        print!("{}", dependency_table(&dependencies));
        println!();
        print!("{}", queue_table(&queues));
        Ok(ExitCode::SUCCESS)
    })
}

/// Where to reach a server listening on `listen` from this machine.
fn local_url(listen: SocketAddr) -> String {
    let host = match listen.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".to_owned(),
        ip if ip.is_unspecified() => "[::1]".to_owned(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    format!("http://{host}:{}", listen.port())
}

async fn get(client: &reqwest::Client, base: &str, path: &str, key: &str) -> anyhow::Result<Value> {
    let response = client
        .get(format!("{base}{path}"))
        .bearer_auth(key)
        .send()
        .await
        .with_context(|| format!("cannot reach the server at {base}"))?;
    let status = response.status();
    let body: Value = response.json().await.with_context(|| format!("{base}{path} did not answer JSON"))?;
    if !status.is_success() {
        let detail = body["detail"].as_str().unwrap_or("no detail");
        bail!("{path} answered {status}: {detail}");
    }
    Ok(body)
}

fn dependency_table(list: &Value) -> String {
    let mut rows =
        vec![row(&["DEPENDENCY", "BREAKER", "REQ/S", "ERRORS", "P50", "P99", "SLA", "QUEUED", "DEAD"])];
    for d in list["data"].as_array().into_iter().flatten() {
        let live = &d["live"];
        let sla = match d["sla"]["met"].as_bool() {
            Some(true) => "met",
            Some(false) => "MISSED",
            None => "-",
        };
        rows.push(vec![
            text(&d["name"]),
            text(&d["breaker"]),
            format!("{:.1}", live["requests_per_sec"].as_f64().unwrap_or(0.0)),
            live["error_rate"].as_f64().map_or_else(|| "-".into(), |r| format!("{:.1}%", r * 100.0)),
            millis(&live["p50_ms"]),
            millis(&live["p99_ms"]),
            sla.to_owned(),
            (d["queue"]["ready"].as_u64().unwrap_or(0) + d["queue"]["in_flight"].as_u64().unwrap_or(0))
                .to_string(),
            d["queue"]["dead"].as_u64().unwrap_or(0).to_string(),
        ]);
    }
    if rows.len() == 1 {
        return "no dependencies declared\n".to_owned();
    }
    render(&rows)
}

fn queue_table(list: &Value) -> String {
    let mut rows = vec![row(&["QUEUE", "TOPIC", "READY", "IN FLIGHT", "DEAD"])];
    for q in list["data"].as_array().into_iter().flatten() {
        rows.push(vec![
            text(&q["kind"]),
            text(&q["topic"]),
            q["ready"].as_u64().unwrap_or(0).to_string(),
            q["in_flight"].as_u64().unwrap_or(0).to_string(),
            q["dead"].as_u64().unwrap_or(0).to_string(),
        ]);
    }
    if rows.len() == 1 {
        return "no queued work\n".to_owned();
    }
    render(&rows)
}

fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| (*c).to_owned()).collect()
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or("-").to_owned()
}

fn millis(value: &Value) -> String {
    value.as_f64().map_or_else(|| "-".into(), |ms| format!("{ms:.1}ms"))
}

/// Left-aligned columns, two spaces apart.
fn render(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().map(|r| r.get(c).map_or(0, |s| s.chars().count())).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in rows {
        let line: Vec<String> = r.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn tables_align_columns_and_show_unknowns_as_dashes() {
        let list = json!({"data": [
            {"name": "stripe", "breaker": "closed", "live": {"requests_per_sec": 12.34, "error_rate": 0.01, "p50_ms": 10.0, "p99_ms": 120.5},
             "sla": {"met": true}, "queue": {"ready": 2, "in_flight": 1, "dead": 0}},
            {"name": "gh", "breaker": "half_open", "live": {"requests_per_sec": 0.0, "error_rate": null, "p50_ms": null, "p99_ms": null},
             "sla": {"met": null}, "queue": {"ready": 0, "in_flight": 0, "dead": 3}},
        ]});
        let table = dependency_table(&list);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(
            lines[1].starts_with("stripe      closed     12.3   1.0%    10.0ms  120.5ms  met  3"),
            "{table}"
        );
        assert!(lines[2].contains("half_open") && lines[2].contains(" -  "), "{table}");
        assert_eq!(queue_table(&json!({"data": []})), "no queued work\n");
    }

    #[test]
    fn unspecified_listen_addresses_are_reached_on_loopback() {
        assert_eq!(local_url("0.0.0.0:8080".parse().unwrap()), "http://127.0.0.1:8080");
        assert_eq!(local_url("[::]:8080".parse().unwrap()), "http://[::1]:8080");
        assert_eq!(local_url("10.0.0.5:9000".parse().unwrap()), "http://10.0.0.5:9000");
    }
}
