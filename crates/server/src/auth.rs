//! Roles and bearer tokens. The auth file (TOML) lists each token by its SHA-256 hash — never
//! in clear — with the role it carries, a name (the `actor` of every event it writes) and, for
//! the bureau, the center and units, an org path:
//!
//! ```toml
//! [[token]]
//! name = "town-07-window"
//! role = "unit"              # supervisor | center | unit | evaluator
//! org = "jiangjin/town-07"
//! sha256 = "<64 hex digits: printf %s \"$TOKEN\" | sha256sum>"
//!
//! [[token]]
//! name = "province-evaluation"
//! role = "province"          # the province's roll-up of the districts it lists, nothing else
//! districts = ["jiangjin", "yubei"]
//! sha256 = "<64 hex digits>"
//! ```
//!
//! [`Caller`] is what a request presents: the open caller (no auth file: a trusted local
//! operator) or a token's [`Principal`]. Its methods say what the caller may do, as scopes.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use jiancha_events::stream::{check_org, org_is_under, NAME_BYTES_MAX};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ErrorKind};
use crate::State;

/// The actor of the events written by the open caller (no auth file).
pub const OPEN_ACTOR: &str = "local";
/// The org of the supervision events written by the open caller (no auth file).
pub const OPEN_ORG: &str = "local";
/// The most tokens an auth file may list (each has its own rate bucket).
pub const TOKENS_MAX: usize = 100_000;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The supervision bureau: reads everything; acknowledges alerts, orders corrections,
    /// exempts cases.
    Supervisor,
    /// The district center: reads everything; appends case events and item definitions for
    /// the orgs under its path.
    Center,
    /// A window, town center or village point: appends case events and reads cases, alerts
    /// and report rows under its own org path only.
    Unit,
    /// An evaluator: reports only.
    Evaluator,
    /// A province evaluator: the roll-up of the districts its token lists
    /// (`GET /api/v1/province/reports`), and nothing of any district itself.
    Province,
}

impl Role {
    /// The name in the auth file.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Supervisor => "supervisor",
            Role::Center => "center",
            Role::Unit => "unit",
            Role::Evaluator => "evaluator",
            Role::Province => "province",
        }
    }
}

/// A token's holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Its place in the auth file (its rate bucket).
    pub index: usize,
    /// The actor of the events it writes.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// Its org path (the bureau's own, or the root of what a center or unit may touch).
    pub org: Option<String>,
    /// The districts a province token reads the roll-up of (empty for every other role).
    pub districts: Vec<String>,
}

