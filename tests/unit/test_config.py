import pytest

from server import create_app
from server.config import Config, ConfigError


@pytest.fixture
def prod_env(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 48)
    monkeypatch.setenv("FIELD_ENCRYPTION_KEYS", "a2V5LWZvci10ZXN0cy1vbmx5LWtleS1mb3ItdGVzdHM=")
    monkeypatch.delenv("DEV_LOGIN", raising=False)


def test_production_refuses_default_secret(prod_env, monkeypatch):
    monkeypatch.delenv("SECRET_KEY")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app(Config())


def test_production_refuses_dev_login(prod_env, monkeypatch):
    monkeypatch.setenv("DEV_LOGIN", "1")
    with pytest.raises(ConfigError, match="DEV_LOGIN"):
        create_app(Config())


def test_production_starts_with_safe_settings(prod_env, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/p.db")
    app = create_app(Config())
    assert app.config["DEV_LOGIN"] is False


def test_default_database_is_sqlite_in_instance_folder(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("APP_ENV", raising=False)
    app = create_app(Config())
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("instance/gongzhi.sqlite3")


def test_photo_storage_must_be_known_and_a_bucket_named(monkeypatch):
    monkeypatch.setenv("MEDIA_STORAGE", "ftp")
    with pytest.raises(ConfigError, match="MEDIA_STORAGE"):
        Config().validate()
    monkeypatch.setenv("MEDIA_STORAGE", "S3")
    monkeypatch.delenv("S3_BUCKET", raising=False)
    with pytest.raises(ConfigError, match="S3_BUCKET"):
        Config().validate()
    monkeypatch.setenv("S3_BUCKET", "photos")
    Config().validate()
    monkeypatch.delenv("MEDIA_STORAGE")
    assert Config().MEDIA_STORAGE == "local"
