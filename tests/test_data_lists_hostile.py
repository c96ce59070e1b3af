"""Broken and odd list files: BOM, CRLF, tabs, binary, bad labels, paths escaping the root, lists
whose files are all missing; and property-based tests: any bytes either parse or raise our own
InputError (never an unrelated exception)."""

from __future__ import annotations

import codecs
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from videomae.data.labels import read_label_names
from videomae.data.lists import load_samples, read_list_file, read_samples
from videomae.errors import InputError

LIST_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _write(tmp_path: Path, data: bytes, name: str = "list.txt") -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def test_bom_crlf_tabs_and_spaces_parse_alike(tmp_path: Path) -> None:
    plain = read_list_file(_write(tmp_path, b"a.mp4 0\nb.mp4 1\n"), root="/r")
    variants = [
        codecs.BOM_UTF8 + b"a.mp4 0\nb.mp4 1\n",
        b"a.mp4 0\r\nb.mp4 1\r\n",
        b"a.mp4\t0\nb.mp4\t\t1\n",
        codecs.BOM_UTF8 + b"a.mp4,0\r\nb.mp4 ,1\r\n",
    ]
    for i, data in enumerate(variants):
        got = read_list_file(_write(tmp_path, data, f"v{i}.txt"), root="/r")
        assert [(s.path, s.label) for s in got] == [(s.path, s.label) for s in plain], data
    names = _write(tmp_path, codecs.BOM_UTF8 + b"run\r\njump\r\n", "labels.txt")
    assert read_label_names(names) == ["run", "jump"]  # the BOM is not part of the first name


@pytest.mark.parametrize(
    "data",
    [b"\x00\x01\x02binary\xff", b"a.mp4 0\n\x89PNG\r\n\x1a\n\x00\x00", b"ok.mp4 0\n\xff\xfe\x00"],
)
def test_binary_list_files_are_refused_naming_the_line(tmp_path: Path, data: bytes) -> None:
    p = _write(tmp_path, data)
    with pytest.raises(InputError, match=rf"{p}:\d+: data list is not UTF-8 text"):
        read_list_file(p)
    with pytest.raises(InputError, match="label file is not UTF-8"):
        read_label_names(p)


def test_utf16_lists_are_refused_with_the_fix(tmp_path: Path) -> None:
    p = _write(tmp_path, "a.mp4 0\n".encode("utf-16"))
    with pytest.raises(InputError, match="UTF-16.*save it as UTF-8"):
        read_list_file(p)


@pytest.mark.parametrize("label", ["x", "1.5", "-", "0x1", "²"])
def test_bad_labels_name_file_and_line(tmp_path: Path, label: str) -> None:
    p = _write(tmp_path, f"a.mp4 0\nb.mp4 {label}\n".encode())
    with pytest.raises(InputError, match=rf"{p}:2: label"):
        read_list_file(p)


def test_labels_outside_the_names_are_refused(tmp_path: Path) -> None:
    p = _write(tmp_path, b"a.mp4 0\nb.mp4 99\n")
    with pytest.raises(InputError, match=rf"{p}:2: label 99 is outside 0..9"):
        read_list_file(p, label_names=[str(i) for i in range(10)])


@pytest.mark.parametrize("path", ["/etc/passwd", "../secret.mp4", "a/../../b.mp4", ".."])
def test_paths_escaping_the_root_are_refused_unless_allowed(tmp_path: Path, path: str) -> None:
    p = _write(tmp_path, f"ok.mp4 0\n{path} 1\n".encode())
    with pytest.raises(InputError, match=rf"{p}:2: path .* outside the dataset root"):
        read_list_file(p, root=tmp_path)
    with pytest.raises(InputError, match="allow-outside-root"):
        read_samples(p)
    assert len(read_list_file(p, root=tmp_path, allow_outside_root=True)) == 2
    inside = _write(tmp_path, b"a/./b/../c.mp4 0\n", "inside.txt")  # stays under the root
    assert read_list_file(inside, root=tmp_path)[0].label == 0


def test_a_list_whose_files_all_miss_is_an_error(tmp_path: Path) -> None:
    p = _write(tmp_path, b"a.mp4 0\nb.mp4 1\n")
    with pytest.raises(InputError, match=r"none of its 2 videos exists"):
        load_samples(p, tmp_path, labeled=True)
    (tmp_path / "b.mp4").write_bytes(b"x")
    assert len(load_samples(p, tmp_path, labeled=True)[0]) == 2  # one present: a normal run


_TEXT = st.text(alphabet=string.printable + "\t\r\ufeff\u00e9\u4e2d,#", max_size=300)


@LIST_SETTINGS
@given(data=st.one_of(_TEXT.map(lambda t: t.encode("utf-8")), st.binary(max_size=300)))
def test_any_bytes_parse_or_raise_input_error(tmp_path: Path, data: bytes) -> None:
    p = _write(tmp_path, data)
    try:
        samples = read_list_file(p, root="/r", allow_outside_root=True)
    except InputError:
        return
    assert samples and all(isinstance(s.path, str) and s.path for s in samples)
    assert all(s.label is None or isinstance(s.label, int) for s in samples)


@LIST_SETTINGS
@given(
    data=st.one_of(_TEXT.map(lambda t: t.encode("utf-8")), st.binary(max_size=200)),
    names=st.lists(st.text(min_size=1, max_size=5), min_size=1, max_size=4),
)
def test_any_bytes_with_label_names_stay_in_range(tmp_path: Path, data: bytes, names) -> None:
    p = _write(tmp_path, data)
    try:
        samples = read_list_file(p, label_names=names, allow_outside_root=True)
    except InputError:
        return
    assert all(s.label is None or 0 <= s.label < len(names) for s in samples)


@LIST_SETTINGS
@given(data=st.one_of(_TEXT.map(lambda t: t.encode("utf-8")), st.binary(max_size=200)))
def test_any_label_file_parses_or_raises_input_error(tmp_path: Path, data: bytes) -> None:
    p = _write(tmp_path, data, "labels.txt")
    try:
        names = read_label_names(p)
    except InputError:
        return
    assert all(isinstance(n, str) for n in names)
