"""The subcommands end to end on tiny checkpoints and videos written by the tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from _cli_helper import LABELS, make_assets
from PIL import Image

from videomae.cli.commands import _optional
from videomae.cli.contract import CLIError
from videomae.cli.main import main
from videomae.data.lists import read_samples
from videomae.inference.embeddings_io import load_embeddings
from videomae.viz.picture import grid_size
from videomae.viz.reconstruction import ROW_KINDS


@pytest.fixture(scope="module")
def assets(tmp_path_factory) -> dict:
    return make_assets(tmp_path_factory.mktemp("cli"))


def test_classify_json_in_process(assets, capsys) -> None:
    rc = main(["classify", *assets["videos"][:2], "--model", assets["clf"], "--json", "-q"])
    assert rc == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.strip()]
    assert [x["path"] for x in lines] == assets["videos"][:2]
    for x in lines:
        assert len(x["top_k"]) == 3  # top-5 capped at 3 classes
        assert {t["label"] for t in x["top_k"]} == set(LABELS)
        scores = [t["score"] for t in x["top_k"]]
        assert scores == sorted(scores, reverse=True)
        assert sum(scores) == pytest.approx(1.0, abs=1e-4)


def test_classify_bad_file_is_skipped_and_exit_status_is_1(assets, capsys) -> None:
    missing = str(assets["root"] / "missing.mp4")
    v0, v1 = assets["videos"][:2]
    args = ["classify", v0, missing, v1, "--model", assets["clf"], "--top-k", "2"]
    rc = main([*args, "--clips", "2", "--crops", "3", "--batch-size", "4"])
    captured = capsys.readouterr()
    assert rc == 1
    assert captured.out.count("  1. ") == 2 and captured.out.count("  2. ") == 2  # human table
    assert v0 in captured.out and v1 in captured.out and missing not in captured.out
    assert f"error: {missing}: " in captured.err
    assert "1 of 3 videos failed" in captured.err


def test_embed_npy_and_safetensors(assets, tmp_path, capsys) -> None:
    videos = assets["videos"]
    out = tmp_path / "feats.npy"
    assert main(["embed", *videos, "--model", assets["clf"], "--out", str(out), "-q"]) == 0
    feats = np.load(out)
    side = json.loads(out.with_suffix(".json").read_text())
    assert feats.shape == (3, 32) and feats.dtype == np.float32
    assert side["paths"] == videos and side["failures"] == [] and side["dim"] == 32

    out2 = tmp_path / "feats.safetensors"
    missing = str(tmp_path / "gone.mp4")
    rc = main(
        ["embed", videos[0], missing, videos[2], "--model", assets["pre"], "--out", str(out2)]
    )
    assert rc == 1
    assert f"{missing}: " in capsys.readouterr().err
    got, paths = load_embeddings(out2)
    assert got.shape == (2, 32) and paths == [videos[0], videos[2]]

    assert main(["embed", videos[0], "--model", assets["clf"], "--out", "x.csv"]) == 2


def test_reconstruct_png_and_gif_sizes(assets, tmp_path, capsys) -> None:
    png = tmp_path / "recon.png"
    rc = main(
        ["reconstruct", assets["videos"][0], "--model", assets["pre"], "--out", str(png)]
        + ["--mask-ratio", "0.75", "--seed", "1", "--start-frame", "2", "--sampling-rate", "2"]
    )
    assert rc == 0, capsys.readouterr().err
    with Image.open(png) as im:
        # 5 rows, T=4 frames of 32x32 enlarged 4x by default, and the error line on top
        assert im.size[1] == grid_size(len(ROW_KINDS), 4, 32, 32, scale=4, note=True)[1]
        assert im.size[0] >= grid_size(len(ROW_KINDS), 4, 32, 32, scale=4)[0]
    gif = tmp_path / "recon.gif"
    assert (
        main(["reconstruct", assets["videos"][1], "--model", assets["pre"], "--out", str(gif)]) == 0
    )
    with Image.open(gif) as im:
        assert im.n_frames == 4
    assert main(["reconstruct", assets["videos"][0], "--model", assets["clf"]]) == 2  # no decoder
    assert "decoder" in capsys.readouterr().err
    # random masking (per tubelet) draws a different mask than tube masking with the same seed
    rand = tmp_path / "rand.png"
    args = ["reconstruct", assets["videos"][0], "--model", assets["pre"], "--mask-ratio", "0.5"]
    assert main([*args, "--out", str(png)]) == 0
    assert main([*args, "--out", str(rand), "--mask-kind", "random"]) == 0
    assert png.read_bytes() != rand.read_bytes()
    from videomae.inference.reconstruct import reconstruct_video

    with pytest.raises(ValueError, match="mask_kind must be"):
        reconstruct_video(assets["pre"], assets["videos"][0], rand, mask_kind="running_cell")


def test_evaluate_list_file_writes_summary(assets, tmp_path, capsys) -> None:
    root = assets["root"]
    lines = [f"videos/{LABELS[i]}/v{i}.mp4 {i}" for i in range(3)] + ["videos/missing.mp4 1"]
    listfile = root / "test.txt"
    listfile.write_text("\n".join(lines) + "\n")
    out = tmp_path / "eval"
    rc = main(
        ["evaluate", str(listfile), "--model", assets["clf"], "--out", str(out)]
        + ["--clips", "2", "--crops", "3", "--batch-size", "5", "-q"]
    )
    captured = capsys.readouterr()
    assert rc == 1  # a missing file is reported, the others evaluated, and the exit status says so
    assert "1 of 4 videos failed" in captured.err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["num_evaluated"] == 3 and summary["num_failed"] == 1
    assert summary["views_run"] == 3 * 2 * 3
    assert "top-1" in captured.out and "mean class" in captured.out
    assert "missing.mp4" in captured.err
    assert (out / "predictions.csv").is_file()

    # a folder per class: names are mapped onto the model's labels
    rc = main(["evaluate", str(root / "videos"), "--model", assets["clf"], "-q"])
    assert rc == 0 and "3 evaluated, 0 failed" in capsys.readouterr().out
    assert main(["evaluate", str(root / "nope.txt"), "--model", assets["clf"]]) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_missing_optional_module_is_a_clear_error() -> None:
    with pytest.raises(CLIError, match="not in this version"):
        _optional("videomae.no_such_module", "run", "`videomae x` needs videomae/no_such_module")


def test_convert_then_classify(assets, tmp_path, capsys) -> None:
    from test_checkpoints_convert import make_original

    src = tmp_path / "ft.pth"
    torch.save({"model": make_original("mean", labels=3)}, src)
    labels = tmp_path / "labels.txt"
    labels.write_text("a\nb\nc\n")
    out = tmp_path / "hf"
    rc = main(
        ["convert", str(src), str(out), "--label-file", str(labels)]
        + ["--num-frames", "4", "--image-size", "32", "--num-heads", "4"]
    )
    assert rc == 0, capsys.readouterr().err
    config = json.loads((out / "config.json").read_text())
    assert config["id2label"] == {"0": "a", "1": "b", "2": "c"} and config["num_frames"] == 4
    capsys.readouterr()
    assert main(["classify", assets["videos"][0], "--model", str(out), "--json", "-q"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert {t["label"] for t in json.loads(line)["top_k"]} == {"a", "b", "c"}
    assert main(["convert", str(tmp_path / "nope.pth"), str(out)]) == 2


def test_synth_writes_lists(tmp_path, capsys) -> None:
    pytest.importorskip("videomae.data.synthetic")
    out = tmp_path / "synth"
    rc = main(
        ["synth", str(out), "--seed", "3", "--num-unlabeled", "2", "--num-train", "2"]
        + ["--num-val", "1", "--num-test", "2", "--num-frames", "4", "--size", "32"]
        + ["--workers", "1"]
    )
    assert rc == 0
    train = (out / "train.txt").read_text().splitlines()
    assert len(train) == 2 and all((out / line.split()[0]).is_file() for line in train)
    assert (out / "labels.txt").is_file()


def test_classify_embed_and_reconstruct_accept_folders(assets, tmp_path, capsys) -> None:
    folder = str(assets["root"] / "videos")
    assert main(["classify", folder, "--model", assets["clf"], "--json", "-q"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.strip()]
    assert [x["path"] for x in lines] == sorted(assets["videos"])  # recursive, sorted
    rc = main(["classify", folder, "--pattern", "v1*", "--model", assets["clf"], "--json", "-q"])
    assert rc == 0 and capsys.readouterr().out.count('"path"') == 1
    out = tmp_path / "feats.npy"
    assert main(["embed", folder, "--model", assets["clf"], "--out", str(out), "-q"]) == 0
    assert np.load(out).shape == (3, 32)
    pics = tmp_path / "pics"
    assert main(["reconstruct", folder, "--model", assets["pre"], "--out", str(pics)]) == 0
    assert sorted(p.name for p in pics.iterdir()) == ["v0.png", "v1.png", "v2.png"]
    capsys.readouterr()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["classify", str(empty), "--model", assets["clf"]]) == 2
    assert "no videos" in capsys.readouterr().err


def test_unreadable_members_are_listed_and_nothing_embedded_is_an_error(
    assets, tmp_path, capsys
) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.mp4").write_bytes(b"not a video" * 20)
    (bad / "b.avi").write_bytes(b"nor this" * 20)
    out = tmp_path / "none.npy"
    assert main(["embed", str(bad), "--model", assets["clf"], "--out", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert "a.mp4" in err and "b.avi" in err and "nothing written" in err
    assert not out.exists()
    (bad / "c.mp4").write_bytes(Path(assets["videos"][0]).read_bytes())
    pics = tmp_path / "pics"
    assert main(["reconstruct", str(bad), "--model", assets["pre"], "--out", str(pics)]) == 1
    err = capsys.readouterr().err
    assert "a.mp4" in err and "b.avi" in err and "2 of 3 videos failed" in err
    assert [p.name for p in pics.iterdir()] == ["c.png"]


def test_evaluate_labels_are_the_models_by_name(assets, tmp_path, capsys) -> None:
    root = assets["root"]
    names = tmp_path / "names.txt"  # the data's own numbering: 0 jump, 1 walk, 2 run
    names.write_text("jump\nwalk\nrun\n")
    listfile = root / "renumbered.txt"
    listfile.write_text("videos/walk/v0.mp4 1\nvideos/run/v1.mp4 2\nvideos/jump/v2.mp4 0\n")
    samples = read_samples(listfile, label_names=LABELS, label_file=names)
    assert [label for _, label in samples] == [0, 1, 2]  # LABELS = walk, run, jump
    args = ["evaluate", str(listfile), "--model", assets["clf"], "-q"]
    assert main([*args, "--label-file", str(names)]) == 0
    capsys.readouterr()
    listfile.write_text("videos/walk/v0.mp4 0\nvideos/run/v1.mp4 7\n")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "outside 0..2" in err and "v1.mp4 (line 2): 7" in err
    listfile.write_text("videos/walk/v0.mp4 walk\nvideos/run/v1.mp4 sprint\n")
    assert main(args) == 2
    assert "not among the 3 labels" in capsys.readouterr().err
