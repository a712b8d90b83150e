//! Time stamps to UTC microseconds, as `parse._fast_ts` computes them.
//!
//! ISO and Dovecot stamps carry their year (and maybe an offset); BSD stamps take the
//! running year of the file (`syslog.year_steps`: a month more than six below the one
//! before is a new year, more than six above a line from the year before); TAI64N labels
//! are exact. A wall-clock time without an offset takes the zone's offset for its hour,
//! which Python tells ([`Stamps::hours_needed`], once per distinct hour).

use regex::Regex;

use crate::regex_compat::{compile, compile_full};

/// The running year of year-less stamps (`parse.TimeContext` without the zone).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct YearChain {
    pub year: i64,
    pub last_month: Option<i64>,
}

/// A wall-clock time; `off` is its UTC offset in seconds when the stamp says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    pub y: i64,
    pub mo: i64,
    pub d: i64,
    pub h: i64,
    pub mi: i64,
    pub s: i64,
    pub us: i64,
    pub off: Option<i64>,
}

/// What a stamp says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stamp {
    Null,
    Exact(i64),
    Civil(Civil),
}

/// The compiled stamp patterns and limits (from `syslog.py` and `parse.py`).
#[derive(Debug)]
pub struct Stamps {
    iso: Regex,
    groups: [usize; 11],
    tai: Regex,
    tai_epoch: i128,
    min_seconds: i64,
    end_seconds: i64,
    months: Vec<String>,
}

const ISO_GROUPS: [&str; 11] = ["y", "mo", "d", "h", "mi", "s", "f", "z", "sign", "oh", "om"];

impl Stamps {
    pub fn new(
        iso: &str,
        tai: &str,
        tai_epoch: i128,
        min_seconds: i64,
        end_seconds: i64,
        months: Vec<String>,
    ) -> Result<Stamps, String> {
        let iso = compile(iso)?;
        let mut groups = [0; 11];
        for (slot, name) in groups.iter_mut().zip(ISO_GROUPS) {
            *slot = iso
                .capture_names()
                .position(|n| n == Some(name))
                .ok_or_else(|| format!("ISO stamp pattern: no group {name}"))?;
        }
        Ok(Stamps {
            iso,
            groups,
            tai: compile_full(tai)?,
            tai_epoch,
            min_seconds,
            end_seconds,
            months,
        })
    }

    /// Read one stamp; a BSD stamp moves the year chain.
    pub fn read(&self, raw: &str, chain: &mut YearChain) -> Stamp {
        if raw.starts_with('@') {
            return self.tai64n(raw);
        }
        if raw.as_bytes().first().is_some_and(u8::is_ascii_digit) {
            return self.iso(raw);
        }
        self.bsd(raw, chain)
    }

    fn tai64n(&self, raw: &str) -> Stamp {
        if !self.tai.is_match(raw) {
            return Stamp::Null;
        }
        let (Ok(secs), Ok(nanos)) = (
            u64::from_str_radix(&raw[1..17], 16),
            u64::from_str_radix(&raw[17..25], 16),
        ) else {
            return Stamp::Null;
        };
        let secs = i128::from(secs) - self.tai_epoch;
        if nanos >= 1_000_000_000
            || secs < i128::from(self.min_seconds)
            || secs >= i128::from(self.end_seconds)
        {
            return Stamp::Null;
        }
        Stamp::Exact(secs as i64 * 1_000_000 + (nanos / 1000) as i64)
    }

    fn iso(&self, raw: &str) -> Stamp {
        let Some(c) = self.iso.captures(raw) else {
            return Stamp::Null;
        };
        let g = |i: usize| c.get(self.groups[i]).map(|m| m.as_str());
        let num = |i: usize| g(i).and_then(|t| t.parse::<i64>().ok());
        let (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(s)) =
            (num(0), num(1), num(2), num(3), num(4), num(5))
        else {
            return Stamp::Null;
        };
        let off = match g(7) {
            Some("Z") => Some(0),
            Some(z) if !z.is_empty() => {
                let sign = if g(8) == Some("+") { 1 } else { -1 };
                match (num(9), num(10)) {
                    (Some(oh), Some(om)) => Some((oh * 3600 + om * 60) * sign),
                    _ => None,
                }
            }
            _ => None,
        };
        let us = g(6).map_or(0, fraction);
        Stamp::Civil(Civil {
            y,
            mo,
            d,
            h,
            mi,
            s,
            us,
            off,
        })
    }

