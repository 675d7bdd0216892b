"""End to end on object storage: sources read from, and outputs written to, an
S3 bucket served by moto's server on 127.0.0.1 (started here), through
snakemake-storage-plugin-s3 and profiles/s3."""

from __future__ import annotations

import io
import json
import time
import urllib.request

import boto3
import pytest
from moto.server import ThreadedMotoServer
from PIL import Image

BUCKET = "images"
PREFIX = "site"
KEYS = {"access_key": "testing", "secret_key": "testing"}


@pytest.fixture
def s3_endpoint():
    """moto's S3 server in a thread of this process, on a port the OS gives it."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        yield endpoint
    finally:
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")).close()
        server.stop()


@pytest.fixture
def bucket(s3_endpoint):
    s3 = boto3.resource(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id=KEYS["access_key"],
        aws_secret_access_key=KEYS["secret_key"],
    )
    s3.create_bucket(Bucket=BUCKET)
    return s3.Bucket(BUCKET)


def put_image(bucket, name: str, size, color) -> None:
    data = io.BytesIO()
    Image.new("RGB", size, color).save(data, "PNG" if name.endswith(".png") else "JPEG")
    bucket.put_object(Key=f"{PREFIX}/input_images/{name}", Body=data.getvalue())


def run_on_bucket(workflow, endpoint: str, *args: str):
    return workflow.run(
        "--workflow-profile", "profiles/s3",
        "--default-storage-prefix", f"s3://{BUCKET}/{PREFIX}",
        "--storage-s3-endpoint-url", endpoint,
        "--storage-s3-access-key", KEYS["access_key"],
        "--storage-s3-secret-key", KEYS["secret_key"],
        *args,
    )


def variants(bucket) -> dict[str, object]:
    """Key -> LastModified of every image variant in the bucket's results/."""
    prefix = f"{PREFIX}/results/"
    return {
        obj.key[len(prefix):]: obj.last_modified
        for obj in bucket.objects.filter(Prefix=prefix)
        if "/" not in obj.key[len(prefix):] and obj.key.endswith((".png", ".webp"))
    }


@pytest.fixture
def built(workflow, bucket, s3_endpoint):
    put_image(bucket, "alpha.jpg", (64, 48), (200, 30, 30))
    put_image(bucket, "beta.png", (30, 60), (0, 90, 200))
    workflow.first = run_on_bucket(workflow, s3_endpoint)
    return workflow


def test_bucket_sources_are_built_into_the_bucket(built, bucket):
    expected = {f"alpha_{w}x{h}.{f}" for w, h in ((40, 30), (20, 15), (10, 8)) for f in ("png", "webp")}
    expected |= {f"beta_{w}x{h}.{f}" for w, h in ((30, 60), (20, 40), (10, 20)) for f in ("png", "webp")}
    assert set(variants(bucket)) == expected
    manifest = json.loads(bucket.Object(f"{PREFIX}/results/manifest.json").get()["Body"].read())
    assert [s["path"] for s in manifest["sources"].values()] == ["input_images/alpha.jpg", "input_images/beta.png"]
    assert not (built.root / "results").exists()  # nothing written to the local folder
    assert not (built.root / "build").exists()
    assert bucket.Object(f"{PREFIX}/build/report.csv").content_length > 0  # the build state is in the bucket too
    body = bucket.Object(f"{PREFIX}/results/alpha_20x15.webp").get()["Body"].read()
    with Image.open(io.BytesIO(body)) as im:
        assert im.size == (20, 15)


def test_second_run_on_the_bucket_rebuilds_nothing(built, bucket, s3_endpoint):
    before = variants(bucket)
    done = run_on_bucket(built, s3_endpoint)
    assert "Nothing to build: every target is up to date." in done.stdout + done.stderr
    assert variants(bucket) == before


def test_changed_source_in_the_bucket_rebuilds_only_its_targets(built, bucket, s3_endpoint):
    before = variants(bucket)
    time.sleep(1.1)  # S3 times have a one-second resolution
    put_image(bucket, "beta.png", (30, 60), (250, 250, 0))
    run_on_bucket(built, s3_endpoint)
    after = variants(bucket)
    assert {key for key in after if after[key] != before.get(key)} == {key for key in after if key.startswith("beta_")}


def test_a_rerun_takes_sizes_from_the_cache_by_etag_and_reads_only_changed_objects(built, bucket, s3_endpoint):
    """The cache is what planning reads: a size planted under an object's own
    ETag is believed (the object is not read), and an entry whose ETag no longer
    matches is read again."""
    cache_path = built.root / ".snakemake" / "bucket-sizes.json"
    cache = json.loads(cache_path.read_text())
    alpha, beta = f"{PREFIX}/input_images/alpha.jpg", f"{PREFIX}/input_images/beta.png"
    assert cache[alpha][1] == [64, 48] and cache[beta][1] == [30, 60]
    cache[alpha][1] = [20, 10]
    cache[beta][0] = '"not-its-etag"'
    cache_path.write_text(json.dumps(cache))
    planned = [line.split("output: ", 1)[1] for line in run_on_bucket(built, s3_endpoint, "-n", "--logger-brief-jobs").stdout.splitlines()
               if line.startswith("    output: ")]
    assert any("results/alpha_20x10.png" in outputs for outputs in planned)  # the planted size
    assert not any("results/beta_" in outputs for outputs in planned)  # read again: its real size, built
    assert json.loads(cache_path.read_text())[beta][0] != '"not-its-etag"'
