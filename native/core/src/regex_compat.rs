//! Python `re` spellings turned into Rust `regex` ones, checked at start-up.
//!
//! The catalog writes its patterns in the common subset of both engines; the few
//! differences that remain are translated here, and a pattern that still does not
//! compile is reported, so the caller can fall back for that pattern alone.

use regex::Regex;

/// Translate the Python-only spellings: `\Z` (end of text) is `\z` in Rust.
pub fn translate(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('Z') => out.push_str("\\z"),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Compile a (translated) Python pattern for Rust.
pub fn compile(pattern: &str) -> Result<Regex, String> {
    Regex::new(&translate(pattern)).map_err(|e| e.to_string())
}

/// Compile a pattern that must match a whole text (Python `fullmatch`).
pub fn compile_full(pattern: &str) -> Result<Regex, String> {
    compile(&format!("^(?:{pattern})$"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translates_end_of_text() {
        assert_eq!(translate(r"a\]\Z"), r"a\]\z");
        assert_eq!(translate(r"\\Z"), r"\\Z");
        assert!(compile(r"x\Z").unwrap().is_match("x"));
        assert!(!compile(r"x\Z").unwrap().is_match("x\n"));
    }

    #[test]
    fn full_match_is_anchored() {
        let re = compile_full("a|ab").unwrap();
        assert!(re.is_match("ab"));
        assert!(!re.is_match("abc"));
    }

    #[test]
    fn reports_what_does_not_compile() {
        assert!(compile(r"(?<=a)b").is_err());
    }
}
