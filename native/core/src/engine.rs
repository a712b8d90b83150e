//! A batch of lines through the envelope, the prefixes and the matcher.
//!
//! Three steps, so that the caller can release the GIL around the heavy ones:
//! [`Engine::prepare`] (envelope of every line, no Python), then the caller resolves the
//! program tags it has not seen ([`Engine::unknown_tags`], [`Engine::learn`]: Python's
//! `syslog.parse_tag`, once per distinct value), then [`Engine::parse`] (no Python).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};

use regex::{CaptureLocations, Regex};

use crate::columns::{Builder, Column};
use crate::config::{ColType, Config, Family, Tag};
use crate::convert::{convert, strip_angle, Value};
use crate::envelope::{Envelope, Shape};
use crate::matcher::{Matcher, Scratch, Verdict};
use crate::regex_compat::compile;
use crate::timestamp::{Civil, Stamp, Stamps, YearChain};

/// The envelope columns, in output order, before the capture columns.
pub const ENVELOPE_COLUMNS: [(&str, ColType); 11] = [
    ("ts_raw", ColType::Str),
    ("host", ColType::Str),
    ("program", ColType::Str),
    ("instance", ColType::Str),
    ("service", ColType::Str),
    ("daemon", ColType::Str),
    ("pid", ColType::I32),
    ("severity", ColType::Str),
    ("queue_id", ColType::Str),
    ("message", ColType::Str),
    ("repeat", ColType::I32),
];
const TS_RAW: usize = 0;
const HOST: usize = 1;
const PROGRAM: usize = 2;
const INSTANCE: usize = 3;
const SERVICE: usize = 4;
const DAEMON: usize = 5;
const PID: usize = 6;
const SEVERITY: usize = 7;
const QUEUE_ID: usize = 8;
const MESSAGE: usize = 9;
const REPEAT: usize = 10;

/// A compiled body prefix (`syslog.POSTFIX_PREFIX` and the Dovecot ones).
#[derive(Debug)]
struct Prefix {
    re: Regex,
    queue_id: Option<usize>,
    queue_id2: Option<usize>,
    severity: Option<usize>,
    daemon: Option<usize>,
    dargs: Option<usize>,
}

impl Prefix {
    fn new(pattern: &str) -> Result<Prefix, String> {
        let re = compile(pattern)?;
        let g = |name: &str| re.capture_names().position(|n| n == Some(name));
        Ok(Prefix {
            queue_id: g("queue_id"),
            queue_id2: g("queue_id__2"),
            severity: g("severity"),
            daemon: g("daemon"),
            dargs: g("dargs"),
            re,
        })
    }
}

/// One line after the envelope step.
#[derive(Debug)]
pub struct Prepared<'a> {
    text: Cow<'a, str>,
    shape: Shape,
}

/// A batch after [`Engine::prepare`].
#[derive(Debug)]
pub struct Batch<'a> {
    lines: Vec<&'a str>,
    prepared: Vec<Prepared<'a>>,
}

/// The parsed batch.
#[derive(Debug)]
pub struct Parsed {
    pub n: usize,
    /// per row: the kind's index in the config, then `warning`, `other_program`, `unparsed`
    pub kinds: Vec<u16>,
    /// [`ENVELOPE_COLUMNS`], then the config's capture columns; `None`: null on every row
    pub columns: Vec<Option<Column>>,
    /// rows left to the Python reference (RFC 5424 lines, kinds Rust cannot compile)
    pub deferred: Vec<u32>,
    /// rows with a time stamp (`ts_raw`), in order
    stamped: Vec<u32>,
}

/// The time stamps of a batch, read; the zone offsets of [`StampPass::hours`] to come.
#[derive(Debug)]
pub struct StampPass {
    stamps: Vec<(u32, Stamp)>,
    /// the year chain after the batch
    pub chain: YearChain,
    /// distinct (year, month, day, hour) of valid wall-clock times without an offset
    pub hours: Vec<(i64, i64, i64, i64)>,
}

type TagCache = HashMap<String, Option<Arc<Tag>>>;
type CandidateKey = (Family, Option<String>, bool);

