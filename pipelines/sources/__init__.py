"""dlt sources: the goszakup OWS API connector."""

from pipelines.sources.goszakup import goszakup_source

__all__ = ["goszakup_source"]
