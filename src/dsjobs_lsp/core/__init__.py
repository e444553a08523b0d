"""The core: config, Python-env analysis, packaging, upload, jobs client, logs, history, auth. No LSP here."""
