//! The maillog-forensics ingest core: raw log lines in, typed columns out.
//!
//! Nothing here knows a line kind or a header format by heart: every pattern comes from
//! the Python catalog (`maillog_forensics/events/catalog.py`, `syslog.py`) through a
//! [`Config`] at start-up, so the catalog stays the one source of truth. The modules:
//!
//! * [`config`]: what Python hands over (patterns, kinds, columns) and the program tag;
//! * [`envelope`]: the syslog envelope of one line (wrappers, header, time stamp span);
//! * [`matcher`]: one-pass kind dispatch (an Aho-Corasick scan of all triggers) and the
//!   anchored captures of the candidate kinds;
//! * [`convert`]: captured text to typed values, as the Python parsers convert it;
//! * [`columns`]: sparse column builders that end as Arrow buffers (`string_view` for
//!   text: polars takes those without a copy);
//! * [`timestamp`]: time stamps to UTC (year chain, zone offsets asked of Python);
//! * [`engine`]: a batch of lines through all of the above.
#![forbid(unsafe_code)]

pub mod columns;
pub mod config;
pub mod convert;
pub mod engine;
pub mod envelope;
pub mod matcher;
pub mod regex_compat;
pub mod timestamp;

#[cfg(test)]
mod fuzz;

pub use columns::Column;
pub use config::{ColType, ColumnSpec, Config, Family, KindSpec, Source, Tag};
pub use engine::{Batch, Engine, Parsed, StampPass};
pub use timestamp::YearChain;
