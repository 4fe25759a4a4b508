"""The production image, built without Docker: the wheel installed into an empty tree the way
the Dockerfile installs it (deploy/image-layout.sh, a root-owned virtual environment, the
wheel alone), then `ketenpoort serve --no-demo` started as uid 10001 on PostgreSQL until
/v1/health/ready answers 200, and the policy bundle built into its volume."""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.conftest import IN_CI, PG_URL, _admin_engine

ROOT = Path(__file__).resolve().parents[2]
APP_UID = 10001
HOME = Path("srv/ketenpoort")
VENV = Path("opt/ketenpoort")
# What the Dockerfile's build stage copies (and .dockerignore lets through).
BUILD_CONTEXT = ("pyproject.toml", "README.md", "gateway", "audit", "adapters", "policies")

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture(scope="module")
def image_tree() -> Iterator[Path]:
    """An empty directory tree laid out and installed as the Dockerfile does."""
    if os.geteuid() != 0:
        message = "the image test switches to uid 10001, which needs root (CI runs as root)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    top = Path(tempfile.mkdtemp(prefix="kp-image-", dir="/tmp"))
    top.chmod(0o755)  # uid 10001 must reach the tree, as in a container's root
    try:
        tree = top / "root"
        tree.mkdir(mode=0o755)
        wheel = _build_wheel(top / "build")
        subprocess.run(["sh", str(ROOT / "deploy" / "image-layout.sh"), str(tree)], check=True)
        _install(tree, wheel)
        yield tree
    finally:
        shutil.rmtree(top, ignore_errors=True)


