"""`kerax.utils.get_file` against a local HTTP server, and safe extraction."""

import hashlib
import http.server
import io
import os
import socket
import tarfile
import threading
import zipfile

import pytest

from kerax import utils


class _Handler(http.server.BaseHTTPRequestHandler):
    files: dict = {}
    hits: list = []

    def do_GET(self):  # noqa: N802 - http.server's name.
        self.hits.append(self.path)
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        if callable(body):
            body(self)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        del args  # Keep the test output clean.


@pytest.fixture
def server():
    handler = type("Handler", (_Handler,), {"files": {}, "hits": []})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    handler.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield handler
    httpd.shutdown()
    httpd.server_close()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_download_then_cache_hit(server, tmp_path, rng):
    data = rng.bytes(200_000)
    server.files["/data/blob.bin"] = data
    path = utils.get_file(
        origin=server.url + "/data/blob.bin", file_hash=_sha(data), cache_dir=tmp_path
    )
    assert path == str(tmp_path / "datasets" / "blob.bin")
    assert open(path, "rb").read() == data
    assert len(server.hits) == 1
    again = utils.get_file(
        "blob.bin",
        server.url + "/data/blob.bin",
        file_hash=_sha(data),
        cache_dir=tmp_path,
    )
    assert again == path and len(server.hits) == 1  # Served from the cache.
    utils.get_file(
        "blob.bin",
        server.url + "/data/blob.bin",
        cache_dir=tmp_path,
        force_download=True,
    )
    assert len(server.hits) == 2
    assert os.listdir(tmp_path / "datasets") == ["blob.bin"]  # No temp files left.


def test_kerax_home_is_the_default_cache(server, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAX_HOME", str(tmp_path / "home"))
    server.files["/a.txt"] = b"abc"
    path = utils.get_file(origin=server.url + "/a.txt", cache_subdir="mine")
    assert path == str(tmp_path / "home" / "mine" / "a.txt")


def test_hash_mismatch_deletes_and_raises(server, tmp_path):
    server.files["/x.bin"] = b"tampered"
    with pytest.raises(ValueError, match="not the expected"):
        utils.get_file(
            origin=server.url + "/x.bin",
            file_hash=_sha(b"original"),
            cache_dir=tmp_path,
        )
    assert os.listdir(tmp_path / "datasets") == []


def test_stale_cached_file_is_fetched_again(server, tmp_path):
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "x.bin").write_bytes(b"old")
    server.files["/x.bin"] = b"new"
    path = utils.get_file(
        origin=server.url + "/x.bin", file_hash=_sha(b"new"), cache_dir=tmp_path
    )
    assert open(path, "rb").read() == b"new" and len(server.hits) == 1


def test_md5_legacy_argument(server, tmp_path):
    server.files["/x.bin"] = b"data"
    md5 = hashlib.md5(b"data").hexdigest()
    utils.get_file(origin=server.url + "/x.bin", md5_hash=md5, cache_dir=tmp_path)
    with pytest.raises(ValueError, match="md5"):
        utils.get_file(
            "y.bin", server.url + "/x.bin", md5_hash="0" * 32, cache_dir=tmp_path
        )


def _drop_connection(handler):
    handler.send_response(200)
    handler.send_header("Content-Length", "100000")
    handler.end_headers()
    handler.wfile.write(b"x" * 1000)
    handler.wfile.flush()
    handler.connection.shutdown(socket.SHUT_RDWR)


def test_dropped_connection_leaves_nothing_cached(server, tmp_path):
    server.files["/big.bin"] = _drop_connection
    with pytest.raises(OSError, match="cut off|IncompleteRead|Connection"):
        utils.get_file(origin=server.url + "/big.bin", cache_dir=tmp_path)
    assert os.listdir(tmp_path / "datasets") == []
    # The next call downloads again instead of trusting a partial file.
    server.files["/big.bin"] = b"complete"
    path = utils.get_file(origin=server.url + "/big.bin", cache_dir=tmp_path)
    assert open(path, "rb").read() == b"complete"


def test_http_error_names_the_url(server, tmp_path):
    with pytest.raises(OSError, match="404"):
        utils.get_file(origin=server.url + "/missing.bin", cache_dir=tmp_path)
    assert os.listdir(tmp_path / "datasets") == []