/// Why an auth file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The file cannot be read: check the path and permissions.
    #[error("cannot read the auth file {path}: {source}")]
    Read {
        /// The path given.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML of the expected shape: fix the named place.
    #[error("the auth file is not valid: {0}")]
    Parse(String),
    /// An entry is wrong: fix the named field of the named `[[token]]`.
    #[error("the auth file's token {index} ({name:?}): {field}: {message}")]
    Entry {
        /// 1-based place of the `[[token]]` table.
        index: usize,
        /// Its name.
        name: String,
        /// The field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The file lists no token: every request would be refused.
    #[error("the auth file lists no [[token]]: every request would be refused")]
    Empty,
    /// More tokens than [`TOKENS_MAX`].
    #[error("the auth file lists more than {TOKENS_MAX} tokens")]
    TooMany,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    token: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    role: Role,
    org: Option<String>,
    #[serde(default)]
    districts: Vec<String>,
    sha256: String,
}

/// The tokens the server accepts, by hash.
#[derive(Debug, Clone, Default)]
pub struct Auth {
    by_hash: HashMap<[u8; 32], Arc<Principal>>,
}

/// The SHA-256 of a token, as the auth file holds it (64 lowercase hex digits).
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Auth {
    /// Reads and checks an auth file.
    pub fn load(path: &Path) -> Result<Auth, AuthError> {
        let text = std::fs::read_to_string(path).map_err(|source| AuthError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Auth::parse(&text)
    }

    /// Checks an auth file's text.
    pub fn parse(text: &str) -> Result<Auth, AuthError> {
        let file: File = toml::from_str(text).map_err(|e| AuthError::Parse(e.to_string()))?;
        if file.token.is_empty() {
            return Err(AuthError::Empty);
        }
        if file.token.len() > TOKENS_MAX {
            return Err(AuthError::TooMany);
        }
        let mut by_hash = HashMap::with_capacity(file.token.len());
        for (index, entry) in file.token.into_iter().enumerate() {
            let (hash, principal) = check_entry(index, entry)?;
            if by_hash.insert(hash, Arc::new(principal)).is_some() {
                return Err(AuthError::Parse(format!(
                    "token {} repeats the sha256 of an earlier token",
                    index + 1
                )));
            }
        }
        Ok(Auth { by_hash })
    }

    /// How many tokens are known.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// Whether no token is known.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// The holder of a token, if it is known.
    pub fn lookup(&self, token: &str) -> Option<Arc<Principal>> {
        let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        self.by_hash.get(&hash).cloned()
    }
}

fn check_entry(index: usize, entry: Entry) -> Result<([u8; 32], Principal), AuthError> {
    let bad = |field: &'static str, message: String| AuthError::Entry {
        index: index + 1,
        name: entry.name.clone(),
        field,
        message,
    };
    if entry.name.trim().is_empty() || entry.name.len() > NAME_BYTES_MAX {
        return Err(bad("name", format!("must be 1 to {NAME_BYTES_MAX} bytes")));
    }
    if entry.name.chars().any(char::is_control) {
        return Err(bad("name", "contains a control character".into()));
    }
    // The name is the actor of the token's acts: what the log refuses in a new event's actor.
    jiancha_events::check_new_actor(&entry.name).map_err(|m| bad("name", m))?;
    let mut hash = [0u8; 32];
    hex::decode_to_slice(entry.sha256.trim(), &mut hash).map_err(|_| {
        bad(
            "sha256",
            "must be 64 hex digits (the token's SHA-256, never the token itself)".into(),
        )
    })?;
    check_districts_of(&entry).map_err(|m| bad("districts", m))?;
    match (entry.role, &entry.org) {
        (Role::Evaluator, Some(_)) => {
            return Err(bad("org", "an evaluator has no org path".into()));
        }
        (Role::Province, Some(_)) => {
            return Err(bad(
                "org",
                "a province token has no org path: it lists its districts".into(),
            ));
        }
        (Role::Evaluator | Role::Province, None) => {}
        (role, None) => {
            return Err(bad(
                "org",
                format!("a {} token needs an org path", role.as_str()),
            ));
        }
        (_, Some(org)) => check_org("org", org).map_err(|e| bad("org", e.message))?,
    }
    let principal = Principal {
        index: index + 1,
        name: entry.name.clone(),
        role: entry.role,
        org: entry.org.clone(),
        districts: entry.districts.clone(),
    };
    Ok((hash, principal))
}

/// A province token lists its districts (plain identifiers, at least one, none twice); no
/// other role lists any.
fn check_districts_of(entry: &Entry) -> Result<(), String> {
    if entry.role != Role::Province {
        if entry.districts.is_empty() {
            return Ok(());
        }
        return Err(format!(
            "only a province token lists districts, not a {} token",
            entry.role.as_str()
        ));
    }
    jiancha_engine::province::check_districts(&entry.districts)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Which cases, alerts or report rows a caller may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// Everything.
    All,
    /// Only what lies under this org path.
    Under(&'a str),
}

impl Scope<'_> {
    /// Whether an org lies in the scope.
    pub fn covers(&self, org: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Under(root) => org_is_under(org, root),
        }
    }
}

/// Who is asking.
#[derive(Debug, Clone)]
pub enum Caller {
    /// No auth file: a trusted operator on this machine.
    Open,
    /// A token's holder.
    Token(Arc<Principal>),
}

impl Caller {
    /// The rate bucket: 0 for the open caller, the token's place otherwise.
    pub fn bucket(&self) -> usize {
        match self {
            Caller::Open => 0,
            Caller::Token(p) => p.index,
        }
    }

