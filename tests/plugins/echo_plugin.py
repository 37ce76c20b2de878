"""Make the in-repo ``alertrouter_echo`` plugin visible as an installed distribution, for a while.

    from plugins.echo_plugin import installed_echo_plugin

    def test_x(tmp_path):
        with installed_echo_plugin(tmp_path) as echo:   # the imported alertrouter_echo module
            ...  # entry_points(group="alertrouter.notifiers") now lists "echo"

It copies the package and writes a ``.dist-info`` (METADATA, entry_points.txt) into ``tmp_path``,
puts that on sys.path, and undoes both on exit, so nothing leaks into other tests. The real
alternative, ``pip install tests/plugins/alertrouter_echo``, changes the venv for good.
"""

from __future__ import annotations

import importlib
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

__all__ = ["ECHO_PROJECT", "installed_echo_plugin"]

ECHO_PROJECT = Path(__file__).parent / "alertrouter_echo"
_MODULE = "alertrouter_echo"
_METADATA = "Metadata-Version: 2.1\nName: alertrouter-echo\nVersion: 0.1.0\n"
_ENTRY_POINTS = "[alertrouter.notifiers]\necho = alertrouter_echo:EchoNotifier\n"


@contextmanager
def installed_echo_plugin(tmp_path: Path) -> Iterator[ModuleType]:
    """Within the block, ``alertrouter_echo`` is importable and its entry point registered."""
    site = tmp_path / "echo-site"
    shutil.copytree(ECHO_PROJECT / _MODULE, site / _MODULE)
    dist_info = site / "alertrouter_echo-0.1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(_METADATA)
    (dist_info / "entry_points.txt").write_text(_ENTRY_POINTS)
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    try:
        yield importlib.import_module(_MODULE)
    finally:
        sys.path.remove(str(site))
        sys.modules.pop(_MODULE, None)
        importlib.invalidate_caches()
