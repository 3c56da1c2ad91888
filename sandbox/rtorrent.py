"""A private, loopback-only rTorrent daemon for tests, the benchmark and the demo.

Two rTorrent lines are supported (see docs/compatibility.md):

* ``"0.9.8"``: Debian bookworm's ``/usr/bin/rtorrent``; the sandbox directory is ``root``.
* ``"0.16"``: rTorrent from the Debian sid root in ``.cache/sid-root`` (``make sid-root``),
  run with ``chroot``.  rTorrent then sees paths relative to that root, so the sandbox
  directory lives *inside* it (``ROOT/tmp/pyrotorque-XXXX``) and ``host_path``/``rt_path``
  map between the two views.  ``root`` gets a symlink ``sandbox`` to that directory.

``rpc`` is a deliberately tiny stdlib XML-RPC-over-SCGI client, independent of the project's
client, so tests that check the client against the sandbox are not circular.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import weakref
import xmlrpc.client
from collections.abc import Callable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from sandbox.metafiles import Metafile, make_metafile

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[1]
SID_ROOT = REPO_ROOT / ".cache" / "sid-root"
RC_INCLUDE_DIR = REPO_ROOT / "src" / "pyrotorque" / "data" / "rtorrent.d"
SYSTEM_RTORRENT = Path("/usr/bin/rtorrent")
LINES = ("0.9.8", "0.16")

# rTorrent 0.9.8 drops SCGI requests above 2 MiB whatever network.xmlrpc.size_limit says
# (0.16 allows 16 MiB); batches stay far below both.
BATCH_BYTES = 1 << 20
BATCH_ITEMS = 200
# sockaddr_un.sun_path is 108 bytes including the NUL.
_MAX_SOCKET_PATH = 107
# The files rTorrent keeps per item in its session directory, after the 40-digit hash.
_SESSION_SUFFIXES = frozenset({".torrent", ".torrent.rtorrent", ".torrent.libtorrent_resume"})


def process_state(pid: int) -> str | None:
    """The one-letter state in ``/proc/PID/stat`` (``R``, ``S``, ``T`` stopped, ``Z``), or None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return None
    return stat.rsplit(")", 1)[-1].split()[0]


