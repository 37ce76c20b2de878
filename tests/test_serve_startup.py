"""``alertrouter serve`` that cannot start says why in one line on stderr and exits non-zero.

Each case runs the real console script in a subprocess: no traceback, no ``listening`` line,
nothing else on stderr. Everything stays on 127.0.0.1 (192.0.2.1, TEST-NET-1, is only bound,
never sent to).
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from processes import free_port
from test_serve_process import SHIPPED, alertrouter, base_env


def start(
    tmp_path: Path, *args: str, listen: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``serve --dry-run`` with the shipped policy plus ``args``; it must exit by itself."""
    argv = ["serve", "--dry-run", "--config", str(SHIPPED)]
    argv += ["--listen", listen or f"127.0.0.1:{free_port()}"]
    if "--state-url" not in args:
        argv += ["--state-url", f"sqlite:///{tmp_path / 'state.db'}"]
    return subprocess.run(
        alertrouter(*argv, *args),
        env=base_env() | {"ALERTROUTER_LOG_FORMAT": "console"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def one_line_failure(finished: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a failed start, after checking the failure's shape."""
    assert finished.returncode != 0, finished.stderr
    lines = finished.stderr.splitlines()
    assert len(lines) == 1, finished.stderr
    assert "Traceback" not in finished.stderr
    assert "listening" not in finished.stderr
    assert lines[0].startswith("alertrouter: ")
    return lines[0]


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port on 127.0.0.1 that another socket is listening on."""
    with socket.create_server(("127.0.0.1", 0)) as other:
        yield other.getsockname()[1]


def test_port_in_use(tmp_path: Path, taken_port: int) -> None:
    """A port another process holds: named, 'address already in use'."""
    line = one_line_failure(start(tmp_path, listen=f"127.0.0.1:{taken_port}"))
    assert f"127.0.0.1:{taken_port}" in line
    assert "address already in use" in line


def test_address_not_available(tmp_path: Path) -> None:
    """An address this host does not have: 'address not available'."""
    line = one_line_failure(start(tmp_path, listen=f"192.0.2.1:{free_port()}"))
    assert "192.0.2.1" in line
    assert "address not available" in line


def test_state_file_locked_by_another_serve(tmp_path: Path) -> None:
    """A state file another process holds names the file and its lock."""
    import fcntl

    state = tmp_path / "state.db"
    lock = tmp_path / "state.db.lock"
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        line = one_line_failure(start(tmp_path))
    assert str(state) in line
    assert str(lock) in line
    assert "in use by another alertrouter process" in line


def test_state_directory_not_writable(tmp_path: Path) -> None:
    """A state directory that cannot be created is named with the system's reason."""
    line = one_line_failure(start(tmp_path, "--state-url", "sqlite:////sys/alertrouter/s.db"))
    assert "cannot create the state directory /sys/alertrouter" in line


def test_config_unreadable(tmp_path: Path) -> None:
    """A routing file that cannot be read is one file: message line."""
    missing = tmp_path / "nowhere.yml"
    finished = subprocess.run(
        alertrouter("serve", "--dry-run", "--config", str(missing)),
        env=base_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    line = one_line_failure(finished)
    assert f"{missing}: cannot read: No such file or directory" in line


def test_config_invalid_lists_each_problem_with_file_and_line(tmp_path: Path) -> None:
    """An invalid routing file prints its problems as file:line, and nothing else."""
    config = tmp_path / "bad.yml"
    config.write_text("route:\n  receiver: nobody\nreceivers: []\n", encoding="utf-8")
    finished = subprocess.run(
        alertrouter("serve", "--dry-run", "--config", str(config)),
        env=base_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    line = one_line_failure(finished)
    assert f"{config}:2:" in line
    assert "nobody" in line


def test_tls_files_missing(tmp_path: Path) -> None:
    """A missing certificate file is named."""
    cert, key = tmp_path / "no-cert.pem", tmp_path / "no-key.pem"
    line = one_line_failure(
        start(tmp_path, "--tls-cert-file", str(cert), "--tls-key-file", str(key))
    )
    assert str(cert) in line
    assert "No such file or directory" in line


def test_tls_certificate_and_key_not_matching(tmp_path: Path) -> None:
    """A key that is not the certificate's is refused, naming both files."""
    authority = trustme.CA()
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    authority.issue_cert("127.0.0.1").cert_chain_pems[0].write_to_path(str(cert))
    authority.issue_cert("127.0.0.1").private_key_pem.write_to_path(str(key))
    line = one_line_failure(
        start(tmp_path, "--tls-cert-file", str(cert), "--tls-key-file", str(key))
    )
    assert str(cert) in line
    assert str(key) in line
    assert "KEY_VALUES_MISMATCH" in line


def test_redis_unreachable_names_the_url_without_its_password(tmp_path: Path) -> None:
    """A Redis nobody answers at: the URL with its password masked."""
    url = f"redis://:hunter2-secret@127.0.0.1:{free_port()}/0"
    line = one_line_failure(start(tmp_path, "--state-url", url))
    assert "cannot reach Redis at redis://:***@127.0.0.1:" in line
    assert "hunter2-secret" not in line
