"""A resumable model downloader over HTTP that verifies sha256 before the file takes its final name."""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import re
import threading
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mindgarden import __version__
from mindgarden.core import paths
from mindgarden.core.errors import InvalidInputError, MindGardenError, StorageError

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int | None], None]

PARTIAL_SUFFIX = ".partial"
CHUNK_SIZE = 256 * 1024
DEFAULT_TIMEOUT_S = 30.0
# Automatic resumes after the connection drops mid-transfer, per download() call.
DEFAULT_RETRIES = 3

_SHA256_PATTERN = re.compile(r"[0-9a-f]{64}")
_CONTENT_RANGE_PATTERN = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class DownloadError(MindGardenError):
    """A download failed: HTTP error, time-out, lost connection or wrong size."""


class ChecksumMismatchError(DownloadError):
    """A downloaded file does not have the expected sha256."""

    def __init__(self, url: str, expected: str, actual: str) -> None:
        super().__init__(
            f"The file downloaded from {url} has sha256 {actual}, expected {expected}. "
            "The partial file was deleted. Try again later, or check that the catalog entry is current."
        )
        self.expected = expected
        self.actual = actual


class DownloadCancelled(MindGardenError):
    """The caller cancelled a download; the partial file is kept for a later resume."""


class _ConnectionLost(Exception):
    """The server closed the connection early; download() resumes when retries remain."""


def partial_path(target: Path) -> Path:
    """Return the file that contains the bytes of an unfinished download of target."""
    return target.with_name(target.name + PARTIAL_SUFFIX)


def download(
    url: str,
    target: str | Path,
    sha256: str,
    expected_size: int | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    retries: int = DEFAULT_RETRIES,
) -> Path:
    """Download url to target, resuming from ``target.partial``, and verify its sha256.

    Bytes go to ``target.partial``; an existing partial file is resumed with an HTTP Range
    request. The partial file is renamed to target only after its sha256 (and size, when
    given) match. A mismatch deletes the partial file and raises ChecksumMismatchError.
    Setting ``cancel`` stops the transfer within one chunk read (at most ``timeout`` seconds
    on a stalled connection) and raises DownloadCancelled, keeping the partial file.

    Args:
        url: http or https address of the file.
        target: final path of the file.
        sha256: expected sha256 as 64 hexadecimal digits.
        expected_size: expected size in bytes, or None to accept what the server sends.
        progress: called as ``progress(done, total)`` in bytes; total is None when unknown.
        cancel: an event that another thread sets to stop the download.
        timeout: seconds to wait for a connection or for the next bytes.
        retries: how many times to resume automatically after the connection drops.

    Returns:
        The target path.

    Raises:
        InvalidInputError: the URL or sha256 is malformed.
        DownloadError: HTTP error, time-out, lost connection, wrong size or wrong sha256.
        DownloadCancelled: cancel was set.
        StorageError: the target folder or file cannot be written.
    """
    target = Path(target)
    expected = _check_arguments(url, sha256)
    partial = partial_path(target)
    _prepare_folder(target)

    attempt = 0
    while True:
        try:
            _transfer(url, partial, expected_size, progress, cancel, timeout)
            break
        except _ConnectionLost as error:
            if attempt >= retries:
                raise DownloadError(
                    f"Downloading {url} failed: {error}. The partial file {partial} is kept; "
                    "run the download again to resume."
                ) from error
            attempt += 1
            log.warning("Download of %s interrupted (%s); resuming, attempt %d of %d", url, error, attempt, retries)

    _verify(url, partial, expected, expected_size)
    try:
        os.replace(partial, target)
    except OSError as error:
        raise StorageError(f"Cannot rename {partial} to {target}: {error}. Check permissions.") from error
    log.info("Downloaded %s to %s (sha256 verified)", url, target)
    return target


def _check_arguments(url: str, sha256: str) -> str:
    if not url.startswith(("http://", "https://")):
        raise InvalidInputError(f"Download address {url!r} is not an http or https URL.")
    expected = sha256.strip().lower()
    if not _SHA256_PATTERN.fullmatch(expected):
        raise InvalidInputError(f"Expected sha256 {sha256!r} is not 64 hexadecimal digits.")
    return expected


def _prepare_folder(target: Path) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StorageError(
            f"Cannot create the folder {target.parent} for {target.name}: {error}. Choose a writable folder."
        ) from error
    if target.is_dir():
        raise StorageError(f"Download target {target} is a folder. Choose a file path.")


