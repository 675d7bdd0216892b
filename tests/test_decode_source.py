"""decode_source: one source into its raster pyramid, or one line naming why not."""

from pathlib import Path

import pytest
from PIL import Image

from scripts import decode_source as decode
from scripts.imageops import RASTER_LEVELS


def test_a_decode_that_leaves_a_declared_output_unwritten_fails_naming_it(tmp_path: Path, monkeypatch):
    source = tmp_path / "photo.png"
    Image.new("RGB", (40, 30), (1, 2, 3)).save(source)
    rasters = [tmp_path / f"L{level}.raster" for level in range(RASTER_LEVELS)]
    digests = tmp_path / "levels.sha256"

    def writes_all_but_the_digests(im, paths, digest_path=None):
        real_write_pyramid(im, paths, None)

    real_write_pyramid = decode.write_pyramid
    monkeypatch.setattr(decode, "write_pyramid", writes_all_but_the_digests)
    with pytest.raises(OSError, match=f"^the decode did not write {digests}$"):
        decode.decode_source(source, rasters, None, digests)