    fn role_name(&self) -> &'static str {
        match self {
            Caller::Open => "local",
            Caller::Token(p) => p.role.as_str(),
        }
    }

    fn refuse(&self, what: &str) -> ApiError {
        let role = self.role_name();
        let article = if role.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        ApiError::forbidden(format!("{article} {role} token may not {what}"))
    }

    /// What the caller may read of cases, alerts and the live stream.
    pub fn read_scope(&self) -> Result<Scope<'_>, ApiError> {
        match self {
            Caller::Open => Ok(Scope::All),
            Caller::Token(p) => match (p.role, p.org.as_deref()) {
                (Role::Supervisor | Role::Center, _) => Ok(Scope::All),
                (Role::Unit, Some(org)) => Ok(Scope::Under(org)),
                (Role::Province, _) => Err(self.refuse(
                    "read a district's cases, alerts or reports (the province roll-up only)",
                )),
                _ => Err(self.refuse("read cases or alerts (reports only)")),
            },
        }
    }

    /// Which cases the caller may list (`GET /cases`): every case for supervisors, the
    /// center and evaluators (who assess the whole district), its own org path for a unit.
    pub fn case_list_scope(&self) -> Result<Scope<'_>, ApiError> {
        match self {
            Caller::Token(p) if p.role == Role::Evaluator => Ok(Scope::All),
            _ => self.read_scope(),
        }
    }

    /// Which report rows the caller may read.
    pub fn report_scope(&self) -> Result<Scope<'_>, ApiError> {
        match self {
            Caller::Token(p) if matches!(p.role, Role::Unit | Role::Province) => self.read_scope(),
            _ => Ok(Scope::All),
        }
    }

    /// Whether the caller may read the insight (辅助决策): evaluators and the supervision
    /// bureau (and the open caller of a loopback server without an auth file).
    pub fn may_read_insight(&self) -> Result<(), ApiError> {
        match self {
            Caller::Open => Ok(()),
            Caller::Token(p) if matches!(p.role, Role::Supervisor | Role::Evaluator) => Ok(()),
            Caller::Token(_) => Err(self.refuse("read the insight")),
        }
    }

    /// Whether the caller may run the chain verification.
    pub fn may_verify(&self) -> Result<(), ApiError> {
        match self {
            Caller::Open => Ok(()),
            Caller::Token(p) if matches!(p.role, Role::Supervisor | Role::Center) => Ok(()),
            Caller::Token(_) => Err(self.refuse("run the chain verification")),
        }
    }

    /// The token that appends events (`None` for the open caller, whose events keep the
    /// actor and org they carry).
    pub fn appender(&self) -> Result<Option<&Principal>, ApiError> {
        match self {
            Caller::Open => Ok(None),
            Caller::Token(p) if matches!(p.role, Role::Center | Role::Unit) => Ok(Some(p)),
            Caller::Token(_) => Err(self.refuse(
                "append events (case events and definitions come from unit and center tokens)",
            )),
        }
    }

    /// The actor and org of a supervision act, if the caller may perform them.
    pub fn supervisor(&self) -> Result<(&str, &str), ApiError> {
        match self {
            Caller::Open => Ok((OPEN_ACTOR, OPEN_ORG)),
            Caller::Token(p) => match (p.role, p.org.as_deref()) {
                (Role::Supervisor, Some(org)) => Ok((&p.name, org)),
                _ => Err(self.refuse(
                    "exempt cases, uphold appeals, close periods or enter history (the bureau's acts)",
                )),
            },
        }
    }
}

/// The acts of the supervision workflow (预警纠错) and who may perform each. The roles are a
/// contract: the README's "预警纠错" section lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    /// 签收: acknowledge a card (`AlertAcknowledged`): the unit within its org, or the bureau.
    Acknowledge,
    /// 督办: order a correction (`CorrectionOrdered`): the bureau only.
    Order,
    /// 回告: report a correction done (`CorrectionCompleted`): the unit or the center, within
    /// its org.
    ReportBack,
    /// 核查: verify a report-back (`CorrectionVerified`): the bureau only.
    VerifyCorrection,
    /// 差评核实: verify a bad rating (`RatingVerified`): the center or the bureau.
    VerifyRating,
    /// 差评整改: report a bad rating rectified (`RatingRectified`): the unit or the center,
    /// within its org.
    RectifyRating,
    /// 回访: record the call-back score (`RatingCallback`): the center or the bureau.
    CallBack,
    /// 投诉受理、不予受理、答复 (`ComplaintAccepted`, `ComplaintRejected`,
    /// `ComplaintAnswered`): the center or the bureau.
    HandleComplaint,
}

