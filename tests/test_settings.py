"""Settings: defaults < settings.toml < MRECIST_READER_* variables; the file round trip."""

import pytest

from mrecist_reader.core.model import ReadType
from mrecist_reader.settings import (
    InvalidSettings,
    Settings,
    default_database_url,
    load_settings,
    load_user_settings,
    read_settings_file,
    remember_reader,
    save_settings,
    settings_path,
)


def test_defaults():
    settings = load_settings({}, None)
    assert settings == Settings(db_url=default_database_url())
    assert settings.db_url.startswith("sqlite:///")
    assert settings.db_url.endswith("mrecist_reader/reads.db")
    assert (settings.read_type, settings.protocol_profile) == (
        ReadType.CENTRAL,
        "nct06779461",
    )
    assert settings.schema_version == 1


def test_the_default_database_lives_in_the_user_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_database_url() == f"sqlite:///{tmp_path}/mrecist_reader/reads.db"


def test_the_file_overrides_defaults():
    text = 'schema_version = 1\nreader_id = "R7"\nread_type = "local"\nblinded_export = true\n'
    settings = load_settings({}, text)
    assert (settings.reader_id, settings.read_type, settings.blinded_export) == (
        "R7",
        ReadType.LOCAL,
        True,
    )


def test_environment_overrides_the_file():
    env = {
        "MRECIST_READER_READER_ID": "R9",
        "MRECIST_READER_DB_URL": "postgresql://db.example/reads",
        "MRECIST_READER_BLINDED_EXPORT": "no",
        "MRECIST_READER_PROTOCOL_PROFILE": "mrecist",
    }
    settings = load_settings(env, 'reader_id = "R7"\nblinded_export = true\n')
    assert settings.reader_id == "R9"
    assert settings.db_url == "postgresql://db.example/reads"
    assert settings.blinded_export is False
    assert settings.protocol_profile == "mrecist"


def test_a_bad_read_type_names_the_variable_and_the_choices():
    with pytest.raises(
        InvalidSettings,
        match=r"\$MRECIST_READER_READ_TYPE: 'blinded' .*central or local",
    ):
        load_settings({"MRECIST_READER_READ_TYPE": "blinded"}, None)


def test_a_bad_file_names_the_file():
    with pytest.raises(InvalidSettings, match=r"settings\.toml: not valid TOML"):
        load_settings({}, "reader_id = ")


def test_a_newer_file_is_refused():
    with pytest.raises(InvalidSettings, match="schema_version 2 is newer"):
        load_settings({}, "schema_version = 2\n")


def test_a_non_text_value_is_refused():
    with pytest.raises(InvalidSettings, match="reader_id: expected text"):
        load_settings({}, "reader_id = 7\n")


def test_saved_settings_load_back(tmp_path):
    path = tmp_path / "settings.toml"
    settings = Settings(
        db_url="sqlite:///x.db", reader_id='R "1"\\ä', read_type=ReadType.LOCAL
    )
    save_settings(settings, path)
    assert load_settings({}, read_settings_file(path)) == settings


def test_remember_reader_keeps_other_values_and_the_default_db_unpinned():
    save_settings(load_settings({}, 'protocol_profile = "mrecist"\n'))
    remember_reader("R3", ReadType.LOCAL)
    text = settings_path().read_text(encoding="utf-8")
    assert "db_url" not in text
    settings = load_user_settings()
    assert (settings.reader_id, settings.read_type, settings.protocol_profile) == (
        "R3",
        ReadType.LOCAL,
        "mrecist",
    )


def test_no_settings_file_is_none(tmp_path):
    assert read_settings_file(tmp_path / "absent.toml") is None
