//! `jiancha catalog`: the item catalog and the org names — list them, show one, and define an
//! item (`ItemDefined`) or name an org (`OrgDefined`) from flags, appending the event or, with
//! `--dry-run`, printing it as a JSONL line `jiancha import` takes.

use std::io::Write as _;
use std::sync::Arc;

use jiancha_events::{
    format_timestamp, EventData, ItemDefined, NewEvent, OrgDefined, OrgKind, StreamName,
    CATALOG_STREAM,
};
use jiancha_projections::Catalog;
use jiancha_store::{Clock, EventStore, StoreError};

use crate::cmd::case::Format;
use crate::error::user_error;

/// The actor recorded when `--actor` is not given.
pub const DEFAULT_ACTOR: &str = "admin";

/// Arguments of `jiancha catalog`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    jiancha catalog list\n  \
    jiancha catalog show BL-001\n  \
    jiancha catalog define-org --path jiangjin/center/dept-03 --name 区市场监管局 --kind department\n\n\
    `jiancha catalog SUBCOMMAND --help` says more of each.")]
pub struct CatalogArgs {
    /// What to do with the catalog.
    #[command(subcommand)]
    pub command: CatalogCommand,
}

/// The catalog subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum CatalogCommand {
    /// List the items and the named orgs.
    List(ListArgs),
    /// Show one item (by code) or one org (by path).
    Show(ShowArgs),
    /// Define or redefine an item (appends an ItemDefined event).
    DefineItem(DefineItemArgs),
    /// Name an org, or rename it (appends an OrgDefined event).
    DefineOrg(DefineOrgArgs),
}

/// Arguments of `jiancha catalog list`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    jiancha catalog list\n  \
    jiancha catalog list --format json\n\n\
    JSON: {\"items\": [ItemDefined data with org_name], \"orgs\": [{path, name, kind}]}, sorted \
    by code and path.")]
pub struct ListArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `jiancha catalog show`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    jiancha catalog show BL-001\n  \
    jiancha catalog show jiangjin/center/dept-03 --format json")]
pub struct ShowArgs {
    /// An item code or an org path.
    pub key: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Who records a definition.
#[derive(Debug, clap::Args)]
pub struct Recording {
    /// The actor recorded on the event.
    #[arg(long, default_value = DEFAULT_ACTOR)]
    pub actor: String,
    /// Print the event as a JSONL line (for `jiancha import`) instead of appending it.
    #[arg(long = "dry-run")]
    pub dry_run: bool,
}

/// Arguments of `jiancha catalog define-item`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    jiancha catalog define-item --code BL-001 --name 个体工商户设立登记 \
    --org jiangjin/center/dept-03 --statutory-days 20 --promised-days 5 \
    --steps 审查,审核,决定 --materials 身份证,经营场所证明 --in-center\n  \
    jiancha catalog define-item --code BL-001 --name 个体工商户设立登记 \
    --org jiangjin/center/dept-03 --statutory-days 20 --promised-days 5 --dry-run >> items.jsonl\n\n\
    A redefinition applies to cases accepted after it.")]
pub struct DefineItemArgs {
    /// The item code.
    #[arg(long)]
    pub code: String,
    /// The item's name.
    #[arg(long)]
    pub name: String,
    /// The org path that handles it.
    #[arg(long)]
    pub org: String,
    /// 法定时限, in working days.
    #[arg(long = "statutory-days")]
    pub statutory_days: u32,
    /// 承诺时限, in working days (at most the statutory limit).
    #[arg(long = "promised-days")]
    pub promised_days: u32,
    /// The fee, in cents (分).
    #[arg(long = "fee-cents", default_value_t = 0)]
    pub fee_cents: u64,
    /// The procedure's steps, in order, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub steps: Vec<String>,
    /// The materials an application must include, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub materials: Vec<String>,
    /// Handled in the district center (进驻).
    #[arg(long = "in-center")]
    pub in_center: bool,
    /// Who records it.
    #[command(flatten)]
    pub recording: Recording,
}

/// Arguments of `jiancha catalog define-org`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    jiancha catalog define-org --path jiangjin/center/dept-07 --name 区市场监管局 \
    --kind department\n  \
    jiancha catalog define-org --path jiangjin/town-03 --name 白沙镇 --kind town --dry-run\n\n\
    Kinds: district, center, department, window, town, village, supervision. A later \
    definition of the same path renames it.")]
pub struct DefineOrgArgs {
    /// The org path.
    #[arg(long)]
    pub path: String,
    /// Its name.
    #[arg(long)]
    pub name: String,
    /// What kind of unit it is.
    #[arg(long, value_parser = parse_kind)]
    pub kind: OrgKind,
    /// Who records it.
    #[command(flatten)]
    pub recording: Recording,
}

fn parse_kind(text: &str) -> Result<OrgKind, String> {
    OrgKind::parse(text).ok_or_else(|| {
        let kinds: Vec<&str> = OrgKind::ALL.iter().map(|k| k.as_str()).collect();
        format!("unknown kind {text:?} (one of {})", kinds.join(", "))
    })
}

/// Runs `jiancha catalog`.
pub async fn run(db: &str, clock: Arc<dyn Clock>, args: &CatalogArgs) -> anyhow::Result<()> {
    match &args.command {
        CatalogCommand::List(a) => {
            let catalog = read_catalog(db, clock).await?;
            let mut out = std::io::BufWriter::new(crate::stdout::lock());
            match a.format {
                Format::Json => writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&list_json(&catalog)?)?
                )?,
                Format::Table => write_list(&mut out, &catalog)?,
            }
            out.flush()?;
            Ok(())
        }
        CatalogCommand::Show(a) => {
            let catalog = read_catalog(db, clock).await?;
            let mut out = std::io::BufWriter::new(crate::stdout::lock());
            show(&mut out, &catalog, a)?;
            out.flush()?;
            Ok(())
        }
        CatalogCommand::DefineItem(a) => {
            let data = EventData::ItemDefined(ItemDefined {
                code: a.code.clone(),
                name: a.name.clone(),
                org: a.org.clone(),
                statutory_days: a.statutory_days,
                promised_days: a.promised_days,
                fee_cents: a.fee_cents,
                steps: a.steps.clone(),
                required_materials: a.materials.clone(),
                in_center: a.in_center,
                warning: None,
                max_extension_days: None,
                suspension_expected_days: None,
            });
            define(db, clock, &a.recording, &a.org, data).await
        }
        CatalogCommand::DefineOrg(a) => {
            let data = EventData::OrgDefined(OrgDefined {
                path: a.path.clone(),
                name: a.name.clone(),
                kind: a.kind,
            });
            define(db, clock, &a.recording, &a.path, data).await
        }
    }
}

