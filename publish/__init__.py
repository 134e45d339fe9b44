"""Versioned, immutable, verifiable snapshots of the dataset (see README.md)."""

from publish.snapshot import PublishResult, publish_version
from publish.verify import verify_version

__all__ = ["PublishResult", "publish_version", "verify_version"]
