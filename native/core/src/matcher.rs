//! One-pass kind dispatch and the captures of the kind that matches.
//!
//! Every catalog kind has a literal trigger. One Aho-Corasick automaton over all of them
//! finds, in one scan of the body, which triggers occur; a kind's regular expression is
//! then run only when its trigger (and leading literal) is there, in catalog order, the
//! first match winning, as `parse._reference_line` does. Which kinds can apply at all
//! depends on the program family, the daemon and the `Debug:` level only: the caller
//! asks for that list once per distinct triple ([`Matcher::candidates`]).

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use regex::{CaptureLocations, Regex};

use crate::config::{Family, KindSpec, Source};
use crate::regex_compat::compile;

/// A kind, compiled.
#[derive(Debug)]
struct Kind {
    source: Source,
    daemons: Vec<String>,
    debug: Option<bool>,
    prefix: String,
    /// index of the trigger in the automaton; `None` for an empty trigger
    trigger: Option<usize>,
    /// the trigger is part of the prefix: `starts_with(prefix)` says it occurs
    trigger_in_prefix: bool,
    /// `None`: the pattern did not compile in Rust; such a line goes to Python
    regex: Option<Regex>,
    /// (capture group index, output column index)
    groups: Vec<(usize, usize)>,
}

/// What the matcher says about a body.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// No kind matched.
    NoMatch,
    /// Kind `k` matched; its captures are in the scratch's locations for `k`.
    Kind(usize),
    /// Kind `k` is a candidate whose pattern Rust cannot run: the reference decides.
    Defer(usize),
}

/// The compiled kinds and the trigger automaton.
#[derive(Debug)]
pub struct Matcher {
    kinds: Vec<Kind>,
    triggers: AhoCorasick,
    n_triggers: usize,
    /// (kind name, error) of the patterns that did not compile
    pub fallbacks: Vec<(String, String)>,
}

/// Per-thread working memory of the matcher.
pub struct Scratch {
    locs: Vec<Option<CaptureLocations>>,
    seen: Vec<bool>,
}

impl Matcher {
    /// Compile the kinds; `column_of` maps a column name to its output index.
    pub fn new(
        specs: &[KindSpec],
        column_of: impl Fn(&str) -> Option<usize>,
    ) -> Result<Matcher, String> {
        let mut literals: Vec<String> = Vec::new();
        let mut kinds = Vec::with_capacity(specs.len());
        let mut fallbacks = Vec::new();
        for spec in specs {
            let trigger = if spec.trigger.is_empty() {
                None
            } else if let Some(i) = literals.iter().position(|t| *t == spec.trigger) {
                Some(i)
            } else {
                literals.push(spec.trigger.clone());
                Some(literals.len() - 1)
            };
            let regex = match compile(&spec.pattern) {
                Ok(re) => Some(re),
                Err(e) => {
                    fallbacks.push((spec.name.clone(), e));
                    None
                }
            };
            let mut groups = Vec::new();
            if let Some(re) = &regex {
                for (group, column) in &spec.groups {
                    let gi = re
                        .capture_names()
                        .position(|n| n == Some(group.as_str()))
                        .ok_or_else(|| format!("kind {}: no group {group}", spec.name))?;
                    let ci = column_of(column)
                        .ok_or_else(|| format!("kind {}: no column {column}", spec.name))?;
                    groups.push((gi, ci));
                }
            }
            kinds.push(Kind {
                source: spec.source,
                daemons: spec.daemons.clone(),
                debug: spec.debug,
                trigger_in_prefix: spec.prefix.contains(spec.trigger.as_str()),
                prefix: spec.prefix.clone(),
                trigger,
                regex,
                groups,
            });
        }
        let n_triggers = literals.len();
        // a DFA: the fastest scan, and small for a few dozen literals
        let triggers = AhoCorasick::builder()
            .kind(Some(AhoCorasickKind::DFA))
            .build(&literals)
            .map_err(|e| e.to_string())?;
        Ok(Matcher {
            kinds,
            triggers,
            n_triggers,
            fallbacks,
        })
    }

    /// Working memory for one thread.
    pub fn scratch(&self) -> Scratch {
        Scratch {
            locs: self
                .kinds
                .iter()
                .map(|k| k.regex.as_ref().map(Regex::capture_locations))
                .collect(),
            seen: vec![false; self.n_triggers],
        }
    }

    /// The kinds that can apply to a line of this family, daemon and level, in order
    /// (`parse._kind_applies`).
    pub fn candidates(&self, family: Family, daemon: Option<&str>, is_debug: bool) -> Vec<usize> {
        let dovecot = matches!(family, Family::Dovecot | Family::DovecotSyslog);
        (0..self.kinds.len())
            .filter(|&i| {
                let k = &self.kinds[i];
                let family_ok = match k.source {
                    Source::Postfix => family == Family::Postfix,
                    Source::Dovecot => dovecot,
                    Source::Any => true,
                };
                let level_ok = k.debug.is_none_or(|d| d == is_debug);
                let daemon_ok = k.daemons.is_empty()
                    || daemon.is_some_and(|d| k.daemons.iter().any(|x| x == d));
                family_ok && level_ok && daemon_ok
            })
            .collect()
    }

