//! The Python binding of `maillog-core` (the FFI boundary: nothing else lives here).
//!
//! `Core(config, parse_tag)` compiles the catalog handed over by
//! `maillog_forensics/events/native.py`; `Core.parse(offsets, data, offset, length,
//! threads)` parses one batch of lines (an Arrow `large_string` array's buffers) with
//! the GIL released, calling back into Python only for program tags it has not seen.

use maillog_core::{
    ColType, Column, ColumnData, ColumnSpec, Config, Engine, Family, KindSpec, Source, Tag,
};
use pyo3::buffer::PyBuffer;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

/// The compiled catalog and the Python function that resolves program tags.
#[pyclass(frozen)]
struct Core {
    engine: Engine,
    parse_tag: Py<PyAny>,
}

fn item<'py, T: FromPyObjectOwned<'py>>(d: &Bound<'py, PyDict>, key: &str) -> PyResult<T> {
    match d.get_item(key)? {
        Some(v) => v.extract::<T>().map_err(Into::into),
        None => Err(PyValueError::new_err(format!("config: missing {key}"))),
    }
}

fn config_of(d: &Bound<'_, PyDict>) -> PyResult<Config> {
    let mut kinds = Vec::new();
    for k in item::<Vec<Bound<'_, PyDict>>>(d, "kinds")? {
        let source = match item::<String>(&k, "source")?.as_str() {
            "postfix" => Source::Postfix,
            "dovecot" => Source::Dovecot,
            "any" => Source::Any,
            other => return Err(PyValueError::new_err(format!("kind source {other}"))),
        };
        kinds.push(KindSpec {
            name: item(&k, "name")?,
            source,
            daemons: item(&k, "daemons")?,
            debug: item(&k, "debug")?,
            trigger: item(&k, "trigger")?,
            prefix: item(&k, "prefix")?,
            pattern: item(&k, "pattern")?,
            groups: item(&k, "groups")?,
        });
    }
    let mut columns = Vec::new();
    for (name, ty, angle) in item::<Vec<(String, String, bool)>>(d, "columns")? {
        let ty = match ty.as_str() {
            "str" => ColType::Str,
            "i32" => ColType::I32,
            "i64" => ColType::I64,
            "f64" => ColType::F64,
            other => return Err(PyValueError::new_err(format!("column type {other}"))),
        };
        columns.push(ColumnSpec { name, ty, angle });
    }
    Ok(Config {
        wrapped: item(d, "wrapped")?,
        wrapper: item(d, "wrapper")?,
        ts: item(d, "ts")?,
        repeated: item(d, "repeated")?,
        postfix_prefix: item(d, "postfix_prefix")?,
        dovecot_syslog_prefix: item(d, "dovecot_syslog_prefix")?,
        dovecot_prefix: item(d, "dovecot_prefix")?,
        dovecot24_body: item(d, "dovecot24_body")?,
        user_daemons: item(d, "user_daemons")?,
        kinds,
        columns,
        defaults: item(d, "defaults")?,
    })
}

fn tag_of(obj: &Bound<'_, PyAny>) -> PyResult<Option<Tag>> {
    if obj.is_none() {
        return Ok(None);
    }
    let family: String = obj.getattr("family")?.extract()?;
    Ok(Some(Tag {
        host: obj.getattr("host")?.extract()?,
        program: obj.getattr("program")?.extract()?,
        pid: obj.getattr("pid")?.extract()?,
        family: Family::parse(&family)
            .ok_or_else(|| PyValueError::new_err(format!("tag family {family}")))?,
        instance: obj.getattr("instance")?.extract()?,
        service: obj.getattr("service")?.extract()?,
        daemon: obj.getattr("daemon")?.extract()?,
        args: obj.getattr("args")?.extract()?,
    }))
}

/// (validity or None, null count, values or offsets, string data or None)
type PyColumn = (Option<Py<PyBytes>>, usize, Py<PyBytes>, Option<Py<PyBytes>>);

fn le_bytes<T: Copy, const N: usize>(values: &[T], f: impl Fn(T) -> [u8; N]) -> Vec<u8> {
    values.iter().flat_map(|&v| f(v)).collect()
}

fn column_to_py(py: Python<'_>, c: Column) -> PyColumn {
    let validity = c.validity.map(|v| PyBytes::new(py, &v).unbind());
    let (values, data) = match c.data {
        ColumnData::Str { offsets, data } => (
            le_bytes(&offsets, i64::to_le_bytes),
            Some(PyBytes::new(py, &data).unbind()),
        ),
        ColumnData::I32(v) => (le_bytes(&v, i32::to_le_bytes), None),
        ColumnData::I64(v) => (le_bytes(&v, i64::to_le_bytes), None),
        ColumnData::F64(v) => (le_bytes(&v, f64::to_le_bytes), None),
    };
    (
        validity,
        c.null_count,
        PyBytes::new(py, &values).unbind(),
        data,
    )
}

#[pymethods]
impl Core {
    #[new]
    fn new(config: &Bound<'_, PyDict>, parse_tag: Py<PyAny>) -> PyResult<Core> {
        let engine = Engine::new(&config_of(config)?).map_err(PyValueError::new_err)?;
        Ok(Core { engine, parse_tag })
    }

    /// (kind, error) of the catalog patterns Rust cannot compile (their lines go to Python).
    fn fallbacks(&self) -> Vec<(String, String)> {
        self.engine.fallbacks().to_vec()
    }

    /// Parse `length` lines of a `large_string` array (its offsets and data buffers,
    /// first line at `offset`). Returns (kinds as uint16 bytes, columns, deferred rows).
    fn parse(
        &self,
        py: Python<'_>,
        offsets: PyBuffer<u8>,
        data: PyBuffer<u8>,
        offset: usize,
        length: usize,
        threads: usize,
    ) -> PyResult<(Py<PyBytes>, Vec<PyColumn>, Vec<u32>)> {
        let offsets = offsets.to_vec(py)?;
        let data = data.to_vec(py)?;
        let text = std::str::from_utf8(&data).map_err(|e| PyValueError::new_err(e.to_string()))?;
        let bounds: Vec<usize> = offsets
            .chunks_exact(8)
            .skip(offset)
            .take(length + 1)
            .map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes")) as usize)
            .collect();
        if bounds.len() != length + 1
            || bounds.windows(2).any(|w| w[0] > w[1])
            || bounds[length] > text.len()
        {
            return Err(PyValueError::new_err("offsets do not fit the data"));
        }
        let mut lines = Vec::with_capacity(length);
        for w in bounds.windows(2) {
            let line = text
                .get(w[0]..w[1])
                .ok_or_else(|| PyValueError::new_err("offset inside a character"))?;
            lines.push(line);
        }
        let engine = &self.engine;
        let batch = py.detach(|| engine.prepare(lines));
        for hosttag in engine.unknown_tags(&batch) {
            let tag = tag_of(&self.parse_tag.bind(py).call1((hosttag.as_str(),))?)?;
            engine.learn(hosttag, tag);
        }
        let parsed = py.detach(|| engine.parse(&batch, threads));
        let kinds = le_bytes(&parsed.kinds, u16::to_le_bytes);
        let columns = parsed
            .columns
            .into_iter()
            .map(|c| column_to_py(py, c))
            .collect();
        Ok((PyBytes::new(py, &kinds).unbind(), columns, parsed.deferred))
    }
}

/// The version of the core (the crate's).
#[pyfunction]
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Core>()?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    Ok(())
}