def _transfer(
    url: str,
    partial: Path,
    expected_size: int | None,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
    timeout: float,
) -> None:
    """Fetch the bytes missing from the partial file; return when the server sent them all."""
    offset = partial.stat().st_size if partial.exists() else 0
    if expected_size is not None and offset > expected_size:
        log.warning("Partial file %s is larger than the expected %d bytes; starting again", partial, expected_size)
        offset = 0
    if expected_size is not None and offset == expected_size:
        log.info("Partial file %s already has all %d bytes; verifying it", partial, expected_size)
        return

    request = urllib.request.Request(url, headers={"User-Agent": f"MindGarden/{__version__}"})
    if offset:
        request.add_header("Range", f"bytes={offset}-")

    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:
            # The server has no bytes past the partial file: it is complete or wrong, and
            # the sha256 check decides which.
            log.info("Server has no bytes after %d for %s; verifying the partial file", offset, url)
            return
        raise DownloadError(
            f"Downloading {url} failed: HTTP {error.code} {error.reason}. Check the address, or try again later."
        ) from error
    except (TimeoutError, urllib.error.URLError) as error:
        reason = getattr(error, "reason", error)
        if isinstance(error, TimeoutError) or isinstance(reason, TimeoutError):
            raise DownloadError(f"Connecting to {url} timed out after {timeout:g} s. Check the connection.") from error
        raise DownloadError(f"Cannot connect to {url}: {reason}. Check the connection and the address.") from error

    with response:
        offset, total = _start_offset(url, response, offset, expected_size)
        _receive(url, response, partial, offset, total, progress, cancel, timeout)


def _start_offset(
    url: str, response: http.client.HTTPResponse, offset: int, expected_size: int | None
) -> tuple[int, int | None]:
    """Return where the response body starts in the file and the full file size, if known."""
    total: int | None = None
    if response.status == 206:
        match = _CONTENT_RANGE_PATTERN.fullmatch(response.headers.get("Content-Range", "").strip())
        if match is None or int(match.group(1)) != offset:
            raise DownloadError(
                f"The server for {url} returned the wrong range for the resume request "
                f"({response.headers.get('Content-Range')!r}). Delete the .partial file and try again."
            )
        total = int(match.group(3)) if match.group(3) != "*" else None
    else:
        if offset:
            log.info("Server for %s ignored the Range request; downloading from the start", url)
        offset = 0
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None

    if expected_size is not None and total is not None and total != expected_size:
        raise DownloadError(
            f"The server for {url} offers {total:,} bytes, but the catalog expects {expected_size:,}. "
            "The file has changed upstream; update the catalog entry."
        )
    return offset, total if total is not None else expected_size


def _receive(
    url: str,
    response: http.client.HTTPResponse,
    partial: Path,
    offset: int,
    total: int | None,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
    timeout: float,
) -> None:
    done = offset
    try:
        sink = partial.open("r+b" if offset else "wb")
    except OSError as error:
        raise StorageError(f"Cannot write the download file {partial}: {error}. Check permissions.") from error

    with sink:
        sink.seek(offset)
        sink.truncate()
        if progress is not None:
            progress(done, total)
        while True:
            if cancel is not None and cancel.is_set():
                log.info("Download of %s cancelled after %d bytes; keeping %s", url, done, partial)
                raise DownloadCancelled(
                    f"The download of {url} was cancelled after {done:,} bytes. "
                    f"The partial file {partial} is kept, so the next download resumes from there."
                )
            try:
                chunk = response.read(CHUNK_SIZE)
            except TimeoutError as error:
                raise DownloadError(
                    f"Downloading {url} timed out after {timeout:g} s without data at {done:,} bytes. "
                    f"The partial file {partial} is kept; run the download again to resume."
                ) from error
            except (http.client.IncompleteRead, ConnectionError) as error:
                raise _ConnectionLost(f"the connection closed after {done:,} bytes ({error})") from error
            if not chunk:
                break
            try:
                sink.write(chunk)
            except OSError as error:
                raise StorageError(
                    f"Cannot write the download file {partial}: {error}. Free some disk space and try again."
                ) from error
            done += len(chunk)
            if progress is not None:
                progress(done, total)

    if total is not None and done < total:
        raise _ConnectionLost(f"the connection closed after {done:,} of {total:,} bytes")


