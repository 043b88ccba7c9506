//! Throughput under load (issue 18): `wrk` in a closed loop against the same server, per
//! scenario and concurrency, after a warm-up; and what the stored data costs per contact.
//!
//! wrk runs as its own process on this machine, as a client on the same host would; its
//! two threads compete with the server for the machine's cores, which is what the figures
//! in the README were measured with.

use std::path::Path;
use std::process::Command;

/// One scenario: a name, and the Lua that makes its requests.
pub struct Scenario {
    pub name: &'static str,
    pub lua: String,
}

/// A wrk result: requests a second and the 99th percentile latency in milliseconds.
pub struct Measured {
    pub rps: f64,
    pub p99_ms: f64,
    pub errors: u64,
}

fn lua_list(values: &[String]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
    format!("{{{}}}", quoted.join(","))
}

/// Requests that cycle through `paths`, each thread from its own offset.
pub fn gets(name: &'static str, token: &str, paths: &[String]) -> Scenario {
    let lua = format!(
        r#"
local paths = {list}
local counter = 1
local n = 0
setup = function(thread) thread:set("offset", counter * 7919); counter = counter + 1 end
init = function() n = offset or 0 end
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1], {{["Authorization"] = "Bearer {token}"}})
end
"#,
        list = lua_list(paths)
    );
    Scenario { name, lua }
}

/// Contact creates, each with a name, email and phone of its own.
pub fn creates(token: &str) -> Scenario {
    let lua = format!(
        r#"
local counter = 1
local n = 0
setup = function(thread) thread:set("id", counter); counter = counter + 1 end
init = function() math.randomseed(os.time() * 16 + id); run = math.random(1000000) end
request = function()
  n = n + 1
  local body = string.format('{{"name":"Load %d %d","emails":[{{"address":"w%d-%d-%d@load.example"}}],"phones":[{{"number":"+8613%09d"}}],"tags":["load"]}}',
    id, n, run, id, n, math.random(0, 999999999))
  return wrk.format("POST", "/v1/contacts", {{["Authorization"] = "Bearer {token}", ["Content-Type"] = "application/json"}}, body)
end
"#
    );
    Scenario {
        name: "Create a contact",
        lua,
    }
}

/// Runs `scenario` for `seconds` at `connections`, first for a third as long to warm up.
pub fn run(
    base: &str,
    dir: &Path,
    scenario: &Scenario,
    connections: usize,
    seconds: u64,
) -> Option<Measured> {
    let script = dir.join(format!("{}.lua", scenario.name.replace(' ', "_")));
    std::fs::write(&script, &scenario.lua).ok()?;
    let wrk = |secs: u64| {
        Command::new("wrk")
            .args([
                "-t2",
                &format!("-c{connections}"),
                &format!("-d{secs}s"),
                "--latency",
                "-s",
            ])
            .arg(&script)
            .arg(base)
            .output()
            .ok()
    };
    wrk(seconds.div_ceil(3).max(2))?;
    let out = wrk(seconds)?;
    let text = String::from_utf8_lossy(&out.stdout);
    parse(&text)
}

/// Requests a second, p99 and non-2xx count from wrk's `--latency` report.
fn parse(text: &str) -> Option<Measured> {
    let mut rps = None;
    let mut p99 = None;
    let mut errors = 0;
    for line in text.lines() {
        let line = line.trim();
        if let Some(v) = line.strip_prefix("Requests/sec:") {
            rps = v.trim().parse().ok();
        } else if let Some(v) = line.strip_prefix("99%") {
            p99 = millis(v.trim());
        } else if let Some(v) = line.strip_prefix("Non-2xx or 3xx responses:") {
            errors += v.trim().parse::<u64>().unwrap_or(0);
        } else if line.starts_with("Socket errors:") {
            errors += line
                .split(|c: char| !c.is_ascii_digit())
                .filter_map(|n| n.parse::<u64>().ok())
                .sum::<u64>();
        }
    }
    Some(Measured {
        rps: rps?,
        p99_ms: p99?,
        errors,
    })
}

fn millis(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (n, unit) = text.split_at(split);
    let n: f64 = n.parse().ok()?;
    Some(match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => return None,
    })
}

