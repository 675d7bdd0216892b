"""The file that carries a ``quality: auto`` variant's choice from its
``choose_quality`` job (scripts/auto_quality.py) to its resize job and to its
source's record (scripts/web.py).

A module of its own, without the metric's imports: scripts/web.py is also
imported by the download jobs, which run as processes in the conda env.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scripts.imageops import atomic_write


def write_choice(path: Path, quality: int, score: float, settings: Mapping[str, Any]) -> None:
    """Write ``path`` atomically: the quality chosen, its SSIMULACRA2 score
    (two decimals) and the encoder settings it needs beyond the configured ones."""
    choice = {"quality": quality, "ssimulacra2": round(score, 2), "settings": dict(settings)}
    atomic_write(path, lambda handle: handle.write(json.dumps(choice).encode()))


def read_choice(path: Path) -> dict[str, Any]:
    """What :func:`write_choice` wrote: quality, ssimulacra2 and settings."""
    return json.loads(Path(path).read_text(encoding="utf-8"))
