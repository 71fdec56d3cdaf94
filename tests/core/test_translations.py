"""The root translation files are generated from the features and complete in German."""

from __future__ import annotations

import json
from pathlib import Path
import subprocess
import sys

from custom_components.hems.features import FEATURES

ROOT = Path(__file__).resolve().parents[2]
INTEGRATION = ROOT / "custom_components" / "hems"


def test_root_files_are_in_sync_with_the_features() -> None:
    """scripts/translations --check passes: nothing stale, no clash, German complete."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "translations"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_every_kind_has_a_menu_label_in_every_language() -> None:
    """The menu shows a translated label for every entry kind."""
    for language in ("en", "de"):
        strings = json.loads((INTEGRATION / "translations" / f"{language}.json").read_text())
        labels = strings["config"]["step"]["user"]["menu_options"]
        assert set(FEATURES) <= set(labels), language
        assert all(labels[kind].strip() for kind in FEATURES)
