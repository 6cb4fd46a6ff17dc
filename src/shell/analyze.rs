use super::walk::{self, Frame, Out, State};
use super::{Analysis, Context};

/// Analyse one command line. Never panics; anything it cannot understand is a `Problem`.
///
/// The text is parsed with brush-parser inside bounds (length, nesting) and `catch_unwind`;
/// text it rejects is reported as `Problem::Unparseable` and scanned with a crude token
/// scanner so the invocations that looked dangerous can still be named.
pub fn analyze(text: &str, ctx: &Context) -> Analysis {
    let mut state = State {
        cwd: Some(ctx.cwd.clone()),
        home: ctx.home.clone(),
        vars: initial_vars(ctx),
        stdin_unknown: ctx.stdin_unknown,
    };
    let mut out = Out::default();
    walk::analyze_text(text, &mut state, &Frame::default(), &mut out);
    Analysis {
        invocations: out.invocations,
        problems: out.problems,
    }
}

/// The environment as variables already assigned, and the environment-only ones that are
/// missing as empty.
fn initial_vars(ctx: &Context) -> Vec<(String, Option<String>)> {
    let mut vars: Vec<(String, Option<String>)> = super::ENVIRONMENT_ONLY
        .iter()
        .filter(|n| !ctx.env.iter().any(|(k, _)| k == *n))
        .map(|n| ((*n).to_owned(), Some(String::new())))
        .collect();
    vars.extend(ctx.env.iter().map(|(k, v)| (k.clone(), Some(v.clone()))));
    vars
}
