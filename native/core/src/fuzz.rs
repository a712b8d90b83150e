//! A bounded randomized test of the envelope, the matcher and the stamps: every byte of a
//! log line is attacker-controlled, so no input may panic or yield a span that is not on
//! a character boundary. (cargo-fuzz needs a nightly toolchain, which the project's
//! machines do not have; this runs in `cargo test` with a fixed seed instead.)

use crate::config::{Family, KindSpec, Source};
use crate::envelope::{ts_length, Envelope, Shape};
use crate::matcher::{Matcher, Verdict};
use crate::timestamp::{Stamp, Stamps, YearChain};

// the patterns of syslog.py (TS_RE, WRAPPED, WRAPPER) and parse._ISO_PARTS, as Python has them
const TS: &str = r"(?:[A-Z][a-z]{2} (?:[ 0-3][0-9]|[1-9]) [0-2][0-9]:[0-5][0-9]:[0-6][0-9](?:\.[0-9]{1,6})?|[0-9]{4}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9](?:\.[0-9]{1,9})?(?:Z|[+-][0-2][0-9]:?[0-5][0-9])?|[0-9]{4}-[01][0-9]-[0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9](?:\.[0-9]{1,6})?|@[0-9a-f]{24})";
const ANSI: &str = r"(?:\x1b\[[0-9;]*m)?";
const ISO: &str = r"(?P<y>[0-9]{4})-(?P<mo>[0-9]{2})-(?P<d>[0-9]{2})[T ](?P<h>[0-9]{2}):(?P<mi>[0-9]{2}):(?P<s>[0-9]{2})(?:\.(?P<f>[0-9]{1,9}))?(?P<z>Z|(?P<sign>[+-])(?P<oh>[0-9]{2}):?(?P<om>[0-9]{2}))?$";

const PIECES: &[&str] = &[
    "Feb  3 11:57:42 ",
    "Feb 3 11:57:42.123 ",
    "2021-03-13T12:04:09.755361+01:00 ",
    "2013-08-11 03:56:40 ",
    "@4000000065a1b2c31d2e3f40 ",
    "<13>1 ",
    "mx ",
    "postfix/smtpd[123]: ",
    "dovecot: ",
    "imap-login: ",
    ": ",
    " ",
    "[",
    "]",
    "<",
    ">",
    "(",
    ")",
    "connect from ",
    "disconnect from ",
    "x[1.2.3.4]",
    "=",
    "web  | ",
    "\x1b[36m",
    "\0",
    "ä",
    "€",
    "𝄞",
    "\u{feff}",
    "\\",
    "message repeated 3 times: [ ",
    "Feb 30 25:61:61 ",
    "Xyz  1 00:00:00 ",
    "9999-99-99T99:99:99Z ",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn line(&mut self) -> String {
        let mut s = String::new();
        for _ in 0..self.below(12) {
            if self.below(3) == 0 {
                let c = char::from_u32(self.below(0x11_0000) as u32).unwrap_or('?');
                s.push(c);
            } else {
                s.push_str(PIECES[self.below(PIECES.len())]);
            }
        }
        s
    }
}

fn kinds() -> Vec<KindSpec> {
    let client = r"(?P<client_name>[^\[\] ]*)\[(?P<client_ip>[^\]]*)\]";
    let kind =
        |name: &str, trigger: &str, prefix: &str, pattern: String, groups: &[&str]| KindSpec {
            name: name.into(),
            source: Source::Any,
            daemons: vec![],
            debug: None,
            trigger: trigger.into(),
            prefix: prefix.into(),
            pattern,
            groups: groups
                .iter()
                .map(|g| (g.to_string(), g.to_string()))
                .collect(),
        };
    vec![
        kind(
            "connect",
            "connect from ",
            "connect from ",
            format!("^connect from {client}$"),
            &["client_name", "client_ip"],
        ),
        kind(
            "any",
            "=",
            "",
            r"^(?P<client_name>.*?)=(?P<client_ip>.)".into(),
            &["client_name", "client_ip"],
        ),
    ]
}

#[test]
fn random_lines_never_panic_and_spans_stay_on_characters() {
    let wrapped = format!(
        r"^(?:{ANSI}[A-Za-z0-9][A-Za-z0-9_.-]* +\|{ANSI} {ANSI}|@[0-9a-f]{{24}} [A-Z<0-9])"
    );
    let wrapper = format!(
        r"^(?P<compose>{ANSI}[A-Za-z0-9][A-Za-z0-9_.-]* +\|{ANSI} {ANSI})?(?:(?P<outer>@[0-9a-f]{{24}}) (?P<inner>[A-Z<0-9]))?"
    );
    let env = Envelope::new(&wrapped, &wrapper, TS).unwrap();
    let cols = ["client_name", "client_ip"];
    let matcher = Matcher::new(&kinds(), |c| cols.iter().position(|x| *x == c)).unwrap();
    let months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec"
        .split(' ')
        .map(str::to_owned)
        .collect();
    let stamps = Stamps::new(
        ISO,
        "@[0-9a-f]{24}",
        (1i128 << 62) + 10,
        -2_208_988_800,
        32_503_680_000,
        months,
    )
    .unwrap();
    let mut scratch = matcher.scratch();
    let candidates = matcher.candidates(Family::Other, None, false);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut chain = YearChain {
        year: 2026,
        last_month: None,
    };
    for _ in 0..20_000 {
        let line = rng.line();
        let text = env.unwrap(&line);
        let n = ts_length(&text);
        assert!(text.is_char_boundary(n.min(text.len())));
        if let Shape::Header(h) = env.shape(&text) {
            for r in [&h.ts, &h.hosttag, &h.msg] {
                assert!(r.start <= r.end && r.end <= text.len());
                assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
            }
            if let Stamp::Civil(c) = stamps.read(&text[h.ts.clone()], &mut chain) {
                if c.valid() {
                    let _ = c.utc_micros(3600);
                }
            }
            let body = &text[h.msg.clone()];
            if let Verdict::Kind(k) = matcher.find(body, &candidates, &mut scratch) {
                for (_, value) in matcher.captures(k, body, &scratch) {
                    assert!(body.contains(value));
                }
            }
        }
    }
}
