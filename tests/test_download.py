"""Downloader: full, resumed, cancelled and rejected transfers from a local HTTP server on 127.0.0.1."""

from __future__ import annotations

import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mindgarden.core import paths
from mindgarden.core.errors import InvalidInputError, StorageError
from mindgarden.engine.download import (
    CatalogError,
    ChecksumMismatchError,
    DownloadCancelled,
    DownloadError,
    download,
    file_sha256,
    load_catalog,
    partial_path,
)

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
WRONG_SHA256 = "0" * 64


class ModelHandler(BaseHTTPRequestHandler):
    """Serves server.payload at /model.gguf, honouring ``Range: bytes=N-`` unless told to ignore it."""

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        server = self.server
        server.range_headers.append(self.headers.get("Range"))
        if self.path != "/model.gguf":
            self.send_error(404, "Not Found")
            return
        if server.delay_s:
            time.sleep(server.delay_s)

        payload = server.payload
        start = 0
        requested = self.headers.get("Range")
        if requested and not server.ignore_range:
            start = int(re.fullmatch(r"bytes=(\d+)-", requested).group(1))
            if start >= len(payload):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(payload)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(payload) - 1}/{len(payload)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(payload) - start))
        self.end_headers()

        body = memoryview(payload)[start:]
        limit = server.cut_after.pop(0) if server.cut_after else None
        if limit is not None:
            # Send part of the body, then drop the connection as a failing network would.
            self.wfile.write(body[:limit])
            self.wfile.flush()
            self.close_connection = True
            return
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


class ModelServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, payload: bytes) -> None:
        super().__init__(("127.0.0.1", 0), ModelHandler)
        self.payload = payload
        self.range_headers: list[str | None] = []
        self.cut_after: list[int] = []
        self.ignore_range = False
        self.delay_s = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/model.gguf"


@pytest.fixture(scope="module")
def payload() -> bytes:
    model = paths.bundled_models_dir() / paths.DEFAULT_MODEL_FILE
    if not model.is_file():
        pytest.fail(f"The bundled model {model} is missing: run `./dev.sh test`, which provisions it first.")
    return model.read_bytes()


@pytest.fixture
def server(payload, monkeypatch):
    # Keep urllib away from any proxy so requests reach 127.0.0.1 directly.
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    instance = ModelServer(payload)
    thread = threading.Thread(target=instance.serve_forever, daemon=True)
    thread.start()
    yield instance
    instance.shutdown()
    instance.server_close()
    thread.join(timeout=5)


def test_full_download_verified(server, payload, tmp_path):
    target = tmp_path / "models" / "model.gguf"
    calls: list[tuple[int, int | None]] = []
    result = download(
        server.url, target, paths.DEFAULT_MODEL_SHA256, expected_size=len(payload),
        progress=lambda done, total: calls.append((done, total)),
    )
    assert result == target
    assert file_sha256(target) == paths.DEFAULT_MODEL_SHA256
    assert not partial_path(target).exists()
    assert server.range_headers == [None]
    assert calls[0] == (0, len(payload))
    assert calls[-1] == (len(payload), len(payload))


def test_cut_transfer_resumes_with_range(server, payload, tmp_path):
    half = len(payload) // 2
    server.cut_after = [half]
    target = tmp_path / "model.gguf"
    download(server.url, target, paths.DEFAULT_MODEL_SHA256, expected_size=len(payload))
    assert file_sha256(target) == paths.DEFAULT_MODEL_SHA256
    assert server.range_headers == [None, f"bytes={half}-"]


def test_cut_transfer_without_retries_keeps_partial(server, payload, tmp_path):
    half = len(payload) // 2
    server.cut_after = [half]
    target = tmp_path / "model.gguf"
    with pytest.raises(DownloadError, match="resume"):
        download(server.url, target, paths.DEFAULT_MODEL_SHA256, retries=0)
    assert partial_path(target).stat().st_size == half
    assert not target.exists()

    download(server.url, target, paths.DEFAULT_MODEL_SHA256, retries=0)
    assert file_sha256(target) == paths.DEFAULT_MODEL_SHA256
    assert server.range_headers == [None, f"bytes={half}-"]


def test_wrong_sha256_rejected(server, tmp_path):
    target = tmp_path / "model.gguf"
    with pytest.raises(ChecksumMismatchError) as caught:
        download(server.url, target, WRONG_SHA256)
    assert WRONG_SHA256 in str(caught.value)
    assert paths.DEFAULT_MODEL_SHA256 in str(caught.value)
    assert caught.value.actual == paths.DEFAULT_MODEL_SHA256
    assert not partial_path(target).exists()
    assert not target.exists()


