//! Sparse column builders: most capture columns are null on most rows, so a builder
//! keeps only the rows that have a value and lays out the Arrow buffers at the end.

use crate::config::ColType;
use crate::convert::Value;

/// The values of a finished column in Arrow layout.
#[derive(Debug, PartialEq)]
pub enum ColumnData {
    /// `large_string`: n + 1 offsets into `data`
    Str {
        offsets: Vec<i64>,
        data: Vec<u8>,
    },
    I32(Vec<i32>),
    I64(Vec<i64>),
    F64(Vec<f64>),
}

/// A finished column: values and validity bitmap (LSB first; `None` if no nulls).
#[derive(Debug, PartialEq)]
pub struct Column {
    pub validity: Option<Vec<u8>>,
    pub null_count: usize,
    pub data: ColumnData,
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
        let data = match self.ty {
            ColType::Str => {
                let mut offsets = Vec::with_capacity(n + 1);
                offsets.push(0i64);
                let mut start = 0usize;
                let mut next = self.rows.iter().zip(&self.ends).peekable();
                for row in 0..n as u32 {
                    if let Some((_, &end)) = next.next_if(|(&r, _)| r == row) {
                        start = end;
                    }
                    offsets.push(start as i64);
                }
                ColumnData::Str {
                    offsets,
                    data: self.bytes,
                }
            }
            ColType::I32 => ColumnData::I32(scatter(n, &self.rows, &self.ints, |v| v as i32)),
            ColType::I64 => ColumnData::I64(scatter(n, &self.rows, &self.ints, |v| v)),
            ColType::F64 => ColumnData::F64(scatter(n, &self.rows, &self.floats, |v| v)),
        };
        Column {
            validity,
            null_count,
            data,
        }
    }
}

fn scatter<S: Copy, T: Copy + Default>(
    n: usize,
    rows: &[u32],
    values: &[S],
    f: impl Fn(S) -> T,
) -> Vec<T> {
    let mut out = vec![T::default(); n];
    for (&r, &v) in rows.iter().zip(values) {
        out[r as usize] = f(v);
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
        b.push(3, &Value::Str(""));
        let c = b.finish(5);
        assert_eq!(c.null_count, 3);
        assert_eq!(c.validity, Some(vec![0b01010]));
        assert_eq!(
            c.data,
            ColumnData::Str {
                offsets: vec![0, 0, 2, 2, 2, 2],
                data: b"ab".to_vec()
            }
        );
    }

    #[test]
    fn appended_parts_and_numbers() {
        let mut a = Builder::new(ColType::I32);
        a.push(0, &Value::I32(7));
        let mut b = Builder::new(ColType::I32);
        b.push(1, &Value::I32(9));
        a.append(b, 2);
        let c = a.finish(4);
        assert_eq!(c.data, ColumnData::I32(vec![7, 0, 0, 9]));
        assert_eq!(c.validity, Some(vec![0b1001]));
        let mut full = Builder::new(ColType::F64);
        full.push(0, &Value::F64(0.5));
        assert_eq!(full.finish(1).validity, None);
    }
}
