//! In-process cost of `sql::classify` for one-statement payloads (target: p99 ≤ 50 µs).
//!
//! Run with `cargo bench --bench sql`. Each case is timed call by call with `Instant` after a
//! warm-up; the figures are per call.

use prodguard::sql::{classify, ClientCall};
use std::hint::black_box;
use std::time::{Duration, Instant};

const WARMUP: usize = 2_000;
const SAMPLES: usize = 50_000;

fn case(name: &str, program: &str, args: &[&str], stdin: Option<&str>) {
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    let call = ClientCall {
        program,
        args: &args,
        stdin,
        stdin_file: None,
        stdin_unknown: false,
        cwd: "/",
    };
    for _ in 0..WARMUP {
        black_box(classify(black_box(&call)));
    }
    let mut times: Vec<Duration> = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let t = Instant::now();
        black_box(classify(black_box(&call)));
        times.push(t.elapsed());
    }
    times.sort_unstable();
    let at = |q: f64| times[((times.len() as f64 - 1.0) * q) as usize];
    println!(
        "{name:<34} p50 {:>7.2} µs   p99 {:>7.2} µs   max {:>8.2} µs",
        at(0.50).as_secs_f64() * 1e6,
        at(0.99).as_secs_f64() * 1e6,
        at(1.0).as_secs_f64() * 1e6,
    );
}

const JOIN: &str = "SELECT o.id, c.name, sum(l.qty * l.price) AS total FROM orders o \
     JOIN customers c ON c.id = o.customer_id JOIN lines l ON l.order_id = o.id \
     WHERE o.created_at > now() - interval '7 days' AND c.country IN ('DE', 'FR') \
     GROUP BY o.id, c.name HAVING sum(l.qty) > 3 ORDER BY total DESC LIMIT 50";

/// The parser alone on the same statement, for comparison.
fn parser_only() {
    let d = sqlparser::dialect::PostgreSqlDialect {};
    let mut times: Vec<Duration> = Vec::with_capacity(SAMPLES);
    for _ in 0..WARMUP {
        black_box(sqlparser::parser::Parser::parse_sql(&d, black_box(JOIN)).is_ok());
    }
    for _ in 0..SAMPLES {
        let t = Instant::now();
        black_box(sqlparser::parser::Parser::parse_sql(&d, black_box(JOIN)).is_ok());
        times.push(t.elapsed());
    }
    times.sort_unstable();
    let at = |q: f64| times[((times.len() as f64 - 1.0) * q) as usize];
    println!(
        "{:<34} p50 {:>7.2} µs   p99 {:>7.2} µs",
        "(sqlparser alone, join/group)",
        at(0.50).as_secs_f64() * 1e6,
        at(0.99).as_secs_f64() * 1e6,
    );
}

fn main() {
    case(
        "psql -c DROP DATABASE",
        "psql",
        &["-c", "DROP DATABASE production"],
        None,
    );
    case(
        "psql -c SELECT count(*)",
        "psql",
        &["-c", "SELECT count(*) FROM users"],
        None,
    );
    case(
        "psql -c DELETE … WHERE",
        "psql",
        &["-c", "DELETE FROM sessions WHERE expires_at < now()"],
        None,
    );
    case(
        "psql -c SELECT join/group (~300 B)",
        "psql",
        &["-U", "app", "-d", "shop", "-c", JOIN],
        None,
    );
    parser_only();
    case(
        "psql stdin DROP DATABASE",
        "psql",
        &[],
        Some("DROP DATABASE app;\n"),
    );
    case(
        "psql -c rejected (keyword scan)",
        "psql",
        &["-c", "DROP DATABASE x WITH junk junk"],
        None,
    );
    case(
        "mysql -e drop database",
        "mysql",
        &["-uroot", "-e", "drop database wordpress"],
        None,
    );
    case(
        "mysql -e SHOW DATABASES",
        "mysql",
        &["-e", "SHOW DATABASES"],
        None,
    );
    case(
        "sqlite3 DB DELETE",
        "sqlite3",
        &["app.db", "DELETE FROM t"],
        None,
    );
    case(
        "redis-cli -h cache1 flushall",
        "redis-cli",
        &["-h", "cache1", "flushall"],
        None,
    );
    case(
        "mongosh --eval dropDatabase",
        "mongosh",
        &["--eval", "db.dropDatabase()"],
        None,
    );
    case(
        "curl -X DELETE es:9200/idx",
        "curl",
        &["-X", "DELETE", "http://es1:9200/logs-*"],
        None,
    );
}
