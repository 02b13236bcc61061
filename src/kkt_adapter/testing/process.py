"""Run a real ``kkt-adapter serve`` process for tests: start, wait until it answers, stop, or SIGKILL it.

Used by the project's crash and end-to-end tests; usable by any project that tests against the adapter.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

import httpx


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class AdapterProcess:
    """One ``kkt-adapter serve`` process on 127.0.0.1 with its data in ``data_dir``; restartable."""

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        env: Mapping[str, str] | None = None,
        log_path: Path | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path or data_dir / f"adapter-{self.port}.log"
        self._env = dict(env or {})
        self._proc: subprocess.Popen[bytes] | None = None

    def environment(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.upper().startswith("KKT_")}
        env.update(
            {
                "KKT_DATA_DIR": str(self.data_dir),
                "KKT_API_HOST": "127.0.0.1",
                "KKT_API_PORT": str(self.port),
                "KKT_EMULATOR_PRINT_DELAY_MS": "0",
            }
        )
        env.update(self._env)
        return env

    def start(self, *, timeout: float = 20.0) -> None:
        """Start the process and return once ``/v1/health`` answers (any status)."""
        if self.running:
            raise RuntimeError("already running")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "kkt_adapter", "serve"],
                cwd=self.data_dir,
                env=self.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"adapter exited with {self._proc.returncode}; see {self.log_path}")
            try:
                httpx.get(self.url + "/v1/health", timeout=1.0)
                return
            except httpx.TransportError:
                time.sleep(0.02)
        self.kill()
        raise TimeoutError(f"adapter did not answer within {timeout} s; see {self.log_path}")

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to clean up, as in a power loss."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGKILL)
            self._proc.wait(timeout=10)

    def stop(self, *, timeout: float = 10.0) -> int | None:
        """SIGTERM and wait for a clean exit (SIGKILL after ``timeout``); returns the exit code."""
        if self._proc is None:
            return None
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self._proc.returncode

    def __enter__(self) -> AdapterProcess:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
