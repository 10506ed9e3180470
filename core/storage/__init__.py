"""Storage backends behind one small interface: local disk (default) and S3/R2."""

# The one home of a store's name as a backend: S3Storage (name "s3") is the "r2" backend that
# settings (MEDIADESK_STORAGE_BACKEND), files' storage_backend, /config and /health name.
_BACKEND_OF_STORE = {"s3": "r2"}


def backend_of_store(name: str) -> str:
    """The backend ("local", "r2") a store's `name` stands for."""
    return _BACKEND_OF_STORE.get(name, name)
