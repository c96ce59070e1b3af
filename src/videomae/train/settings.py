"""Run settings files: ``--config FILE`` (YAML or JSON) in, the effective settings out.

A settings file maps flag names (``batch_size`` or ``batch-size``) to values, exactly what the
flags take. The run writes its effective settings to ``out_dir/config.yaml`` (or
``config.json`` when the file given was JSON, or PyYAML is not installed); passing that file
back with ``--config`` repeats the run. YAML needs PyYAML (``pip install 'videomae[yaml]'``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from videomae._io import atomic_write_text
from videomae.errors import ConfigError

try:  # optional: YAML settings files
    import yaml
except ImportError:  # pragma: no cover - exercised only without the extra
    yaml = None

YAML_SUFFIXES = (".yaml", ".yml")
SETTINGS_NAME = "config"


def settings_format(path: str | Path) -> str:
    """``"yaml"`` or ``"json"`` from the file name; ConfigError for anything else."""
    suffix = Path(path).suffix.lower()
    if suffix in YAML_SUFFIXES:
        return "yaml"
    if suffix == ".json":
        return "json"
    raise ConfigError(f"--config {path}: expected a .yaml, .yml or .json file, got {suffix!r}")


def _need_yaml(path: str | Path) -> Any:
    if yaml is None:
        raise ConfigError(
            f"--config {path} is YAML, which needs PyYAML: pip install 'videomae[yaml]' "
            "(or write the settings as JSON)"
        )
    return yaml


def load_settings(path: str | Path) -> dict[str, Any]:
    """The ``{flag name: value}`` mapping of a YAML or JSON settings file."""
    fmt = settings_format(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"--config {path}: cannot read it ({exc.strerror or exc})") from None
    try:
        data = _need_yaml(path).safe_load(text) if fmt == "yaml" else json.loads(text)
    except (ValueError, getattr(yaml, "YAMLError", ValueError)) as exc:
        raise ConfigError(f"--config {path}: not valid {fmt.upper()}: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"--config {path}: expected a mapping of flag names to values, "
            f"got a {type(data).__name__}"
        )
    return {str(k).replace("-", "_"): v for k, v in data.items()}


def dump_settings(values: dict[str, Any], fmt: str) -> str:
    """``values`` as the text of a settings file in ``fmt`` ("yaml" or "json")."""
    if fmt == "yaml":
        return _need_yaml("config.yaml").safe_dump(values, sort_keys=False)
    return json.dumps(values, indent=2) + "\n"


def save_settings(values: dict[str, Any], out_dir: str | Path, fmt: str | None = None) -> Path:
    """Write ``out_dir/config.<fmt>`` (YAML when PyYAML is installed, else JSON by default)."""
    fmt = fmt or ("yaml" if yaml is not None else "json")
    path = Path(out_dir) / f"{SETTINGS_NAME}.{fmt}"
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(path, dump_settings(values, fmt))
