"""Where jobs run: `cloud` (Yandex Cloud DataSphere over TLS) or `local` (embedded server on 127.0.0.1).

Both expose the same gRPC API; the core talks to either through an `Endpoints` value.
"""
