//! What the Python side hands over at start-up, and the program tag it resolves.

/// Which program family a kind applies to (`catalog.POSTFIX`, `DOVECOT`, `ANY`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Postfix,
    Dovecot,
    Any,
}

/// The family of a program tag (`syslog.HeaderTag.family`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    Postfix,
    Dovecot,
    DovecotSyslog,
    Other,
}

impl Family {
    /// The name Python uses.
    pub fn parse(name: &str) -> Option<Family> {
        match name {
            "postfix" => Some(Family::Postfix),
            "dovecot" => Some(Family::Dovecot),
            "dovecot-syslog" => Some(Family::DovecotSyslog),
            "other" => Some(Family::Other),
            _ => None,
        }
    }
}

/// The type of an output column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColType {
    Str,
    I32,
    I64,
    F64,
}

/// One capture column: name, type, whether `<...>` is stripped (`schema.Column.angle`).
#[derive(Clone, Debug)]
pub struct ColumnSpec {
    pub name: String,
    pub ty: ColType,
    pub angle: bool,
    /// an IP address: an IPv4-mapped one is stored as IPv4 (`schema.Column.address`)
    pub address: bool,
}

/// One catalog kind (`catalog.LineKind`).
#[derive(Clone, Debug)]
pub struct KindSpec {
    pub name: String,
    pub source: Source,
    pub daemons: Vec<String>,
    /// `None`: every level; `Some(true)`: only `Debug:` lines; `Some(false)`: all but those.
    pub debug: Option<bool>,
    pub trigger: String,
    pub prefix: String,
    /// The pattern in the catalog's spelling (Rust `regex` compatible by convention).
    pub pattern: String,
    /// (group, column) of each named group, in group order (`catalog.group_column`).
    pub groups: Vec<(String, String)>,
}

/// Everything the core needs, all of it from the Python catalog and `syslog` module.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// `syslog.WRAPPED`: whether a line has a wrapper.
    pub wrapped: String,
    /// `syslog.WRAPPER`: groups `compose`, `outer`, `inner`.
    pub wrapper: String,
    /// `syslog.TS_RE`: a time stamp (matched whole).
    pub ts: String,
    /// `syslog.REPEATED_RE`: groups `n`, `message`.
    pub repeated: String,
    /// `syslog.POSTFIX_PREFIX`: groups `queue_id`, `queue_id__2`, `severity`.
    pub postfix_prefix: String,
    /// `syslog.DOVECOT_SYSLOG_PREFIX`: groups `daemon`, `dargs`, `severity`.
    pub dovecot_syslog_prefix: String,
    /// `syslog.DOVECOT_NATIVE_PREFIX`: group `severity`.
    pub dovecot_prefix: String,
    /// `syslog.DOVECOT24_BODY`: groups `driver`, `rest`.
    pub dovecot24_body: String,
    /// `syslog.DOVECOT_USER_DAEMONS`.
    pub user_daemons: Vec<String>,
    pub kinds: Vec<KindSpec>,
    pub columns: Vec<ColumnSpec>,
    /// (kind, column, from column): a null `column` of that kind takes `from` (the
    /// disconnect counters: `name=N` means N of N).
    pub defaults: Vec<(String, String, String)>,
    /// `parse._ISO_PARTS`: groups y, mo, d, h, mi, s, f, z, sign, oh, om.
    pub iso_parts: String,
    /// `syslog.TS_TAI64N`.
    pub tai64n: String,
    /// `syslog.TAI64_EPOCH`, `TS_MIN_SECONDS`, `TS_END_SECONDS`.
    pub tai64_epoch: i128,
    pub ts_min_seconds: i64,
    pub ts_end_seconds: i64,
    /// `syslog.MONTHS`, January first.
    pub months: Vec<String>,
    /// `parse.MAPPED_V4`: an IPv4-mapped IPv6 address, group 1 the IPv4 one.
    pub mapped_v4: String,
}

/// A parsed program tag (`syslog.HeaderTag`), resolved by Python per unique value.
#[derive(Clone, Debug, PartialEq)]
pub struct Tag {
    pub host: Option<String>,
    pub program: String,
    pub pid: Option<i32>,
    pub family: Family,
    pub instance: Option<String>,
    pub service: Option<String>,
    pub daemon: Option<String>,
    pub args: Option<String>,
}
