"""The page in a real headless Chromium (Debian's chromium + chromium-driver, driven by
Selenium): upload a generated video and read the top-k off the page.

`.ci/run` installs Chromium so CI runs this; elsewhere it is skipped with the reason shown.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the serve extra (fastapi) is not installed")
pytest.importorskip("uvicorn", reason="the serve extra (uvicorn) is not installed")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
if not (CHROMIUM and DRIVER):
    pytest.skip(
        "no Chromium: apt-get install chromium chromium-driver (.ci/run does)",
        allow_module_level=True,
    )

import uvicorn  # noqa: E402
from _inference_helper import make_assets  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from videomae.inference.classifier import VideoClassifier  # noqa: E402
from videomae.serve.app import create_app  # noqa: E402
from videomae.serve.limits import ServeSettings  # noqa: E402
from videomae.serve.service import ClassifierService  # noqa: E402
from videomae.video.write import write_video  # noqa: E402

CHROME_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=900,1000",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    assets = make_assets(tmp_path_factory)
    clf = VideoClassifier.from_pretrained(assets["clf"], progress=False)
    app = create_app(ClassifierService(clf, ServeSettings()))
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}", clf, assets
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium')}")
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    yield driver
    driver.quit()


def test_page_shows_the_top_k_of_an_uploaded_video(server, browser, tmp_path) -> None:
    url, clf, assets = server
    video = assets["videos"][0]
    browser.get(url + "/")
    browser.find_element(By.ID, "file").send_keys(video)
    rows = WebDriverWait(browser, 60).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#result li") or False
    )
    shown = [(r.get_attribute("data-label"), float(r.get_attribute("data-score"))) for r in rows]
    expected = clf(video, top_k=5)
    assert [name for name, _ in shown] == [name for name, _ in expected]
    assert [s for _, s in shown] == pytest.approx([s for _, s in expected], abs=1e-6)
    assert "Done" in browser.find_element(By.ID, "status").text
    shot = tmp_path / "serve.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 1000
    if os.environ.get("VIDEOMAE_SCREENSHOT"):
        shutil.copy(shot, os.environ["VIDEOMAE_SCREENSHOT"])


def test_page_shows_the_error_of_a_broken_upload(server, browser, tmp_path) -> None:
    url, _, _ = server
    broken = tmp_path / "notes.mp4"
    broken.write_text("not a video\n" * 100)
    browser.get(url + "/")
    browser.find_element(By.ID, "file").send_keys(str(broken))
    status = WebDriverWait(browser, 60).until(
        lambda d: (
            "Error" in d.find_element(By.ID, "status").text and d.find_element(By.ID, "status")
        )
    )
    assert "422" in status.text and "notes.mp4" in status.text
    assert browser.find_elements(By.CSS_SELECTOR, "#result li") == []


def test_page_draws_the_timeline_of_a_long_video(server, browser, tmp_path) -> None:
    url, clf, _ = server
    video = tmp_path / "long.mp4"  # 6 s at 8 fps: three windows of 2 s
    frames = np.random.default_rng(5).integers(0, 256, size=(48, 32, 40, 3), dtype=np.uint8)
    write_video(video, frames, fps=8)
    browser.get(url + "/")
    browser.find_element(By.ID, "windows").click()
    browser.find_element(By.ID, "file").send_keys(str(video))
    lines = WebDriverWait(browser, 60).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#timeline polyline.series") or False
    )
    windows = list(clf.windows(str(video), top_k=5))
    assert len(windows) == 3
    best = max(clf.labels, key=lambda n: sum(dict(w.labels).get(n, 0.0) for w in windows))
    assert lines[0].get_attribute("data-label") == best
    assert len(lines[0].get_attribute("points").split()) == len(windows)
    assert "time (s)" in browser.find_element(By.ID, "timeline").text
    if os.environ.get("VIDEOMAE_SCREENSHOT_TIMELINE"):
        timeline = browser.find_element(By.ID, "timeline")
        timeline.screenshot(os.environ["VIDEOMAE_SCREENSHOT_TIMELINE"])
