//! The syslog envelope of one line: wrappers cut off, header split, time stamp and tag.
//!
//! Mirrors `syslog.unwrap`, `syslog.split_head` and `syslog.ts_length` of the Python
//! parsers (character positions there, byte positions here: the two agree because a
//! stamp is ASCII, and a head that is not ASCII is measured in characters).

use std::borrow::Cow;
use std::ops::Range;

use memchr::memmem;
use regex::Regex;

use crate::regex_compat::{compile, compile_full};

/// The compiled envelope patterns.
#[derive(Debug)]
pub struct Envelope {
    wrapped: Regex,
    wrapper: Regex,
    ts: Regex,
    compose: usize,
    outer: usize,
    inner: usize,
}

/// Where the parts of a header line are in its unwrapped text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub ts: Range<usize>,
    pub hosttag: Range<usize>,
    pub msg: Range<usize>,
}

/// What the envelope says about a line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Shape {
    /// No header the parsers know: the row is `unparsed` with the raw line as message.
    Unparsed,
    /// RFC 5424 (`<PRI>1 ...`): rare, left to the Python reference per line.
    Rfc5424,
    /// A classic header: stamp, `[HOST ]TAG[[PID]]`, message.
    Header(Header),
}

fn group(re: &Regex, name: &str) -> Result<usize, String> {
    re.capture_names()
        .position(|n| n == Some(name))
        .ok_or_else(|| format!("pattern has no group {name}"))
}

impl Envelope {
    /// Compile `syslog.WRAPPED`, `syslog.WRAPPER` and `syslog.TS_RE`.
    pub fn new(wrapped: &str, wrapper: &str, ts: &str) -> Result<Envelope, String> {
        let wrapper = compile(wrapper)?;
        Ok(Envelope {
            wrapped: compile(wrapped)?,
            compose: group(&wrapper, "compose")?,
            outer: group(&wrapper, "outer")?,
            inner: group(&wrapper, "inner")?,
            wrapper,
            ts: compile_full(ts)?,
        })
    }

    /// The log line inside `line` (`syslog.unwrap`): NULs dropped, wrappers cut off.
    pub fn unwrap<'a>(&self, line: &'a str) -> Cow<'a, str> {
        let text: Cow<'a, str> = if memchr::memchr(0, line.as_bytes()).is_some() {
            Cow::Owned(line.replace('\0', ""))
        } else {
            Cow::Borrowed(line)
        };
        if !self.wrapped.is_match(&text) {
            return text;
        }
        let cut = match self.wrapper.captures(&text) {
            None => 0,
            Some(c) => {
                let compose = c.get(self.compose).map_or(0, |m| m.len());
                let outer = match (c.get(self.outer), c.get(self.inner)) {
                    (Some(o), Some(_)) => o.len() + 1,
                    _ => 0,
                };
                compose + outer
            }
        };
        match text {
            Cow::Borrowed(s) => Cow::Borrowed(&s[cut..]),
            Cow::Owned(s) => Cow::Owned(s[cut..].to_owned()),
        }
    }

    /// The shape of an unwrapped line (`parse._reference_line` up to the tag).
    pub fn shape(&self, text: &str) -> Shape {
        if text.starts_with('<') {
            return Shape::Rfc5424;
        }
        let Some(colon) = memmem::find(text.as_bytes(), b": ") else {
            return Shape::Unparsed;
        };
        let head = &text[..colon];
        let n = ts_length(head);
        if !self.ts.is_match(&head[..n]) || head.as_bytes().get(n) != Some(&b' ') {
            return Shape::Unparsed;
        }
        Shape::Header(Header {
            ts: 0..n,
            hosttag: n + 1..colon,
            msg: colon + 2..text.len(),
        })
    }
}

/// Byte length of the time stamp at the start of `head` (`syslog.ts_length`).
pub fn ts_length(head: &str) -> usize {
    if head.is_ascii() {
        return ts_length_of(head.as_bytes()).min(head.len());
    }
    let chars: Vec<char> = head.chars().collect();
    let n = ts_length_of(&chars);
    head.char_indices().nth(n).map_or(head.len(), |(i, _)| i)
}