def test_cancel_keeps_partial(server, payload, tmp_path):
    target = tmp_path / "model.gguf"
    cancel = threading.Event()

    def stop_after_first_chunk(done: int, total: int | None) -> None:
        if done > 0:
            cancel.set()

    with pytest.raises(DownloadCancelled, match="cancelled"):
        download(server.url, target, paths.DEFAULT_MODEL_SHA256, progress=stop_after_first_chunk, cancel=cancel)
    kept = partial_path(target).stat().st_size
    assert 0 < kept < len(payload)
    assert not target.exists()

    download(server.url, target, paths.DEFAULT_MODEL_SHA256)
    assert file_sha256(target) == paths.DEFAULT_MODEL_SHA256
    assert server.range_headers[-1] == f"bytes={kept}-"


def test_server_ignoring_range_restarts(server, tmp_path):
    server.ignore_range = True
    target = tmp_path / "model.gguf"
    partial_path(target).write_bytes(b"stale bytes from another file" * 100)
    download(server.url, target, paths.DEFAULT_MODEL_SHA256)
    assert file_sha256(target) == paths.DEFAULT_MODEL_SHA256
    assert server.range_headers[0] is not None


def test_complete_partial_verified_without_body(server, payload, tmp_path):
    target = tmp_path / "model.gguf"
    partial_path(target).write_bytes(payload)
    download(server.url, target, paths.DEFAULT_MODEL_SHA256)
    assert file_sha256(target) == paths.DEFAULT_MODEL_SHA256
    assert server.range_headers == [f"bytes={len(payload)}-"]


def test_http_error_named(server, tmp_path):
    with pytest.raises(DownloadError, match="HTTP 404"):
        download(server.url.replace("model.gguf", "absent.gguf"), tmp_path / "x.gguf", WRONG_SHA256)
    assert not partial_path(tmp_path / "x.gguf").exists()


def test_size_mismatch_rejected(server, payload, tmp_path):
    with pytest.raises(DownloadError, match="catalog expects"):
        download(server.url, tmp_path / "x.gguf", paths.DEFAULT_MODEL_SHA256, expected_size=len(payload) + 1)


def test_timeout_named(server, tmp_path):
    server.delay_s = 1.0
    with pytest.raises(DownloadError, match="timed out"):
        download(server.url, tmp_path / "x.gguf", paths.DEFAULT_MODEL_SHA256, timeout=0.2)


def test_unwritable_target(server, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(StorageError, match="Cannot create the folder"):
        download(server.url, blocker / "model.gguf", paths.DEFAULT_MODEL_SHA256)
    assert server.range_headers == []


def test_invalid_arguments_rejected(tmp_path):
    with pytest.raises(InvalidInputError, match="sha256"):
        download("http://127.0.0.1:9/model.gguf", tmp_path / "x.gguf", "abc")
    with pytest.raises(InvalidInputError, match="http"):
        download("ftp://127.0.0.1/model.gguf", tmp_path / "x.gguf", WRONG_SHA256)


def test_bundled_catalog_valid():
    entries = load_catalog(REPOSITORY_ROOT / "models" / "catalog.toml")
    smol = next(entry for entry in entries if entry.file == paths.DEFAULT_MODEL_FILE)
    assert smol.sha256 == paths.DEFAULT_MODEL_SHA256
    assert smol.size == 98_362_432
    assert smol.license == "Apache-2.0"
    assert smol.url.startswith("https://")


CATALOG_ENTRY = """
[[model]]
name = "Tiny"
file = "tiny.gguf"
size = 10
license = "MIT"
url = "https://example.invalid/tiny.gguf"
sha256 = "{sha}"
"""


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        (("size = 10", "size = -1"), "size must be a positive"),
        (("size = 10", 'size = "10"'), "size must be a positive"),
        (('license = "MIT"', ""), "missing the fields license"),
        (("https://example", "http://example"), "must start with https"),
        (('file = "tiny.gguf"', 'file = "../tiny.gguf"'), "plain .gguf file name"),
        (('name = "Tiny"', 'name = "Tiny"\nsource = "x"'), "unknown fields source"),
        (("{sha}", "ABC"), "sha256 must be 64"),
    ],
)
def test_catalog_field_rejected(tmp_path, replace, message):
    text = CATALOG_ENTRY.replace(*replace).replace("{sha}", WRONG_SHA256)
    path = tmp_path / "catalog.toml"
    path.write_text(text)
    with pytest.raises(CatalogError, match=message):
        load_catalog(path)


def test_catalog_duplicate_rejected(tmp_path):
    path = tmp_path / "catalog.toml"
    path.write_text((CATALOG_ENTRY * 2).replace("{sha}", WRONG_SHA256))
    with pytest.raises(CatalogError, match="more than once"):
        load_catalog(path)


def test_catalog_missing_named(tmp_path):
    with pytest.raises(CatalogError, match="not found"):
        load_catalog(tmp_path / "absent.toml")
