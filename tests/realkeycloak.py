"""Start and stop a real Keycloak for tests via ``scripts/keycloak-test-server``.

``start_real_keycloak`` returns connection details, or a skip reason (a string)
when a prerequisite such as Java >= 21 or the download is missing; any other
failure raises ``RuntimeError``. Typical pytest use::

    kc = start_real_keycloak(repo_root)
    if isinstance(kc, str):
        pytest.skip(kc)
    try:
        yield kc
    finally:
        stop_real_keycloak(repo_root)
"""

from __future__ import annotations

import pathlib
import subprocess
from dataclasses import dataclass, field

SCRIPT = pathlib.Path("scripts") / "keycloak-test-server"
EXIT_PREREQ_MISSING = 3
# Generous: a cold start downloads ~170 MB and Keycloak may wait up to
# KEYCLOAK_START_TIMEOUT (default 180 s) for readiness.
START_TIMEOUT_S = 900.0
STOP_TIMEOUT_S = 120.0
_TAIL_LINES = 40


@dataclass(frozen=True)
class RealKeycloak:
    """Connection details of a running test Keycloak (master realm admin)."""

    url: str
    admin_user: str
    admin_password: str = field(repr=False)


def _script(repo_root: pathlib.Path) -> pathlib.Path:
    return repo_root / SCRIPT


def _tail(text: str, lines: int = _TAIL_LINES) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _parse_exports(stdout: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for raw in stdout.splitlines():
        line = raw.strip()
        if line.startswith("export "):
            line = line[len("export ") :]
        key, sep, value = line.partition("=")
        if sep and key.startswith("KEYCLOAK_TEST_"):
            values[key] = value
    return values


def start_real_keycloak(repo_root: pathlib.Path) -> RealKeycloak | str:
    """Run ``keycloak-test-server start``; return details or a skip reason."""
    script = _script(repo_root)
    if not script.is_file():
        raise RuntimeError(f"{script} not found")
    try:
        proc = subprocess.run(
            [str(script), "start"],
            cwd=repo_root,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        stop_real_keycloak(repo_root)
        raise RuntimeError(
            f"{script} start did not finish within {START_TIMEOUT_S:.0f}s"
        ) from exc
    if proc.returncode == EXIT_PREREQ_MISSING:
        lines = proc.stderr.strip().splitlines()
        reason = lines[-1] if lines else "prerequisite missing"
        return f"real Keycloak unavailable: {reason}"
    if proc.returncode != 0:
        raise RuntimeError(
            f"{script} start failed with exit code {proc.returncode}:\n"
            f"{_tail(proc.stderr)}"
        )
    values = _parse_exports(proc.stdout)
    try:
        return RealKeycloak(
            url=values["KEYCLOAK_TEST_URL"],
            admin_user=values["KEYCLOAK_TEST_ADMIN"],
            admin_password=values["KEYCLOAK_TEST_PASSWORD"],
        )
    except KeyError as exc:
        stop_real_keycloak(repo_root)
        raise RuntimeError(
            f"{script} start printed no {exc.args[0]}:\n{_tail(proc.stderr)}"
        ) from exc


def stop_real_keycloak(repo_root: pathlib.Path) -> None:
    """Run ``keycloak-test-server stop``; safe when nothing is running."""
    script = _script(repo_root)
    proc = subprocess.run(
        [str(script), "stop"],
        cwd=repo_root,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=STOP_TIMEOUT_S,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"{script} stop failed with exit code {proc.returncode}:\n"
            f"{_tail(proc.stderr)}"
        )