/// The compiled configuration; shared by all threads.
#[derive(Debug)]
pub struct Engine {
    envelope: Envelope,
    repeated: Regex,
    repeated_n: usize,
    repeated_message: usize,
    postfix: Prefix,
    dovecot_syslog: Prefix,
    dovecot: Prefix,
    dovecot24: Regex,
    user_daemons: HashSet<String>,
    matcher: Matcher,
    capture_types: Vec<(ColType, bool, bool)>,
    mapped_v4: Regex,
    /// (kind, column, from column), column indices of the output
    defaults: Vec<(usize, usize, usize)>,
    n_kinds: u16,
    stamps: Stamps,
    tags: RwLock<TagCache>,
    candidates: Mutex<HashMap<CandidateKey, Arc<Vec<usize>>>>,
}

impl Engine {
    /// Compile a configuration. A kind whose pattern does not compile is deferred
    /// ([`Engine::fallbacks`]); any other pattern that does not compile is an error.
    pub fn new(config: &Config) -> Result<Engine, String> {
        let n_env = ENVELOPE_COLUMNS.len();
        let column_of = |name: &str| {
            config
                .columns
                .iter()
                .position(|c| c.name == name)
                .map(|i| i + n_env)
        };
        let matcher = Matcher::new(&config.kinds, column_of)?;
        let mut defaults = Vec::new();
        for (kind, col, from) in &config.defaults {
            let Some(k) = config.kinds.iter().position(|x| &x.name == kind) else {
                return Err(format!("default for unknown kind {kind}"));
            };
            match (column_of(col), column_of(from)) {
                (Some(c), Some(f)) => defaults.push((k, c, f)),
                _ => return Err(format!("default {col} <- {from}: unknown column")),
            }
        }
        let repeated = compile(&config.repeated)?;
        let pos = |name: &str| {
            repeated
                .capture_names()
                .position(|n| n == Some(name))
                .ok_or_else(|| format!("repeated: no group {name}"))
        };
        let n_kinds = u16::try_from(config.kinds.len()).map_err(|_| "too many kinds".to_owned())?;
        Ok(Engine {
            envelope: Envelope::new(&config.wrapped, &config.wrapper, &config.ts)?,
            repeated_n: pos("n")?,
            repeated_message: pos("message")?,
            repeated,
            postfix: Prefix::new(&config.postfix_prefix)?,
            dovecot_syslog: Prefix::new(&config.dovecot_syslog_prefix)?,
            dovecot: Prefix::new(&config.dovecot_prefix)?,
            dovecot24: compile(&config.dovecot24_body)?,
            user_daemons: config.user_daemons.iter().cloned().collect(),
            matcher,
            capture_types: config
                .columns
                .iter()
                .map(|c| (c.ty, c.angle, c.address))
                .collect(),
            mapped_v4: compile(&config.mapped_v4)?,
            defaults,
            n_kinds,
            stamps: Stamps::new(
                &config.iso_parts,
                &config.tai64n,
                config.tai64_epoch,
                config.ts_min_seconds,
                config.ts_end_seconds,
                config.months.clone(),
            )?,
            tags: RwLock::new(HashMap::new()),
            candidates: Mutex::new(HashMap::new()),
        })
    }

    /// (kind, error) of the kinds whose pattern Rust cannot run (their lines are deferred).
    pub fn fallbacks(&self) -> &[(String, String)] {
        &self.matcher.fallbacks
    }

