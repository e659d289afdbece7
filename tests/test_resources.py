"""resources.py: the three places resources are found in, and the profile loader."""

import sys
from pathlib import Path

import pytest

from mrecist_reader import resources
from mrecist_reader.core.errors import InvalidProfile


def make_root(base: Path, content: str) -> Path:
    root = base / "resources" / "protocols"
    root.mkdir(parents=True)
    (root / "only_here.toml").write_text(content, encoding="utf-8")
    return base


def test_frozen_build_uses_meipass_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frozen = make_root(tmp_path / "bundle", "frozen")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(frozen), raising=False)
    found = resources.resource_path("protocols", "only_here.toml")
    assert found.read_text(encoding="utf-8") == "frozen"
    assert resources.resource_path("protocols", "nct06779461.toml").is_file()


def test_installed_wheel_copy_is_used_before_the_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "site-packages" / "mrecist_reader"
    make_root(package, "wheel")
    monkeypatch.setattr(resources, "_PACKAGE_DIR", package)
    found = resources.resource_path("protocols", "only_here.toml")
    assert found == package / "resources" / "protocols" / "only_here.toml"


def test_source_checkout_resources_are_found(repo_root: Path) -> None:
    found = resources.resource_path("protocols", "mrecist.toml")
    assert found == repo_root / "resources" / "protocols" / "mrecist.toml"


def test_a_missing_resource_lists_the_known_names() -> None:
    with pytest.raises(
        FileNotFoundError, match=r"known: mrecist\.toml, nct06779461\.toml"
    ):
        resources.resource_path("protocols", "nope.toml")


def test_profile_names_are_the_shipped_profiles() -> None:
    assert resources.profile_names() == ("mrecist", "nct06779461")


def test_unknown_profile_name_lists_the_known_ones() -> None:
    with pytest.raises(FileNotFoundError, match="known profiles: mrecist, nct06779461"):
        resources.load_profile("recist")


def test_profile_file_path_is_loaded_and_validated(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("schema_version = 1\n", encoding="utf-8")
    with pytest.raises(InvalidProfile, match=r"broken\.toml: invalid protocol profile"):
        resources.load_profile(str(path))


def test_missing_profile_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not found"):
        resources.load_profile(str(tmp_path / "absent.toml"))
