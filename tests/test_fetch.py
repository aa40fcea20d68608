"""What may be fetched (codesearch.repositories.fetch): names, URLs, addresses, git's settings, limits.

Nothing here leaves the machine: host names resolve through injected resolvers, and git only ever
talks to servers on loopback that these tests start, or to file:// repositories.
"""
from __future__ import annotations

import logging
import os
import socket
import socketserver
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from codesearch.repositories import fetch
from codesearch.repositories.build import BuildSpec, build_version
from codesearch.repositories.fetch import (FetchLimits, IndexingError, check_url, checked_address, clone,
                                           parse_full_name, remote_head)

FILE = ("https", "file")


def git(cwd, *args) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=cwd, check=True,
                          capture_output=True, text=True).stdout.strip()


pytestmark = pytest.mark.usefixtures("loopback_network_only")


def make_repo(path: Path, files: dict[str, bytes | Path]) -> str:
    """A git repository holding `files` (a Path value: a symbolic link to it), which serves filtered
    fetches; returns its HEAD."""
    path.mkdir(parents=True)
    git(path, "init", "--quiet", "--initial-branch=main")
    git(path, "config", "uploadpack.allowFilter", "true")
    for name, data in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, Path):
            (path / name).symlink_to(data)
        else:
            (path / name).write_bytes(data)
    git(path, "add", ".")
    git(path, "commit", "--quiet", "-m", "files")
    return git(path, "rev-parse", "HEAD")


def resolver(*addresses: str, calls: list | None = None):
    """A getaddrinfo stand-in answering every name with `addresses` (and recording the names asked)."""
    def resolve(host, port, *args, **kwargs):
        if calls is not None:
            calls.append(host)
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in addresses]
    return resolve


# --- names -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["owner/.", "owner/..", "a/b.git", "a/B.GIT", "-a/b", "a-/b", "a" * 40 + "/b",
                                  "a/" + "b" * 101, "ówner/b", "a/bé", "/b", "a/", "", "a", "a/b/c", "a/b\n",
                                  "a_b/c", "a b/c", None])
def test_names_not_shaped_like_github_are_refused(name):
    with pytest.raises(IndexingError, match="not a GitHub repository name"):
        parse_full_name(name)


@pytest.mark.parametrize("name, parts", [("django/django", ("django", "django")), ("a" * 39 + "/x", ("a" * 39, "x")),
                                         ("my-org/.github", ("my-org", ".github")), ("a/b.gitx", ("a", "b.gitx")),
                                         ("A1/x_y.z-" + "w" * 91, ("A1", "x_y.z-" + "w" * 91))])
def test_github_shaped_names_are_accepted(name, parts):
    assert parse_full_name(name) == parts


# --- URLs: refused before anything connects ----------------------------------------------------------

@pytest.fixture
def no_connections(monkeypatch):
    """Fail the test if anything connects or git starts (git would connect from its own process)."""
    def refuse(*args, **kwargs):
        pytest.fail("a connection or a git process was started")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(fetch.subprocess, "Popen", refuse)


LITERALS = ["127.0.0.1", "127.1.2.3", "[::1]", "10.0.0.1", "192.168.1.1", "172.16.0.1", "169.254.169.254",
            "[fc00::1]", "[fe80::1]", "[::ffff:10.0.0.1]", "[::ffff:127.0.0.1]", "100.64.0.1", "0.0.0.0", "[::]",
            "224.0.0.1", "240.0.0.1", "[2002:a00:1::]", "[64:ff9b::a00:1]", "192.0.2.1"]


@pytest.mark.parametrize("host", LITERALS)
def test_non_public_ip_literals_are_refused_without_resolving_or_connecting(host, no_connections, tmp_path):
    calls = []
    url = f"https://{host}/a/b.git"
    check_url(url, hosts=(host,))  # the text alone is fine: the host is allow-listed
    with pytest.raises(IndexingError, match="not a public internet address"):
        clone(url, None, tmp_path / "x", hosts=(host,), resolve=resolver("140.82.112.3", calls=calls))
    with pytest.raises(IndexingError, match="not a public internet address"):
        remote_head(url, hosts=(host,), resolve=resolver("140.82.112.3", calls=calls))
    assert calls == [] and not (tmp_path / "x").exists()


