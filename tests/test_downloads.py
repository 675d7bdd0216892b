"""Sources from URLs: naming, the download step against a real HTTP server on
127.0.0.1 (started here), and the workflow end to end."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from scripts import download as dl


def jpeg_bytes(size=(48, 32), color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG", quality=90)
    return out.getvalue()


class ImageServer:
    """A local HTTP server with one route per failure mode; it logs every request."""

    def __init__(self):
        self.files: dict[str, bytes] = {
            "/img/red.jpg": jpeg_bytes(),
            "/img/blue.jpg": jpeg_bytes((40, 40), (0, 0, 200)),
            "/a/b/red.jpg": jpeg_bytes((30, 20), (0, 200, 0)),
        }
        self.requests: list[tuple[str, str]] = []
        self.failures_left = {"/flaky.jpg": 2}
        self.delay = 0.0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_HEAD(self):
                self.respond(head=True)

            def do_GET(self):
                self.respond(head=False)

            def send_body(self, body: bytes, head: bool, content_type="image/jpeg", status=200, extra=()):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for key, value in extra:
                    self.send_header(key, value)
                self.end_headers()
                if not head:
                    self.wfile.write(body)

            def respond(self, head: bool):
                path = self.path.split("?")[0]
                server.requests.append((self.command, path))
                time.sleep(server.delay)
                if path in server.files:
                    body = server.files[path]
                    etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                    self.send_body(body, head, extra=[("ETag", etag)])
                elif path == "/slow.jpg":
                    time.sleep(3)
                    self.send_body(jpeg_bytes(), head)
                elif path == "/truncated.jpg":
                    body = jpeg_bytes((200, 200))
                    self.send_response(200)
                    self.send_header("Content-Type", "image/jpeg")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if not head:
                        self.wfile.write(body[: len(body) // 2])
                    self.close_connection = True
                elif path == "/page.jpg":
                    self.send_body(b"<!DOCTYPE html><html><body>Not found</body></html>", head, "text/html")
                elif path == "/noise.jpg":
                    self.send_body(b"GIF? no: " + bytes(range(256)) * 4, head)
                elif path == "/redirect.jpg":
                    self.send_body(b"", head, status=302, extra=[("Location", "/img/blue.jpg")])
                elif path == "/flaky.jpg" and server.failures_left["/flaky.jpg"] > 0 and not head:
                    server.failures_left["/flaky.jpg"] -= 1
                    self.send_body(b"busy", head, "text/plain", status=503)
                elif path == "/flaky.jpg":
                    self.send_body(jpeg_bytes((20, 20)), head)
                elif path.endswith("escape.jpg"):  # whatever the URL's path does
                    self.send_body(jpeg_bytes((16, 16)), head)
                elif path == "/huge.jpg":
                    self.send_body(jpeg_bytes((400, 400)), head)
                elif path == "/vector.jpg":
                    self.send_body(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n", head)
                elif path == "/chunked.jpg":  # no Content-Length: chunk after chunk
                    body = jpeg_bytes((400, 400))
                    self.send_response(200)
                    self.send_header("Content-Type", "image/jpeg")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    if not head:
                        for start in range(0, len(body), 256):
                            chunk = body[start : start + 256]
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        self.wfile.write(b"0\r\n\r\n")
                elif path == "/until-close.jpg":  # no Content-Length: the body ends with the connection
                    self.send_response(200)
                    self.send_header("Content-Type", "image/jpeg")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    if not head:
                        self.wfile.write(jpeg_bytes((400, 400)))
                    self.close_connection = True
                elif path == "/lying.jpg":  # declares 500 bytes, sends the whole image
                    body = jpeg_bytes((400, 400))
                    self.send_response(200)
                    self.send_header("Content-Type", "image/jpeg")
                    self.send_header("Content-Length", "500")
                    self.end_headers()
                    if not head:
                        self.wfile.write(body)
                    self.close_connection = True
                else:
                    self.send_body(b"not found", head, "text/plain", status=404)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda request, address: None  # clients that gave up
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def gets(self) -> list[str]:
        return [path for method, path in self.requests if method == "GET"]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    srv = ImageServer()
    yield srv
    srv.close()


# Naming


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://example.org/photos/red.jpg", "red.jpg"),
        ("https://example.org/p/My%20Photo.JPG?size=large#x", "My Photo.JPG"),
        ("https://example.org/a/..%2F..%2Fetc%2Fescape.png", "escape.png"),
        ("https://example.org/a/..%5C..%5Cwin.png", "win.png"),
        ("https://example.org/.hidden.webp", "hidden.webp"),
        ("https://example.org/we;ird$name.tif", "we_ird_name.tif"),
    ],
)
def test_url_file_name(url, name):
    assert dl.url_file_name(url) == name


@pytest.mark.parametrize(
    ("url", "cause"),
    [
        ("ftp://example.org/a.jpg", "not an http(s) URL"),
        ("https://example.org/", "does not end in an image file name"),
        ("https://example.org/a/..", "does not end in an image file name"),
        ("https://example.org/page.html", "does not end in an image file name"),
        ("https://example.org/.jpg", "does not end in an image file name"),
    ],
)
def test_url_file_name_rejects(url, cause):
    with pytest.raises(dl.DownloadError, match=cause.replace("(", r"\(").replace(")", r"\)")):
        dl.url_file_name(url)


def test_plan_downloads_never_overwrites_a_local_file_of_another_origin(tmp_path):
    (tmp_path / "red.jpg").write_bytes(b"mine")
    names, skipped = dl.plan_downloads(["https://a.org/red.jpg", "https://a.org/x/blue.jpg"], tmp_path)
    assert names["blue.jpg"] == "https://a.org/x/blue.jpg"
    hashed = dl.with_url_hash("red.jpg", "https://a.org/red.jpg")
    assert names[hashed] == "https://a.org/red.jpg" and hashed != "red.jpg"
    assert skipped == {}


def test_plan_downloads_keeps_the_name_of_a_file_it_downloaded(tmp_path):
    (tmp_path / "red.jpg").write_bytes(b"downloaded")
    origin = dl.Origin("https://a.org/red.jpg", "https://a.org/red.jpg", "", "", "0", 10, 0.0, 0.1)
    dl.write_origin(dl.origin_path(tmp_path, "red.jpg"), origin)
    names, _ = dl.plan_downloads(["https://a.org/red.jpg"], tmp_path)
    assert names == {"red.jpg": "https://a.org/red.jpg"}


def test_plan_downloads_separates_urls_with_one_name(tmp_path):
    names, _ = dl.plan_downloads(["https://a.org/red.jpg", "https://b.org/red.jpg"], tmp_path)
    assert sorted(names.values()) == ["https://a.org/red.jpg", "https://b.org/red.jpg"]
    assert len({Path(n).stem for n in names}) == 2 and "red.jpg" not in names


def test_plan_downloads_skips_unusable_urls(tmp_path):
    names, skipped = dl.plan_downloads(["https://a.org/", "https://a.org/%7Bx%7D.jpg", "file:///a.jpg"], tmp_path)
    assert names == {"_x_.jpg": "https://a.org/%7Bx%7D.jpg"}  # braces would read as wildcards
    assert skipped == {
        "https://a.org/": "its path does not end in an image file name (.gif, .jpeg, .jpg, .png, .tif, .tiff, .webp)",
        "file:///a.jpg": "not an http(s) URL",
    }


def test_read_url_list_from_file(tmp_path):
    (tmp_path / "urls.txt").write_text("# photos\nhttps://a.org/1.jpg\n\n  https://a.org/2.jpg \nhttps://a.org/1.jpg\n")
    assert dl.read_url_list("urls.txt", tmp_path) == ["https://a.org/1.jpg", "https://a.org/2.jpg"]


def test_read_url_list_names_a_missing_file(tmp_path):
    with pytest.raises(ValueError, match="config sources: cannot read .*nope.txt"):
        dl.read_url_list("nope.txt", tmp_path)


@pytest.mark.parametrize(
    ("etag", "modified", "version"),
    [('"abc"', "Tue, 01 Jan 2030 00:00:00 GMT", 'etag:"abc"'), (None, "Tue", "modified:Tue"), ("", None, "")],
)
def test_version_of(etag, modified, version):
    assert dl.version_of(etag, modified) == version


# The download step


def fetch(server, tmp_path, path, **options):
    dest = tmp_path / "in" / "x.jpg"
    origin = dl.download(server.url(path), dest, tmp_path / "in" / ".downloads" / "x.jpg.json", **options)
    return dest, origin


def leftovers(tmp_path) -> list[str]:
    folder = tmp_path / "in"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_writes_file_and_origin(server, tmp_path):
    dest, origin = fetch(server, tmp_path, "/img/red.jpg")
    assert dest.read_bytes() == server.files["/img/red.jpg"]
    assert origin.sha256 == hashlib.sha256(dest.read_bytes()).hexdigest()
    assert origin.etag.startswith('"') and origin.version == f"etag:{origin.etag}"
    recorded = json.loads((tmp_path / "in" / ".downloads" / "x.jpg.json").read_text())
    assert recorded["url"] == server.url("/img/red.jpg") and recorded["bytes"] == len(server.files["/img/red.jpg"])


def test_download_follows_a_redirect(server, tmp_path):
    dest, origin = fetch(server, tmp_path, "/redirect.jpg")
    assert dest.read_bytes() == server.files["/img/blue.jpg"]
    assert origin.final_url == server.url("/img/blue.jpg")


def test_download_retries_5xx_with_backoff(server, tmp_path):
    dest, _ = fetch(server, tmp_path, "/flaky.jpg", retries=3, backoff=0.05)
    assert dest.exists()
    assert server.gets().count("/flaky.jpg") == 3


def test_each_retry_waits_twice_as_long_as_the_one_before(server, tmp_path, monkeypatch):
    waits = []

    def sleep(seconds):  # the server's threads sleep too: record the client's waits only
        if threading.current_thread() is threading.main_thread():
            waits.append(seconds)

    monkeypatch.setattr(dl.time, "sleep", sleep)
    server.failures_left["/flaky.jpg"] = 3
    dest, _ = fetch(server, tmp_path, "/flaky.jpg", retries=3, backoff=0.25)
    assert dest.exists()
    assert waits == [0.25, 0.5, 1.0]


def test_download_gives_up_after_the_retries(server, tmp_path):
    server.failures_left["/flaky.jpg"] = 10
    with pytest.raises(dl.DownloadError, match=r"HTTP 503 Service Unavailable after 3 attempts"):
        fetch(server, tmp_path, "/flaky.jpg", retries=2, backoff=0.01)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("path", "options", "cause"),
    [
        ("/missing.jpg", {}, r"HTTP 404 Not Found$"),
        ("/slow.jpg", {"timeout": 0.5, "retries": 1, "backoff": 0.01}, r"no answer within 0.5 s .* after 2 attempts"),
        ("/truncated.jpg", {}, r"the body is truncated"),
        ("/page.jpg", {}, r"the content is an HTML page, not an image"),
        ("/noise.jpg", {}, r"the content is not an image \(cannot identify image file"),
        ("/vector.jpg", {}, r"^EPS content, not an allowed image format$"),
        ("/huge.jpg", {"max_bytes": 1000}, r"^\d+,\d{3} bytes is above the download limit of 1,000"),
        ("/chunked.jpg", {"max_bytes": 1000}, r"^body is above the download limit of 1,000 bytes"),
        ("/until-close.jpg", {"max_bytes": 1000}, r"^body is above the download limit of 1,000 bytes"),
        # The client reads no more than the 500 bytes declared: half an image.
        ("/lying.jpg", {"max_bytes": 1000}, r"the content is not an image"),
    ],
)
def test_download_fails_cleanly(server, tmp_path, path, options, cause):
    with pytest.raises(dl.DownloadError, match=cause):
        fetch(server, tmp_path, path, **options)
    assert leftovers(tmp_path) == []  # nothing partial, no origin record


def test_download_of_same_content_keeps_the_file(server, tmp_path):
    dest, _ = fetch(server, tmp_path, "/img/red.jpg")
    before = dest.stat().st_mtime_ns, dest.stat().st_ino
    fetch(server, tmp_path, "/img/red.jpg")
    assert (dest.stat().st_mtime_ns, dest.stat().st_ino) == before


def test_remote_versions_asks_head_only(server):
    versions = dl.remote_versions([server.url("/img/red.jpg"), server.url("/missing.jpg")], timeout=5)
    assert versions[server.url("/img/red.jpg")].startswith('etag:"')
    assert versions[server.url("/missing.jpg")] is None
    assert server.gets() == []


def test_download_summary_counts_overlapping_time():
    origins = [
        dl.Origin("u1", "u1", "", "", "0", 1_500_000, 100.0, 2.0),
        dl.Origin("u2", "u2", "", "", "0", 500_000, 101.0, 2.5),
    ]
    assert dl.download_summary(origins) == ["Downloaded 2 file(s), 2.0 MB, in 3.50 s."]
    assert dl.download_summary([]) == []


# End to end


@pytest.fixture
def url_workflow(workflow, server):
    workflow.inputs.mkdir(parents=True, exist_ok=True)
    workflow.set_config(
        sources=[server.url(p) for p in ("/img/red.jpg", "/redirect.jpg", "/img/blue.jpg")],
        downloads={"timeout": 1, "retries": 1, "backoff": 0.01, "max_bytes": 10_000_000},
    )
    return workflow


def test_urls_are_downloaded_then_built(url_workflow, server):
    done = url_workflow.run()
    sources = sorted(p.name for p in url_workflow.inputs.iterdir() if not p.name.startswith("."))
    assert sources == ["blue.jpg", "red.jpg", "redirect.jpg"]
    assert {n for n in url_workflow.outputs() if n.startswith("redirect_")} == {
        f"redirect_{w}x{w}.{fmt}" for w in (40, 20, 10) for fmt in ("png", "webp")
    }
    assert "red_40x27.webp" in url_workflow.outputs()
    assert url_workflow.outputs().keys() >= {"blue_40x40.png", "blue_10x10.webp"}
    assert "Downloaded 3 file(s)" in done.stderr
    manifest = json.loads((url_workflow.results / "manifest.json").read_text())
    assert len(manifest["sources"]) == 3


def test_rerun_with_unchanged_remote_downloads_and_rebuilds_nothing(url_workflow, server):
    url_workflow.run()
    before = url_workflow.outputs()
    gets = len(server.gets())
    done = url_workflow.run()
    assert len(server.gets()) == gets  # HEAD requests only
    assert url_workflow.outputs() == before
    assert "Nothing to build" in done.stderr and "Downloaded" not in done.stderr


def test_an_unreachable_server_keeps_the_recorded_version(url_workflow, server):
    url_workflow.run()
    before = url_workflow.outputs()
    sources = {p.name: p.stat().st_mtime_ns for p in url_workflow.inputs.iterdir() if p.is_file()}
    server.close()
    done = url_workflow.run()
    assert url_workflow.outputs() == before
    assert {p.name: p.stat().st_mtime_ns for p in url_workflow.inputs.iterdir() if p.is_file()} == sources
    assert "Nothing to build" in done.stderr and "Downloaded" not in done.stderr


def test_changed_remote_is_downloaded_again_and_rebuilt(url_workflow, server):
    url_workflow.run()
    before = url_workflow.outputs()
    server.files["/img/red.jpg"] = jpeg_bytes(color=(10, 10, 250))
    url_workflow.run()
    after = url_workflow.outputs()
    rebuilt = {n for n in after if before.get(n) != after[n]}
    assert rebuilt == {f"red_{w}x{h}.{fmt}" for w, h in ((40, 27), (20, 14), (10, 7)) for fmt in ("png", "webp")}


def test_failing_urls_are_reported_and_do_not_stop_the_others(url_workflow, server):
    bad = {p: server.url(p) for p in ("/missing.jpg", "/slow.jpg", "/truncated.jpg", "/page.jpg")}
    url_workflow.set_config(sources=url_workflow.config["sources"] + list(bad.values()))
    done = url_workflow.run(check=False)
    assert done.returncode != 0
    assert f"ERROR {bad['/missing.jpg']}: HTTP 404 Not Found" in done.stderr
    assert f"ERROR {bad['/slow.jpg']}: no answer within 1 s" in done.stderr
    assert f"ERROR {bad['/truncated.jpg']}: the body is truncated" in done.stderr
    assert f"ERROR {bad['/page.jpg']}: the content is an HTML page, not an image" in done.stderr
    assert "red_40x27.webp" in url_workflow.outputs()  # the good ones are built
    names = sorted(p.name for p in url_workflow.inputs.iterdir() if not p.name.startswith("."))
    assert len(names) == 3 and not {"missing.jpg", "slow.jpg", "truncated.jpg", "page.jpg"} & set(names)
    assert not list(url_workflow.inputs.glob(".*.part"))


def test_a_url_never_overwrites_a_local_file(url_workflow, server):
    local = url_workflow.inputs / "red.jpg"
    Image.new("RGB", (64, 48), (1, 2, 3)).save(local)
    original = local.read_bytes()
    url_workflow.run()
    assert local.read_bytes() == original
    assert "red_40x30.png" in url_workflow.outputs()  # the local one, 64x48
    downloaded = list(url_workflow.inputs.glob("red-*.jpg"))
    assert len(downloaded) == 1  # the remote red.jpg, under a name of its own
    assert downloaded[0].read_bytes() == server.files["/img/red.jpg"]
    assert f"{downloaded[0].stem}_40x27.png" in url_workflow.outputs()


def test_escaping_url_lands_inside_the_input_folder(url_workflow, server):
    url_workflow.set_config(sources=[server.url("/a/..%2F..%2F..%2Fescape.jpg")])
    url_workflow.run()
    assert (url_workflow.inputs / "escape.jpg").exists()
    assert "escape_16x16.png" in url_workflow.outputs()
    assert not (url_workflow.root / "escape.jpg").exists()
    assert not (url_workflow.root.parent / "escape.jpg").exists()


def test_sources_from_a_text_file(workflow, server):
    workflow.inputs.mkdir(parents=True, exist_ok=True)
    (workflow.root / "urls.txt").write_text(f"# test\n{server.url('/img/blue.jpg')}\n")
    workflow.set_config(sources="urls.txt")
    workflow.run()
    assert "blue_40x40.webp" in workflow.outputs()
