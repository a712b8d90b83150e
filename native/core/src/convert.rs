//! Captured text to typed values, as `parse._convert` and polars' casts read it.

use crate::config::ColType;

/// A typed value of one capture.
#[derive(Clone, Debug, PartialEq)]
pub enum Value<'a> {
    Null,
    Str(&'a str),
    I32(i32),
    I64(i64),
    F64(f64),
}

/// `<...>` stripped (`schema.Column.angle`; `<>` gives the empty text).
pub fn strip_angle(text: &str) -> &str {
    if text.len() >= 2 && text.starts_with('<') && text.ends_with('>') {
        &text[1..text.len() - 1]
    } else {
        text
    }
}

/// `[0-9]*\.?[0-9]*` and neither empty nor `.` (`parse._to_float`).
fn is_decimal(text: &str) -> bool {
    if text.is_empty() || text == "." {
        return false;
    }
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    match text.split_once('.') {
        None => digits(text),
        Some((a, b)) => digits(a) && digits(b),
    }
}

/// The value of a capture in a column of type `ty` (null where it does not convert).
pub fn convert(text: &str, ty: ColType, angle: bool) -> Value<'_> {
    let text = if angle { strip_angle(text) } else { text };
    match ty {
        ColType::Str => Value::Str(text),
        ColType::I32 => text.parse().map_or(Value::Null, Value::I32),
        ColType::I64 => text.parse().map_or(Value::Null, Value::I64),
        ColType::F64 if is_decimal(text) => text.parse().map_or(Value::Null, Value::F64),
        ColType::F64 => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn angles() {
        assert_eq!(strip_angle("<a@b>"), "a@b");
        assert_eq!(strip_angle("<>"), "");
        assert_eq!(strip_angle("<"), "<");
        assert_eq!(strip_angle("x"), "x");
    }

    #[test]
    fn numbers() {
        assert_eq!(convert("25", ColType::I32, false), Value::I32(25));
        assert_eq!(convert("99999999999", ColType::I32, false), Value::Null);
        assert_eq!(
            convert("99999999999", ColType::I64, false),
            Value::I64(99_999_999_999)
        );
        assert_eq!(convert("", ColType::I32, false), Value::Null);
        assert_eq!(convert("1.5", ColType::F64, false), Value::F64(1.5));
        assert_eq!(convert(".5", ColType::F64, false), Value::F64(0.5));
        assert_eq!(convert("3.", ColType::F64, false), Value::F64(3.0));
        assert_eq!(convert(".", ColType::F64, false), Value::Null);
        assert_eq!(convert("1e5", ColType::F64, false), Value::Null);
    }
}
