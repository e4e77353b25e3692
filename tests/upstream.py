"""Third-party test suites, taken at test time from the installed packages' source distributions.

Nothing of them is copied into this repository: `source_tests` downloads the sdist of the version that is
installed (pip download, cached per version under the pytest cache), extracts the files asked for, and
`run_module` runs every test function of a module in this process (so an in-memory database can be
shared with it), with names the caller substitutes.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import importlib.util
import inspect
import subprocess
import sys
import tarfile
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from _pytest.mark.structures import ParameterSet


def source_tests(config: pytest.Config, distribution: str, members: list[str]) -> Path:
    """The directory holding `members` (paths inside the sdist) of the installed `distribution`'s sdist."""
    version = importlib.metadata.version(distribution)
    assert config.cache is not None
    root = config.cache.mkdir(f"upstream-{distribution}-{version}")
    name = f"{distribution.replace('-', '_')}-{version}"
    unpacked = root / name
    if not all((unpacked / member).exists() for member in members):
        archive = next(iter(root.glob("*.tar.gz")), None)
        if archive is None:
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                            f"{distribution}=={version}", "--dest", str(root)], check=True)
            archive = next(root.glob("*.tar.gz"))
        with tarfile.open(archive) as tar:
            wanted = [tar.getmember(f"{name}/{member}") for member in members]
            tar.extractall(root, members=wanted, filter="data")
    return unpacked


def load(path: Path, package_root: Path) -> ModuleType:
    """Import the test module at path as part of the package tree under package_root (its own imports work)."""
    parts = path.relative_to(package_root).with_suffix("").parts
    # Their packages join ours by path (both top packages are called "tests"): tests.unit_tests and below
    # are theirs, found in their tree.
    for depth in range(1, len(parts)):
        package = ".".join(parts[:depth])
        if package not in sys.modules:
            sys.modules[package] = ModuleType(package)
        folder = str(package_root.joinpath(*parts[:depth]))
        paths = sys.modules[package].__dict__.setdefault("__path__", [])
        if folder not in paths:
            paths.append(folder)
    name = ".".join(parts)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _cases(function: Callable[..., Any]) -> list[dict[str, Any]]:
    """The argument sets of a test function (its parametrize marks; one empty set when it has none)."""
    cases: list[dict[str, Any]] = [{}]
    for mark in getattr(function, "pytestmark", []):
        if mark.name != "parametrize":
            continue
        names = [n.strip() for n in mark.args[0].split(",")] if isinstance(mark.args[0], str) else mark.args[0]
        values = [v.values if isinstance(v, ParameterSet) else v for v in mark.args[1]]
        rows = [dict(zip(names, v if len(names) > 1 else (v,), strict=True)) for v in values]
        cases = [{**case, **row} for case in cases for row in rows]
    return cases


def run_module(module: ModuleType, substitutes: Mapping[str, Any],
               fixtures: Mapping[str, Callable[[], Any]] | None = None,
               skipped: list[str] | None = None,
               after_each: Callable[[], None] | None = None) -> tuple[int, list[str]]:
    """Run every test function of module with names replaced by substitutes: (how many ran, failures).

    fixtures gives the value of each fixture argument by name; a test asking for any other (pytest-mock's
    mocker, say) is named in skipped; after_each runs after every test (a fixture's teardown).
    """
    for name, value in substitutes.items():
        setattr(module, name, value)
    ran, failures = 0, []
    for name, function in sorted(vars(module).items()):
        if not name.startswith("test_") or not inspect.isfunction(function):
            continue
        for case in _cases(function):
            missing = [arg for arg in inspect.signature(function).parameters
                       if arg not in case and arg not in (fixtures or {})]
            if missing:
                if skipped is not None:
                    skipped.append(f"{name} (needs {', '.join(missing)})")
                continue
            ran += 1
            arguments = {**case, **{arg: (fixtures or {})[arg]() for arg in inspect.signature(function).parameters
                                    if arg not in case}}
            try:
                result = function(**arguments)
                if inspect.iscoroutine(result):
                    asyncio.run(result)
            except Exception:  # collected and reported together, as pytest would
                failures.append(f"{module.__name__}.{name}({case}):\n{traceback.format_exc()}")
            finally:
                if after_each is not None:
                    after_each()
    return ran, failures