    /// The envelope of every line.
    pub fn prepare<'a>(&self, lines: Vec<&'a str>) -> Batch<'a> {
        let prepared = lines
            .iter()
            .map(|&line| {
                let text = self.envelope.unwrap(line);
                let shape = self.envelope.shape(&text);
                Prepared { text, shape }
            })
            .collect();
        Batch { lines, prepared }
    }

    /// The distinct program tags of the batch not resolved yet.
    pub fn unknown_tags(&self, batch: &Batch<'_>) -> Vec<String> {
        let known = self.tags.read().expect("tag cache");
        let mut out: HashSet<&str> = HashSet::new();
        for p in &batch.prepared {
            if let Shape::Header(h) = &p.shape {
                let tag = &p.text[h.hosttag.clone()];
                if !known.contains_key(tag) {
                    out.insert(tag);
                }
            }
        }
        out.into_iter().map(str::to_owned).collect()
    }

    /// Remember what program tags are (`None`: not a tag, the line is unparsed). Takes
    /// the cache's write lock, which waits for batches being parsed: call it with the
    /// GIL released.
    pub fn learn(&self, tags: Vec<(String, Option<Tag>)>) {
        if tags.is_empty() {
            return;
        }
        let mut known = self.tags.write().expect("tag cache");
        for (hosttag, tag) in tags {
            known.insert(hosttag, tag.map(Arc::new));
        }
    }

    fn candidates(&self, family: Family, daemon: Option<&str>, is_debug: bool) -> Arc<Vec<usize>> {
        let key = (family, daemon.map(str::to_owned), is_debug);
        let mut cache = self.candidates.lock().expect("candidate cache");
        cache
            .entry(key)
            .or_insert_with(|| Arc::new(self.matcher.candidates(family, daemon, is_debug)))
            .clone()
    }

    /// Parse a prepared batch (all its tags learnt) in `threads` parts.
    pub fn parse(&self, batch: &Batch<'_>, threads: usize) -> Parsed {
        let n = batch.lines.len();
        let parts = threads.clamp(1, 16).min(n / 4096 + 1);
        let size = n.div_ceil(parts.max(1)).max(1);
        let mut results: Vec<Part> = if parts <= 1 {
            vec![self.parse_part(batch, 0, n)]
        } else {
            std::thread::scope(|s| {
                let handles: Vec<_> = (0..n)
                    .step_by(size)
                    .map(|start| {
                        s.spawn(move || self.parse_part(batch, start, (start + size).min(n)))
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("parse thread"))
                    .collect()
            })
        };
        let mut first = results.remove(0);
        let mut shift = first.kinds.len() as u32;
        for part in results {
            let len = part.kinds.len() as u32;
            first.kinds.extend(part.kinds);
            first
                .deferred
                .extend(part.deferred.iter().map(|r| r + shift));
            for (a, b) in first.builders.iter_mut().zip(part.builders) {
                a.append(b, shift);
            }
            shift += len;
        }
        Parsed {
            n,
            kinds: first.kinds,
            columns: first
                .builders
                .into_iter()
                .map(|b| (!b.is_empty()).then(|| b.finish(n)))
                .collect(),
            deferred: first.deferred,
            stamped: first.stamped,
        }
    }

    /// Read the time stamps of a parsed batch, the year chain running from `chain`.
    pub fn read_stamps(
        &self,
        batch: &Batch<'_>,
        parsed: &Parsed,
        mut chain: YearChain,
    ) -> StampPass {
        let mut stamps = Vec::with_capacity(parsed.stamped.len());
        let mut hours = HashSet::new();
        for &row in &parsed.stamped {
            let p = &batch.prepared[row as usize];
            let Shape::Header(h) = &p.shape else { continue };
            let stamp = self.stamps.read(&p.text[h.ts.clone()], &mut chain);
            if let Stamp::Civil(c) = &stamp {
                if c.off.is_none() && c.valid() {
                    hours.insert((c.y, c.mo, c.d, c.h));
                }
            }
            stamps.push((row, stamp));
        }
        StampPass {
            stamps,
            chain,
            hours: hours.into_iter().collect(),
        }
    }

    /// The `ts` column (UTC microseconds), given the zone offset of each hour asked for.
    pub fn stamp_column(
        &self,
        pass: &StampPass,
        offsets: &HashMap<(i64, i64, i64, i64), Option<i64>>,
        n: usize,
    ) -> Column {
        let mut b = Builder::new(ColType::I64);
        let utc = |c: &Civil| {
            if !c.valid() {
                return None;
            }
            let off = c
                .off
                .or_else(|| offsets.get(&(c.y, c.mo, c.d, c.h)).copied().flatten())?;
            Some(c.utc_micros(off))
        };
        for (row, stamp) in &pass.stamps {
            let micros = match stamp {
                Stamp::Null => None,
                Stamp::Exact(m) => Some(*m),
                Stamp::Civil(c) => utc(c),
            };
            if let Some(m) = micros {
                b.push(*row, &Value::I64(m));
            }
        }
        b.finish(n)
    }

    fn parse_part(&self, batch: &Batch<'_>, start: usize, end: usize) -> Part {
        let mut part = Part {
            kinds: Vec::with_capacity(end - start),
            builders: ENVELOPE_COLUMNS
                .iter()
                .map(|(_, ty)| Builder::new(*ty))
                .chain(
                    self.capture_types
                        .iter()
                        .map(|(ty, _, _)| Builder::new(*ty)),
                )
                .collect(),
            deferred: Vec::new(),
            stamped: Vec::new(),
        };
        let bytes: usize = batch.lines[start..end].iter().map(|l| l.len()).sum();
        part.builders[MESSAGE].reserve(end - start, bytes);
        let tags = self.tags.read().expect("tag cache");
        let mut scratch = LineScratch {
            matcher: self.matcher.scratch(),
            postfix: self.postfix.re.capture_locations(),
            dovecot_syslog: self.dovecot_syslog.re.capture_locations(),
            dovecot: self.dovecot.re.capture_locations(),
            candidates: Vec::new(),
        };
        for i in start..end {
            let row = (i - start) as u32;
            let kind = self.parse_line(batch, i, &tags, &mut scratch, &mut part, row);
            part.kinds.push(kind);
        }
        part
    }

    fn parse_line(
        &self,
        batch: &Batch<'_>,
        i: usize,
        tags: &TagCache,
        scratch: &mut LineScratch,
        part: &mut Part,
        row: u32,
    ) -> u16 {
        let unparsed = self.n_kinds + 2;
        let prepared = &batch.prepared[i];
        let raw_line = batch.lines[i];
        let b = &mut part.builders;
        let header = match &prepared.shape {
            Shape::Header(h) => h,
            Shape::Rfc5424 => {
                part.deferred.push(row);
                b[MESSAGE].push(row, &Value::Str(raw_line));
                b[REPEAT].push(row, &Value::I32(1));
                return unparsed;
            }
            Shape::Unparsed => {
                b[MESSAGE].push(row, &Value::Str(raw_line));
                b[REPEAT].push(row, &Value::I32(1));
                return unparsed;
            }
        };
        let text: &str = &prepared.text;
        let Some(Some(tag)) = tags.get(&text[header.hosttag.clone()]) else {
            b[MESSAGE].push(row, &Value::Str(raw_line));
            b[REPEAT].push(row, &Value::I32(1));
            return unparsed;
        };
        b[TS_RAW].push(row, &Value::Str(&text[header.ts.clone()]));
        part.stamped.push(row);
        b[HOST].push(row, &opt(&tag.host));
        b[PROGRAM].push(row, &Value::Str(&tag.program));
        b[INSTANCE].push(row, &opt(&tag.instance));
        b[SERVICE].push(row, &opt(&tag.service));
        b[PID].push(row, &tag.pid.map_or(Value::Null, Value::I32));
        let mut message = &text[header.msg.clone()];
        let mut repeat = 1;
        if message.starts_with("message repeated ") {
            if let Some(c) = self.repeated.captures(message) {
                repeat = c[self.repeated_n].parse().unwrap_or(1);
                message = c.get(self.repeated_message).map_or("", |m| m.as_str());
            }
        }
        b[MESSAGE].push(row, &Value::Str(message));
        b[REPEAT].push(row, &Value::I32(repeat));
        let mut daemon: Option<&str> = tag.daemon.as_deref();
        let mut severity: Option<String> = None;
        let mut body: Cow<'_, str> = Cow::Borrowed(message);
        let prefix = match tag.family {
            Family::Postfix => Some(&self.postfix),
            Family::DovecotSyslog => Some(&self.dovecot_syslog),
            Family::Dovecot => Some(&self.dovecot),
            Family::Other => None,
        };
        if let Some(p) = prefix {
            let locs = match tag.family {
                Family::Postfix => &mut scratch.postfix,
                Family::DovecotSyslog => &mut scratch.dovecot_syslog,
                _ => &mut scratch.dovecot,
            };
            if let Some(m) = p.re.captures_read(locs, message) {
                let g = |i: Option<usize>| i.and_then(|i| locs.get(i)).map(|(s, e)| &message[s..e]);
                if tag.family == Family::Postfix {
                    if let Some(q) = g(p.queue_id).or(g(p.queue_id2)) {
                        b[QUEUE_ID].push(row, &Value::Str(q));
                    }
                }
                if tag.family == Family::DovecotSyslog {
                    daemon = g(p.daemon);
                }
                severity = g(p.severity).map(str::to_ascii_lowercase);
                let rest = &message[m.end()..];
                let dargs = if tag.family == Family::DovecotSyslog {
                    g(p.dargs)
                } else {
                    tag.args.as_deref()
                };
                body = Cow::Borrowed(rest);
                let user = daemon.is_some_and(|d| self.user_daemons.contains(d));
                match dargs {
                    Some(a) if tag.family != Family::Postfix && user => {
                        body = Cow::Owned(format!("({a}): {rest}"));
                    }
                    Some(a) if a.contains(',') => {
                        if let Some(m) = self.dovecot24.captures(rest) {
                            body = Cow::Owned(format!("{}({a}): {}", &m["driver"], &m["rest"]));
                        }
                    }
                    _ => {}
                }
            }
        }
        b[DAEMON].push(row, &daemon.map_or(Value::Null, Value::Str));
        b[SEVERITY].push(row, &severity.as_deref().map_or(Value::Null, Value::Str));
        let is_debug = severity.as_deref() == Some("debug");
        let candidates = scratch.candidates_for(self, tag.family, daemon, is_debug);
        match self.matcher.find(&body, &candidates, &mut scratch.matcher) {
            Verdict::Kind(k) => {
                self.push_captures(k, &body, &scratch.matcher, b, row);
                k as u16
            }
            Verdict::Defer(_) => {
                part.deferred.push(row);
                unparsed
            }
            Verdict::NoMatch if tag.family == Family::Other => self.n_kinds + 1,
            Verdict::NoMatch => match severity.as_deref() {
                Some("warning" | "error" | "fatal" | "panic") => self.n_kinds,
                _ => unparsed,
            },
        }
    }

    fn push_captures(&self, k: usize, body: &str, scratch: &Scratch, b: &mut [Builder], row: u32) {
        let n_env = ENVELOPE_COLUMNS.len();
        let mut local: Vec<(usize, Value<'_>)> = Vec::new();
        for (col, text) in self.matcher.captures(k, body, scratch) {
            if local.iter().any(|(c, _)| *c == col) {
                continue;
            }
            let (ty, angle, address) = self.capture_types[col - n_env];
            let mut text = if angle { strip_angle(text) } else { text };
            if address {
                if let Some(m) = self.mapped_v4.captures(text).and_then(|c| c.get(1)) {
                    text = m.as_str();
                }
            }
            local.push((col, convert(text, ty, false)));
        }
        for &(kind, col, from) in &self.defaults {
            if kind != k || local.iter().any(|(c, v)| *c == col && *v != Value::Null) {
                continue;
            }
            if let Some(v) = local
                .iter()
                .find(|(c, _)| *c == from)
                .map(|(_, v)| v.clone())
            {
                local.retain(|(c, _)| *c != col);
                local.push((col, v));
            }
        }
        for (col, v) in &local {
            b[*col].push(row, v);
        }
    }
}

fn opt(v: &Option<String>) -> Value<'_> {
    v.as_deref().map_or(Value::Null, Value::Str)
}

/// Working memory of one thread: capture locations and the candidate lists it used.
struct LineScratch {
    matcher: Scratch,
    postfix: CaptureLocations,
    dovecot_syslog: CaptureLocations,
    dovecot: CaptureLocations,
    candidates: Vec<(CandidateKey, Arc<Vec<usize>>)>,
}

impl LineScratch {
    /// The engine's candidate list, looked up without a lock after the first time.
    fn candidates_for(
        &mut self,
        engine: &Engine,
        family: Family,
        daemon: Option<&str>,
        is_debug: bool,
    ) -> Arc<Vec<usize>> {
        let hit = self
            .candidates
            .iter()
            .find(|((f, d, g), _)| *f == family && d.as_deref() == daemon && *g == is_debug);
        if let Some((_, list)) = hit {
            return list.clone();
        }
        let list = engine.candidates(family, daemon, is_debug);
        self.candidates
            .push(((family, daemon.map(str::to_owned), is_debug), list.clone()));
        list
    }
}

/// The output of one part of a batch.
struct Part {
    kinds: Vec<u16>,
    builders: Vec<Builder>,
    deferred: Vec<u32>,
    stamped: Vec<u32>,
}
