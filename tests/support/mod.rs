//! What every test crate does when something it needs (a tool, a server binary, root) is missing.
//!
//! A skipped test is a failed test in CI: when the environment variable `CI` is `true` or `1`
//! (CI sets it; `.ci/run` sets it when CI did not), [`skip`] panics with `required in CI: …`, so
//! the test fails. Anywhere else it prints `skipped: …` and the caller returns, so a developer
//! without root or without PostgreSQL can still run the rest.
//!
//! Included by each test crate: `mod support;` from `tests/*.rs`,
//! `#[path = "../support/mod.rs"] mod support;` from the directory harnesses.

/// Whether this run is CI, where nothing may be skipped: `CI` is `true` or `1`.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| {
        let v = v.trim();
        v == "1" || v.eq_ignore_ascii_case("true")
    })
}

/// The test cannot run here because of `why`. Under CI this panics (the test fails); otherwise it
/// prints `skipped: {why}` and the caller returns.
#[track_caller]
pub fn skip(why: &str) {
    if in_ci() {
        panic!("required in CI: {why}");
    }
    eprintln!("skipped: {why}");
}