    /// The first candidate kind whose trigger, prefix and pattern match `body`.
    pub fn find(&self, body: &str, candidates: &[usize], scratch: &mut Scratch) -> Verdict {
        let mut scanned = false;
        for &i in candidates {
            let k = &self.kinds[i];
            if !body.starts_with(k.prefix.as_str()) {
                continue;
            }
            if let Some(t) = k.trigger {
                if !k.trigger_in_prefix {
                    if !scanned {
                        self.scan(body, &mut scratch.seen);
                        scanned = true;
                    }
                    if !scratch.seen[t] {
                        continue;
                    }
                }
            }
            let Some(re) = &k.regex else {
                return Verdict::Defer(i);
            };
            let locs = scratch.locs[i]
                .as_mut()
                .expect("locations of a compiled kind");
            if re.captures_read(locs, body).is_some() {
                return Verdict::Kind(i);
            }
        }
        Verdict::NoMatch
    }

    fn scan(&self, body: &str, seen: &mut [bool]) {
        seen.fill(false);
        for m in self.triggers.find_overlapping_iter(body) {
            seen[m.pattern().as_usize()] = true;
        }
    }

    /// The (column, text) of the groups of kind `k` that took part in the last match,
    /// in group order.
    pub fn captures<'s>(
        &'s self,
        k: usize,
        body: &'s str,
        scratch: &'s Scratch,
    ) -> impl Iterator<Item = (usize, &'s str)> + 's {
        let locs = scratch.locs[k]
            .as_ref()
            .expect("locations of a compiled kind");
        self.kinds[k]
            .groups
            .iter()
            .filter_map(move |&(g, col)| locs.get(g).map(|(s, e)| (col, &body[s..e])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(
        name: &str,
        source: Source,
        daemons: &[&str],
        trigger: &str,
        pattern: &str,
    ) -> KindSpec {
        let groups = Regex::new(pattern)
            .unwrap()
            .capture_names()
            .flatten()
            .map(|g| (g.to_owned(), g.split("__").next().unwrap().to_owned()))
            .collect();
        KindSpec {
            name: name.into(),
            source,
            daemons: daemons.iter().map(|d| d.to_string()).collect(),
            debug: Some(false),
            trigger: trigger.into(),
            prefix: pattern[1..]
                .chars()
                .take_while(|c| !"\\.^$*+?()[]{}|".contains(*c))
                .collect(),
            pattern: pattern.into(),
            groups,
        }
    }

    fn matcher() -> Matcher {
        let cols = ["client_name", "client_ip", "reason"];
        Matcher::new(
            &[
                spec(
                    "connect",
                    Source::Postfix,
                    &["smtpd"],
                    "connect from ",
                    r"^connect from (?P<client_name>[^\[]*)\[(?P<client_ip>[^\]]*)\]$",
                ),
                spec(
                    "lost",
                    Source::Postfix,
                    &["smtpd"],
                    "lost connection",
                    r"^(?P<reason>.*) lost connection$",
                ),
                spec("any", Source::Any, &[], "", r"^(?P<reason>x.*)$"),
            ],
            |c| cols.iter().position(|x| *x == c),
        )
        .unwrap()
    }

    #[test]
    fn first_matching_kind_wins_with_its_captures() {
        let m = matcher();
        let mut s = m.scratch();
        let c = m.candidates(Family::Postfix, Some("smtpd"), false);
        assert_eq!(c, vec![0, 1, 2]);
        let body = "connect from a[1.2.3.4]";
        assert_eq!(m.find(body, &c, &mut s), Verdict::Kind(0));
        let caps: Vec<_> = m.captures(0, body, &s).collect();
        assert_eq!(caps, vec![(0, "a"), (1, "1.2.3.4")]);
        assert_eq!(m.find("x lost connection", &c, &mut s), Verdict::Kind(1));
        assert_eq!(m.find("xyz", &c, &mut s), Verdict::Kind(2));
        assert_eq!(m.find("nothing", &c, &mut s), Verdict::NoMatch);
    }

    #[test]
    fn candidates_follow_family_daemon_and_level() {
        let m = matcher();
        assert_eq!(m.candidates(Family::Dovecot, Some("auth"), false), vec![2]);
        assert_eq!(m.candidates(Family::Postfix, Some("qmgr"), false), vec![2]);
        assert!(m
            .candidates(Family::Postfix, Some("smtpd"), true)
            .is_empty());
    }

    #[test]
    fn a_pattern_rust_cannot_compile_is_deferred() {
        let mut bad = spec("bad", Source::Any, &[], "b", r"^a");
        bad.pattern = r"^(?<=a)b".into();
        bad.prefix = String::new();
        bad.groups.clear();
        let m = Matcher::new(&[bad], |_| None).unwrap();
        assert_eq!(m.fallbacks.len(), 1);
        let mut s = m.scratch();
        let c = m.candidates(Family::Other, None, false);
        assert_eq!(m.find("b", &c, &mut s), Verdict::Defer(0));
    }
}