/// The flag a data field comes from.
fn flag_of(field: &str) -> String {
    let name = field.strip_prefix("data.").unwrap_or(field);
    match name {
        "required_materials" => "--materials".to_owned(),
        other => format!("--{}", other.replace('_', "-")),
    }
}

/// Checks a definition, then appends it (or prints it with `--dry-run`).
async fn define(
    db: &str,
    clock: Arc<dyn Clock>,
    recording: &Recording,
    org: &str,
    data: EventData,
) -> anyhow::Result<()> {
    data.check_append()
        .map_err(|e| user_error(format!("{}: {}", flag_of(&e.field), e.message)))?;
    // The catalog belongs to the district: the envelope's org is the path's first segment.
    let district = org.split('/').next().unwrap_or(org).to_owned();
    let at = clock.now().with_timezone(&jiancha_events::time::CHINA);
    if recording.dry_run {
        let line = format!(
            "{{\"stream\":\"{CATALOG_STREAM}\",\"type\":\"{}\",\"occurred_at\":{},\"actor\":{},\
             \"org\":{},\"data\":{}}}",
            data.type_name(),
            serde_json::to_string(&format_timestamp(&at))?,
            serde_json::to_string(&recording.actor)?,
            serde_json::to_string(&district)?,
            data.to_json()
        );
        let mut out = crate::stdout::lock();
        writeln!(out, "{line}")?;
        return Ok(());
    }
    let type_name = data.type_name();
    let event = NewEvent::new(
        StreamName::catalog(),
        at,
        recording.actor.clone(),
        district,
        data,
    );
    let store = crate::open_store(db, clock).await?;
    let appended = store.append(vec![event]).await;
    store.close().await;
    let appended = match appended {
        Ok(a) => a,
        Err(StoreError::Rejected(r)) => {
            return Err(user_error(format!("{}: {}", r.field, r.message)))
        }
        Err(e) => return Err(e.into()),
    };
    let mut out = crate::stdout::lock();
    writeln!(
        out,
        "appended {type_name} at position {}",
        appended.positions.first().copied().unwrap_or_default()
    )?;
    Ok(())
}

/// The catalog as its stream declares it.
async fn read_catalog(db: &str, clock: Arc<dyn Clock>) -> anyhow::Result<Catalog> {
    let store: Arc<dyn EventStore> = crate::open_existing_store(db, clock).await?;
    let events = store.read_stream(CATALOG_STREAM).await;
    store.close().await;
    let mut catalog = Catalog::default();
    for e in events? {
        match &e.data {
            EventData::ItemDefined(item) => catalog.define(e.position, item),
            EventData::OrgDefined(org) => catalog.define_org(org),
            _ => {}
        }
    }
    Ok(catalog)
}