    fn bsd(&self, raw: &str, chain: &mut YearChain) -> Stamp {
        // "Feb 3 11:57:42" (one space) is read as "Feb  3 11:57:42"
        let fixed;
        let raw = if raw.as_bytes().get(5) == Some(&b' ') && raw.is_char_boundary(4) {
            fixed = format!("{} {}", &raw[..4], &raw[4..]);
            fixed.as_str()
        } else {
            raw
        };
        let Some(month) = raw
            .get(..3)
            .and_then(|m| self.months.iter().position(|x| x == m))
        else {
            return Stamp::Null;
        };
        let mo = month as i64 + 1;
        let step = match chain.last_month {
            Some(prev) if mo - prev < -6 => 1,
            Some(prev) if mo - prev > 6 => -1,
            _ => 0,
        };
        chain.year += step;
        chain.last_month = Some(mo);
        let part = |a: usize, b: usize| {
            raw.get(a..b.min(raw.len()))
                .and_then(|t| t.trim_matches(' ').parse::<i64>().ok())
        };
        let (Some(d), Some(h), Some(mi), Some(s)) =
            (part(4, 6), part(7, 9), part(10, 12), part(13, 15))
        else {
            return Stamp::Null;
        };
        let us = raw.get(16..).map_or(0, fraction);
        Stamp::Civil(Civil {
            y: chain.year,
            mo,
            d,
            h,
            mi,
            s,
            us,
            off: None,
        })
    }
}

/// Microseconds of a fraction: its first six digits, padded with zeros (0 if not digits).
fn fraction(text: &str) -> i64 {
    let digits = &text[..text.len().min(6)];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return if text.is_empty() {
            0
        } else {
            text_or_zero(text)
        };
    }
    let mut v: i64 = digits.parse().unwrap_or(0);
    for _ in digits.len()..6 {
        v *= 10;
    }
    v
}

/// polars' `pad_end(6, "0").cast(Int64, strict=False)` of a text that is not all digits.
fn text_or_zero(text: &str) -> i64 {
    let padded = format!("{text:0<6}");
    padded.parse().unwrap_or(0)
}

fn days_in_month(y: i64, mo: i64) -> i64 {
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    match mo {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, mo: i64, d: i64) -> i64 {
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl Civil {
    /// Whether it is a real date and time of the years the parsers read (1900-2999).
    pub fn valid(&self) -> bool {
        (1900..=2999).contains(&self.y)
            && (1..=12).contains(&self.mo)
            && (1..=days_in_month(self.y, self.mo)).contains(&self.d)
            && (0..=23).contains(&self.h)
            && (0..=59).contains(&self.mi)
            && (0..=59).contains(&self.s)
            && (0..=999_999).contains(&self.us)
    }

    /// UTC microseconds since the epoch, given the offset of its zone.
    pub fn utc_micros(&self, off: i64) -> i64 {
        let secs = days_from_civil(self.y, self.mo, self.d) * 86_400
            + self.h * 3600
            + self.mi * 60
            + self.s
            - off;
        secs * 1_000_000 + self.us
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISO: &str = r"(?P<y>[0-9]{4})-(?P<mo>[0-9]{2})-(?P<d>[0-9]{2})[T ](?P<h>[0-9]{2}):(?P<mi>[0-9]{2}):(?P<s>[0-9]{2})(?:\.(?P<f>[0-9]{1,9}))?(?P<z>Z|(?P<sign>[+-])(?P<oh>[0-9]{2}):?(?P<om>[0-9]{2}))?$";

    fn stamps() -> Stamps {
        let months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec"
            .split(' ')
            .map(str::to_owned)
            .collect();
        Stamps::new(
            ISO,
            "@[0-9a-f]{24}",
            (1i128 << 62) + 10,
            -2_208_988_800,
            32_503_680_000,
            months,
        )
        .unwrap()
    }

    #[test]
    fn iso_with_offset() {
        let mut chain = YearChain {
            year: 2026,
            last_month: None,
        };
        let Stamp::Civil(c) = stamps().read("2021-03-13T12:04:09.755361+01:00", &mut chain) else {
            panic!()
        };
        assert_eq!(c.off, Some(3600));
        assert!(c.valid());
        assert_eq!(c.utc_micros(3600), 1_615_633_449_755_361);
    }

    #[test]
    fn bsd_year_rolls_over() {
        let s = stamps();
        let mut chain = YearChain {
            year: 2025,
            last_month: Some(12),
        };
        let Stamp::Civil(c) = s.read("Jan 1 00:00:01", &mut chain) else {
            panic!()
        };
        assert_eq!((c.y, c.mo, c.d, c.s), (2026, 1, 1, 1));
        assert_eq!(
            chain,
            YearChain {
                year: 2026,
                last_month: Some(1)
            }
        );
        assert_eq!(s.read("Xyz  1 00:00:01", &mut chain), Stamp::Null);
        assert_eq!(chain.last_month, Some(1));
    }

    #[test]
    fn tai64n_is_exact() {
        let mut chain = YearChain {
            year: 2026,
            last_month: None,
        };
        assert_eq!(
            stamps().read("@4000000065a1b2c31d2e3f40", &mut chain),
            Stamp::Exact(1_705_095_865_489_570)
        );
    }

    #[test]
    fn impossible_dates_are_invalid() {
        let c = Civil {
            y: 2023,
            mo: 2,
            d: 29,
            h: 0,
            mi: 0,
            s: 0,
            us: 0,
            off: None,
        };
        assert!(!c.valid());
        assert!(Civil { y: 2024, ..c }.valid());
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(1900, 3, 1), -25_508);
    }
}
