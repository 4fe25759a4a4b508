"""Browser-test fixtures: the gateway as a real uvicorn server on a free loopback port (demo
mode), and headless Chromium from Debian's packages driven by selenium.

Nothing is downloaded: the driver and browser paths are given explicitly, so
selenium-manager never runs (SE_OFFLINE makes sure). Without the packages the tests skip,
except under CI=true, where .ci/run installs them and their absence is a failure.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from gateway.app import create_app
from gateway.auth.dev import mint_dev_token
from gateway.config import Settings
from gateway.context import GatewayContext, build_context

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"
HINT = (
    "Browser tests skipped: {missing} not found. To run them install Debian's packages "
    "(apt-get install -y chromium chromium-driver) and the test extras (selenium); "
    "with CI=true they are required."
)


@dataclass(frozen=True)
class LiveGateway:
    url: str
    settings: Settings
    #: The served gateway's context (e.g. to sign an audit checkpoint as its job would).
    context: GatewayContext

    def auth(self, partner: str, role: str, *, user: str | None = None) -> dict[str, str]:
        token = mint_dev_token(
            self.settings, partner_id=partner, role=role, user=user, lifetime_seconds=300
        )
        return {"Authorization": f"Bearer {token}"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def live_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveGateway]:
    import uvicorn

    settings = Settings(
        data_dir=tmp_path_factory.mktemp("browser") / "data",
        demo_mode=True,
        audit_checkpoint_interval_seconds=0,
    )
    context = build_context(settings)
    # The published log key pinned, as KETENPOORT_AUDIT_LOG_KEY (and 'serve --demo') does:
    # without it the Verificatie page refuses to call the log intact.
    log = context.audit
    log.pinned_key = log.signer.note_signer(log.origin).verifier
    app = create_app(settings, context)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="browser-gateway", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the gateway did not start for the browser test")
        time.sleep(0.05)
    yield LiveGateway(url=url, settings=settings, context=context)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def api(live_gateway: LiveGateway) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_gateway.url, timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def chrome(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing.append("selenium (pip install -e '.[test]')")
    if missing:
        message = HINT.format(missing=", ".join(missing))
        if IN_CI:
            pytest.fail("CI=true but " + message, pytrace=False)
        pytest.skip(message)
    os.environ["SE_OFFLINE"] = "true"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,1000",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def screenshot(chrome: object) -> Callable[[str], Path]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        # Full page: widen the window to the document's height first.
        height = chrome.execute_script(  # type: ignore[attr-defined]
            "return document.documentElement.scrollHeight"
        )
        chrome.set_window_size(1280, max(800, min(int(height) + 40, 4000)))  # type: ignore[attr-defined]
        chrome.save_screenshot(str(path))  # type: ignore[attr-defined]
        return path

    return save