impl Act {
    /// Every act, in the order `GET /api/v1/me` lists them.
    pub const ALL: [Act; 8] = [
        Act::Acknowledge,
        Act::Order,
        Act::ReportBack,
        Act::VerifyCorrection,
        Act::VerifyRating,
        Act::RectifyRating,
        Act::CallBack,
        Act::HandleComplaint,
    ];

    /// Its name in `GET /api/v1/me` (the dashboard offers the buttons of the acts listed).
    pub fn name(self) -> &'static str {
        match self {
            Act::Acknowledge => "acknowledge",
            Act::Order => "order_correction",
            Act::ReportBack => "report_back",
            Act::VerifyCorrection => "verify_correction",
            Act::VerifyRating => "verify_rating",
            Act::RectifyRating => "rectify_rating",
            Act::CallBack => "call_back",
            Act::HandleComplaint => "handle_complaint",
        }
    }

    /// What the act is, for a refusal.
    fn describe(self) -> &'static str {
        match self {
            Act::Acknowledge => "acknowledge alerts (the unit within its org, or a supervisor)",
            Act::Order => "order corrections (supervisors only)",
            Act::ReportBack => "report corrections back (the unit or center within its org)",
            Act::VerifyCorrection => "verify report-backs (supervisors only)",
            Act::VerifyRating => "verify bad ratings (the center or a supervisor)",
            Act::RectifyRating => {
                "report bad ratings rectified (the unit or center within its org)"
            }
            Act::CallBack => "record rating call-backs (the center or a supervisor)",
            Act::HandleComplaint => {
                "accept, reject or answer complaints (the center or a supervisor)"
            }
        }
    }

    /// Whether a role may perform the act, and whether it is held to its org path.
    fn allows(self, role: Role) -> Option<Held> {
        use Role::{Center, Supervisor, Unit};
        match (self, role) {
            (Act::Acknowledge, Supervisor) => Some(Held::Nowhere),
            (Act::Acknowledge, Unit) => Some(Held::ToOrg),
            (Act::Order | Act::VerifyCorrection, Supervisor) => Some(Held::Nowhere),
            (Act::ReportBack | Act::RectifyRating, Unit | Center) => Some(Held::ToOrg),
            (Act::VerifyRating | Act::CallBack | Act::HandleComplaint, Supervisor) => {
                Some(Held::Nowhere)
            }
            (Act::VerifyRating | Act::CallBack | Act::HandleComplaint, Center) => Some(Held::ToOrg),
            _ => None,
        }
    }
}

/// What a caller is and may do (`GET /api/v1/me`).
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct Powers {
    /// supervisor, center, unit, evaluator, province, or local (no auth file).
    pub role: &'static str,
    /// The token's name (the actor of the events it writes); null for the open caller.
    pub name: Option<String>,
    /// The token's org path: what a unit reads and acts within; null for an evaluator and the
    /// open caller.
    pub org: Option<String>,
    /// Whether it reads cases, their histories and alerts, and the live stream.
    pub cases: bool,
    /// Whether it lists cases (`GET /api/v1/cases`).
    pub case_list: bool,
    /// Whether it reads reports.
    pub reports: bool,
    /// Whether it runs the chain verification.
    pub verify: bool,
    /// Whether it reads the insight (辅助决策, `GET /api/v1/insights`).
    pub insight: bool,
    /// The acts it may perform: acknowledge, order_correction, report_back,
    /// verify_correction, verify_rating, rectify_rating, call_back, handle_complaint, exempt,
    /// close_period.
    pub acts: Vec<&'static str>,
}

/// Whether an act is held to the caller's org path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Held {
    Nowhere,
    ToOrg,
}

/// Who performs an act: the event's actor and org, and what the act may name (a card or case
/// outside the scope is answered as one that does not exist).
#[derive(Debug, Clone, Copy)]
pub struct Acting<'a> {
    /// The event's actor.
    pub actor: &'a str,
    /// The event's org.
    pub org: &'a str,
    /// The cards and cases the act may name, by their org.
    pub scope: Scope<'a>,
}

