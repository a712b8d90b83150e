"""Stage 1, the ingest: raw logs → Parquet event dataset.

inputs (:mod:`.sources`) → syslog envelope (:mod:`.syslog`) → line kinds (:mod:`.catalog`)
→ parsing (:mod:`.parse`) with credentials redacted (:mod:`.redact`) → rows of
:mod:`.schema` → the dataset (:mod:`.store`). :mod:`.run` drives it (one pipeline,
:mod:`.pipeline`, for the thread pool and a Dask cluster); :mod:`.bookkeeping` keeps the
manifest.
"""

from .bookkeeping import IngestStats, local_zone_name
from .run import ingest

__all__ = ["IngestStats", "ingest", "local_zone_name"]
