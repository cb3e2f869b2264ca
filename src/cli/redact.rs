//! `flightrec redact SESSION --preview`: what `export --redact` would mask, and where. It writes
//! nothing; exports write redacted copies with `--redact`.

use std::path::Path;

use serde::Serialize;

use super::redact_args::RedactRuleArgs;
use super::{Outcome, exit, open_existing, output, resolve};
use flightrec::export::SessionDoc;
use flightrec::redact::{DocHit, Manifest, redact_doc_with_hits};

#[derive(clap::Args)]
pub struct Args {
    /// The session: its id, a unique prefix or suffix, latest or latest-stuck
    session: String,
    /// List every value that would be masked (required: this command never writes)
    #[arg(long)]
    preview: bool,
    #[command(flatten)]
    rules: RedactRuleArgs,
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Preview {
    hits: Vec<DocHit>,
    manifest: Manifest,
}

pub fn run(db: &Path, args: Args) -> Outcome {
    let redactor = args.rules.redactor()?;
    if !args.preview {
        anyhow::bail!(
            "redact only previews: add --preview to list what would be masked; \
             `flightrec export {} --redact` writes a redacted copy",
            args.session
        );
    }
    let store = open_existing(db)?;
    let id = resolve::session_id(&store, &args.session)?;
    let mut doc = SessionDoc::load(&store, &id)?;
    let (manifest, hits) = redact_doc_with_hits(&mut doc, &redactor);
    if args.json {
        output::print_json(&Preview { hits, manifest })?;
        return Ok(exit::OK);
    }
    let mut t = output::table(&["WHERE", "ID", "TYPE", "PATH", "RULE", "MARKER", "EXCERPT"]);
    for h in &hits {
        t.add_row(vec![
            h.place.kind.to_string(),
            h.place.id.clone().unwrap_or_default(),
            h.place.of_type.clone().unwrap_or_default(),
            h.hit.path.clone(),
            h.hit.rule.clone(),
            h.hit.marker.clone(),
            h.hit.excerpt.clone(),
        ]);
    }
    if !hits.is_empty() {
        output::print_styled(t)?;
    }
    output::print(totals(&manifest))?;
    Ok(exit::OK)
}

/// `total: 5 values in 4 texts would be masked: anthropic-key 2, bearer 3`.
fn totals(m: &Manifest) -> String {
    if m.masked == 0 {
        return format!("total: nothing to mask ({} rules checked)", m.rules.len());
    }
    format!(
        "total: {} value{} in {} text{} would be masked: {}",
        m.masked,
        if m.masked == 1 { "" } else { "s" },
        m.texts_changed,
        if m.texts_changed == 1 { "" } else { "s" },
        m.per_rule_text()
    )
}
