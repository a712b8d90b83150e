//! Sparse column builders: most capture columns are null on most rows, so a builder
//! keeps only the rows that have a value and lays out the Arrow buffers at the end.

use crate::config::ColType;
use crate::convert::Value;

/// A finished column in Arrow layout: validity bitmap (LSB first; `None` without nulls),
/// the values (little-endian numbers, or 16-byte `string_view` views) and, for strings,
/// the one data buffer the views point into.
#[derive(Debug, PartialEq)]
pub struct Column {
    pub validity: Option<Vec<u8>>,
    pub null_count: usize,
    pub values: Vec<u8>,
    pub data: Option<Vec<u8>>,
}

/// The rows that have a value, in increasing order, and their values.
#[derive(Debug)]
pub struct Builder {
    ty: ColType,
    rows: Vec<u32>,
    bytes: Vec<u8>,
    ends: Vec<usize>,
    ints: Vec<i64>,
    floats: Vec<f64>,
}

impl Builder {
    pub fn new(ty: ColType) -> Builder {
        Builder {
            ty,
            rows: Vec::new(),
            bytes: Vec::new(),
            ends: Vec::new(),
            ints: Vec::new(),
            floats: Vec::new(),
        }
    }

    /// Whether no row has a value.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Room for `rows` values of `bytes` bytes of text in all.
    pub fn reserve(&mut self, rows: usize, bytes: usize) {
        self.rows.reserve(rows);
        self.ends.reserve(rows);
        self.bytes.reserve(bytes);
    }

    /// Give `row` (greater than every row before) a value of this column's type.
    pub fn push(&mut self, row: u32, value: &Value<'_>) {
        match (self.ty, value) {
            (_, Value::Null) => return,
            (ColType::Str, Value::Str(s)) => {
                self.bytes.extend_from_slice(s.as_bytes());
                self.ends.push(self.bytes.len());
            }
            (ColType::I32, Value::I32(v)) => self.ints.push(i64::from(*v)),
            (ColType::I64, Value::I64(v)) => self.ints.push(*v),
            (ColType::F64, Value::F64(v)) => self.floats.push(*v),
            _ => return,
        }
        self.rows.push(row);
    }

    /// Append the rows of `other` shifted by `shift` (a later part of the same batch).
    pub fn append(&mut self, other: Builder, shift: u32) {
        let base = self.bytes.len();
        self.rows.extend(other.rows.iter().map(|r| r + shift));
        self.bytes.extend_from_slice(&other.bytes);
        self.ends.extend(other.ends.iter().map(|e| e + base));
        self.ints.extend_from_slice(&other.ints);
        self.floats.extend_from_slice(&other.floats);
    }

    /// The column of `n` rows.
    pub fn finish(self, n: usize) -> Column {
        let null_count = n - self.rows.len();
        let validity = (null_count > 0).then(|| {
            let mut bits = vec![0u8; n.div_ceil(8)];
            for &r in &self.rows {
                bits[r as usize / 8] |= 1 << (r % 8);
            }
            bits
        });
        let (values, data) = match self.ty {
            ColType::Str => (
                views(n, &self.rows, &self.ends, &self.bytes),
                Some(self.bytes),
            ),
            ColType::I32 => (
                scatter(n, &self.rows, &self.ints, |v| (v as i32).to_le_bytes()),
                None,
            ),
            ColType::I64 => (scatter(n, &self.rows, &self.ints, i64::to_le_bytes), None),
            ColType::F64 => (scatter(n, &self.rows, &self.floats, f64::to_le_bytes), None),
        };
        Column {
            validity,
            null_count,
            values,
            data,
        }
    }
}

/// Arrow `string_view` views: length, then the text itself when it has at most 12
/// bytes, else its first 4 bytes, buffer 0 and the offset (nulls: all zero).
fn views(n: usize, rows: &[u32], ends: &[usize], bytes: &[u8]) -> Vec<u8> {
    assert!(
        u32::try_from(bytes.len()).is_ok(),
        "a batch's strings exceed 4 GiB"
    );
    let mut out = vec![0u8; n * 16];
    let mut start = 0usize;
    for (&r, &end) in rows.iter().zip(ends) {
        let text = &bytes[start..end];
        let view = &mut out[r as usize * 16..r as usize * 16 + 16];
        view[..4].copy_from_slice(&(text.len() as u32).to_le_bytes());
        if text.len() <= 12 {
            view[4..4 + text.len()].copy_from_slice(text);
        } else {
            view[4..8].copy_from_slice(&text[..4]);
            view[12..16].copy_from_slice(&(start as u32).to_le_bytes());
        }
        start = end;
    }
    out
}

/// Dense little-endian values of width `N`, zero where a row has none.
fn scatter<S: Copy, const N: usize>(
    n: usize,
    rows: &[u32],
    values: &[S],
    f: impl Fn(S) -> [u8; N],
) -> Vec<u8> {
    let mut out = vec![0u8; n * N];
    for (&r, &v) in rows.iter().zip(values) {
        out[r as usize * N..(r as usize + 1) * N].copy_from_slice(&f(v));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_with_gaps() {
        let mut b = Builder::new(ColType::Str);
        b.push(1, &Value::Str("ab"));
        b.push(3, &Value::Str("0123456789abcdef"));
        let c = b.finish(5);
        assert_eq!(c.null_count, 3);
        assert_eq!(c.validity, Some(vec![0b01010]));
        let v = &c.values;
        assert_eq!(v.len(), 80);
        assert!(v[..16].iter().all(|&x| x == 0));
        assert_eq!(&v[16..22], &[2, 0, 0, 0, b'a', b'b']);
        assert_eq!(&v[48..52], &[16, 0, 0, 0]);
        assert_eq!(&v[52..56], b"0123");
        assert_eq!(&v[56..64], &[0, 0, 0, 0, 2, 0, 0, 0]);
        assert_eq!(c.data.as_deref(), Some(&b"ab0123456789abcdef"[..]));
    }

    #[test]
    fn appended_parts_and_numbers() {
        let mut a = Builder::new(ColType::I32);
        a.push(0, &Value::I32(7));
        let mut b = Builder::new(ColType::I32);
        b.push(1, &Value::I32(-1));
        a.append(b, 2);
        let c = a.finish(4);
        assert_eq!(
            c.values,
            [7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255]
        );
        assert_eq!(c.validity, Some(vec![0b1001]));
        let mut full = Builder::new(ColType::F64);
        full.push(0, &Value::F64(0.5));
        assert_eq!(full.finish(1).validity, None);
    }
}
