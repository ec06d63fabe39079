"""The background sandbox process of ``tenantctl sandbox up``.

Runs until SIGTERM; writes ``sandbox.json`` (pid, ports) and the site
config into the state folder once it serves.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
from pathlib import Path
from types import FrameType

from tenantctl.sandbox.server import Sandbox

RUN_FILE = "sandbox.json"
CONFIG_FILE = "tenantctl.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tenantctl.sandbox.serve")
    parser.add_argument("--state-dir", type=Path, required=True)
    args = parser.parse_args()
    state_dir: Path = args.state_dir.resolve()
    state_dir.mkdir(parents=True, exist_ok=True)

    run_file = state_dir / RUN_FILE
    previous = json.loads(run_file.read_text()) if run_file.exists() else {}
    sandbox = Sandbox(state_dir)
    sandbox.start(previous.get("ports"))
    config = sandbox.write_config(state_dir / CONFIG_FILE)

    env = sandbox.env(config)
    info = {"pid": os.getpid(), "ports": sandbox.ports(), "env": env}
    tmp = run_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(info))
    os.chmod(tmp, 0o600)
    tmp.replace(run_file)

    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    stopping.wait()
    sandbox.stop()
    info["pid"] = None
    run_file.write_text(json.dumps(info))


if __name__ == "__main__":
    main()