def _wait_for_state(pid: int, wanted: Callable[[str], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while True:
        state = process_state(pid)
        if state is None:
            raise SandboxError(f"PID {pid} is gone")
        if wanted(state):
            return
        if time.monotonic() > deadline:
            raise SandboxError(f"PID {pid} was not {what} within {timeout} s (state {state})")
        time.sleep(0.005)


def _saved_suffixes(names: AbstractSet[str], info_hash: str) -> set[str]:
    """The session file suffixes present for one item, e.g. ``{".torrent", ".torrent.rtorrent"}``."""
    return {name[len(info_hash) :] for name in names if name.startswith(info_hash)}


class SandboxError(RuntimeError):
    """The sandbox could not be started, stopped or talked to."""


class SandboxUnavailable(SandboxError):
    """The rTorrent binary (or the sid root) for the requested line is not installed."""


def unavailable_reason(line: str, sid_root: Path = SID_ROOT) -> str | None:
    """Why ``line`` cannot run on this machine, or None when it can."""
    if line == "0.9.8":
        if not SYSTEM_RTORRENT.exists():
            return f"{SYSTEM_RTORRENT} is missing (run `make rtorrent`)"
        return None
    if line == "0.16":
        if not (sid_root / "usr" / "bin" / "rtorrent").exists():
            return f"no rTorrent 0.16 root at {sid_root} (run `make sid-root`)"
        if os.geteuid() != 0:
            return "rTorrent 0.16 runs via chroot, which needs root"
        if shutil.which("chroot") is None:
            return "chroot(8) is missing"
        return None
    raise ValueError(f"unknown rTorrent line {line!r}; expected one of {', '.join(LINES)}")


def remove_stale_sandboxes(sid_root: Path = SID_ROOT, min_age: float = 3600.0) -> list[Path]:
    """Delete 0.16 sandbox dirs left in the sid root by crashed runs; returns what was removed.

    Only dirs untouched for ``min_age`` seconds whose socket does not answer are removed, so a
    concurrent test run's sandboxes are safe.
    """
    removed: list[Path] = []
    now = time.time()
    for directory in sorted((sid_root / "tmp").glob("pyrotorque-*")):
        if not directory.is_dir() or now - directory.stat().st_mtime < min_age:
            continue
        with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(1.0)
            probe.connect(str(directory / "rpc.socket"))
            continue  # something still listens there
        shutil.rmtree(directory, ignore_errors=True)
        removed.append(directory)
    return removed


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def scgi_request(
    socket_path: Path, body: bytes, *, content_type: str | None = None, timeout: float = 60.0
) -> bytes:
    """Send one SCGI request over a unix socket and return the response body (headers dropped)."""
    headers = [("CONTENT_LENGTH", str(len(body))), ("SCGI", "1")]
    if content_type is not None:
        headers.append(("CONTENT_TYPE", content_type))
    header_block = b"".join(b"%s\0%s\0" % (name.encode(), value.encode()) for name, value in headers)
    request = b"%d:%s," % (len(header_block), header_block) + body
    # rTorrent answers once and closes: one connection per call, read until EOF.
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(timeout)
        conn.connect(str(socket_path))
        conn.sendall(request)
        chunks = []
        while chunk := conn.recv(1 << 20):
            chunks.append(chunk)
    response = b"".join(chunks)
    head, separator, payload = response.partition(b"\r\n\r\n")
    if not separator:
        raise SandboxError(f"SCGI response without header end: {response[:200]!r}")
    if not head.startswith(b"Status: 200"):
        raise SandboxError(f"SCGI status is not 200: {head[:200]!r}")
    return payload


_running: weakref.WeakSet[RtorrentSandbox] = weakref.WeakSet()


@atexit.register
def _stop_leftovers() -> None:
    # A crashed benchmark or test run must not leave daemons behind.
    for sandbox in list(_running):
        with contextlib.suppress(Exception):
            sandbox.stop()


class RtorrentSandbox:
    """One rTorrent daemon in its own directory: session, downloads, SCGI socket, log."""

    def __init__(
        self,
        root: Path,
        line: str = "0.9.8",
        extra_rc: Sequence[str] = (),
        *,
        sid_root: Path = SID_ROOT,
        include_dir: Path | None = RC_INCLUDE_DIR,
        xmlrpc_size_limit: str | None = "16M",
        run_as: str | None = None,
    ) -> None:
        if line not in LINES:
            raise ValueError(f"unknown rTorrent line {line!r}; expected one of {', '.join(LINES)}")
        self.root = Path(root)
        self.line = line
        self.extra_rc = tuple(extra_rc)
        self.sid_root = Path(sid_root)
        self.include_dir = include_dir
        #: ``network.xmlrpc.size_limit.set`` in the rc file; None leaves rTorrent's default (512 KiB).
        self.xmlrpc_size_limit = xmlrpc_size_limit
        #: A user to run rTorrent as (e.g. ``"nobody"``, to test what it cannot read); None runs it as
        #: the caller. Its sandbox directory is then a fresh one in /tmp owned by that user, since
        #: pytest's temporary directories are private to root.
        self.run_as = run_as
        self.port: int | None = None
        self.version = ""
        self._directory: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    # -- paths -----------------------------------------------------------------------------

    @property
    def chrooted(self) -> bool:
        """True when rTorrent runs in the sid root and sees different paths than the host."""
        return self.line == "0.16"

    @property
    def _own_directory(self) -> bool:
        """True when the sandbox directory is made elsewhere and ``root/sandbox`` links to it."""
        return self.chrooted or self.run_as is not None

    @property
    def directory(self) -> Path:
        """The sandbox directory as the host sees it (inside the sid root for 0.16)."""
        if self._directory is None:
            if not self._own_directory:
                return self.root
            raise SandboxError("this sandbox directory exists only after prepare() or start()")
        return self._directory

    @property
    def socket_path(self) -> Path:
        """Host path of the SCGI unix socket."""
        return self.directory / "rpc.socket"

    @property
    def url(self) -> str:
        """The SCGI URL for the project's client, e.g. ``scgi:///tmp/x/rpc.socket``."""
        return f"scgi://{self.socket_path}"

    @property
    def download_dir(self) -> Path:
        """Host path of rTorrent's default download directory."""
        return self.directory / "download"

    @property
    def session_dir(self) -> Path:
        """Host path of rTorrent's session directory."""
        return self.directory / "session"

    @property
    def log_path(self) -> Path:
        """Host path of rTorrent's own log file."""
        return self.directory / "log" / "rtorrent.log"

    @property
    def rc_path(self) -> Path:
        """Host path of the generated rtorrent.rc."""
        return self.directory / "rtorrent.rc"

    @property
    def pid(self) -> int | None:
        """The PID of the running daemon, or None."""
        return self._process.pid if self.is_running() and self._process else None

    def rt_path(self, host_path: Path | str) -> str:
        """The path rTorrent uses for ``host_path`` (identity for 0.9.8)."""
        path = Path(host_path)
        if not self.chrooted:
            return str(path)
        try:
            inside = path.resolve().relative_to(self.sid_root.resolve())
        except ValueError:
            raise ValueError(
                f"{path} is outside the sid root {self.sid_root}; rTorrent 0.16 cannot see it"
            ) from None
        return f"/{inside}" if str(inside) != "." else "/"

    def host_path(self, rt_path: str | Path) -> Path:
        """The host path of a path as rTorrent reports it (identity for 0.9.8)."""
        text = str(rt_path)
        if not text.startswith("/"):
            raise ValueError(f"expected an absolute rTorrent path, got {text!r}")
        if not self.chrooted:
            return Path(text)
        return self.sid_root / text.lstrip("/")

    # -- life cycle ------------------------------------------------------------------------

    def is_running(self) -> bool:
        """True while the daemon process this sandbox started is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 20) -> Self:
        """Write the rc file, start rTorrent and wait until it answers on the socket."""
        if self.is_running():
            raise SandboxError(f"rTorrent is already running in {self.directory}")
        reason = unavailable_reason(self.line, self.sid_root)
        if reason is not None:
            raise SandboxUnavailable(reason)
        self._prepare_directory()
        if len(str(self.socket_path)) > _MAX_SOCKET_PATH:
            raise SandboxError(f"socket path too long for AF_UNIX: {self.socket_path}")
        if self.port is None:
            self.port = free_port()
        self.rc_path.write_text(self._rc_text(), encoding="utf-8")
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()  # a stale socket from a killed daemon blocks bind()

        command = ["rtorrent", "-n", "-o", f"import={self.rt_path(self.rc_path)}"]
        user: dict[str, Any] = {}
        if self.chrooted:
            userspec = [f"--userspec={self._user_ids()[0]}:{self._user_ids()[1]}"] if self.run_as else []
            command = ["chroot", *userspec, str(self.sid_root), *command]
        else:
            command[0] = str(SYSTEM_RTORRENT)
            if self.run_as:
                uid, gid = self._user_ids()
                user = {"user": uid, "group": gid, "extra_groups": []}
        stdout_path = self.directory / "log" / "stdout.log"
        with stdout_path.open("ab") as stdout:
            # Own session: a Ctrl-C in the terminal must not reach the daemon mid-test.
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=subprocess.STDOUT,
                cwd=self.directory,
                start_new_session=True,
                **user,
            )
        _running.add(self)
        try:
            self._wait_until_ready(timeout, stdout_path)
        except BaseException:
            self.stop()
            raise
        log.debug("rTorrent %s started: PID %s, %s", self.version, self._process.pid, self.url)
        return self

    def _wait_until_ready(self, timeout: float, stdout_path: Path) -> None:
        assert self._process is not None
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                output = stdout_path.read_text(errors="replace")[-2000:]
                raise SandboxError(
                    f"rTorrent {self.line} exited with {self._process.returncode} during start-up "
                    f"(rc {self.rc_path}):\n{output}"
                )
            pid = self._answering_pid()
            if pid is not None:
                if pid != self._process.pid:
                    raise SandboxError(
                        f"{self.socket_path} answered with PID {pid}, we started {self._process.pid}"
                    )
                self.version = str(self.rpc("system.client_version"))
                self._wait_for_session(deadline)
                return
            if time.monotonic() > deadline:
                raise SandboxError(f"rTorrent did not answer on {self.socket_path} within {timeout} s")
            time.sleep(0.01)

    def _wait_for_session(self, deadline: float) -> None:
        """Wait until every item saved in the session directory is loaded again.

        rTorrent may answer on its socket before it has read all of its session back (seen on 0.16
        under load), so a test right after a restart could otherwise miss items.
        """
        saved = len(list(self.session_dir.glob("*.torrent")))
        while saved and len(self.item_hashes()) < saved:
            if time.monotonic() > deadline:
                raise SandboxError(f"rTorrent did not load its {saved} saved item(s) in time")
            time.sleep(0.02)

    def _answering_pid(self) -> int | None:
        """The PID reported over the socket, or None while it does not answer yet."""
        if not self.socket_path.exists():
            return None
        try:
            return int(self.rpc("system.pid", timeout=2.0))
        except (OSError, SandboxError):
            return None

    def stop(self, timeout: float = 15) -> None:
        """Stop exactly the daemon this sandbox started: SIGTERM, then SIGKILL after ``timeout``."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            if process_state(process.pid) not in (None, "T"):
                # 0.16 saves a new item in the background and drops that save when stopped
                # meanwhile, so a test that stops and starts again could find an item missing.
                with contextlib.suppress(SandboxError, OSError):
                    self.wait_saved(timeout=5)
            # A SIGSTOPped daemon (tests simulate hangs) never handles SIGTERM until continued.
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGCONT)
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("rTorrent PID %s ignored SIGTERM for %s s; killing it", process.pid, timeout)
                process.kill()
                process.wait()
        self._process = None
        _running.discard(self)
        with contextlib.suppress(FileNotFoundError, SandboxError):
            self.socket_path.unlink()

    def freeze(self, timeout: float = 5) -> None:
        """SIGSTOP the daemon, as when it hangs on a dead disk, and wait until it is stopped.

        The signal takes effect a little later; a call sent before that would still be answered.
        """
        pid = self._require_pid()
        os.kill(pid, signal.SIGSTOP)
        _wait_for_state(pid, lambda state: state == "T", timeout, "stopped")

    def thaw(self, timeout: float = 5) -> None:
        """SIGCONT a frozen daemon and wait until it runs again."""
        pid = self._require_pid()
        os.kill(pid, signal.SIGCONT)
        _wait_for_state(pid, lambda state: state != "T", timeout, "running again")

    def _require_pid(self) -> int:
        pid = self.pid
        if pid is None:
            raise SandboxError(f"rTorrent is not running in {self.directory}")
        return pid

    def kill(self) -> None:
        """SIGKILL the daemon (no session save), as a crash would."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self.stop()

    def restart(self, timeout: float = 20) -> Self:
        """Wait for every item's session files, stop and start again with the same directory and port."""
        self.wait_saved()
        self.stop()
        return self.start(timeout)

    def wait_saved(self, timeout: float = 10) -> None:
        """Wait until rTorrent has written every item's session files, with no save half done.

        Both lines save an item in full when it is inserted; 0.16 does it in the background, so the
        files may appear a little after ``load.raw`` returns. This only waits and never asks for a
        save: on 0.16 a save requested while that first one runs can lose the item's metafile copy
        (see docs/compatibility.md).
        """
        hashes = self.item_hashes()
        deadline = time.monotonic() + timeout
        while True:
            names = {path.name for path in self.session_dir.iterdir()}
            missing = [h for h in hashes if not _saved_suffixes(names, h) >= _SESSION_SUFFIXES]
            pending = sorted(name for name in names if name.endswith(".new"))
            if not missing and not pending:
                return
            if time.monotonic() > deadline:
                raise SandboxError(
                    f"rTorrent did not save {len(missing)} of {len(hashes)} item(s) within {timeout} s"
                    f" (unfinished: {', '.join(pending) or 'none'})"
                )
            time.sleep(0.02)

    def close(self) -> None:
        """Stop the daemon; remove a sandbox directory made elsewhere (0.16's in the sid root)."""
        self.stop()
        if self._own_directory and self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            with contextlib.suppress(FileNotFoundError):
                (self.root / "sandbox").unlink()
            self._directory = None

    def __enter__(self) -> Self:
        if not self.is_running():
            try:
                self.start()
            except BaseException:
                self.close()  # __exit__ does not run when __enter__ fails
                raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = f"PID {self.pid}" if self.is_running() else "stopped"
        return f"<RtorrentSandbox {self.line} {self.root} {state}>"

    # -- files -----------------------------------------------------------------------------

    def prepare(self) -> Path:
        """Create the sandbox directory (idempotent) and return it; ``start`` does this too.

        Call it before ``start`` to learn rTorrent's paths (``rt_path``) for ``extra_rc`` lines,
        e.g. a watch directory inside the sandbox, then set ``extra_rc`` and start.
        """
        self._prepare_directory()
        return self.directory

    def _user_ids(self) -> tuple[int, int]:
        assert self.run_as is not None
        entry = pwd.getpwnam(self.run_as)
        return entry.pw_uid, entry.pw_gid

    def _prepare_directory(self) -> None:
        if self._own_directory and self._directory is None:
            tmp = self.sid_root / "tmp" if self.chrooted else Path(tempfile.gettempdir())
            tmp.mkdir(exist_ok=True)
            self._directory = Path(tempfile.mkdtemp(prefix="pyrotorque-", dir=tmp))
            self.root.mkdir(parents=True, exist_ok=True)
            link = self.root / "sandbox"
            with contextlib.suppress(FileNotFoundError):
                link.unlink()
            link.symlink_to(self._directory)
        for sub in ("session", "download", "log"):
            (self.directory / sub).mkdir(parents=True, exist_ok=True)
        if self.run_as is not None:
            uid, gid = self._user_ids()
            for path in (self.directory, *self.directory.rglob("*")):
                os.chown(path, uid, gid, follow_symlinks=False)

    def _include_files(self) -> list[str]:
        """rTorrent paths of the project's rtorrent.d/*.rc, copied into the root for 0.16."""
        if self.include_dir is None or not self.include_dir.is_dir():
            return []
        sources = sorted(self.include_dir.glob("*.rc"))
        if not self.chrooted:
            return [str(path) for path in sources]
        copies = self.directory / "rtorrent.d"
        shutil.rmtree(copies, ignore_errors=True)
        copies.mkdir()
        for path in sources:
            shutil.copyfile(path, copies / path.name)
        return [self.rt_path(copies / path.name) for path in sources]

    def _rc_text(self) -> str:
        where = self.rt_path(self.directory)
        lines = [
            f"# rTorrent {self.line} test sandbox (generated by sandbox/rtorrent.py)",
            f"session.path.set = {where}/session/",
            f"directory.default.set = {where}/download/",
            f"system.cwd.set = {where}/",
            f"network.scgi.open_local = {where}/rpc.socket",
            "network.bind_address.set = 127.0.0.1",
            "network.local_address.set = 127.0.0.1",
            *(
                [f"network.xmlrpc.size_limit.set = {self.xmlrpc_size_limit}"]
                if self.xmlrpc_size_limit
                else []
            ),
            f"network.port_range.set = {self.port}-{self.port}",
            "network.port_random.set = no",
            "dht.mode.set = disable",
            "protocol.pex.set = no",
            "trackers.use_udp.set = no",
            "system.umask.set = 0022",
            "system.daemon.set = true",
            f'log.open_file = "sandbox", {where}/log/rtorrent.log',
            'log.add_output = "info", "sandbox"',
        ]
        if self.line == "0.9.8":
            lines.append("encoding.add = UTF-8")  # 0.16 has no encoding.add; it is UTF-8 throughout
        lines += [f"import = {path}" for path in self._include_files()]
        lines += self.extra_rc
        return "\n".join(lines) + "\n"

    # -- RPC -------------------------------------------------------------------------------

    def rpc(self, method: str, *params: Any, timeout: float = 60.0) -> Any:
        """One XML-RPC call; raises ``xmlrpc.client.Fault`` on a fault.  Pass '' targets yourself."""
        body = xmlrpc.client.dumps(params, method, allow_none=False).encode("utf-8")
        payload = scgi_request(self.socket_path, body, timeout=timeout)
        result, _ = xmlrpc.client.loads(payload, use_builtin_types=True)
        return result[0]

    def rpc_json(self, request: Any, *, timeout: float = 60.0) -> Any:
        """Send one JSON-RPC request object (or batch list) as-is and return the decoded answer."""
        body = json.dumps(request).encode("utf-8")
        payload = scgi_request(self.socket_path, body, content_type="application/json", timeout=timeout)
        return json.loads(payload) if payload else None

    def multicall(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """One ``system.multicall``; each entry is ``[result]`` or a fault dict, as rTorrent sends it."""
        entries = [{"methodName": method, "params": list(params)} for method, params in calls]
        result: list[Any] = self.rpc("system.multicall", entries)
        return result

    # -- items -----------------------------------------------------------------------------

    def load_metafiles(
        self, metafiles: Sequence[Metafile], *, start: bool = False, commands: Sequence[str] = ()
    ) -> list[str]:
        """Load metafiles via ``load.raw``/``load.raw_start`` in small batches; returns their hashes.

        ``commands`` are extra load commands applied to each item, e.g. ``"d.custom1.set=x"``.
        """
        method = "load.raw_start" if start else "load.raw"
        for batch in _batches(metafiles):
            calls = [(method, ["", xmlrpc.client.Binary(meta.data), *commands]) for meta in batch]
            for meta, answer in zip(batch, self.multicall(calls), strict=True):
                if isinstance(answer, dict):
                    raise SandboxError(f"{method} of {meta.name} failed: {answer}")
        hashes = [meta.info_hash for meta in metafiles]
        self._wait_for_items(present=set(hashes))
        return hashes

    def load_items(
        self,
        n: int,
        *,
        prefix: str,
        start: bool = False,
        seed: int = 0,
        size: int = 64 << 10,
        complete: bool = False,
        commands: Sequence[str] = (),
    ) -> list[str]:
        """Load ``n`` generated items named ``{prefix}{i:05d}``; returns their info hashes in order.

        With ``complete`` the payload is written into the download directory first, so a hash
        check (or ``start``) finds the items complete.
        """
        payload_dir = self.download_dir if complete else None
        metafiles = [
            make_metafile(f"{prefix}{index:05d}", size=size, seed=seed, payload_dir=payload_dir)
            for index in range(n)
        ]
        return self.load_metafiles(metafiles, start=start, commands=commands)

    def item_hashes(self) -> list[str]:
        """Info hashes of all items in the ``main`` view."""
        hashes: list[str] = self.rpc("download_list", "", "main")
        return hashes

    def erase_all(self) -> int:
        """Erase every item (payload stays on disk); returns how many were erased."""
        hashes = self.item_hashes()
        for start in range(0, len(hashes), BATCH_ITEMS):
            self.multicall([("d.erase", [item]) for item in hashes[start : start + BATCH_ITEMS]])
        self._wait_for_items(absent=set(hashes))
        return len(hashes)

    def _wait_for_items(
        self,
        *,
        present: AbstractSet[str] = frozenset(),
        absent: AbstractSet[str] = frozenset(),
        timeout: float = 60.0,
    ) -> None:
        """Poll until the items in ``present`` are loaded and those in ``absent`` are gone.

        rTorrent 0.9.8 queues ``load.raw`` to its main loop, so the call returns before the item
        exists; waiting here keeps callers from racing it (0.16 is usually done already).
        """
        deadline = time.monotonic() + timeout
        while True:
            current = set(self.item_hashes())
            missing, left = present - current, absent & current
            if not missing and not left:
                return
            if time.monotonic() > deadline:
                raise SandboxError(
                    f"after {timeout} s, {len(missing)} items are still not loaded and {len(left)} not erased"
                    f" (e.g. {sorted(missing or left)[:3]}); see {self.log_path}"
                )
            time.sleep(0.005)


class SandboxFactory:
    """Makes private sandboxes of one line, each in a directory from ``make_root``; closes them all."""

    def __init__(self, line: str, make_root: Callable[[], Path]) -> None:
        self.line = line
        self._make_root = make_root
        self._made: list[RtorrentSandbox] = []

    def __call__(
        self,
        extra_rc: Sequence[str] = (),
        *,
        start: bool = True,
        xmlrpc_size_limit: str | None = "16M",
        include_dir: Path | None = RC_INCLUDE_DIR,
        run_as: str | None = None,
    ) -> RtorrentSandbox:
        """A new sandbox with ``extra_rc`` lines; started unless ``start`` is False.

        ``xmlrpc_size_limit=None`` leaves out the rc line, as a user's rtorrent.rc often does;
        ``include_dir=None`` leaves out the project's includes (a test imports its own copies).
        """
        sandbox = RtorrentSandbox(
            self._make_root(),
            self.line,
            extra_rc,
            xmlrpc_size_limit=xmlrpc_size_limit,
            include_dir=include_dir,
            run_as=run_as,
        )
        self._made.append(sandbox)
        return sandbox.start() if start else sandbox

    def close_all(self) -> None:
        """Stop every sandbox made here (and drop 0.16 sandbox dirs from the sid root)."""
        for sandbox in self._made:
            sandbox.close()


def _batches(metafiles: Sequence[Metafile]) -> Iterator[list[Metafile]]:
    """Split into batches whose XML (base64 grows data by 4/3) stays under BATCH_BYTES."""
    batch: list[Metafile] = []
    batch_bytes = 0
    for meta in metafiles:
        cost = len(meta.data) * 4 // 3 + 256
        if batch and (batch_bytes + cost > BATCH_BYTES or len(batch) >= BATCH_ITEMS):
            yield batch
            batch, batch_bytes = [], 0
        batch.append(meta)
        batch_bytes += cost
    if batch:
        yield batch