def _verify(url: str, partial: Path, expected: str, expected_size: int | None) -> None:
    """Delete the partial file and raise unless its size and sha256 are the expected ones."""
    size = partial.stat().st_size if partial.exists() else 0
    if expected_size is not None and size != expected_size:
        partial.unlink(missing_ok=True)
        raise DownloadError(
            f"The file downloaded from {url} has {size:,} bytes, expected {expected_size:,}. "
            "The partial file was deleted; try again."
        )
    actual = file_sha256(partial)
    if actual != expected:
        partial.unlink(missing_ok=True)
        log.error("Checksum mismatch for %s: expected %s, got %s", url, expected, actual)
        raise ChecksumMismatchError(url, expected, actual)


def file_sha256(path: Path) -> str:
    """Return the sha256 of a file as hexadecimal digits."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# Catalog of recommended downloads

CATALOG_FILE = "catalog.toml"
_CATALOG_FIELDS = {"name", "file", "size", "license", "url", "sha256", "description"}
_REQUIRED_CATALOG_FIELDS = _CATALOG_FIELDS - {"description"}


@dataclass(frozen=True)
class CatalogEntry:
    """A recommended model download: where to get it and what the file must be."""

    name: str
    file: str
    size: int
    license: str
    url: str
    sha256: str
    description: str = ""


class CatalogError(MindGardenError):
    """The model catalog file is missing or has an invalid entry."""


def default_catalog_path() -> Path:
    return paths.bundled_models_dir() / CATALOG_FILE


def load_catalog(path: str | Path | None = None) -> list[CatalogEntry]:
    """Read a catalog TOML file of ``[[model]]`` tables and validate every field.

    Raises CatalogError naming the file, the entry and the field at fault.
    """
    path = Path(path) if path is not None else default_catalog_path()
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise CatalogError(f"Model catalog {path} not found. Reinstall MindGarden or pass another catalog.") from error
    except (OSError, UnicodeDecodeError) as error:
        raise CatalogError(f"Model catalog {path} cannot be read: {error}.") from error
    except tomllib.TOMLDecodeError as error:
        raise CatalogError(f"Model catalog {path} is not valid TOML: {error}.") from error

    tables = document.get("model")
    if not isinstance(tables, list) or not tables:
        raise CatalogError(f"Model catalog {path} has no [[model]] entries.")

    entries = [_catalog_entry(path, index, table) for index, table in enumerate(tables, start=1)]
    for field_name in ("name", "file"):
        values = [getattr(entry, field_name) for entry in entries]
        duplicates = sorted({value for value in values if values.count(value) > 1})
        if duplicates:
            raise CatalogError(f"Model catalog {path} lists the {field_name} {', '.join(duplicates)} more than once.")
    return entries


def _catalog_entry(path: Path, index: int, table: object) -> CatalogEntry:
    where = f"Model catalog {path}, entry {index}"
    if not isinstance(table, dict):
        raise CatalogError(f"{where} is not a table.")
    unknown = sorted(set(table) - _CATALOG_FIELDS)
    if unknown:
        raise CatalogError(f"{where} has unknown fields {', '.join(unknown)}. The valid fields are {sorted(_CATALOG_FIELDS)}.")
    missing = sorted(_REQUIRED_CATALOG_FIELDS - set(table))
    if missing:
        raise CatalogError(f"{where} is missing the fields {', '.join(missing)}.")

    for key in _CATALOG_FIELDS - {"size"}:
        if key in table and (not isinstance(table[key], str) or (key != "description" and not table[key].strip())):
            raise CatalogError(f"{where}: {key} must be a non-empty string.")
    size = table["size"]
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise CatalogError(f"{where}: size must be a positive number of bytes, not {size!r}.")
    if not table["url"].startswith("https://"):
        raise CatalogError(f"{where}: url {table['url']!r} must start with https://.")
    if not _SHA256_PATTERN.fullmatch(table["sha256"]):
        raise CatalogError(f"{where}: sha256 must be 64 lowercase hexadecimal digits.")
    file_name = table["file"]
    if Path(file_name).name != file_name or not file_name.endswith(".gguf"):
        raise CatalogError(f"{where}: file {file_name!r} must be a plain .gguf file name without folders.")

    return CatalogEntry(
        name=table["name"], file=file_name, size=size, license=table["license"],
        url=table["url"], sha256=table["sha256"], description=table.get("description", ""),
    )
