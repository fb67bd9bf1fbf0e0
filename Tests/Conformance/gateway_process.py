"""Starts `moonwire gateway` on loopback with ephemeral ports, for the scenario tests."""
import os
import pathlib
import re
import socket
import subprocess
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = pathlib.Path(os.environ.get("MOONWIRE_BIN", ROOT / ".build" / "debug" / "moonwire"))


class Gateway:
    def __init__(self, *args):
        if not BINARY.exists():
            raise RuntimeError(f"{BINARY} is missing: build it first (swift build --product moonwire)")
        self.process = subprocess.Popen(
            [str(BINARY), "gateway", "--host", "127.0.0.1", "--port", "0", "--control-port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
        self.port = self.control_port = None
        deadline = time.time() + 30
        while time.time() < deadline and (self.port is None or self.control_port is None):
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError(f"moonwire gateway exited: {self.process.stderr.read()}")
            if m := re.search(r"listening on [\d.]+:(\d+)", line):
                self.port = int(m.group(1))
            if m := re.search(r"control port [\d.]+:(\d+)", line):
                self.control_port = int(m.group(1))
        if self.port is None or self.control_port is None:
            self.stop()
            raise RuntimeError("moonwire gateway did not report its ports in 30 s")

    def control(self, command: str) -> str:
        with socket.create_connection(("127.0.0.1", self.control_port), timeout=10) as sock:
            sock.sendall((command + "\n").encode())
            reply = b""
            while not reply.endswith(b"\n"):
                chunk = sock.recv(4096)
                if not chunk:
                    break
                reply += chunk
        return reply.decode().strip()

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
