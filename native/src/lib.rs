//! The Python binding of `maillog-core` (the FFI boundary: nothing else lives here).
//!
//! `Core(config, parse_tag)` compiles the catalog handed over by
//! `maillog_forensics/events/native.py`; `Core.parse(offsets, data, offset, length,
//! threads)` parses one batch of lines (an Arrow `large_string` array's buffers) with
//! the GIL released, calling back into Python only for program tags it has not seen.

use maillog_core::{
    ColType, Column, ColumnSpec, Config, Engine, Family, KindSpec, Source, Tag, YearChain,
};
use std::collections::HashMap;
use std::ffi::{c_int, c_void};

use pyo3::buffer::PyBuffer;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// The compiled catalog and the Python function that resolves program tags.
#[pyclass(frozen)]
struct Core {
    engine: Engine,
    parse_tag: Py<PyAny>,
    local_offset: Py<PyAny>,
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
    for (name, ty, angle, address) in item::<Vec<(String, String, bool, bool)>>(d, "columns")? {
        let ty = match ty.as_str() {
            "str" => ColType::Str,
            "i32" => ColType::I32,
            "i64" => ColType::I64,
            "f64" => ColType::F64,
            other => return Err(PyValueError::new_err(format!("column type {other}"))),
        };
        columns.push(ColumnSpec {
            name,
            ty,
            angle,
            address,
        });
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
        iso_parts: item(d, "iso_parts")?,
        tai64n: item(d, "tai64n")?,
        tai64_epoch: item(d, "tai64_epoch")?,
        ts_min_seconds: item(d, "ts_min_seconds")?,
        ts_end_seconds: item(d, "ts_end_seconds")?,
        months: item(d, "months")?,
        mapped_v4: item(d, "mapped_v4")?,
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

/// Bytes the core produced, handed to Python without a copy (the buffer protocol:
/// `pyarrow.py_buffer` wraps it and keeps it alive).
#[pyclass(frozen)]
struct Buffer {
    bytes: Vec<u8>,
}

#[pymethods]
impl Buffer {
    /// # Safety
    /// `view` is the `Py_buffer` Python asks to be filled; the bytes are never written and
    /// live as long as this object, which `PyBuffer_FillInfo` keeps a reference to.
    unsafe fn __getbuffer__(
        slf: Bound<'_, Self>,
        view: *mut pyo3::ffi::Py_buffer,
        flags: c_int,
    ) -> PyResult<()> {
        let bytes = &slf.get().bytes;
        let len = pyo3::ffi::Py_ssize_t::try_from(bytes.len())
            .map_err(|_| PyValueError::new_err("buffer too large"))?;
        // SAFETY: see above; readonly = 1, so Python never writes through the pointer
        let rc = unsafe {
            pyo3::ffi::PyBuffer_FillInfo(
                view,
                slf.as_ptr(),
                bytes.as_ptr() as *mut c_void,
                len,
                1,
                flags,
            )
        };
        if rc == -1 {
            return Err(PyErr::fetch(slf.py()));
        }
        Ok(())
    }

    unsafe fn __releasebuffer__(&self, _view: *mut pyo3::ffi::Py_buffer) {}
}

fn buffer(py: Python<'_>, bytes: Vec<u8>) -> PyResult<Py<Buffer>> {
    Py::new(py, Buffer { bytes })
}

/// (validity or None, null count, values, string data or None)
type PyColumn = (Option<Py<Buffer>>, usize, Py<Buffer>, Option<Py<Buffer>>);
/// what `Core.parse` returns
type ParseResult = (
    Py<Buffer>,
    Vec<Option<PyColumn>>,
    Vec<u32>,
    PyColumn,
    (i64, Option<i64>),
);

fn column_to_py(py: Python<'_>, c: Column) -> PyResult<PyColumn> {
    Ok((
        c.validity.map(|v| buffer(py, v)).transpose()?,
        c.null_count,
        buffer(py, c.values)?,
        c.data.map(|d| buffer(py, d)).transpose()?,
    ))
}

#[pymethods]
impl Core {
    #[new]
    fn new(
        config: &Bound<'_, PyDict>,
        parse_tag: Py<PyAny>,
        local_offset: Py<PyAny>,
    ) -> PyResult<Core> {
        let engine = Engine::new(&config_of(config)?).map_err(PyValueError::new_err)?;
        Ok(Core {
            engine,
            parse_tag,
            local_offset,
        })
    }

    /// (kind, error) of the catalog patterns Rust cannot compile (their lines go to Python).
    fn fallbacks(&self) -> Vec<(String, String)> {
        self.engine.fallbacks().to_vec()
    }

    /// Parse `length` lines of a `large_string` array (its offsets and data buffers,
    /// first line at `offset`), year-less stamps from `year` and `last_month`, zone-less
    /// ones in `tz`. Returns (kinds as uint16, columns, deferred rows, ts column, (year,
    /// last month) after the batch).
    #[allow(clippy::too_many_arguments)] // the Python signature: buffers and the time context
    fn parse(
        &self,
        py: Python<'_>,
        offsets: PyBuffer<u8>,
        data: PyBuffer<u8>,
        offset: usize,
        length: usize,
        threads: usize,
        tz: &str,
        year: i64,
        last_month: Option<i64>,
    ) -> PyResult<ParseResult> {
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
        let unknown = py.detach(|| engine.unknown_tags(&batch));
        let mut learnt = Vec::with_capacity(unknown.len());
        for hosttag in unknown {
            let tag = tag_of(&self.parse_tag.bind(py).call1((hosttag.as_str(),))?)?;
            learnt.push((hosttag, tag));
        }
        // the write lock waits for other threads' batches: never with the GIL held
        py.detach(|| engine.learn(learnt));
        let parsed = py.detach(|| engine.parse(&batch, threads));
        let chain = YearChain { year, last_month };
        let pass = py.detach(|| engine.read_stamps(&batch, &parsed, chain));
        let mut offsets = HashMap::with_capacity(pass.hours.len());
        for &(y, mo, d, h) in &pass.hours {
            let off: Option<i64> = self
                .local_offset
                .bind(py)
                .call1((tz, y, mo, d, h))?
                .extract()?;
            offsets.insert((y, mo, d, h), off);
        }
        let ts = py.detach(|| engine.stamp_column(&pass, &offsets, length));
        let kinds = parsed.kinds.iter().flat_map(|k| k.to_le_bytes()).collect();
        let columns = parsed
            .columns
            .into_iter()
            .map(|c| c.map(|c| column_to_py(py, c)).transpose())
            .collect::<PyResult<_>>()?;
        Ok((
            buffer(py, kinds)?,
            columns,
            parsed.deferred,
            column_to_py(py, ts)?,
            (pass.chain.year, pass.chain.last_month),
        ))
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
    m.add_class::<Buffer>()?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    Ok(())
}