/// `syslog.ts_length` over characters (bytes of an ASCII head, or `char`s).
fn ts_length_of<C: Copy + Into<u32>>(h: &[C]) -> usize {
    let at = |i: usize| h.get(i).map(|&c| c.into());
    let is = |i: usize, b: u8| at(i) == Some(u32::from(b));
    let space_from = |start: usize| {
        h[start.min(h.len())..]
            .iter()
            .position(|&c| c.into() == u32::from(b' '))
            .map_or(h.len(), |p| p + start)
    };
    if is(0, b'@') {
        return 25;
    }
    let digit = at(0).is_some_and(|c| (u32::from(b'0')..=u32::from(b'9')).contains(&c));
    if h.len() > 10 && digit {
        if is(10, b'T') {
            return space_from(0);
        }
        if h.len() > 19 && is(19, b'.') {
            return space_from(19);
        }
        return 19;
    }
    let base = if h.len() > 5 && is(5, b' ') { 14 } else { 15 };
    if h.len() > base && is(base, b'.') {
        return space_from(base);
    }
    base
}

#[cfg(test)]
mod tests {
    use super::*;

    // the Python patterns, as syslog.py spells them (kept short: the equality tests in
    // tests/events/test_native.py run the real ones)
    const TS: &str = r"(?:[A-Z][a-z]{2} (?:[ 0-3][0-9]|[1-9]) [0-2][0-9]:[0-5][0-9]:[0-6][0-9](?:\.[0-9]{1,6})?|[0-9]{4}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9](?:\.[0-9]{1,9})?(?:Z|[+-][0-2][0-9]:?[0-5][0-9])?|@[0-9a-f]{24})";
    const WRAPPED: &str = r"^(?:[a-z]+ +\| )";
    const WRAPPER: &str =
        r"^(?P<compose>[a-z]+ +\| )?(?:(?P<outer>@[0-9a-f]{24}) (?P<inner>[A-Z]))?";

    fn env() -> Envelope {
        Envelope::new(WRAPPED, WRAPPER, TS).unwrap()
    }

    #[test]
    fn bsd_header() {
        let line = "Feb  3 11:57:42 mx postfix/smtpd[1]: connect from x[1.2.3.4]";
        let Shape::Header(h) = env().shape(line) else {
            panic!("no header")
        };
        assert_eq!(&line[h.ts.clone()], "Feb  3 11:57:42");
        assert_eq!(&line[h.hosttag.clone()], "mx postfix/smtpd[1]");
        assert_eq!(&line[h.msg.clone()], "connect from x[1.2.3.4]");
    }

    #[test]
    fn stamp_lengths() {
        assert_eq!(ts_length("Feb 3 11:57:42 mx"), 14);
        assert_eq!(ts_length("Feb  3 11:57:42.123 mx"), 19);
        assert_eq!(ts_length("2021-03-13T12:04:09.755361+01:00 mx"), 32);
        assert_eq!(ts_length("2013-08-11 03:56:40.123456 x"), 26);
        assert_eq!(ts_length("@4000000065a1b2c31d2e3f40 x"), 25);
        // Python says 15 for a short head; the byte length is clamped to the head
        assert_eq!(ts_length(""), 0);
        // characters, not bytes, as Python counts
        assert_eq!(ts_length("ä"), 2);
        assert_eq!(ts_length("Fäb  3 11:57:42.5 x"), "Fäb  3 11:57:42.5".len());
    }

    #[test]
    fn unwrap_cuts_compose_and_nul() {
        let e = env();
        assert_eq!(e.unwrap("web  | Feb  3 x"), "Feb  3 x");
        assert_eq!(e.unwrap("a\0b"), "ab");
        assert_eq!(e.unwrap("plain"), "plain");
    }

    #[test]
    fn shapes() {
        let e = env();
        assert_eq!(e.shape("<13>1 - - - - - -"), Shape::Rfc5424);
        assert_eq!(e.shape("no colon here"), Shape::Unparsed);
        assert_eq!(e.shape("Feb  3 11:57:42: x"), Shape::Unparsed);
        assert_eq!(e.shape("fxb  3 11:57:42 a: x"), Shape::Unparsed);
    }
}
