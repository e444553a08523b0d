"""What the server remembers between requests: the client's options and settings, and the OAuth token.

The token lives here only (memory), is registered with the core's redaction so it never reaches a log line,
and is handed to the core inside `Settings` (a `SecretStr`).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from dsjobs_lsp.server.protocol import ServerOptions

if TYPE_CHECKING:
    from dsjobs_lsp.core.settings import Settings

_SECTIONS = ("dsjobs", "datasphere")


class Session:
    """Options from `initialize`, updated by `workspace/didChangeConfiguration`, plus the token."""

    def __init__(self) -> None:
        self.options = ServerOptions()
        self._token: SecretStr | None = None
        self.generation = 0  # bumped whenever settings or the token change

    def initialize(self, initialization_options: Any) -> None:
        """Take the client's `initializationOptions` (unknown keys ignored)."""
        if isinstance(initialization_options, dict):
            self.options = ServerOptions.model_validate(initialization_options)
            self.generation += 1

    def change_settings(self, settings: Any) -> None:
        """Apply `workspace/didChangeConfiguration` settings: present keys replace, `null` resets."""
        if not isinstance(settings, dict):
            return
        section = next(
            (settings[name] for name in _SECTIONS if isinstance(settings.get(name), dict)), settings
        )
        changes = ServerOptions.model_validate(section).model_dump(exclude_unset=True)
        changes.pop("storage_path", None)
        self.options = self.options.model_copy(update=changes)
        self.generation += 1

    def set_token(self, token: str) -> None:
        """Keep the OAuth token in memory and make sure it is masked in every log line."""
        from dsjobs_lsp.core.auth.redaction import register_secret

        register_secret(token)
        self._token = SecretStr(token)
        self.generation += 1

    def remove_token(self) -> None:
        """Forget the OAuth token."""
        self._token = None
        self.generation += 1

    async def settings(self) -> Settings:
        """The core's `Settings`: client options over env vars over the user config file."""
        from dsjobs_lsp.core.settings import load_settings

        options = self.options
        return await asyncio.to_thread(
            load_settings,
            backend=options.backend,
            project_id=options.project_id,
            local_data_dir=options.local_data_dir,
            state_dir=options.storage_path,
            yc_path=options.yc_path,
            service_account_key_file=options.service_account_key_file,
            oauth_token=self._token,
        )
