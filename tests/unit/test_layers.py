"""The layer contract of DESIGN.md: layers import downward only (import-linter)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_layers_import_downward_only() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([str(lint)], cwd=root, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:]
