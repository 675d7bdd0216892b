"""Delete the files named on the command line, printing each one removed.

    python scripts/remove_files.py PATH...

Used by ``snakemake remove_orphans``; a missing file is not an error.
"""

from __future__ import annotations

import sys
from pathlib import Path


def remove_files(paths: list[Path]) -> list[Path]:
    """Unlink ``paths``, then their folders if that left them empty; return the
    files that existed."""
    removed = []
    for path in paths:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        removed.append(path)
    for folder in sorted({path.parent for path in removed}, reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
    return removed


if __name__ == "__main__":
    for removed_path in remove_files([Path(arg) for arg in sys.argv[1:]]):
        print(f"removed {removed_path}")