impl Caller {
    /// Who performs a workflow act, if the caller's role may perform it (403 naming who may).
    pub fn act(&self, act: Act) -> Result<Acting<'_>, ApiError> {
        match self {
            Caller::Open => Ok(Acting {
                actor: OPEN_ACTOR,
                org: OPEN_ORG,
                scope: Scope::All,
            }),
            Caller::Token(p) => match (act.allows(p.role), p.org.as_deref()) {
                (Some(held), Some(org)) => Ok(Acting {
                    actor: &p.name,
                    org,
                    scope: match held {
                        Held::Nowhere => Scope::All,
                        Held::ToOrg => Scope::Under(org),
                    },
                }),
                _ => Err(self.refuse(act.describe())),
            },
        }
    }

    /// What the caller is and may do, as `GET /api/v1/me` tells the dashboard: each answer
    /// is the one the routes give (the same methods decide), never restated.
    pub fn powers(&self) -> Powers {
        let (role, name, org) = match self {
            Caller::Open => ("local", None, None),
            Caller::Token(p) => (p.role.as_str(), Some(p.name.clone()), p.org.clone()),
        };
        let mut acts: Vec<&'static str> = Act::ALL
            .into_iter()
            .filter(|a| self.act(*a).is_ok())
            .map(Act::name)
            .collect();
        if self.supervisor().is_ok() {
            acts.push("exempt");
            acts.push("close_period");
        }
        let scope = |s: Result<Scope<'_>, ApiError>| match s {
            Ok(Scope::All) => Some(None),
            Ok(Scope::Under(org)) => Some(Some(org.to_owned())),
            Err(_) => None,
        };
        Powers {
            role,
            name,
            org,
            cases: scope(self.read_scope()).is_some(),
            case_list: scope(self.case_list_scope()).is_some(),
            reports: scope(self.report_scope()).is_some(),
            verify: self.may_verify().is_ok(),
            insight: self.may_read_insight().is_ok(),
            acts,
        }
    }

    /// What the caller may read of the correction orders (the 督办 board): units their org's,
    /// the supervisor and the center all. An evaluator reads figures, never a card or an
    /// order (as it reads no alert), and a province token reads none.
    pub fn orders_scope(&self) -> Result<Scope<'_>, ApiError> {
        match self {
            Caller::Token(p) if p.role == Role::Unit => {
                Ok(p.org.as_deref().map_or(Scope::All, Scope::Under))
            }
            Caller::Token(p) if matches!(p.role, Role::Province | Role::Evaluator) => {
                self.read_scope()
            }
            _ => Ok(Scope::All),
        }
    }

    /// Whether the caller may read the province's roll-up of `districts`: a province token of
    /// each of them (403 naming the first it does not list), or the open caller; no district
    /// role reads another district.
    pub fn may_read_province(&self, districts: &[String]) -> Result<(), ApiError> {
        match self {
            Caller::Open => Ok(()),
            Caller::Token(p) if p.role == Role::Province => {
                match districts.iter().find(|d| !p.districts.contains(d)) {
                    None => Ok(()),
                    Some(d) => Err(ApiError::forbidden(format!(
                        "districts: this province token does not list district {d:?}"
                    ))
                    .field("districts")),
                }
            }
            Caller::Token(_) => Err(self.refuse("read the province roll-up (province tokens)")),
        }
    }
}

impl FromRequestParts<Arc<State>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<State>) -> Result<Self, ApiError> {
        let caller = identify(parts, state.auth.as_ref())?;
        // The request span (see `spans`) names who asks, even when the rate limit refuses them.
        let span = tracing::Span::current();
        span.record("role", tracing::field::display(caller.role_name()));
        if let Caller::Token(p) = &caller {
            span.record("caller", tracing::field::display(&p.name));
        }
        state.rate.check(caller.bucket())?;
        Ok(caller)
    }
}