@pytest.mark.parametrize("addresses", [("127.0.0.1",), ("::1",), ("10.1.2.3",), ("140.82.112.3", "10.0.0.5"),
                                       ("::ffff:192.168.0.1",), ("140.82.112.3", "fd00::1"), ("100.100.0.1",)])
def test_a_name_with_any_non_public_address_is_refused(addresses, no_connections, tmp_path):
    calls = []
    with pytest.raises(IndexingError, match="not a public internet address") as refused:
        clone("https://github.com/a/b.git", None, tmp_path / "x", resolve=resolver(*addresses, calls=calls))
    assert calls == ["github.com"]
    assert not any(a in str(refused.value) for a in addresses)  # where a name points is not told


def test_localhost_is_refused_through_its_resolution(no_connections, tmp_path):
    calls = []
    with pytest.raises(IndexingError, match="not a public internet address"):
        clone("https://localhost/a/b.git", None, tmp_path / "x", hosts=("localhost",),
              resolve=resolver("127.0.0.1", "::1", calls=calls))
    assert calls == ["localhost"]


def test_a_resolver_failure_is_refused_without_its_details(no_connections, tmp_path, caplog):
    def fails(*args):
        raise socket.gaierror(-2, "Name or service not known: secret-resolver.internal")
    with pytest.raises(IndexingError, match="could not resolve") as refused:
        clone("https://github.com/a/b.git", None, tmp_path / "x", resolve=fails)
    assert "secret-resolver" not in str(refused.value) and "secret-resolver" in caplog.text


@pytest.mark.parametrize("url, hosts", [
    ("https://gitlab.com/a/b.git", ("github.com",)),            # not allow-listed
    ("https://github.com.evil.example/a/b.git", ("github.com",)),
    ("https://evil.example#@github.com/a/b.git", ("github.com",)),
    ("https://github.com:8443/a/b.git", ("github.com",)),        # a port that is not allowed
    ("https://localhost:8443/a/b.git", ("localhost:8444",)),
    ("https://user@github.com/a/b.git", ("github.com",)),       # userinfo
    ("https://:secret@github.com/a/b.git", ("github.com",)),
    ("http://github.com/a/b.git", ("github.com",)),            # not https
    ("ssh://git@github.com/a/b.git", ("github.com",)),
    ("git@github.com:a/b.git", ("github.com",)),
    ("ext::sh -c touch% /tmp/pwned", ("github.com",)),
    ("file:///etc", ("github.com",)),                          # file only where the caller allows it
    ("-uhttps://github.com/a/b.git", ("github.com",)),
    ("https://github.com/a/b.git --upload-pack=x", ("github.com",)),
    ("https://github.com/a/b.git\n", ("github.com",)),
    ("https://github.com/a/\tb.git", ("github.com",)),
    ("https://github.com/a/b.git?x=1", ("github.com",)),
    ("https://gíthub.com/a/b.git", ("gíthub.com",)),
    ("https://github.com:99999/a/b.git", ("github.com",)),
    ("https:///a/b.git", ("github.com",)),
    ("https://github.com\\@evil.example/a/b.git", ("github.com",)),
])
def test_urls_that_may_not_be_fetched_are_refused(url, hosts, no_connections, tmp_path):
    calls = []
    public = resolver("140.82.112.3", calls=calls)
    for attempt in (lambda: check_url(url, hosts=hosts),
                    lambda: clone(url, None, tmp_path / "x", hosts=hosts, resolve=public),
                    lambda: remote_head(url, hosts=hosts, resolve=public)):
        with pytest.raises(IndexingError, match="not an https clone URL|not on a host this service fetches from"):
            attempt()
    assert calls == []


def test_allowed_urls_pass_and_are_pinned_to_a_checked_address(no_connections):
    public = resolver("140.82.112.3", "2606:50c0:8000::153")
    assert check_url("https://github.com/django/django.git") == "https://github.com/django/django.git"
    assert check_url("https://github.com:443/a/b.git") == "https://github.com:443/a/b.git"
    assert checked_address("https://github.com/a/b.git", resolve=public) == "140.82.112.3"
    assert checked_address("https://[2606:4700::1]/a/b", hosts=("[2606:4700::1]",)) == "2606:4700::1"
    assert checked_address("http://localhost:8080/a", ("http",), ("localhost:8080",), allow_private=True,
                           resolve=resolver("127.0.0.1")) == "127.0.0.1"
    assert checked_address("file:///srv/a.git", FILE) is None


