"""The runner's config: loaded again whenever the file changes on disk (or on SIGHUP)."""

from __future__ import annotations

from pathlib import Path

from callback_sheets.config import Config, load_config


class ConfigReloader:
    """Loads the config file, and loads it again whenever the file changes on disk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: tuple[int, int] | None = None
        self._config: Config | None = None

    def __call__(self) -> Config:
        try:
            st = self.path.stat()
            seen: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
        except OSError:
            seen = None
        if self._config is not None and seen is not None and seen == self._seen:
            return self._config
        config = load_config(self.path)
        self._seen, self._config = seen, config
        return config

    def force(self) -> None:
        """Load the file again at the next call, changed or not (SIGHUP)."""
        self._config = None
