"""What may be fetched, and fetching it: repository names, clone URLs, a shallow and bounded git fetch.

No Django here: builds fetch inside Ray workers too. Every refusal is an `IndexingError` whose one-line
message is safe to show to whoever asked. What git or the resolver said goes to the log only: it can
reveal host names, addresses and what the server can reach.

A URL is checked twice: its text (`check_url`: scheme, allow-listed host and port, nothing git could
read as an option), then, just before git runs, every address its host resolves to (`checked_address`).
Git is then pinned to that address, so a second, different DNS answer cannot send it elsewhere, and it
follows no redirects.
"""
from __future__ import annotations

import ipaddress
import logging
import os
import re
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

DEFAULT_HOSTS = ("github.com",)
Resolver = Callable[..., list]  # socket.getaddrinfo's signature; None: socket.getaddrinfo itself

_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?")
_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")
_COMMIT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./-]{0,99}")
_DEFAULT_PORTS = {"https": 443, "http": 80}
_SUPPORTED_SCHEMES = ("https", "http", "file")  # http and file only ever for tests, which pass them
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_POLL_S = 0.2

# No user or system git configuration (credential helpers, proxies, LFS filters, url rewrites) and
# never a prompt; pathspecs are file names, not patterns.
_ENV = {"PATH": "/usr/bin:/bin:/usr/local/bin", "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "",
        "SSH_ASKPASS": "", "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_LFS_SKIP_SMUDGE": "1",
        "GIT_LITERAL_PATHSPECS": "1"}
_SAFE_CONFIG = ("http.followRedirects=false", "credential.helper=", "core.hooksPath=/dev/null",
                "core.fsmonitor=false", "submodule.recurse=false", "fetch.recurseSubmodules=false",
                "protocol.allow=never")


class IndexingError(Exception):
    """Something about the request or the source that a user must fix; the message says what."""


@dataclass(frozen=True)
class FetchLimits:
    """Bounds on one build of a fetched repository; going over one fails the build, naming it."""

    timeout_s: float = 600              # wall time of all git commands of one fetch together
    max_bytes: int = 512 << 20          # bytes downloaded, and bytes of the files checked out
    max_files: int = 100_000            # files in the fetched commit, counted before checkout
    max_file_bytes: int = 1 << 20       # larger files are neither fetched (blob filter) nor read
    max_functions: int = 200_000        # functions extracted from the checkout
    finetune_minutes: float = 10        # fine-tuning wall time (checked per epoch; the best epoch is kept)


# --- names -------------------------------------------------------------------------------------------

def parse_full_name(full_name: str) -> tuple[str, str]:
    """(owner, name) of a GitHub-shaped "owner/name"; "django/." or "a/b.git" are refused, since the
    pair also names a directory under indexes/."""
    owner, _, name = (full_name if isinstance(full_name, str) else "").partition("/")
    if not (_OWNER.fullmatch(owner) and _NAME.fullmatch(name) and name not in (".", "..")
            and not name.lower().endswith(".git")):
        raise IndexingError(f"{_quote(full_name)} is not a GitHub repository name of the form owner/name")
    return owner, name


def check_commit(commit: str) -> str:
    if not (isinstance(commit, str) and _COMMIT.fullmatch(commit)) or ".." in commit:
        raise IndexingError(f"{_quote(commit)} is not a commit, branch or tag name")
    return commit


def github_url(full_name: str) -> str:
    return f"https://github.com/{full_name}.git"


# --- URLs and addresses ------------------------------------------------------------------------------

def check_url(url: str, schemes: tuple[str, ...] = ("https",), hosts: tuple[str, ...] = DEFAULT_HOSTS) -> str:
    """`url` if its text is a clone URL that may be fetched; no network is used.

    http(s): an allow-listed host (an entry "host:port" also allows that port; IPv6 as "[::1]"), no
    user or password, query or fragment. file: only when `schemes` names it (tests).
    """
    _host_and_port(url, schemes, hosts)
    return url