def _build_wheel(build: Path) -> Path:
    source = build / "src"
    source.mkdir(parents=True)
    for name in BUILD_CONTEXT:
        origin = ROOT / name
        if origin.is_dir():
            shutil.copytree(
                origin, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
        else:
            shutil.copy(origin, source / name)
    wheels = build / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            str(wheels),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("ketenpoort-*.whl")
    return wheel


def _install(tree: Path, wheel: Path) -> None:
    venv = tree / VENV
    subprocess.run([_interpreter(), "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    # The Dockerfile installs requirements.lock first (tests/deploy/test_lock.py checks it
    # against pyproject.toml); here the installed distributions the wheel requires, and
    # nothing else (no test tools, no editable install of this tree), are copied in.
    for dist in _runtime_closure("ketenpoort", {"hsm"}):
        for file in dist.files or []:
            if ".." in file.parts or file.parts[0] == "__editable__":
                continue
            target = purelib / file
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(dist.locate_file(file), target)  # type: ignore[arg-type]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )


def _interpreter() -> str:
    """A Python 3.11 that uid 10001 may run (pyenv's under /root is not reachable)."""
    for candidate in (Path(sys.executable).resolve(), Path("/usr/bin/python3.11")):
        if candidate.exists() and all(
            part.stat().st_mode & 0o001 for part in [candidate, *candidate.parents]
        ):
            return str(candidate)
    pytest.fail("no Python 3.11 that another user may run (tried sys.executable, /usr/bin)")


def _runtime_closure(name: str, extras: set[str]) -> list[importlib.metadata.Distribution]:
    """The installed distributions ``name`` needs at run time, recursively (its extras)."""
    found: dict[str, importlib.metadata.Distribution] = {}
    pending: list[tuple[str, set[str]]] = [(name, extras)]
    while pending:
        requirement_name, wanted = pending.pop()
        key = canonicalize_name(requirement_name)
        if key in found:
            continue
        dist = importlib.metadata.distribution(requirement_name)
        found[key] = dist
        for line in dist.requires or []:
            requirement = Requirement(line)
            environments = [{"extra": extra} for extra in wanted] or [{"extra": ""}]
            if requirement.marker is None or any(
                requirement.marker.evaluate(env) for env in environments
            ):
                pending.append((requirement.name, set(requirement.extras)))
    del found[canonicalize_name(name)]
    return list(found.values())


@pytest.fixture
def postgres_url(postgres_template: str) -> Iterator[str]:
    template = make_url(postgres_template).database
    name = f"kp_image_{secrets.token_hex(6)}"
    engine = _admin_engine()
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _as_app_user(tree: Path, database_url: str, *args: str) -> dict[str, object]:
    """How the container runs a command: uid/gid 10001, WORKDIR, the image's environment."""
    home = tree / HOME
    return {
        "args": [str(tree / VENV / "bin" / "ketenpoort"), *args],
        "cwd": home,
        "user": APP_UID,
        "group": APP_UID,
        "extra_groups": [],
        "env": {
            "PATH": f"{tree / VENV / 'bin'}:/usr/bin:/bin",
            "HOME": str(home),
            "KETENPOORT_DATA_DIR": str(home / "data"),
            "KETENPOORT_JWKS_DIR": str(home / "jwks"),
            "KETENPOORT_DATABASE_URL": database_url,
            "KETENPOORT_LOG_FORMAT": "json",
        },
    }


def _wait_ready(url: str, process: subprocess.Popen[bytes], deadline: float) -> dict[str, object]:
    last = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                body: dict[str, object] = json.loads(response.read())
                return body
        except urllib.error.HTTPError as exc:
            last = f"{exc.code}: {exc.read()[:300]!r}"
        except OSError as exc:
            last = type(exc).__name__
        time.sleep(0.5)
    raise AssertionError(f"not ready in time; last answer {last}")


def test_the_image_installs_the_wheel_alone_into_a_root_owned_environment(
    image_tree: Path,
) -> None:
    python = image_tree / VENV / "bin" / "python"
    where = subprocess.run(
        [str(python), "-c", "import gateway, policies; print(gateway.__file__)"],
        cwd=image_tree / HOME,  # the WORKDIR: the source tree is not on the path
        env={"PATH": "/usr/bin:/bin"},
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert where.startswith(str(image_tree / VENV)), where  # not this source tree
    assert (image_tree / VENV).stat().st_uid == 0  # the gateway cannot change its own code
    home = image_tree / HOME
    assert home.stat().st_uid == APP_UID  # WORKDIR and HOME


def test_serve_as_uid_10001_on_postgresql_reaches_ready(
    image_tree: Path, postgres_url: str
) -> None:
    port, metrics_port = _free_port(), _free_port()
    spec = _as_app_user(
        image_tree,
        postgres_url,
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "2",
        "--no-demo",
    )
    spec["env"]["KETENPOORT_METRICS_PORT"] = str(metrics_port)  # type: ignore[index]
    # Outside demo mode the log's origin must be this deployment's (review6a F2).
    spec["env"]["KETENPOORT_AUDIT_LOG_ORIGIN"] = "ketenpoort.test/audit-log"  # type: ignore[index]
    spec["env"]["KETENPOORT_AUDIENCE"] = "ketenpoort.test"  # type: ignore[index]
    scratch = image_tree / HOME / "tmp"  # where serve makes its multi-worker metrics directory
    scratch.mkdir(exist_ok=True)
    os.chown(scratch, APP_UID, APP_UID)
    spec["env"]["TMPDIR"] = str(scratch)  # type: ignore[index]
    spec["env"]["KETENPOORT_METRICS_HOST"] = "127.0.0.1"  # type: ignore[index]
    process = subprocess.Popen(  # noqa: S603
        spec.pop("args"),  # type: ignore[arg-type]
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        **spec,  # type: ignore[arg-type]
    )
    try:
        ready = _wait_ready(
            f"http://127.0.0.1:{port}/v1/health/ready", process, time.monotonic() + 120
        )
        assert ready["status"] == "ok"
        for _ in range(3):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/health/live", timeout=5).close()
        # Both workers' counts on the metrics port, served by the supervising process.
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as r:
            scraped = r.read().decode()
        live = re.search(
            r'ketenpoort_http_requests_total\{method="GET",route="/v1/health/live",'
            r'status="200"\} (\S+)',
            scraped,
        )
        assert live is not None, scraped[-3000:]
        assert float(live[1]) >= 3
        assert "ketenpoort_metrics_database_up 1.0" in scraped
        assert Path(f"/proc/{process.pid}/status").read_text().count(f"\t{APP_UID}\t") >= 1
    finally:
        process.terminate()  # uvicorn's supervisor stops its workers
        try:
            output = process.communicate(timeout=30)[0].decode()
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output = process.communicate()[0].decode()
    # The metrics directory serve made for its workers went with it (it used to stay in /tmp).
    assert not list(scratch.glob("ketenpoort-metrics-*")), output[-2000:]
    data = image_tree / HOME / "data"
    written = [path for path in data.rglob("*") if path.is_file()]
    assert written, output[-2000:]
    for path in written:
        assert path.stat().st_uid == APP_UID, path
        if "key" in path.name or path.suffix == ".pem":
            assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path
    # JSON logs, one event per line, from the supervisor and both workers.
    lines = [line for line in output.splitlines() if line.strip()]
    events = [json.loads(line) for line in lines if line.startswith("{")]
    assert len(events) >= 5, output[-3000:]
    access = [e for e in events if e.get("event") == "access"]
    assert any(e["http_route"] == "/v1/health/ready" and e["http_status"] == 200 for e in access)
    assert all(e["request_id"] and e["trace_id"] for e in access)


def test_policy_build_writes_the_bundle_into_its_volume_as_uid_10001(
    image_tree: Path, postgres_url: str
) -> None:
    """The step that failed with PermissionError when the volume's mount point was missing."""
    bundles = image_tree / HOME / "bundles"
    spec = _as_app_user(image_tree, postgres_url, "policy", "build", "--out", str(bundles))
    result = subprocess.run(
        spec.pop("args"),  # type: ignore[arg-type]
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        **spec,  # type: ignore[arg-type]
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (bundles / "bundle.tar.gz").stat().st_uid == APP_UID
    # Only the bundle: OPA's key comes from `policy public-key`, kept out of this volume.
    assert sorted(p.name for p in bundles.iterdir()) == ["bundle.tar.gz"]
