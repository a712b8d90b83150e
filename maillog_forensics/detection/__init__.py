"""Stage 3, tables → findings: detection (:mod:`.detect`), what to do (:mod:`.remediate`),
lines explained in plain words (:mod:`.explain`)."""

from .detect import DetectConfig, findings

__all__ = ["DetectConfig", "findings"]
