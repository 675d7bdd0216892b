"""Unit tests of scripts/bucket.py: prefixes and sizes from partial headers."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from scripts import bucket


@pytest.mark.parametrize(
    ("prefix", "input_dir", "expected"),
    [
        ("s3://b", "input_images", ("b", "input_images/")),
        ("s3://b/site/", "input_images", ("b", "site/input_images/")),
        ("s3://b/a/b", "./photos/", ("b", "a/b/photos/")),
    ],
)
def test_source_key_prefix(prefix, input_dir, expected):
    assert bucket.source_key_prefix(prefix, input_dir) == expected


@pytest.mark.parametrize("prefix", ["gs://b/x", "s3:///x", "b/x"])
def test_split_prefix_rejects_other_schemes(prefix):
    with pytest.raises(ValueError, match="not of the form s3://BUCKET"):
        bucket.split_prefix(prefix)


def encoded(fmt: str, size=(300, 200), **options) -> bytes:
    out = io.BytesIO()
    Image.effect_noise(size, 64).convert("RGB").save(out, fmt, **options)
    return out.getvalue()


def test_size_from_bytes_reads_a_jpeg_header_alone():
    assert bucket.size_from_bytes(encoded("JPEG")[:1024]) == (300, 200)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_size_from_bytes_needs_more_of_png_and_webp(fmt):
    # Pillow reads PNG's EXIF chunk and WebP through libwebp: the start is not enough.
    data = encoded(fmt)
    assert bucket.size_from_bytes(data[:1024]) is None
    assert bucket.size_from_bytes(data) == (300, 200)


class FakeObject:
    """The part of a boto3 S3 Object that probe_object_size uses; counts reads."""

    def __init__(self, data: bytes, reads: list):
        self.data, self.reads = data, reads

    def get(self, Range=None):
        if Range:
            end = int(Range.split("-")[1])
            body = self.data[: end + 1]
        else:
            body = self.data
        self.reads.append(len(body))
        return {"Body": io.BytesIO(body)}


class FakeS3:
    def __init__(self, objects: dict[str, bytes]):
        self.objects, self.reads = objects, []

    def Object(self, bucket_name, key):
        return FakeObject(self.objects[key], self.reads)


def test_probe_object_size_reads_only_the_head_of_a_jpeg(monkeypatch):
    monkeypatch.setattr(bucket, "HEADER_BYTES", 2048)
    s3 = FakeS3({"in/a.jpg": encoded("JPEG", (800, 600))})
    assert bucket.probe_object_size(s3, "b", "in/a.jpg") == (800, 600)
    assert s3.reads == [2048]


def test_probe_object_size_reads_a_large_png_whole(monkeypatch):
    monkeypatch.setattr(bucket, "HEADER_BYTES", 2048)
    data = encoded("PNG", (800, 600))
    s3 = FakeS3({"in/a.png": data})
    assert bucket.probe_object_size(s3, "b", "in/a.png") == (800, 600)
    assert s3.reads == [2048, len(data)]


def test_source_sizes_are_cached_by_etag(tmp_path):
    s3 = FakeS3({"in/a.jpg": encoded("JPEG", (30, 20))})
    cache = tmp_path / "sizes.json"
    assert bucket.source_sizes(s3, "b", "in/", {"a.jpg": '"e1"'}, cache) == {"a.jpg": (30, 20)}
    reads = len(s3.reads)
    assert bucket.source_sizes(s3, "b", "in/", {"a.jpg": '"e1"'}, cache) == {"a.jpg": (30, 20)}
    assert len(s3.reads) == reads  # same ETag: not read again
    s3.objects["in/a.jpg"] = encoded("JPEG", (40, 20))
    assert bucket.source_sizes(s3, "b", "in/", {"a.jpg": '"e2"'}, cache) == {"a.jpg": (40, 20)}


def test_size_from_bytes_applies_exif_orientation():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90 degrees
    data = encoded("JPEG", exif=exif.tobytes())
    assert bucket.size_from_bytes(data[:4096]) == (200, 300)


def test_size_from_bytes_is_none_for_non_images():
    assert bucket.size_from_bytes(b"<html>nope</html>") is None
    assert bucket.size_from_bytes(b"") is None