def test_argument_errors(tmp_path):
    with pytest.raises(ValueError, match="origin"):
        utils.get_file("a.txt")
    with pytest.raises(ValueError, match="not a path"):
        utils.get_file("sub/a.txt", "http://127.0.0.1/a.txt", cache_dir=tmp_path)
    with pytest.raises(ValueError, match="neither a SHA-256"):
        utils.get_file("a.txt", "http://127.0.0.1/a.txt", file_hash="abc")


def _tar(members) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def _file(name, data=b"hi"):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def _link(name, target, kind=tarfile.SYMTYPE):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info, None


def test_extract_tar_and_zip(server, tmp_path):
    server.files["/pack.tar.gz"] = _tar(
        [
            _file("pack/a.txt", b"A"),
            _file("pack/sub/b.txt", b"B"),
            _link("pack/l", "a.txt"),
        ]
    )
    folder = utils.get_file(
        "pack", server.url + "/pack.tar.gz", extract=True, cache_dir=tmp_path
    )
    assert folder == str(tmp_path / "datasets" / "pack")
    assert open(os.path.join(folder, "pack", "sub", "b.txt")).read() == "B"
    assert open(os.path.join(folder, "pack", "l")).read() == "A"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("z/c.txt", "C")
    server.files["/z.zip"] = buf.getvalue()
    folder = utils.get_file(
        "z.zip", server.url + "/z.zip", extract=True, cache_dir=tmp_path
    )
    assert folder == str(tmp_path / "datasets" / "z_extracted")  # Keras's naming.
    assert open(os.path.join(folder, "z", "c.txt")).read() == "C"
    # Extracting again (cached archive, folder present) downloads nothing.
    hits = len(server.hits)
    utils.get_file("z.zip", server.url + "/z.zip", extract=True, cache_dir=tmp_path)
    assert len(server.hits) == hits


def _device(name):
    info = tarfile.TarInfo(name)
    info.type = tarfile.CHRTYPE
    return info, None


_UNSAFE_TARS = {
    "dotdot": [_file("ok.txt"), _file("../evil.txt")],
    "nested_dotdot": [_file("a/../../evil.txt")],
    "absolute": [_file("/tmp/evil.txt")],
    "device": [_device("dev")],
    "symlink_out": [_link("l", "../../etc/passwd")],
    "symlink_absolute": [_link("l", "/etc/passwd")],
    "symlink_dir_then_write": [_link("d", ".."), _file("d/evil.txt")],
    "hardlink_out": [_link("h", "../outside", tarfile.LNKTYPE)],
}


@pytest.mark.parametrize("case", sorted(_UNSAFE_TARS))
def test_unsafe_tar_is_refused_whole(case, tmp_path):
    archive = tmp_path / "evil.tar.gz"
    archive.write_bytes(_tar(_UNSAFE_TARS[case]))
    out = tmp_path / "box" / "out"
    with pytest.raises(ValueError, match="Refusing to extract.*unsafe"):
        utils.extract_archive(archive, out)
    assert not out.exists()
    assert sorted(os.listdir(tmp_path / "box")) == []  # No staging folder left.
    assert not (tmp_path / "evil.txt").exists()


@pytest.mark.parametrize("name", ["../evil.txt", "/abs/evil.txt", "a/../../evil.txt"])
def test_unsafe_zip_is_refused(name, tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("fine.txt", "ok")
        z.writestr(zipfile.ZipInfo(name), "evil")
    with pytest.raises(ValueError, match="unsafe"):
        utils.extract_archive(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists() and not (tmp_path / "evil.txt").exists()


def test_not_an_archive_is_an_error(server, tmp_path):
    server.files["/plain.txt"] = b"just text"
    with pytest.raises(ValueError, match="cannot be extracted"):
        utils.get_file(
            origin=server.url + "/plain.txt", extract=True, cache_dir=tmp_path
        )


def test_hash_helpers(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"abc")
    assert utils.hash_file(path) == _sha(b"abc")
    assert utils.hash_file(path, "md5") == hashlib.md5(b"abc").hexdigest()
    assert utils.validate_file(path, _sha(b"abc"))
    assert not utils.validate_file(path, _sha(b"abd"))