# --- git against servers on loopback -----------------------------------------------------------------

class Server(ThreadingHTTPServer):
    """An HTTP server on loopback in a thread; it records (method, path, Host header) of each request."""

    def server_bind(self):  # HTTPServer's would look its own name up (getfqdn)
        socketserver.TCPServer.server_bind(self)

    def __init__(self, address: str, handler, **attributes):
        self.requests: list[tuple[str, str, str]] = []
        self.__dict__.update(attributes)
        super().__init__((address, 0), handler)
        self.port = self.server_address[1]
        self.server_name = address
        threading.Thread(target=self.serve_forever, daemon=True).start()


class Recorded(BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.requests.append((self.command, self.path, self.headers.get("Host")))
        self.answer()

    do_POST = do_GET

    def answer(self):
        self.send_error(404)

    def log_message(self, *args):
        pass


class Redirecting(Recorded):
    def answer(self):
        self.send_response(302)
        self.send_header("Location", f"http://127.0.0.1:{self.server.target}{self.path}")
        self.end_headers()


class SmartGit(Recorded):
    """git's smart HTTP protocol, by `git http-backend` as a CGI program."""

    def answer(self):
        path, _, query = self.path.partition("?")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        env = {"PATH": os.environ["PATH"], "GIT_PROJECT_ROOT": str(self.server.root), "GIT_HTTP_EXPORT_ALL": "1",
               "GIT_CONFIG_NOSYSTEM": "1", "PATH_INFO": path, "QUERY_STRING": query,
               "REQUEST_METHOD": self.command, "CONTENT_TYPE": self.headers.get("Content-Type", ""),
               "CONTENT_LENGTH": str(len(body)), "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
               "HTTP_GIT_PROTOCOL": self.headers.get("Git-Protocol", "")}
        out = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True).stdout
        head, _, payload = out.partition(b"\r\n\r\n")
        headers = dict(line.decode().split(": ", 1) for line in head.split(b"\r\n") if line)
        self.send_response(int(headers.pop("Status", "200").split()[0]))
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def servers():
    started = []

    def start(address, handler, **attributes):
        started.append(Server(address, handler, **attributes))
        return started[-1]
    yield start
    for server in started:
        server.shutdown()
        server.server_close()


def over_http(server, name="origin.git"):
    """URL and keyword arguments to fetch `name` from `server` as host "localhost", which the injected
    resolver points at the server's address: only a pinned git finds it there."""
    return f"http://localhost:{server.port}/{name}", dict(
        schemes=("http",), hosts=(f"localhost:{server.port}",), allow_private=True,
        resolve=resolver(server.server_address[0]))


def test_git_connects_to_the_checked_address_and_fetches_within_the_file_limit(servers, tmp_path):
    head = make_repo(tmp_path / "srv" / "origin.git", {"a.py": b"def a():\n    return 1\n", "big.py": b"#" * 5000})
    server = servers("127.0.0.2", SmartGit, root=tmp_path / "srv")  # not where "localhost" really points
    url, policy = over_http(server)
    dest = tmp_path / "checkout"
    assert clone(url, None, dest, limits=FetchLimits(max_file_bytes=1000), **policy) == head
    assert server.requests and all(host == f"localhost:{server.port}" for _, _, host in server.requests)
    assert sorted(p.name for p in dest.iterdir()) == [".git", "a.py"]
    missing = git(dest, "rev-list", "--objects", "--missing=print", "FETCH_HEAD").split()
    assert any(m.startswith("?") for m in missing)  # big.py was never downloaded
    assert remote_head(url, **policy) == head