fn identify(parts: &Parts, auth: Option<&Auth>) -> Result<Caller, ApiError> {
    let Some(auth) = auth else {
        return Ok(Caller::Open);
    };
    let unauthorized = |m: &str| ApiError::new(ErrorKind::Unauthorized, m);
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Err(unauthorized(
            "no token: send the header `Authorization: Bearer <token>`",
        ));
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| unauthorized("the Authorization header must be `Bearer <token>`"))?;
    auth.lookup(token)
        .map(Caller::Token)
        .ok_or_else(|| unauthorized("unknown token: check it, or ask the bureau for a new one"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_checked_by_role() {
        let hash = token_hash("secret");
        let ok = format!(
            "[[token]]\nname = \"w\"\nrole = \"unit\"\norg = \"jiangjin/town-1\"\nsha256 = \"{hash}\"\n"
        );
        let auth = Auth::parse(&ok).unwrap();
        assert_eq!(auth.lookup("secret").unwrap().role, Role::Unit);
        assert!(auth.lookup("other").is_none());
        let no_org = format!("[[token]]\nname = \"w\"\nrole = \"unit\"\nsha256 = \"{hash}\"\n");
        assert!(Auth::parse(&no_org)
            .unwrap_err()
            .to_string()
            .contains("org"));
        let clear = "[[token]]\nname = \"w\"\nrole = \"evaluator\"\nsha256 = \"secret\"\n";
        assert!(Auth::parse(clear)
            .unwrap_err()
            .to_string()
            .contains("64 hex"));
        let escape = format!(
            "[[token]]\nname = \"w\"\nrole = \"unit\"\norg = \"jiangjin/../x\"\nsha256 = \"{hash}\"\n"
        );
        assert!(Auth::parse(&escape).is_err());
        assert!(matches!(Auth::parse(""), Err(AuthError::Empty)));
    }

    fn province(districts: &str) -> Result<Auth, AuthError> {
        let hash = token_hash("p");
        Auth::parse(&format!(
            "[[token]]\nname = \"p\"\nrole = \"province\"\ndistricts = {districts}\nsha256 = \"{hash}\"\n"
        ))
    }

    #[test]
    fn a_province_token_lists_its_districts_and_no_org() {
        let auth = province("[\"b\", \"a\"]").unwrap();
        let p = auth.lookup("p").unwrap();
        assert_eq!(p.role, Role::Province);
        assert_eq!(p.districts, ["b", "a"]);
        for bad in ["[]", "[\"a\", \"a\"]", "[\"A-1\"]"] {
            let e = province(bad).unwrap_err().to_string();
            assert!(e.contains("districts"), "{bad}: {e}");
        }
        let hash = token_hash("p");
        let with_org = format!(
            "[[token]]\nname = \"p\"\nrole = \"province\"\norg = \"jiangjin\"\ndistricts = [\"a\"]\nsha256 = \"{hash}\"\n"
        );
        assert!(Auth::parse(&with_org)
            .unwrap_err()
            .to_string()
            .contains("org"));
        let unit_with_districts = format!(
            "[[token]]\nname = \"u\"\nrole = \"unit\"\norg = \"jiangjin\"\ndistricts = [\"a\"]\nsha256 = \"{hash}\"\n"
        );
        assert!(Auth::parse(&unit_with_districts)
            .unwrap_err()
            .to_string()
            .contains("only a province token"));
    }

    #[test]
    fn a_province_token_reads_its_roll_up_and_nothing_of_a_district() {
        let auth = province("[\"a\", \"b\"]").unwrap();
        let caller = Caller::Token(auth.lookup("p").unwrap());
        let names = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(caller.may_read_province(&names(&["a", "b"])).is_ok());
        assert!(caller.may_read_province(&names(&["b"])).is_ok());
        let e = caller.may_read_province(&names(&["a", "c"])).unwrap_err();
        assert!(format!("{e:?}").contains("\\\"c\\\""), "{e:?}");
        assert!(caller.read_scope().is_err());
        assert!(caller.case_list_scope().is_err());
        assert!(caller.report_scope().is_err());
        assert!(caller.orders_scope().is_err());
        assert!(caller.may_read_insight().is_err());
        assert!(caller.may_verify().is_err());
        assert!(caller.appender().is_err());
        assert!(caller.supervisor().is_err());
        assert!(Act::ALL.iter().all(|a| caller.act(*a).is_err()));
        let powers = caller.powers();
        assert_eq!(powers.role, "province");
        assert!(!powers.cases && !powers.case_list && !powers.reports && !powers.insight);
        // A district's token reads no roll-up, not even of its own district.
        let hash = token_hash("s");
        let supervisor = Auth::parse(&format!(
            "[[token]]\nname = \"s\"\nrole = \"supervisor\"\norg = \"a\"\nsha256 = \"{hash}\"\n"
        ))
        .unwrap();
        let supervisor = Caller::Token(supervisor.lookup("s").unwrap());
        assert!(supervisor.may_read_province(&names(&["a"])).is_err());
        assert!(Caller::Open.may_read_province(&names(&["a"])).is_ok());
    }
}
