"""Settings, all read from ``CITYOS_*`` environment variables (see docs/configuration.md)."""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CITYOS_", extra="ignore")

    data_dir: Path = Field(default=Path("data"), description="Directory for the embedded store.")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL. Default: SQLite file `cityos.db` in the data dir. "
        "PostgreSQL: `postgresql+psycopg://user@host:5432/db`.",
    )
    bus_url: str = Field(
        default="memory://",
        description="Event bus. `memory://` (default) is in-process; NATS JetStream "
        "(`nats://host:4222`) arrives with the digital-twin work.",
    )
    mqtt_url: str | None = Field(
        default=None,
        description="MQTT broker for device ingestion, e.g. `mqtt://127.0.0.1:1883` "
        "(read by the digital-twin ingestion; nothing connects while it is unset).",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Signs session cookies. Default: random, kept in `<data dir>/secret_key`.",
    )
    default_locale: str = Field(default="zh_Hans", description="Locale of pages and errors.")
    max_upload_mb: int = Field(default=200, description="Largest accepted upload, in MiB.")
    sqlite_synchronous: str = Field(
        default="FULL", description="SQLite `synchronous` pragma (FULL survives power loss)."
    )
    demo: bool = Field(default=False, description="Demo mode: lists demo accounts on login.")
    base_url: str = Field(
        default="http://127.0.0.1:8000", description="Public base URL, used in DCAT and links."
    )
    master_key: SecretStr | None = Field(
        default=None,
        description="SM4 master key(s) of the envelope encryption: 16 bytes as 32 hex digits or "
        "base64; comma-separated, the first wraps new data keys, the others still unwrap. "
        "Default: random, kept in `<data dir>/master_key`.",
    )
    audit_signing_key_file: Path | None = Field(
        default=None,
        description="PEM file of the SM2 private key that signs audit tree heads. Default: "
        "generated once into `<data dir>/audit_signing_key.pem` (mode 0600).",
    )
    audit_sth_interval: int = Field(
        default=60,
        description="Seconds between signed audit tree heads (a head is signed only when the "
        "log grew); 0 turns the background signer off.",
    )
    incident_detect_interval: int = Field(
        default=60,
        description="Seconds between incident detector runs over the access audit; 0 turns the "
        "background detector off (then run `cityos incidents detect`).",
    )
    incident_spike_window_minutes: int = Field(
        default=10, description="Window of the volume-spike rule, in minutes."
    )
    incident_spike_factor: float = Field(
        default=10.0,
        description="A code's rows (or calls) in a window above this many times its trailing "
        "average per window is a volume spike.",
    )
    incident_spike_min_rows: int = Field(
        default=1000, description="Volume spike: rows in a window never below this floor."
    )
    incident_spike_min_calls: int = Field(
        default=300, description="Volume spike: calls in a window never below this floor."
    )
    incident_baseline_days: int = Field(
        default=7, description="Days of a code's usage averaged into its volume-spike baseline."
    )
    incident_offhours_start: str = Field(
        default="22:00", description="Off hours start (HH:MM, Asia/Shanghai)."
    )
    incident_offhours_end: str = Field(
        default="06:00", description="Off hours end (HH:MM, Asia/Shanghai)."
    )
    incident_offhours_min_rows: int = Field(
        default=1000,
        description="A records pull of at least this many rows off hours or on a non-working "
        "day is an incident (exports always are).",
    )
    incident_failed_codes_threshold: int = Field(
        default=20,
        description="Denied calls with an unknown or invalid code from one ip within the window "
        "that make an incident.",
    )
    incident_failed_codes_window_minutes: int = Field(
        default=5, description="Window of the failed-codes rule, in minutes."
    )
    incident_contact: str = Field(
        default="海口市大数据发展主管部门数据安全事件受理窗口，电话 12345（海口市12345政务服务便民热线）",
        description="Contact printed in breach notices and reports (who people can ask).",
    )
    incident_authority: str = Field(
        default="海口市委网信办、海口市大数据发展主管部门",
        description="Authority that incident reports are addressed to (网信部门/主管部门).",
    )
    incident_reporter: str = Field(
        default="海口市大数据发展主管部门",
        description="Unit that signs incident reports and notices.",
    )
    share_decision_days: int = Field(
        default=10,
        ge=1,
        le=60,
        description="Working days a provider has to answer a 有条件共享 request (国发〔2016〕51号: "
        "10); the due time is the end of that working day, Asia/Shanghai.",
    )
    share_reminder_days: int = Field(
        default=2,
        ge=0,
        le=30,
        description="The provider is reminded when this many working days (or fewer) are left "
        "to answer a share request; 0 turns reminders off.",
    )
    share_deadline_interval: int = Field(
        default=300,
        description="Seconds between background runs of the share-request deadline check "
        "(reminders, escalations); 0 turns the background check off.",
    )

    usage_flush_seconds: float = Field(
        default=5,
        ge=0,
        description="Seconds between writes of the open data usage counts (views, downloads, "
        "API calls) kept in memory; 0 writes them only at shutdown.",
    )

    demand_per_hour: int = Field(
        default=5,
        ge=1,
        description="Demands (数据需求) one IP address may propose per hour; more get 429.",
    )
    demand_answer_days: int = Field(
        default=10,
        ge=1,
        le=60,
        description="Working days a department should take to answer a demand (the public "
        "statistics count the answers within it).",
    )

    code_rotation_overlap_hours: int = Field(
        default=24,
        description="Hours an exchange authorization code keeps working after it was rotated "
        "(the overlap in which clients switch to the new code).",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis for state shared by web worker processes, e.g. "
        "`redis://127.0.0.1:6379/0`: the per-code rate limits of the exchange. Unset: each "
        "process keeps its own token buckets.",
    )
    open_anon_per_minute: int = Field(
        default=60,
        description="Open data API calls per minute allowed to one client IP without a key.",
    )
    open_anon_per_day: int = Field(
        default=2000,
        description="Open data API calls per day (Asia/Shanghai) allowed to one client IP "
        "without a key.",
    )
    open_cache_seconds: int = Field(
        default=30,
        description="Seconds an open data API answer is cached in each process (0: no cache).",
    )
    open_cache_entries: int = Field(
        default=2000,
        description="Open data API answers kept per process (least recently used dropped).",
    )

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'cityos.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    def ensure_data_dir(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)

    def resolved_secret_key(self) -> str:
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        self.ensure_data_dir()
        path = self.data_dir / "secret_key"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


def settings_fields() -> dict[str, str]:
    """Environment variable → description, for the documentation test."""
    return {
        f"CITYOS_{name.upper()}": (field.description or "")
        for name, field in Settings.model_fields.items()
    }