/// What the embedded table holds: the file (database and log, after a checkpoint) and,
/// per kind of item, how many there are and their bytes (keys, index columns, body).
pub fn storage(db: &Path, contacts: usize) {
    let conn = rusqlite::Connection::open(db).expect("open the table file");
    let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);");
    let file = std::fs::metadata(db).map(|m| m.len()).unwrap_or(0)
        + std::fs::metadata(db.with_extension("sqlite3-wal"))
            .map(|m| m.len())
            .unwrap_or(0);
    let pages: i64 = conn
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .unwrap_or(0);
    let free: i64 = conn
        .query_row("PRAGMA freelist_count", [], |r| r.get(0))
        .unwrap_or(0);
    println!(
        "\nStorage: {:.1} MB on disk ({} pages, {} free), {:.0} bytes per contact",
        file as f64 / 1e6,
        pages,
        free,
        file as f64 / contacts as f64
    );
    // The kind of an item is its partition without the tenant, and the first part of
    // its sort key when that names a sub-kind.
    // Key bytes: the sort keys as text, and 8 bytes per partition number (at most; SQLite
    // stores small numbers in fewer).
    let mut stmt = conn
        .prepare(
            "SELECT parts.name, sk, 8 + length(CAST(sk AS BLOB))
                 + 8 * ((g1 IS NOT NULL) + (g2 IS NOT NULL) + (g3 IS NOT NULL) + (g4 IS NOT NULL))
                 + coalesce(length(CAST(g1s AS BLOB)), 0) + coalesce(length(CAST(g2s AS BLOB)), 0)
                 + coalesce(length(CAST(g3s AS BLOB)), 0) + coalesce(length(CAST(g4s AS BLOB)), 0),
             length(body)
             FROM rows JOIN parts ON parts.id = rows.p",
        )
        .expect("rows");
    let mut kinds: std::collections::BTreeMap<String, (u64, u64, u64)> = Default::default();
    let mut rows = stmt.query([]).expect("items");
    while let Ok(Some(row)) = rows.next() {
        let pk: String = row.get(0).unwrap_or_default();
        let sk: String = row.get(1).unwrap_or_default();
        let keys: i64 = row.get(2).unwrap_or(0);
        let body: i64 = row.get(3).unwrap_or(0);
        let kind = kind_of(&pk, &sk);
        let entry = kinds.entry(kind).or_default();
        entry.0 += 1;
        entry.1 += keys as u64;
        entry.2 += body as u64;
    }
    let mut kinds: Vec<_> = kinds.into_iter().collect();
    kinds.sort_by_key(|(_, (_, k, b))| std::cmp::Reverse(k + b));
    println!("| Item kind | Items | per contact | key bytes | body bytes | bytes per contact |");
    println!("| --- | --- | --- | --- | --- | --- |");
    let (mut items, mut bytes) = (0, 0);
    for (kind, (n, k, b)) in kinds.iter().take(20) {
        items += n;
        bytes += k + b;
        println!(
            "| {kind} | {n} | {:.2} | {} | {} | {:.0} |",
            *n as f64 / contacts as f64,
            k / n,
            b / n,
            (k + b) as f64 / contacts as f64
        );
    }
    println!(
        "| all | {items} | {:.2} | | | {:.0} |",
        items as f64 / contacts as f64,
        bytes as f64 / contacts as f64
    );
}

fn kind_of(pk: &str, sk: &str) -> String {
    // `T#<tenant>#<rest>`: drop the tenant.
    let rest = pk.splitn(3, '#').nth(2).unwrap_or(pk);
    let rest: String = rest
        .split('#')
        .map(|part| {
            // Ids (prefix_ULID) and numbers vary per item; keep the kind.
            if part.len() > 20 || part.chars().all(|c| c.is_ascii_digit()) {
                "*".to_owned()
            } else {
                part.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("#");
    // A search entry's sort key starts with its term, which says nothing of its kind.
    if rest.starts_with("search#") {
        return rest;
    }
    let sub = sk
        .split('#')
        .next()
        .filter(|s| s.len() <= 12 && s.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        .unwrap_or("*");
    format!("{rest} / {sub}")
}
