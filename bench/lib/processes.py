"""Process helpers shared by the bench scripts that start their own server (python3 standard
library only): a free loopback port, a child that dies with its parent, stopping it, and the
tail of its log."""

import signal
import socket
import subprocess


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def die_with_parent() -> None:
    """In the child before exec: ask Linux to SIGTERM it when this script dies (even by SIGKILL)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - best effort; the caller stops the server anyway
        pass


def stop(process, sig=signal.SIGTERM, grace=10, on_kill=None) -> None:
    """Sends `sig` (SIGINT: the server's graceful shutdown), waits `grace` seconds, then kills;
    nothing when the process has already exited. `on_kill` is called before a kill."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        if on_kill:
            on_kill()
        process.kill()
        process.wait(timeout=10)


def log_tail(path, lines=30) -> str:
    """The last `lines` lines of the log at `path`, or "(no log)"."""
    try:
        with open(path, encoding="utf-8", errors="replace") as log:
            return "".join(log.readlines()[-lines:])
    except OSError:
        return "(no log)"
