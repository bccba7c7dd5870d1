//! `d1-vault retention`: what the retention policy would keep and remove now.

use crate::common::{CliError, Command};
use crate::json::Json;
use crate::remote::{remote_exit_status, remote_options, Auth, RemoteArgs, QUICK_TIMEOUT};
use crate::render::{text, write_stdout, Align, Table};

pub const COMMAND: Command = Command {
    name: "retention",
    summary: "what the retention policy keeps and removes now, and why",
    usage: USAGE,
    run,
};

const USAGE: &str = concat!(
    "\
Usage: d1-vault retention [--json] [--url <url>] [--token <token>]

Shows the worker's retention policy in words and applies it to every backup
as of now, without deleting anything: each backup with keep or remove and the
reasons (the newest in its day, ISO week, month or year; pinned; the newest
successful backup). The worker prunes by this plan after each successful
backup. Needs the read token.

Options:
      --json             print the policy, now and every decision as the
                         worker sent them
",
    remote_options!(),
    "  -h, --help             show this help

",
    remote_exit_status!()
);

fn run(parser: &mut lexopt::Parser) -> Result<(), CliError> {
    let Some(remote) = RemoteArgs::parse_plain(parser, USAGE)? else {
        return Ok(());
    };
    let client = remote.client(Auth::Token, Some(QUICK_TIMEOUT))?;
    let plan = client.get("/v1/retention")?.success()?;
    if remote.json {
        return write_stdout(&format!("{}\n", plan.pretty()));
    }
    write_stdout(&human(&plan))
}

/// The policy in words, a count, then one row per backup.
fn human(plan: &Json) -> String {
    let description = text(plan.get("policy").and_then(|p| p.get("description")));
    let decisions = plan.get("decisions").map(Json::items).unwrap_or_default();
    let kept = decisions
        .iter()
        .filter(|d| d.get("keep").and_then(Json::as_bool) == Some(true))
        .count();
    let mut out = format!(
        "Policy: {description}\nAs of {}: {} backups, {kept} kept, {} to remove (a dry run: nothing was deleted).\n",
        text(plan.get("now")),
        decisions.len(),
        decisions.len() - kept,
    );
    if decisions.is_empty() {
        return out;
    }
    let mut table = Table::new(&[
        ("ID", Align::Left),
        ("CREATED", Align::Left),
        ("KIND", Align::Left),
        ("DECISION", Align::Left),
        ("REASONS", Align::Left),
    ]);
    for decision in decisions {
        let keep = decision.get("keep").and_then(Json::as_bool) == Some(true);
        let reasons: Vec<String> = decision
            .get("reasons")
            .map(Json::items)
            .unwrap_or_default()
            .iter()
            .map(|reason| text(Some(reason)))
            .collect();
        table.row(vec![
            text(decision.get("id")),
            text(decision.get("created_at")),
            text(decision.get("kind")),
            if keep { "keep" } else { "remove" }.into(),
            reasons.join("; "),
        ]);
    }
    out.push('\n');
    out.push_str(&table.render());
    out
}
