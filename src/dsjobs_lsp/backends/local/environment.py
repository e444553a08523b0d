"""What the local backend's daemon and its jobs inherit from the environment: an allow-list, nothing else.

A daemon started on demand by a CLI or the language server would otherwise carry that shell's
``YC_TOKEN``, ``YC_IAM_TOKEN`` and every other variable into every job. Only what running programs and
building Python environments need passes: the locale, the user's paths, interpreter managers (pyenv), uv's
and pip's index and cache settings, TLS certificates, proxies and GPU selection.
"""

from __future__ import annotations

from collections.abc import Mapping

INHERITED_NAMES = frozenset(
    {
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "SHELL",
        "LANG",
        "LANGUAGE",
        "TZ",
        "TMPDIR",
        "XDG_CACHE_HOME",
        "XDG_CONFIG_HOME",
        "XDG_DATA_HOME",
        "XDG_RUNTIME_DIR",
        "PYENV_ROOT",
        "PYENV_VERSION",
        "UV_CACHE_DIR",
        "UV_PYTHON_INSTALL_DIR",
        "UV_INDEX_URL",
        "UV_EXTRA_INDEX_URL",
        "UV_DEFAULT_INDEX",
        "UV_INDEX",
        "UV_FIND_LINKS",
        "UV_NATIVE_TLS",
        "UV_OFFLINE",
        "PIP_INDEX_URL",
        "PIP_EXTRA_INDEX_URL",
        "PIP_FIND_LINKS",
        "PIP_TRUSTED_HOST",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "no_proxy",
        "CUDA_VISIBLE_DEVICES",
        "LD_LIBRARY_PATH",
    }
)
"""Variables passed on by name (jobs and the daemon)."""

INHERITED_PREFIXES = ("LC_",)
"""Variables passed on by prefix (the locale categories)."""

DAEMON_ONLY_NAMES = frozenset({"DSJOBS_LOCAL_DATA_DIR", "DSJOBS_LOCAL_OFFLINE"})
"""The daemon's own settings (never a job's)."""


def _inherited(name: str) -> bool:
    return name in INHERITED_NAMES or name.startswith(INHERITED_PREFIXES)


def inherited_environment(source: Mapping[str, str]) -> dict[str, str]:
    """The part of ``source`` a job inherits (before its config's variables are added)."""
    return {name: value for name, value in source.items() if _inherited(name)}


def daemon_environment(source: Mapping[str, str]) -> dict[str, str]:
    """The environment to start the local backend daemon with (no credentials, no token)."""
    env = inherited_environment(source)
    env.update({name: source[name] for name in DAEMON_ONLY_NAMES if name in source})
    return env
