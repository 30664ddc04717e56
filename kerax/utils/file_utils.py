"""Downloads into a local cache: `get_file`, hashes, safe archive extraction.

`get_file` has Keras's signature and file layout. Where kerax differs, it is
stricter:

- The cache lives in `$KERAX_HOME` (default `~/.kerax`), next to nothing of
  Keras's, so the two never fight over half-written files.
- A download is written to a temporary file in the cache folder, checked
  (length announced by the server, then the hash when one is given) and only
  then renamed into place, so an interrupted or corrupted download never
  looks like a cached file.
- Extraction refuses the whole archive when any member is absolute, climbs
  out with `..`, is a device file or FIFO, or is a link that points outside
  the extraction folder (Keras skipped such members with a warning; it had
  path traversal bugs here, e.g. CVE-2025-8747). Archives are extracted into
  a temporary folder and renamed into place too.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import warnings
import zipfile

__all__ = [
    "extract_archive",
    "get_file",
    "hash_file",
    "kerax_home",
    "validate_file",
]

_CHUNK = 1 << 16


def kerax_home() -> str:
    """The cache root: `$KERAX_HOME`, else `~/.kerax`.

    Example:
        >>> import os
        >>> os.path.basename(kerax.utils.kerax_home()) in (".kerax", os.path.basename(os.environ.get("KERAX_HOME", "")))
        True
    """
    home = os.environ.get("KERAX_HOME")
    if home:
        return os.path.expanduser(home)
    return os.path.join(os.path.expanduser("~"), ".kerax")


def _resolve_hasher(algorithm: str, file_hash: str | None = None):
    if algorithm == "sha256":
        return hashlib.sha256()
    if algorithm == "md5":
        return hashlib.md5()
    if algorithm == "auto":
        if file_hash is not None and len(file_hash) == 64:
            return hashlib.sha256()
        if file_hash is not None and len(file_hash) == 32:
            return hashlib.md5()
        if file_hash is None:
            return hashlib.sha256()
        raise ValueError(
            f"`file_hash` {file_hash!r} is neither a SHA-256 (64 hex digits) nor "
            "an MD5 (32 hex digits) digest; pass the file's `sha256sum`."
        )
    raise ValueError(
        f'`hash_algorithm` must be "auto", "sha256" or "md5"; got {algorithm!r}.'
    )


def hash_file(fpath, algorithm: str = "sha256", chunk_size: int = _CHUNK) -> str:
    """The hex digest of a file (`"sha256"`, `"md5"`, or `"auto"` = SHA-256).

    Example:
        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "empty")
        >>> open(path, "wb").close()
        >>> kerax.utils.hash_file(path)
        'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
    """
    hasher = _resolve_hasher(algorithm) if isinstance(algorithm, str) else algorithm
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(
    fpath, file_hash: str, algorithm: str = "auto", chunk_size: int = _CHUNK
) -> bool:
    """Whether a file's SHA-256 (or MD5) digest equals `file_hash`.

    Example:
        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "empty")
        >>> open(path, "wb").close()
        >>> kerax.utils.validate_file(path, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        True
    """
    hasher = _resolve_hasher(algorithm, file_hash)
    return hash_file(fpath, hasher, chunk_size) == str(file_hash).lower()


# ---------------------------------------------------------------- extraction


def _unsafe_reason(name: str) -> str | None:
    """Why an archive member name must not be written, or None."""
    if not name:
        return "it has an empty name"
    normalized = name.replace("\\", "/")
    if normalized.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "it is an absolute path"
    if ".." in normalized.split("/"):
        return "it climbs out of the extraction folder with '..'"
    return None


def _inside(relative: str) -> bool:
    """Whether `relative`, normalized, stays within the extraction folder."""
    joined = posixpath.normpath(posixpath.join("/root", relative))
    return joined == "/root" or joined.startswith("/root/")


def _check_tar_member(member: tarfile.TarInfo) -> str | None:
    reason = _unsafe_reason(member.name)
    if reason:
        return reason
    if member.ischr() or member.isblk() or member.isfifo() or member.isdev():
        return "it is a device file or FIFO"
    if member.issym():
        target = member.linkname
        if target.startswith("/") or not _inside(
            posixpath.join(posixpath.dirname(member.name), target)
        ):
            return f"it is a symbolic link to {target!r}, outside the archive"
    elif member.islnk():
        target = member.linkname
        if target.startswith("/") or not _inside(target):
            return f"it is a hard link to {target!r}, outside the archive"
    elif not (member.isfile() or member.isdir()):
        return "it is neither a file, a folder nor a link"
    return None


def _check_zip_member(info: zipfile.ZipInfo) -> str | None:
    reason = _unsafe_reason(info.filename)
    if reason:
        return reason
    mode = (info.external_attr >> 16) & 0o170000
    if mode in (0o020000, 0o060000, 0o010000):  # char, block device, FIFO
        return "it is a device file or FIFO"
    return None


def _refuse(archive_path, member_name: str, reason: str):
    raise ValueError(
        f"Refusing to extract {os.fspath(archive_path)!r}: member {member_name!r} "
        f"is unsafe because {reason}. The archive may be malicious; nothing was "
        "extracted. Get the file from a source you trust."
    )


def _extract_tar(file_path, path) -> None:
    with tarfile.open(file_path) as archive:
        members = archive.getmembers()
        for member in members:
            reason = _check_tar_member(member)
            if reason:
                _refuse(file_path, member.name, reason)
        # Python's own "data" filter (3.11.4+) checks again on the real file
        # system (links through links, permissions): defence in depth.
        kwargs = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        archive.extractall(path, members=members, **kwargs)


def _extract_zip(file_path, path) -> None:
    with zipfile.ZipFile(file_path) as archive:
        infos = archive.infolist()
        for info in infos:
            reason = _check_zip_member(info)
            if reason:
                _refuse(file_path, info.filename, reason)
        archive.extractall(path, members=infos)


def extract_archive(file_path, path=".", archive_format="auto") -> bool:
    """Extracts a tar (`.tar`, `.tar.gz`, `.tar.bz2`, `.tar.xz`) or zip archive.

    Every member is checked before anything is written; one unsafe member
    (absolute path, `..`, device file, link leaving `path`) refuses the whole
    archive with a `ValueError`. The archive is unpacked into a temporary
    folder beside `path` and renamed into place, so `path` never holds half
    an archive.

    Args:
        file_path: the archive.
        path: the folder to extract into (created; replaced when it exists).
        archive_format: `"auto"` (= `["tar", "zip"]`), `"tar"`, `"zip"`, a
            list of those, or None (extract nothing).

    Returns:
        True when the file was an archive of an accepted format and was
        extracted, False otherwise.

    Example:
        >>> import io, os, tarfile, tempfile
        >>> root = tempfile.mkdtemp()
        >>> with tarfile.open(os.path.join(root, "a.tar"), "w") as tar:
        ...     info = tarfile.TarInfo("hello.txt"); info.size = 2
        ...     tar.addfile(info, io.BytesIO(b"hi"))
        >>> kerax.utils.extract_archive(os.path.join(root, "a.tar"), os.path.join(root, "out"))
        True
        >>> os.listdir(os.path.join(root, "out"))
        ['hello.txt']
    """
    if archive_format is None:
        return False
    if archive_format == "auto":
        archive_format = ["tar", "zip"]
    if isinstance(archive_format, str):
        archive_format = [archive_format]
    file_path, path = os.fspath(file_path), os.fspath(path)
    for kind in archive_format:
        if kind == "tar":
            matches, extract = tarfile.is_tarfile(file_path), _extract_tar
        elif kind == "zip":
            matches, extract = zipfile.is_zipfile(file_path), _extract_zip
        else:
            raise ValueError(
                f'`archive_format` entries must be "tar" or "zip"; got {kind!r}.'
            )
        if not matches:
            continue
        parent = os.path.dirname(os.path.abspath(path)) or "."
        os.makedirs(parent, exist_ok=True)
        staging = tempfile.mkdtemp(
            prefix=f".{os.path.basename(path)}.", suffix=".partial", dir=parent
        )
        try:
            extract(file_path, staging)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            elif os.path.lexists(path):
                os.remove(path)
            os.replace(staging, path)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return True
    return False


# ----------------------------------------------------------------- download


def _download(origin: str, target: str, file_hash, hash_algorithm) -> None:
    """Streams `origin` to a temp file beside `target`, checks it, renames it."""
    # Function-local: downloads need the progress bar only when they run, and
    # kerax.utils stays importable without the training package.
    from kerax.training.progbar import Progbar

    print(f"Downloading data from {origin}", file=sys.stderr)
    folder = os.path.dirname(target)
    fd, partial = tempfile.mkstemp(
        prefix=f".{os.path.basename(target)}.", suffix=".partial", dir=folder
    )
    hasher = _resolve_hasher(hash_algorithm, file_hash)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                response = urllib.request.urlopen(origin, timeout=60)
            except urllib.error.HTTPError as e:
                raise OSError(
                    f"get_file: fetching {origin} failed: HTTP {e.code} {e.reason}."
                ) from e
            except urllib.error.URLError as e:
                raise OSError(
                    f"get_file: fetching {origin} failed: {e.reason}. Check the "
                    "URL and the network, or put the file in the cache folder "
                    "yourself."
                ) from e
            with response:
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                bar = Progbar(total, unit_name="B", stream=sys.stderr)
                received = 0
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    out.write(chunk)
                    hasher.update(chunk)
                    received += len(chunk)
                    bar.update(received, finalize=False)
                if total is not None and received != total:
                    raise OSError(
                        f"get_file: the download of {origin} was cut off after "
                        f"{received} of {total} bytes; nothing was cached. Try again."
                    )
                bar.update(received, finalize=True)
        if file_hash is not None and hasher.hexdigest() != str(file_hash).lower():
            raise ValueError(
                f"get_file: the file downloaded from {origin} has {hasher.name} "
                f"{hasher.hexdigest()}, not the expected {file_hash}; it was "
                "deleted. The file at the origin changed or the download was "
                "corrupted; check `file_hash`."
            )
        os.replace(partial, target)
    except BaseException:
        if os.path.exists(partial):
            os.remove(partial)
        raise


def get_file(
    fname=None,
    origin=None,
    untar=False,
    md5_hash=None,
    file_hash=None,
    cache_subdir="datasets",
    hash_algorithm="auto",
    extract=False,
    archive_format="auto",
    cache_dir=None,
    force_download=False,
) -> str:
    """Downloads a file from a URL unless it is already in the cache.

    Keras's `keras.utils.get_file`, with the same arguments and file layout
    under kerax's cache (`$KERAX_HOME`, default `~/.kerax`): `origin` is
    saved as `<cache_dir>/<cache_subdir>/<fname>`. A cached file is checked
    against `file_hash` and fetched again when it does not match. New
    downloads are verified (announced length, then the hash) before they are
    renamed into place; a hash mismatch deletes the download and raises.
    `file://` origins work too (mirrors, tests).

    Args:
        fname: the file's local name; default: the last part of `origin`'s
            path. With `extract`, a name without an extension names the
            extraction folder (Keras's rule).
        origin: the URL.
        untar: deprecated (Keras): same as `extract=True, archive_format="tar"`.
        md5_hash: deprecated (Keras): an MD5 `file_hash`.
        file_hash: the expected SHA-256 (or MD5) hex digest. Give it: it is
            what makes the download trustworthy.
        cache_subdir: folder under the cache root (an absolute path is used
            as is).
        hash_algorithm: `"auto"` (from the digest's length), `"sha256"`, `"md5"`.
        extract: extract a tar or zip archive and return the folder.
        archive_format: `"auto"`, `"tar"`, `"zip"` or None (see
            `extract_archive`).
        cache_dir: the cache root; default `kerax_home()`.
        force_download: download even when a valid cached file exists.

    Returns:
        The path of the file, or of the extraction folder with `extract`.

    Example:
        >>> import os, pathlib, tempfile
        >>> src = pathlib.Path(tempfile.mkdtemp()) / "data.csv"
        >>> _ = src.write_text("a,b\\n1,2\\n")
        >>> path = kerax.utils.get_file(origin=src.as_uri(), cache_dir=tempfile.mkdtemp())
        >>> open(path).read()
        'a,b\\n1,2\\n'
    """
    if origin is None:
        raise ValueError(
            'get_file: please specify the "origin" argument (the URL of the file '
            "to download)."
        )
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    if file_hash is not None:
        _resolve_hasher(hash_algorithm, file_hash)  # Validates early.
    datadir_base = os.path.expanduser(
        kerax_home() if cache_dir is None else os.fspath(cache_dir)
    )
    try:
        os.makedirs(datadir_base, exist_ok=True)
        writable = os.access(datadir_base, os.W_OK)
    except OSError:
        writable = False
    if not writable:
        fallback = os.path.join(tempfile.gettempdir(), ".kerax")
        warnings.warn(
            f"get_file: the cache folder {datadir_base} is not writable; using "
            f"{fallback} instead (set KERAX_HOME or `cache_dir`).",
            stacklevel=2,
        )
        datadir_base = fallback
    datadir = os.path.join(datadir_base, os.fspath(cache_subdir))
    os.makedirs(datadir, exist_ok=True)

    provided_fname = fname
    fname = os.fspath(fname) if fname is not None else None
    if not fname:
        fname = os.path.basename(urllib.parse.urlsplit(origin).path)
        if not fname:
            raise ValueError(
                f"get_file: can't parse a file name from origin {origin!r}; "
                "pass `fname`."
            )
    elif os.sep in fname or "/" in fname:
        raise ValueError(
            "get_file: `fname` must be a file name, not a path; use `cache_dir` "
            f"or `cache_subdir` for the folder. Received: fname={fname!r}"
        )

    if extract or untar:
        if provided_fname and "." in fname:
            download_target = os.path.join(datadir, fname)
            fname = fname[: fname.find(".")]
            extraction_dir = os.path.join(datadir, f"{fname}_extracted")
        else:
            extraction_dir = os.path.join(datadir, fname)
            download_target = os.path.join(datadir, f"{fname}_archive")
    else:
        download_target = os.path.join(datadir, fname)

    download = force_download or not os.path.exists(download_target)
    if not download and file_hash is not None:
        if not validate_file(download_target, file_hash, hash_algorithm):
            print(
                f"A local file was found at {download_target}, but its hash does "
                f"not match {file_hash}: downloading it again.",
                file=sys.stderr,
            )
            download = True
    if download:
        _download(origin, download_target, file_hash, hash_algorithm)

    if extract or untar:
        if untar:
            archive_format = "tar"
        if download or not os.path.isdir(extraction_dir):
            if not extract_archive(download_target, extraction_dir, archive_format):
                raise ValueError(
                    f"get_file: {download_target} is not a {archive_format} "
                    "archive, so it cannot be extracted; pass `extract=False` "
                    "or the right `archive_format`."
                )
        return extraction_dir
    return download_target
