"""`python -m dsjobs_lsp` runs the language server over stdio."""

from dsjobs_lsp.server.main import main

if __name__ == "__main__":
    main()
