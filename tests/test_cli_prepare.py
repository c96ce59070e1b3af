"""`videomae prepare`: exit statuses, the summary and list paths it prints, failures on stderr."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from videomae.cli.main import main
from videomae.data.lists import load_samples
from videomae.video.write import write_video

pytest.importorskip("av")


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """videos/a.mp4, videos/sub/b.avi and list.txt naming them with class names."""
    root = tmp_path / "videos"
    (root / "sub").mkdir(parents=True)
    rng = np.random.default_rng(0)
    write_video(root / "a.mp4", rng.integers(0, 255, (6, 40, 52, 3), dtype=np.uint8))
    write_video(root / "sub" / "b.avi", rng.integers(0, 255, (6, 40, 52, 3), dtype=np.uint8))
    (root / "list.txt").write_text("a.mp4 cat\nsub/b.avi dog\n")
    return root


def test_prepare_writes_videos_and_lists(data, tmp_path, capsys) -> None:
    dst = tmp_path / "out"
    args = ["prepare", str(data / "list.txt"), str(dst), "--short-side", "32", "--gop", "4"]
    assert main([*args, "-q", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "prepared 2, skipped 0 (already done), failed 0" in out
    assert f"wrote {dst / 'list.txt'}" in out and f"wrote {dst / 'labels.txt'}" in out
    samples, names = load_samples(dst / "list.txt", labeled=True)
    assert names == ["cat", "dog"]
    assert [Path(s.path).relative_to(dst).as_posix() for s in samples] == ["a.mp4", "sub/b.mp4"]
    assert main([*args, "-q"]) == 0
    assert "prepared 0, skipped 2" in capsys.readouterr().out


def test_failures_are_reported_and_exit_status_1(data, tmp_path, capsys) -> None:
    (data / "bad.mp4").write_bytes(b"\x00broken" * 50)
    (data / "list.txt").write_text("a.mp4 cat\nbad.mp4 dog\nmissing.mp4 dog\n")
    dst = tmp_path / "out"
    assert main(["prepare", str(data / "list.txt"), str(dst), "--short-side", "32", "-q"]) == 1
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if line.startswith("error:")]
    assert any(str(data / "bad.mp4") in e for e in errors)
    assert any(str(data / "missing.mp4") in e and "does not exist" in e for e in errors)
    assert "2 videos failed; 2 list entries left out" in captured.err
    assert (dst / "list.txt").read_text() == "a.mp4 cat\n"


def test_settings_change_and_source_overwrite_are_refused(data, tmp_path, capsys) -> None:
    dst = str(tmp_path / "out")
    assert main(["prepare", str(data / "list.txt"), dst, "-q", "--short-side", "32"]) == 0
    capsys.readouterr()
    assert main(["prepare", str(data / "list.txt"), dst, "-q", "--short-side", "64"]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and "--force" in err
    assert main(["prepare", str(data / "list.txt"), str(data), "-q"]) == 2
    assert "folder of the source videos" in capsys.readouterr().err


def test_ctrl_c_stops_the_workers_and_leaves_no_partial_file(tmp_path) -> None:
    """SIGINT to the command while two worker processes are writing: exit status 130, their
    temp files removed, nothing at an output path."""
    src = tmp_path / "videos"
    src.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        write_video(src / f"v{i}.mp4", rng.integers(0, 255, (40, 240, 320, 3), dtype=np.uint8))
    dst = tmp_path / "out"
    code = (
        "import signal, sys\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"  # `&` jobs ignore SIGINT
        "from videomae.cli.main import main\n"
        f"sys.exit(main(['prepare', {str(src)!r}, {str(dst)!r}, '--workers', '2', "
        "'--preset', 'veryslow', '--short-side', '240', '-q']))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1] / "src"))
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not list(dst.glob(".v*.tmp")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()
    assert b"interrupted" in err and b"Traceback" not in err
    assert sorted(p.name for p in dst.iterdir()) == ["prepare_manifest.jsonl"]
