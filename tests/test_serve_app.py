"""The HTTP API through FastAPI's test client: every endpoint, every limit, broken uploads, and
the temp files gone after each request."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the serve extra (fastapi) is not installed")
from _inference_helper import LABELS, make_assets  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from videomae.inference.classifier import VideoClassifier  # noqa: E402
from videomae.serve.app import create_app  # noqa: E402
from videomae.serve.limits import RequestGate, ServeSettings  # noqa: E402
from videomae.serve.service import ClassifierService  # noqa: E402
from videomae.video.write import write_video  # noqa: E402


@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    return make_assets(tmp_path_factory)


@pytest.fixture(scope="module")
def classifier(assets) -> VideoClassifier:
    return VideoClassifier.from_pretrained(assets["clf"], progress=False)


def _client(classifier, tmp_path: Path, **limits) -> TestClient:
    service = ClassifierService(classifier, ServeSettings(**limits))
    return TestClient(create_app(service, tmp_dir=str(tmp_path)))


def _post(client, route: str, path: str | Path, **fields):
    with open(path, "rb") as f:
        return client.post(route, files={"file": (Path(path).name, f, "video/mp4")}, data=fields)


def test_healthz_and_page(classifier, tmp_path) -> None:
    client = _client(classifier, tmp_path)
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["labels"] == len(LABELS)
    assert health["model"].endswith("clf")
    page = client.get("/")
    assert page.status_code == 200 and "<video" in page.text and "/v1/classify" in page.text
    assert "/v1/classify" in client.get("/openapi.json").json()["paths"]


def test_classify_matches_the_library_and_cleans_up(assets, classifier, tmp_path) -> None:
    client = _client(classifier, tmp_path)
    video = assets["videos"][0]
    response = _post(client, "/v1/classify", video, top_k="3")
    assert response.status_code == 200, response.text
    labels = response.json()["labels"]
    expected = classifier(video, top_k=3)
    assert [name for name, _ in labels] == [name for name, _ in expected]
    assert [s for _, s in labels] == pytest.approx([s for _, s in expected], abs=1e-6)
    assert list(tmp_path.iterdir()) == []  # the upload's temp file is gone


def test_embed_returns_the_pooled_feature(assets, classifier, tmp_path) -> None:
    client = _client(classifier, tmp_path)
    data = _post(client, "/v1/embed", assets["videos"][1]).json()
    assert data["dim"] == classifier.model.config.hidden_size == len(data["embedding"])
    assert list(tmp_path.iterdir()) == []


def test_views_per_request_and_their_limit(assets, classifier, tmp_path) -> None:
    client = _client(classifier, tmp_path, max_views=4)
    video = assets["videos"][2]
    two = _post(client, "/v1/classify", video, clips="2", top_k="5").json()["labels"]
    ref = VideoClassifier.from_pretrained(assets["clf"], clips=2, progress=False)(video)
    assert [s for _, s in two] == pytest.approx([s for _, s in ref], abs=1e-6)
    over = _post(client, "/v1/classify", video, clips="2", crops="3")
    assert over.status_code == 422 and "--max-views" in over.json()["detail"]
    bad = _post(client, "/v1/classify", video, top_k="many")
    assert bad.status_code == 422 and "top_k must be an integer" in bad.json()["detail"]


def test_broken_uploads_get_422_with_the_cli_message(classifier, tmp_path) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    client = _client(classifier, spool)
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 50)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    for path in (text, empty):
        response = _post(client, "/v1/classify", path)
        assert response.status_code == 422, response.text
        detail = response.json()["detail"]
        assert detail.startswith(f"{path.name}: ") and "Traceback" not in detail
    missing = client.post("/v1/classify", data={"top_k": "1"})
    assert missing.status_code == 422 and "'file'" in missing.json()["detail"]
    assert list(spool.iterdir()) == []


def test_upload_over_the_limit_gets_413(assets, classifier, tmp_path) -> None:
    client = _client(classifier, tmp_path, max_upload_mb=0.001)  # ~1 kB
    response = _post(client, "/v1/classify", assets["videos"][0])
    assert response.status_code == 413 and "--max-upload-mb" in response.json()["detail"]

    def chunks():  # no Content-Length: the cap is counted while the bytes arrive
        yield b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n\r\n'
        for _ in range(64):
            yield b"\0" * 1024

    streamed = client.post(
        "/v1/classify",
        content=chunks(),
        headers={"content-type": "multipart/form-data; boundary=x"},
    )
    assert streamed.status_code == 413
    assert list(tmp_path.iterdir()) == []


def test_slow_inference_gets_504_and_keeps_its_slot(assets, classifier, tmp_path, monkeypatch):
    release = threading.Event()
    monkeypatch.setattr(
        ClassifierService, "classify", lambda self, *a: [("walk", 1.0)] if release.wait(5) else []
    )
    with _client(classifier, tmp_path, timeout_s=0.2) as client:  # one event loop throughout
        started = time.monotonic()
        response = _post(client, "/v1/classify", assets["videos"][0])
        assert response.status_code == 504 and "--timeout" in response.json()["detail"]
        assert time.monotonic() - started < 4
        assert client.app.app.state.server.gate.slots.locked()  # still computing: slot held
        release.set()
    assert list(tmp_path.iterdir()) == []


def test_full_queue_gets_503_with_retry_after(assets, classifier, tmp_path, monkeypatch) -> None:
    client = _client(classifier, tmp_path, max_running=1, max_waiting=0)
    gate = RequestGate(1, 0)
    assert gate.try_enter() and not gate.try_enter()  # the rule the app applies
    release = threading.Event()
    monkeypatch.setattr(
        ClassifierService, "classify", lambda self, *a: [("walk", 1.0)] if release.wait(5) else []
    )
    results = {}

    def first():
        results["first"] = _post(client, "/v1/classify", assets["videos"][0])

    worker = threading.Thread(target=first)
    worker.start()
    deadline = time.monotonic() + 5
    server = client.app.app.state.server
    while (server.gate is None or server.gate.inside == 0) and time.monotonic() < deadline:
        time.sleep(0.01)
    busy = _post(client, "/v1/classify", assets["videos"][1])
    release.set()
    worker.join(10)
    assert busy.status_code == 503 and busy.headers["retry-after"] == "2"
    assert results["first"].status_code == 200
    assert list(tmp_path.iterdir()) == []


def test_settings_are_validated() -> None:
    for bad in (
        dict(max_upload_mb=0),
        dict(timeout_s=-1),
        dict(max_running=0),
        dict(max_waiting=-1),
    ):
        with pytest.raises(ValueError):
            ServeSettings(**bad)


def test_temp_file_removed_when_the_client_goes_away(assets, classifier, tmp_path, monkeypatch):
    """The request task is cancelled mid-inference (what a server does when the client
    disconnects): the upload's temp file is still removed."""
    release = threading.Event()
    monkeypatch.setattr(
        ClassifierService, "classify", lambda self, *a: [("walk", 1.0)] if release.wait(5) else []
    )
    app = create_app(ClassifierService(classifier, ServeSettings()), tmp_dir=str(tmp_path))
    video = Path(assets["videos"][0]).read_bytes()
    head = b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n\r\n'
    body = head + video + b"\r\n--x--\r\n"
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/classify",
        "raw_path": b"/v1/classify",
        "query_string": b"",
        "root_path": "",
        "scheme": "http",
        "server": ("test", 80),
        "client": ("test", 1),
        "http_version": "1.1",
        "headers": [
            (b"content-type", b"multipart/form-data; boundary=x"),
            (b"content-length", str(len(body)).encode()),
        ],
    }
    sent = []

    async def receive():
        if not sent:
            sent.append(True)
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(10)
        return {"type": "http.disconnect"}

    async def send(message):
        pass

    async def scenario():
        task = asyncio.create_task(app(scope, receive, send))
        for _ in range(500):  # wait until the upload sits in the temp folder
            if list(tmp_path.iterdir()):
                break
            await asyncio.sleep(0.01)
        assert len(list(tmp_path.iterdir())) == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        release.set()  # let the worker thread end before the loop closes

    asyncio.run(scenario())
    assert list(tmp_path.iterdir()) == []