def checked_address(url: str, schemes: tuple[str, ...] = ("https",), hosts: tuple[str, ...] = DEFAULT_HOSTS,
                    allow_private: bool = False, resolve: Resolver | None = None) -> str | None:
    """The address git is to connect to for `url` (None for a file URL), once every address its host
    resolves to is known to be public: one private address among public ones could still be chosen.
    `allow_private` lets tests serve git over loopback."""
    target = _host_and_port(url, schemes, hosts)
    if target is None:
        return None
    host, port = target
    try:
        addresses = [ipaddress.ip_address(host)]  # an IP literal is checked like a resolved name
    except ValueError:
        try:
            infos = (resolve or socket.getaddrinfo)(host, port, 0, socket.SOCK_STREAM)
            addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
        except (OSError, UnicodeError, ValueError) as e:
            log.warning("resolving %s failed: %s", host, e)
            raise IndexingError(f"could not resolve the host of {_quote(url)}") from None
    if not addresses:
        raise IndexingError(f"could not resolve the host of {_quote(url)}")
    if not allow_private and not all(map(is_public, addresses)):
        log.warning("refused %s: %s resolves to %s", url, host, ", ".join(map(str, addresses)))
        raise IndexingError(f"{_quote(url)} is not fetched: its host is not a public internet address")
    return str(addresses[0])


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Globally routable. IPv6 forms that carry an IPv4 address (mapped, 6to4, Teredo, NAT64) are
    judged by that address too; the explicit checks guard against `is_global` gaps between Pythons."""
    if address.version == 6:
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo or (None, None))[1]
        if address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and not is_public(embedded):
            return False
    return (address.is_global and not (address.is_private or address.is_loopback or address.is_link_local
                                       or address.is_multicast or address.is_reserved or address.is_unspecified)
            and not (address.version == 4 and address in _CGNAT))


def _host_and_port(url: str, schemes: tuple[str, ...], hosts: tuple[str, ...]) -> tuple[str, int] | None:
    """(host, port) of an allowed http(s) URL, None for an allowed file URL; else IndexingError."""
    bad = IndexingError(f"{_quote(url)} is not an https clone URL (https://host/owner/name)")
    # ASCII and printable, no spaces or backslashes: nothing that a shell, git or curl splits or reinterprets.
    if not (isinstance(url, str) and url.isascii() and url.isprintable()) or " " in url or "\\" in url:
        raise bad
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise bad from None
    if parts.scheme not in schemes or parts.scheme not in _SUPPORTED_SCHEMES:
        raise bad
    if parts.scheme == "file":
        if parts.netloc or not parts.path.startswith("/"):
            raise bad
        return None
    if not parts.hostname or "@" in parts.netloc or "?" in url or "#" in url:
        raise bad
    port = port or _DEFAULT_PORTS[parts.scheme]
    for entry in hosts:
        allowed = urlsplit("//" + entry)
        if allowed.hostname == parts.hostname and (allowed.port or _DEFAULT_PORTS[parts.scheme]) == port:
            return parts.hostname, port
    raise IndexingError(f"{_quote(url)} is not on a host this service fetches from ({', '.join(hosts)})")


def _quote(text) -> str:
    """`text` for a one-line message: quoted, control characters escaped, and cut short."""
    return repr(text[:200] + "..." if isinstance(text, str) and len(text) > 200 else text)


# --- git ---------------------------------------------------------------------------------------------

class _Git:
    """git with the safe settings, pinned to the checked address; all commands share one deadline.

    A failure is logged with git's stderr and raised as the one-line `failure` message."""

    def __init__(self, url: str, schemes: tuple[str, ...], address: str | None, timeout_s: float, failure: str):
        self.url, self.timeout_s, self.failure = url, timeout_s, failure
        self.deadline = time.monotonic() + timeout_s
        config = [*_SAFE_CONFIG, *(f"protocol.{s}.allow=always" for s in _SUPPORTED_SCHEMES if s in schemes)]
        if address is not None:
            parts = urlsplit(url)
            pinned = f"[{address}]" if ":" in address else address
            config.append(f"http.curloptResolve={parts.hostname}:{parts.port or _DEFAULT_PORTS[parts.scheme]}:{pinned}")
        self.options = [option for item in config for option in ("-c", item)]

    def __call__(self, *args: str, cwd: Path, stdin: bytes | None = None,
                 watch: tuple[Path, int] | None = None) -> bytes:
        """stdout of `git args`; `watch` = (directory, bytes): stop git once the directory outgrows it."""
        process = subprocess.Popen(["git", *self.options, *args], cwd=cwd, env=_ENV, stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        try:
            out, err = self._wait(process, stdin, watch)
        finally:
            if process.poll() is None:  # git fetch runs helpers (remote-https, index-pack): end them all
                os.killpg(process.pid, signal.SIGKILL)
                process.communicate()
        if process.returncode != 0:
            log.warning("git %s for %s failed (exit %s): %s", args[0], self.url, process.returncode,
                        err.decode("utf-8", "replace").strip()[-4000:])
            raise IndexingError(self.failure)
        return out

    def _wait(self, process: subprocess.Popen, stdin: bytes | None, watch: tuple[Path, int] | None):
        while True:
            try:
                return process.communicate(stdin, timeout=_POLL_S)
            except subprocess.TimeoutExpired:
                stdin = None  # communicate() keeps writing what it started with
            if time.monotonic() > self.deadline:
                log.warning("git for %s ran out of time after %s s", self.url, self.timeout_s)
                raise IndexingError(f"fetching {_quote(self.url)} took longer than the limit "
                                    f"timeout_s={self.timeout_s:g}")
            if watch and _disk_usage(watch[0]) > watch[1]:
                raise IndexingError(f"{_quote(self.url)} is larger than the limit max_bytes={watch[1]}")


def _disk_usage(directory: Path) -> int:
    total = 0
    for root, _, files in os.walk(directory):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:  # git renames its temporary files as it goes
                pass
    return total


def clone(url: str, commit: str | None, dest: Path, schemes: tuple[str, ...] = ("https",), *,
          hosts: tuple[str, ...] = DEFAULT_HOSTS, limits: FetchLimits = FetchLimits(), allow_private: bool = False,
          resolve: Resolver | None = None) -> str:
    """Shallow fetch of one commit (default: the default branch) into `dest`, within `limits`; returns
    its SHA. Only regular files up to `limits.max_file_bytes` are checked out (no symlinks, no submodules)."""
    ref = check_commit(commit) if commit else "HEAD"
    address = checked_address(url, schemes, hosts, allow_private, resolve)
    what = url if ref == "HEAD" else f"{ref} of {url}"
    git = _Git(url, schemes, address, limits.timeout_s,
               f"git fetch failed: could not fetch {_quote(what)} (no such repository or commit, or the host "
               f"refused or did not answer)")
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    git("init", "--quiet", cwd=dest)
    git("fetch", "--quiet", "--depth=1", "--no-tags", f"--filter=blob:limit={limits.max_file_bytes}", "--", url, ref,
        cwd=dest, watch=(dest / ".git", limits.max_bytes))
    sha = git("rev-parse", "--verify", "FETCH_HEAD^{commit}", cwd=dest).decode().strip()
    _checkout(git, dest, limits)
    return sha


def _checkout(git: _Git, dest: Path, limits: FetchLimits) -> None:
    """Check out FETCH_HEAD's files that were fetched and are small enough, counting them first.

    Only listed paths are checked out: asking git for a blob the filter left behind would make it
    fetch that blob after all."""
    files = []  # (mode, sha, path) of every file of the commit
    for entry in git("ls-tree", "-r", "-z", "FETCH_HEAD", cwd=dest).split(b"\0"):
        if entry:
            meta, path = entry.split(b"\t", 1)
            mode, kind, sha = meta.split()
            if kind == b"blob":
                files.append((mode, sha, path))
    if len(files) > limits.max_files:
        raise IndexingError(f"{_quote(git.url)} has {len(files)} files, over the limit max_files={limits.max_files}")
    sizes = {}  # of the blobs that are here; listing them never fetches
    for line in git("cat-file", "--batch-all-objects", "--batch-check=%(objectname) %(objecttype) %(objectsize)",
                    cwd=dest).splitlines():
        sha, kind, size = line.split()
        if kind == b"blob":
            sizes[sha] = int(size)
    wanted = [(path, sizes[sha]) for mode, sha, path in files
              if mode != b"120000" and sizes.get(sha, limits.max_file_bytes + 1) <= limits.max_file_bytes]
    total = sum(size for _, size in wanted)
    if total > limits.max_bytes:
        raise IndexingError(f"{_quote(git.url)} has {total} bytes of files, over the limit "
                            f"max_bytes={limits.max_bytes}")
    if wanted:
        git("checkout", "--quiet", "FETCH_HEAD", "--pathspec-from-file=-", "--pathspec-file-nul", cwd=dest,
            stdin=b"\0".join(path for path, _ in wanted))


def remote_head(url: str, schemes: tuple[str, ...] = ("https",), *, hosts: tuple[str, ...] = DEFAULT_HOSTS,
                allow_private: bool = False, resolve: Resolver | None = None, timeout_s: float = 60) -> str:
    """SHA of the default branch of a remote, without cloning."""
    address = checked_address(url, schemes, hosts, allow_private, resolve)
    git = _Git(url, schemes, address, timeout_s, f"git ls-remote failed: could not reach {_quote(url)} (no such "
                                                 f"repository, or the host refused or did not answer)")
    out = git("ls-remote", "--", url, "HEAD", cwd=Path("/")).decode().split()
    if not out:
        raise IndexingError(f"{_quote(url)} has no default branch (an empty repository?)")
    return out[0]


def checkout_commit(path: Path) -> str:
    """HEAD of the git checkout rooted at `path` (a local directory), or an error asking for --commit."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-c", "core.fsmonitor=false", *args], cwd=path, env=_ENV, capture_output=True,
                              text=True, timeout=60, check=True).stdout.strip()
    try:
        # A directory inside some other repository's work tree is not a checkout of this one.
        if Path(git("rev-parse", "--show-toplevel")).resolve() == Path(path).resolve():
            return git("rev-parse", "HEAD")
    except (OSError, subprocess.SubprocessError):
        pass
    raise IndexingError(f"{path} is not a git checkout; give the commit or tag it holds with --commit")
