"""goszakup open data: ingestion (dlt), orchestration (Dagster) and the sandbox API."""