def test_git_does_not_follow_redirects(servers, tmp_path, caplog):
    target = servers("127.0.0.1", SmartGit, root=tmp_path)
    make_repo(tmp_path / "origin.git", {"a.py": b"x = 1\n"})
    redirecting = servers("127.0.0.1", Redirecting, target=target.port)
    url, policy = over_http(redirecting)
    with pytest.raises(IndexingError, match="git fetch failed: could not fetch") as failed:
        clone(url, None, tmp_path / "checkout", **policy)
    with pytest.raises(IndexingError, match="git ls-remote failed"):
        remote_head(url, **policy)
    assert redirecting.requests and target.requests == []
    # The user's own address is named; its random port may hold any digits, so it is left out of the search.
    message = str(failed.value).replace(url, "")
    assert str(target.port) not in message and "302" not in message and "\n" not in message
    assert "302" in caplog.text  # what git said is logged for the operator


def test_a_failed_fetch_tells_neither_address_nor_what_git_said(servers, tmp_path, caplog):
    server = servers("127.0.0.2", Recorded)  # answers 404 to everything
    url, policy = over_http(server, "missing.git")
    with pytest.raises(IndexingError) as failed:
        clone(url, "v1.0", tmp_path / "checkout", **policy)
    message = str(failed.value)
    assert message.startswith("git fetch failed: could not fetch 'v1.0 of http://localhost:")
    assert server.requests  # it did reach the server, at the pinned address
    # The user's own address is named; its random port (34047) may hold "404", so it is left out of the search.
    for leak in ("127.0.0.2", "fatal", "404", "unable to access", "\n"):
        assert leak not in message.replace(url, "")
    assert "fatal" in caplog.text and any(r.levelno == logging.WARNING for r in caplog.records)


def test_a_silent_server_runs_into_the_time_limit(tmp_path):
    with socket.socket() as silent:  # accepts connections (the kernel does) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        with pytest.raises(IndexingError, match=r"took longer than the limit timeout_s=1\b") as failed:
            clone(f"http://localhost:{port}/a.git", None, tmp_path / "checkout", ("http",),
                  hosts=(f"localhost:{port}",), allow_private=True, resolve=resolver("127.0.0.1"),
                  limits=FetchLimits(timeout_s=1))
    assert "127.0.0.1" not in str(failed.value)


# --- limits, on file:// repositories -----------------------------------------------------------------

@pytest.fixture
def origin(tmp_path):
    files = {f"pkg/m{i}.py": f"def f{i}(x):\n    return x + {i}\n".encode() for i in range(3)}
    files["link.py"] = Path("/etc/passwd")
    head = make_repo(tmp_path / "origin", files)
    return tmp_path / "origin", head


def test_a_local_fetch_checks_out_the_commit(origin, tmp_path):
    path, head = origin
    dest = tmp_path / "checkout"
    assert clone(f"file://{path}", None, dest, FILE) == head
    assert (dest / "pkg" / "m2.py").read_text().startswith("def f2")
    assert not (dest / "link.py").exists() and not (dest / "link.py").is_symlink()  # links are not checked out
    assert clone(f"file://{path}", "main", tmp_path / "again", FILE) == head


@pytest.mark.parametrize("limits, message", [
    (FetchLimits(max_files=3), "has 4 files, over the limit max_files=3"),
    (FetchLimits(max_bytes=50), r"over the limit max_bytes=50\b"),
])
def test_size_and_file_limits_trip_before_checkout(origin, tmp_path, limits, message):
    path, _ = origin
    dest = tmp_path / "checkout"
    with pytest.raises(IndexingError, match=message):
        clone(f"file://{path}", None, dest, FILE, limits=limits)
    assert not (dest / "pkg").exists()


def test_the_function_limit_fails_the_build(origin, tmp_path):
    path, _ = origin
    spec = BuildSpec(full_name="a/b", indexes_dir=tmp_path / "indexes", base_model=tmp_path / "no-model",
                     url=f"file://{path}", schemes=FILE, limits=FetchLimits(max_functions=2))
    with pytest.raises(IndexingError, match="a/b has more functions than the limit max_functions=2"):
        build_version(spec)


def test_fine_tuning_is_capped_in_minutes():
    from training.finetune import FinetuneConfig
    from training.train import TrainConfig

    assert FinetuneConfig().train.max_minutes == FetchLimits().finetune_minutes == 10
    assert FinetuneConfig(max_minutes=2, train=TrainConfig(max_minutes=30)).train.max_minutes == 2
    assert FinetuneConfig(max_minutes=2, train=TrainConfig(max_minutes=1)).train.max_minutes == 1
