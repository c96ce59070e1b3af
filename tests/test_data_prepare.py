"""`prepare_dataset` (videomae.data.prepare) and the re-encode of one video
(videomae.video.transcode): geometry, keyframes, streams, frames and timestamps of the outputs;
the list files; resume; refusals before work; per-file failures."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from _dataset_helper import write_hmdb51

from videomae.data.lists import load_samples, read_list_file
from videomae.data.prepare import prepare_dataset
from videomae.data.prepare_plan import MANIFEST_NAME
from videomae.errors import InputError
from videomae.video import transcode
from videomae.video.backend import av
from videomae.video.decode import probe
from videomae.video.transcode import output_size
from videomae.video.write import write_video

SMALL = dict(short_side=32, gop=4, progress=False, workers=1)


def _clip(frames: int = 14, h: int = 48, w: int = 70, seed: int = 0) -> np.ndarray:
    """Moving noise, with a red top third so orientation can be checked after re-encoding."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 200, (h, w, 3), dtype=np.uint8)
    clip = np.stack([np.roll(base, 3 * t, axis=1) for t in range(frames)])
    clip[:, : h // 3] = (255, 0, 0)
    return clip


def _decode(path: Path) -> tuple[list, list[Fraction], list[str]]:
    """(every frame, their seconds from the first frame, the kinds of the file's streams)."""
    with av.open(str(path)) as c:
        kinds = [s.type for s in c.streams]
        stream = c.streams.video[0]
        frames = list(c.decode(stream))
        seconds = [Fraction(f.pts - frames[0].pts) * stream.time_base for f in frames]
        return frames, seconds, kinds


def _with_audio(path: Path, frames: np.ndarray, fps: int = 10) -> None:
    """An mp4 with a video and an AAC audio stream (prepare must drop the audio)."""
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        audio = out.add_stream("aac", rate=16000)
        for i, arr in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(arr, format="rgb24")
            frame.pts = i
            out.mux(video.encode(frame))
        samples = av.AudioFrame.from_ndarray(
            np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
        )
        samples.sample_rate, samples.pts = 16000, 0
        out.mux(audio.encode(samples))
        out.mux(video.encode(None))
        out.mux(audio.encode(None))


@pytest.fixture
def folders(tmp_path: Path) -> Path:
    """Class folders: walk/ (one with audio, one rotated) and run/ (a variable frame rate mkv)."""
    root = tmp_path / "src"
    (root / "walk").mkdir(parents=True)
    (root / "run").mkdir()
    _with_audio(root / "walk" / "a.mp4", _clip())
    write_video(root / "walk" / "rot.mp4", _clip(seed=1), fps=10, rotation=90)
    times = [0, 0.05, 0.2, 0.25, 0.5, 0.55, 0.9, 1.3]
    write_video(root / "run" / "vfr.mkv", _clip(frames=8, seed=2), timestamps=times)
    return root


@pytest.mark.parametrize(
    ("size", "short", "want"),
    [
        ((640, 480), 320, (426, 320)),
        ((480, 640), 320, (320, 426)),
        ((1920, 1080), 320, (568, 320)),
        ((200, 100), 320, (200, 100)),  # never upscaled
        ((121, 91), 320, (120, 90)),  # odd sides lose a pixel, not upscaled
        ((640, 480), 33, (42, 32)),  # an odd short side rounds down to even
    ],
)
def test_output_size(size, short, want) -> None:
    assert output_size(*size, short) == want


def test_outputs_are_small_h264_with_fixed_gop_and_no_audio(folders, tmp_path) -> None:
    result = prepare_dataset(folders, tmp_path / "out", **SMALL)
    assert result.ok and sorted(result.done) == ["run/vfr.mp4", "walk/a.mp4", "walk/rot.mp4"]
    for rel in result.done:
        frames, _, kinds = _decode(tmp_path / "out" / rel)
        assert kinds == ["video"], rel  # audio dropped
        with av.open(str(tmp_path / "out" / rel)) as c:
            assert c.streams.video[0].codec_context.name == "h264"
        assert {f.format.name for f in frames} == {"yuv420p"}
        keys = [i for i, f in enumerate(frames) if f.key_frame]
        assert keys == list(range(0, len(frames), 4)), (rel, keys)
        w, h = frames[0].width, frames[0].height
        assert min(w, h) == 32 and w % 2 == 0 and h % 2 == 0
        assert all(f.rotation == 0 for f in frames)
    a, seconds, _ = _decode(tmp_path / "out" / "walk" / "a.mp4")
    assert len(a) == 14 and (a[0].width, a[0].height) == (46, 32)  # 70 x 48: aspect kept
    assert seconds == [Fraction(i, 10) for i in range(14)]  # the source's 10 fps
    assert probe(tmp_path / "out" / "walk" / "a.mp4").fps == pytest.approx(10)


def test_rotation_applied_to_the_pixels(folders, tmp_path) -> None:
    prepare_dataset(folders, tmp_path / "out", **SMALL)
    frames, _, _ = _decode(tmp_path / "out" / "walk" / "rot.mp4")
    rgb = frames[0].to_ndarray(format="rgb24").astype(int)
    assert rgb.shape[:2] == (46, 32)  # 48 x 70 stored, displayed turned: portrait
    # stored with a red top third; shown turned 90 degrees counter-clockwise: red on the left
    left, right = rgb[:, :8].mean(axis=(0, 1)), rgb[:, -8:].mean(axis=(0, 1))
    assert left[0] > 200 and left[1] < 60 and not (right[0] > 200 and right[1] < 60)


def test_frame_count_and_variable_timestamps_kept(folders, tmp_path) -> None:
    prepare_dataset(folders, tmp_path / "out", **SMALL)
    src, src_seconds, _ = _decode(folders / "run" / "vfr.mkv")
    out, out_seconds, _ = _decode(tmp_path / "out" / "run" / "vfr.mp4")
    assert len(out) == len(src) == 8
    assert out_seconds == src_seconds
    assert [float(t) for t in src_seconds] == [0, 0.05, 0.2, 0.25, 0.5, 0.55, 0.9, 1.3]


def test_lists_point_at_the_outputs_with_the_same_labels(folders, tmp_path) -> None:
    dst = tmp_path / "out"
    result = prepare_dataset(folders, dst, **SMALL)
    assert result.lists == [dst / "src.txt"] and result.labels == [dst / "labels.txt"]
    before, names = load_samples(folders, labeled=True)
    after, new_names = load_samples(dst / "src.txt", labeled=True)  # what finetune reads
    assert new_names == names == ["run", "walk"]
    assert all(Path(s.path).is_file() and s.path.startswith(str(dst)) for s in after)
    pairs = {Path(s.path).relative_to(folders).with_suffix(".mp4"): s.label for s in before}
    assert {Path(s.path).relative_to(dst): s.label for s in after} == pairs
    assert (dst / "labels.txt").read_text().split() == names


def test_resume_skips_finished_and_redoes_missing_or_partial(folders, tmp_path) -> None:
    dst = tmp_path / "out"
    prepare_dataset(folders, dst, **SMALL)
    again = prepare_dataset(folders, dst, **SMALL)
    assert again.done == [] and len(again.skipped) == 3
    (dst / "walk" / "a.mp4").unlink()
    cut = dst / "run" / "vfr.mp4"
    cut.write_bytes(cut.read_bytes()[:100])  # truncated behind our back
    stale = dst / "walk" / ".rot.mp4.abc123.tmp"  # what a killed writer leaves
    stale.write_bytes(b"half a video")
    third = prepare_dataset(folders, dst, **SMALL)
    assert sorted(third.done) == ["run/vfr.mp4", "walk/a.mp4"] and third.skipped == ["walk/rot.mp4"]
    assert not stale.exists()
    assert len(_decode(cut)[0]) == 8


def test_changed_settings_refused_unless_forced(folders, tmp_path) -> None:
    dst = tmp_path / "out"
    prepare_dataset(folders, dst, **SMALL)
    with pytest.raises(InputError, match="other settings.*--force"):
        prepare_dataset(folders, dst, **{**SMALL, "gop": 8})
    forced = prepare_dataset(folders, dst, **{**SMALL, "gop": 8}, force=True)
    assert len(forced.done) == 3
    frames, _, _ = _decode(dst / "walk" / "a.mp4")
    assert [i for i, f in enumerate(frames) if f.key_frame] == [0, 8]


def test_source_is_never_overwritten(folders, tmp_path) -> None:
    with pytest.raises(InputError, match="inside the source folder"):
        prepare_dataset(folders, folders / "walk", **SMALL)
    with pytest.raises(InputError, match="inside the source folder"):
        prepare_dataset(folders, folders, **SMALL)
    listed = folders / "walk" / "list.txt"
    listed.write_text("a.mp4 0\nrot.mp4 1\n")
    with pytest.raises(InputError, match="folder of the source videos"):
        prepare_dataset(listed, folders / "walk", **SMALL)
    assert sorted(p.name for p in (folders / "walk").iterdir()) == ["a.mp4", "list.txt", "rot.mp4"]


def test_two_inputs_for_one_output_refused_before_work(folders, tmp_path) -> None:
    write_video(folders / "walk" / "a.avi", _clip(frames=4))
    with pytest.raises(InputError, match="same output"):
        prepare_dataset(folders, tmp_path / "out", **SMALL)
    assert not (tmp_path / "out").exists()


def test_a_file_someone_else_put_in_dst_is_refused(folders, tmp_path) -> None:
    mine = tmp_path / "out" / "walk" / "a.mp4"
    mine.parent.mkdir(parents=True)
    mine.write_bytes(b"my own file")
    with pytest.raises(InputError, match="not written by videomae prepare"):
        prepare_dataset(folders, tmp_path / "out", **SMALL)
    assert mine.read_bytes() == b"my own file"
    assert not (tmp_path / "out" / MANIFEST_NAME).exists()  # refused before anything was written


def test_corrupt_input_reported_and_the_rest_prepared(folders, tmp_path) -> None:
    (folders / "run" / "broken.avi").write_bytes(b"\x00not a video" * 40)
    heard = []
    result = prepare_dataset(
        folders, tmp_path / "out", **SMALL, on_failure=lambda s, r: heard.append((s, r))
    )
    assert len(result.done) == 3 and result.left_out == 1
    assert [Path(s).name for s, _ in result.failed] == ["broken.avi"] and heard == result.failed
    assert "FFmpeg cannot open it" in result.failed[0][1]
    listed = read_list_file(tmp_path / "out" / "src.txt", tmp_path / "out", ["run", "walk"])
    assert len(listed) == 3 and not any("broken" in s.path for s in listed)


def test_interrupt_leaves_no_partial_output(folders, tmp_path, monkeypatch) -> None:
    def interrupted(file, src, settings, tag):
        file.write(b"\x00" * 1000)  # half written when Ctrl-C comes
        raise KeyboardInterrupt

    monkeypatch.setattr(transcode, "_encode_into", interrupted)
    with pytest.raises(KeyboardInterrupt):
        prepare_dataset(folders, tmp_path / "out", **SMALL)
    left = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert [p.name for p in left] == [MANIFEST_NAME]


def test_ucf101_split_files(tmp_path) -> None:
    videos, splits = tmp_path / "UCF-101", tmp_path / "ucfTrainTestlist"
    splits.mkdir()
    (splits / "classInd.txt").write_text("1 Archery\n2 Bowling\n")
    rows = {"Archery": ["v_Archery_g01_c01", "v_Archery_g02_c01"], "Bowling": ["v_Bowling_g01_c01"]}
    for cls, names in rows.items():
        for i, name in enumerate(names):
            (videos / cls).mkdir(parents=True, exist_ok=True)
            write_video(videos / cls / f"{name}.avi", _clip(frames=6, seed=i))
    (splits / "trainlist01.txt").write_text(
        "Archery/v_Archery_g01_c01.avi 1\nBowling/v_Bowling_g01_c01.avi 2\n"
    )
    (splits / "testlist01.txt").write_text("Archery/v_Archery_g02_c01.avi\n")
    dst = tmp_path / "prepared"
    result = prepare_dataset(
        [splits / "trainlist01.txt", splits / "testlist01.txt"], dst, root=videos, **SMALL
    )
    # renamed: a file named trainlist01.txt would be read as a UCF101 split file (1-based)
    assert result.lists == [dst / "trainlist01_list.txt", dst / "testlist01_list.txt"]
    assert (dst / "trainlist01_list.txt").read_text() == (
        "Archery/v_Archery_g01_c01.mp4 Archery\nBowling/v_Bowling_g01_c01.mp4 Bowling\n"
    )
    test, names = load_samples(
        dst / "testlist01_list.txt", labeled=True, label_file=dst / "labels.txt"
    )
    assert names == ["Archery", "Bowling"] and [s.label for s in test] == [0]
    assert Path(test[0].path) == dst / "Archery" / "v_Archery_g02_c01.mp4"


def test_names_with_spaces_are_written_as_indices(tmp_path) -> None:
    (tmp_path / "v").mkdir()
    write_video(tmp_path / "v" / "x.mp4", _clip(frames=4))
    (tmp_path / "v" / "list.txt").write_text("x.mp4 1\n")
    (tmp_path / "names.txt").write_text("air drumming\nabseiling, rope\n")
    dst = tmp_path / "out"
    prepare_dataset(tmp_path / "v" / "list.txt", dst, label_file=tmp_path / "names.txt", **SMALL)
    assert (dst / "list.txt").read_text() == "x.mp4 1\n"
    assert (dst / "labels.txt").read_text() == "air drumming\nabseiling, rope\n"


def test_worker_processes(folders, tmp_path) -> None:
    result = prepare_dataset(folders, tmp_path / "out", **{**SMALL, "workers": 2})
    assert result.ok and len(result.done) == 3
    assert all(len(_decode(tmp_path / "out" / rel)[0]) > 0 for rel in result.done)


def test_hmdb51_split_folder_gives_a_train_and_a_test_list(tmp_path) -> None:
    layout = write_hmdb51(tmp_path / "hmdb")
    dst = tmp_path / "out"
    result = prepare_dataset(layout["splits"], dst, root=layout["videos"], **SMALL)
    assert [p.name for p in result.lists] == ["splits_train.txt", "splits_test.txt"]
    for part, subset in (("train", "train"), ("test", "test")):
        want, names = load_samples(layout["splits"], layout["videos"], labeled=True, subset=subset)
        got, got_names = load_samples(dst / f"splits_{part}.txt", labeled=True)
        assert got_names == names
        assert [Path(s.path).name for s in got] == [Path(w.path).stem + ".mp4" for w in want]
        assert [s.label for s in got] == [w.label for w in want]
        assert all(Path(s.path).is_file() for s in got)
