"""The sandbox HTTP server: the goszakup OWS API contract served over a DuckDB "world" file.

Why: the connector, the tests and the demo must run without a real API token, against data whose
truth is known (the world generator plants it), with the real API's paging, auth, rate limiting
and failure modes. Everything the server says about entities, tables and fields comes from
``pipelines.goszakup_api``.

Served (every API path needs ``Authorization: Bearer <token>``, else 401 with the API's error
shape ``{name, message, code, status, type}``):

* ``GET /v3/<rest path>`` (and ``/v2/...``): keyset pages ``{total, limit, next_page, items}``,
  ``limit`` default and max 500, ``next_page`` a relative path with ``search_after`` (``""`` on the
  last page); ``GET /v3/<rest path>/<id>`` one object or 404; ``GET /v3/refs`` and
  ``GET /v3/refs/<ref>`` the code tables.
* ``GET /v2/journal?date_from=YYYY-MM-DD&date_to=YYYY-MM-DD``: the change journal (both dates
  inclusive), keyset on ``seq``.
* ``POST /v3/graphql``: the schema of :mod:`sandbox.graphql_schema`, ``limit`` at most
  ``max_graphql_limit``, keyset ``after`` on the primary key, ``extensions.pageInfo``.
* ``/_sandbox/*`` admin endpoints (token needed, no rate limit, no faults): ``POST advance``,
  ``GET counts``, ``GET ground-truth``, ``GET|POST faults``, ``GET stats``; ``GET health`` is open.

Design: one read-write DuckDB connection owned by the server; each request uses its own
``con.cursor()``; writes (advance, the ``record_changes`` fault) are serialised by a lock. Pages are
keyset queries (``pk > after ORDER BY pk LIMIT n``), children are loaded with one query per child
table for the whole page, and filtered totals are cached per world generation, so a page costs the
same on page 1 and page 10 000.

Modules: ``http_server`` (the server: plumbing, auth, dispatch), ``rest`` and ``graphql`` (the two
APIs), ``faults_wiring`` (faults that rewrite an answer), ``world_data`` (keyset pages over the
world), ``load`` (rate limit, load statistics), ``replies`` (error and reply shapes).
"""

from sandbox.server.http_server import SandboxServer, run_sandbox
from sandbox.server.load import LoadMeter, TokenBucket
from sandbox.server.replies import ApiError, error_body, normalise_bound
from sandbox.server.world_data import WorldData

__all__ = [
    "ApiError",
    "LoadMeter",
    "SandboxServer",
    "TokenBucket",
    "WorldData",
    "error_body",
    "normalise_bound",
    "run_sandbox",
]