/// An item's definition as JSON, with its org's name.
fn item_json(catalog: &Catalog, item: &ItemDefined) -> anyhow::Result<serde_json::Value> {
    let mut v = serde_json::to_value(item)?;
    if let (Some(obj), Some(name)) = (v.as_object_mut(), catalog.org_name(&item.org)) {
        obj.insert("org_name".into(), name.into());
    }
    Ok(v)
}

fn org_json(path: &str, catalog: &Catalog) -> serde_json::Value {
    match catalog.org(path) {
        Some(o) => serde_json::json!({"path": path, "name": o.name, "kind": o.kind.as_str()}),
        None => serde_json::json!({"path": path}),
    }
}

fn list_json(catalog: &Catalog) -> anyhow::Result<serde_json::Value> {
    let items = catalog
        .items()
        .map(|d| item_json(catalog, &d.item))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let orgs: Vec<_> = catalog.orgs().map(|(p, _)| org_json(p, catalog)).collect();
    Ok(serde_json::json!({"items": items, "orgs": orgs}))
}

fn write_list(out: &mut dyn std::io::Write, catalog: &Catalog) -> std::io::Result<()> {
    writeln!(out, "items:")?;
    for d in catalog.items() {
        let i = &d.item;
        let org_name = catalog.org_name(&i.org).unwrap_or("-");
        writeln!(
            out,
            "  {:<12} {}  {} {}  {}/{} working days{}",
            i.code,
            i.name,
            i.org,
            org_name,
            i.promised_days,
            i.statutory_days,
            if i.in_center { "  in center" } else { "" }
        )?;
    }
    writeln!(out, "orgs:")?;
    for (path, o) in catalog.orgs() {
        writeln!(out, "  {path:<32} {:<11} {}", o.kind.as_str(), o.name)?;
    }
    let items = catalog.items().count();
    let orgs = catalog.orgs().count();
    writeln!(out, "{items} items, {orgs} named orgs")
}

fn show(out: &mut dyn std::io::Write, catalog: &Catalog, args: &ShowArgs) -> anyhow::Result<()> {
    if let Some(def) = catalog.current(&args.key) {
        let i = &def.item;
        match args.format {
            Format::Json => {
                let mut v = item_json(catalog, i)?;
                if let Some(obj) = v.as_object_mut() {
                    obj.insert("position".into(), def.position.into());
                    let n = catalog.history(&i.code).len();
                    obj.insert("definitions".into(), n.into());
                }
                writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
            }
            Format::Table => {
                let org = match catalog.org_name(&i.org) {
                    Some(n) => format!("{} {n}", i.org),
                    None => i.org.clone(),
                };
                let rows = [
                    ("item", i.code.clone()),
                    ("name", i.name.clone()),
                    ("org", org),
                    (
                        "statutory limit",
                        format!("{} working days", i.statutory_days),
                    ),
                    (
                        "promised limit",
                        format!("{} working days", i.promised_days),
                    ),
                    ("fee", format!("{} cents", i.fee_cents)),
                    ("steps", i.steps.join(", ")),
                    ("materials", i.required_materials.join(", ")),
                    ("in center", i.in_center.to_string()),
                    ("defined at", format!("position {}", def.position)),
                ];
                for (k, v) in rows {
                    writeln!(out, "{k:<16} {v}")?;
                }
            }
        }
        return Ok(());
    }
    let Some(org) = catalog.org(&args.key) else {
        return Err(user_error(format!(
            "no item code or named org {:?} in the catalog (see `jiancha catalog list`)",
            args.key
        )));
    };
    let items: Vec<&ItemDefined> = catalog
        .items()
        .map(|d| &*d.item)
        .filter(|i| i.org == args.key)
        .collect();
    match args.format {
        Format::Json => {
            let mut v = org_json(&args.key, catalog);
            let codes: Vec<&str> = items.iter().map(|i| i.code.as_str()).collect();
            v["items"] = serde_json::json!(codes);
            writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        }
        Format::Table => {
            writeln!(out, "{:<16} {}", "org", args.key)?;
            writeln!(out, "{:<16} {}", "name", org.name)?;
            writeln!(out, "{:<16} {}", "kind", org.kind.as_str())?;
            for i in items {
                writeln!(out, "{:<16} {} {}", "item", i.code, i.name)?;
            }
        }
    }
    Ok(())
}