def test_windows_over_the_whole_video(assets, classifier, tmp_path) -> None:
    """windows=1: the per-window list of `videomae classify --windows`, named by the upload."""
    spool = tmp_path / "spool"
    spool.mkdir()
    client = _client(classifier, spool)
    video = tmp_path / "long.mp4"  # 5 s at 8 fps; a window spans 16 frames (2 s)
    frames = np.random.default_rng(3).integers(0, 256, size=(40, 32, 40, 3), dtype=np.uint8)
    write_video(video, frames, fps=8)
    video = str(video)
    rows = _post(client, "/v1/classify", video, windows="1", stride="1", top_k="2").json()
    expected = list(classifier.windows(video, stride=1.0, top_k=2))
    assert len(rows["windows"]) == len(expected) >= 2
    for row, ref in zip(rows["windows"], expected):
        assert row["path"] == Path(video).name
        assert row["start_s"] == pytest.approx(ref.start_s) and row["end_s"] == pytest.approx(
            ref.end_s
        )
        assert [n for n, _ in row["labels"]] == [n for n, _ in ref.labels]
    emb = _post(client, "/v1/embed", video, windows="true", stride="1").json()
    assert len(emb["windows"]) == len(expected) and emb["dim"] == len(
        emb["windows"][0]["embedding"]
    )
    bad = _post(client, "/v1/classify", video, windows="1", stride="-1")
    assert bad.status_code == 422 and "stride" in bad.json()["detail"]
    assert list(spool.iterdir()) == []
