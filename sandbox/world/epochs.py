"""Epochs of change: updates, deletions and inserts applied to a built world, recorded in the journal."""

from __future__ import annotations

import datetime as dt

import duckdb

from pipelines.goszakup_api import (
    ENTITIES,
)
from sandbox import patterns as pt
from sandbox.world.constants import EPOCH_BASE
from sandbox.world.layout import fmt

# ================================================================================================
# Epochs of change
# ================================================================================================


#: Share of each entity table touched (updated) per epoch, and deleted per epoch (at least 1).
UPDATE_MODULUS = 200  # 1 / 200 = 0.5 %
DELETE_SHARE = 0.0005
INSERT_SHARE = 0.001

SERVICE_TITLES = {
    "trd_buy": "Объявления о закупках",
    "lots": "Лоты",
    "contract": "Договоры",
    "plans": "Пункты плана",
    "trd_app": "Заявки",
    "acts": "Акты",
    "subject": "Участники",
    "rnu": "Реестр недобросовестных участников",
}
#: table -> SET clause (besides the cursor) of an epoch update: a visible change of value.
UPDATE_SET = {
    "trd_buy": "name_ru = name_ru || ' (изм.)', index_date = _chg.ts",
    "lots": "description_ru = description_ru || ' (изм.)', index_date = _chg.ts",
    "contract": "fakt_sum = round(contract_sum, 2), fakt_sum_wnds = round(contract_sum_wnds, 2), "
    "ref_contract_status_id = 3, index_date = _chg.ts",
    "plans": "ref_pln_point_status_id = 3",
    "trd_app": "ref_app_status_id = CASE WHEN ref_app_status_id = 3 THEN 1 ELSE 3 END",
    "acts": "status_id = CASE WHEN status_id = 2 THEN 3 ELSE 2 END",
    "subject": "phone = '+7 700' || lpad(CAST(pid % 10000000 AS VARCHAR), 7, '0')",
    "rnu": "reason = reason || ' (изм.)'",
}


class _Epoch:
    """One epoch of changes on a live connection (temp tables prefixed ``_adv_``)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, epoch: int, seed: int):
        self.con = con
        self.epoch = epoch
        self.seed = seed
        self.base = EPOCH_BASE + dt.timedelta(days=epoch - 1)
        self.clock = 0  # seconds after base, one per change
        self.seq = con.execute("SELECT coalesce(max(seq), 0) FROM journal").fetchone()[0]
        self.stats: dict[str, dict[str, int]] = {}
        self.protected_buys = (
            "(SELECT DISTINCT unnest(from_json(details->'trd_buy_ids', '[\"BIGINT\"]')) FROM ground_truth)"
        )

    def count(self, table: str, what: str, n: int) -> None:
        st = self.stats.setdefault(table, {"updated": 0, "deleted": 0, "inserted": 0})
        st[what] += n

    def order(self, pk: str) -> str:
        return f"(({pk} * 2654435761 + {self.epoch} * 40503 + {self.seed} * 7919) % 1000003)"

    def n_rows(self, table: str) -> int:
        return self.con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]

    def _stamp(self, select_ids: str) -> int:
        """Fill ``_chg(id, ts)`` with the ids of ``select_ids`` and one new time each."""
        con = self.con
        con.execute("DROP TABLE IF EXISTS _chg")
        con.execute(
            f"CREATE TEMP TABLE _chg AS SELECT id, strftime(TIMESTAMP '{fmt(self.base)}' + "
            f"to_seconds(CAST({self.clock} + row_number() OVER (ORDER BY id) AS BIGINT)), '%Y-%m-%d %H:%M:%S') "
            f"AS ts FROM ({select_ids}) ids(id)"
        )
        n = con.execute("SELECT count(*) FROM _chg").fetchone()[0]
        self.clock += n
        return n

    def _journal(self, entity: str, action: str) -> None:
        e = ENTITIES[entity]
        service = e.rest_path.removeprefix("/v3/")
        self.con.execute(
            f"INSERT INTO journal SELECT {self.seq} + row_number() OVER (ORDER BY ts, id), '{action}', id, ts, "
            f"'{service}', '{SERVICE_TITLES[entity]}', '{e.rest_path}/' || id FROM _chg"
        )
        self.seq += self.con.execute("SELECT count(*) FROM _chg").fetchone()[0]

    # --- deletions --------------------------------------------------------------------------------
    def delete(self, entity: str, select_ids: str) -> None:
        """Delete the rows ``select_ids`` of ``entity`` with everything that hangs on them (journaled)."""
        con = self.con
        tmp = f"_del_{entity}"
        con.execute(f"DROP TABLE IF EXISTS {tmp}")
        con.execute(f"CREATE TEMP TABLE {tmp} AS SELECT DISTINCT id FROM ({select_ids}) d(id)")
        ids = f"(SELECT id FROM {tmp})"
        if entity == "trd_buy":
            self.delete("contract", f"SELECT id FROM contract WHERE trd_buy_id IN {ids}")
            self.delete("trd_app", f"SELECT id FROM trd_app WHERE buy_id IN {ids}")
            self.delete("lots", f"SELECT id FROM lots WHERE trd_buy_id IN {ids}")
        elif entity == "contract":
            # amendments go with their contract, acts with the contract
            con.execute(
                f"INSERT INTO {tmp} SELECT id FROM contract WHERE root_id IN {ids} AND id NOT IN {ids}"
            )
            self.delete("acts", f"SELECT id FROM acts WHERE contract_id IN {ids}")
            for child in ("contract_units", "treasury_pay"):
                n = con.execute(f"DELETE FROM {child} WHERE contract_id IN {ids}").fetchone()[0]
                self.count(child, "deleted", n)
        elif entity == "trd_app":
            n = con.execute(
                f"DELETE FROM offers WHERE app_lot_id IN (SELECT id FROM app_lots WHERE app_id IN {ids})"
            ).fetchone()[0]
            self.count("offers", "deleted", n)
            n = con.execute(f"DELETE FROM app_lots WHERE app_id IN {ids}").fetchone()[0]
            self.count("app_lots", "deleted", n)
        elif entity == "plans":
            n = con.execute(f"DELETE FROM plans_kato WHERE pln_point_id IN {ids}").fetchone()[0]
            self.count("plans_kato", "deleted", n)
        pk = ENTITIES[entity].primary_key
        self._stamp(f"SELECT id FROM {tmp}")
        self._journal(entity, "D")
        n = con.execute(f"DELETE FROM {entity} WHERE {pk} IN (SELECT id FROM _chg)").fetchone()[0]
        self.count(entity, "deleted", n)
        con.execute(f"DROP TABLE {tmp}")

    def deletions(self) -> None:
        pb = self.protected_buys

        def k(table: str) -> int:
            return max(1, round(self.n_rows(table) * DELETE_SHARE))

        self.delete(
            "trd_buy",
            f"SELECT id FROM trd_buy WHERE ref_buy_status_id = 410 AND id NOT IN {pb} "
            f"ORDER BY {self.order('id')} LIMIT {k('trd_buy')}",
        )
        self.delete(
            "contract",
            f"SELECT id FROM contract WHERE parent_id IS NULL AND trd_buy_id NOT IN {pb} "
            f"ORDER BY {self.order('id')} LIMIT {k('contract')}",
        )
        self.delete(
            "plans",
            "SELECT id FROM plans WHERE id NOT IN (SELECT DISTINCT unnest(point_list) FROM lots) "
            f"ORDER BY {self.order('id')} LIMIT {k('plans')}",
        )
        self.delete(
            "trd_app",
            f"SELECT a.id FROM trd_app a JOIN trd_buy b ON b.id = a.buy_id "
            f"WHERE b.ref_buy_status_id = 360 AND b.id NOT IN {pb} "
            f"ORDER BY {self.order('a.id')} LIMIT {k('trd_app')}",
        )
        self.delete(
            "acts",
            f"SELECT a.id FROM acts a JOIN contract c ON c.id = a.contract_id "
            f"WHERE c.trd_buy_id NOT IN {pb} ORDER BY {self.order('a.id')} LIMIT {k('acts')}",
        )
        self.delete(
            "subject",
            "SELECT pid FROM subject WHERE customer = 0 "
            "AND pid NOT IN (SELECT supplier_id FROM trd_app) "
            "AND pid NOT IN (SELECT supplier_id FROM contract) AND pid NOT IN (SELECT pid FROM rnu) "
            f"ORDER BY {self.order('pid')} LIMIT {k('subject')}",
        )
        self.delete(
            "rnu",
            f"SELECT id FROM rnu WHERE end_date < '2023-01-01' ORDER BY {self.order('id')} LIMIT {k('rnu')}",
        )
        # a lot on its own (of a cancelled announcement that keeps its other lots)
        self.delete(
            "lots",
            f"SELECT l.id FROM lots l JOIN trd_buy b ON b.id = l.trd_buy_id "
            f"WHERE b.ref_buy_status_id = 410 AND b.count_lots > 1 AND b.id NOT IN {pb} "
            f"ORDER BY {self.order('l.id')} LIMIT {k('lots')}",
        )

    # --- updates ----------------------------------------------------------------------------------
    def updates(self) -> None:
        con = self.con
        for name, e in ENTITIES.items():
            pk = e.primary_key
            # about 1 / UPDATE_MODULUS of the rows, and at least one
            n = self._stamp(
                f"SELECT {pk} FROM {name} WHERE {self.order(pk)} % {UPDATE_MODULUS} = 0 "
                f"OR {pk} = (SELECT {pk} FROM {name} ORDER BY {self.order(pk)} LIMIT 1)"
            )
            if not n:
                continue
            sets = [UPDATE_SET[name]]
            if e.cursor:
                sets.append(f"{e.cursor} = _chg.ts")
            elif name == "subject":
                sets.append("last_update_date = _chg.ts")
            con.execute(f"UPDATE {name} SET {', '.join(sets)} FROM _chg WHERE {name}.{pk} = _chg.id")
            self._journal(name, "U")
            self.count(name, "updated", n)

    # --- inserts ----------------------------------------------------------------------------------
    def inserts(self) -> None:
        """New direct awards (copies of large background ones, fresh ids, dated in this epoch)."""
        con = self.con
        k = max(2, round(self.n_rows("trd_buy") * INSERT_SHARE))
        t0 = f"TIMESTAMP '{fmt(self.base)}' + to_seconds(CAST({self.clock} + s.rn * 60 AS BIGINT))"
        self.clock += 60 * (k + 1)
        con.execute("DROP TABLE IF EXISTS _ins")
        con.execute(
            f"CREATE TEMP TABLE _ins AS SELECT old_id, (SELECT max(id) FROM trd_buy) + rn AS new_id, rn FROM ("
            f"SELECT id AS old_id, row_number() OVER (ORDER BY {self.order('id')}) AS rn FROM trd_buy "
            f"WHERE ref_trade_methods_id = 23 AND ref_buy_status_id = 350 AND id NOT IN {self.protected_buys} "
            f"AND id IN (SELECT trd_buy_id FROM contract WHERE parent_id IS NULL "
            f"AND contract_sum >= {pt.SPLIT_THRESHOLD_KZT}) ORDER BY {self.order('id')} LIMIT {k})"
        )
        ts = f"strftime({t0}, '%Y-%m-%d %H:%M:%S')"

        def later(hours: int) -> str:
            return f"strftime({t0} + INTERVAL {hours} HOUR, '%Y-%m-%d %H:%M:%S')"

        n = con.execute(
            f"INSERT INTO trd_buy SELECT t.* REPLACE (s.new_id AS id, s.new_id || '-1' AS number_anno, "
            f"{ts} AS publish_date, {ts} AS start_date, {later(1)} AS end_date, {later(2)} AS itogi_date_public, "
            f"{later(3)} AS last_update_date, {later(3)} AS index_date, 2025 AS fin_year, NULL AS parent_id) "
            "FROM trd_buy t JOIN _ins s ON t.id = s.old_id ORDER BY s.new_id"
        ).fetchone()[0]
        self.count("trd_buy", "inserted", n)
        con.execute("DROP TABLE IF EXISTS _ins_l")
        con.execute(
            "CREATE TEMP TABLE _ins_l AS SELECT l.id AS old_id, s.new_id AS buy_id, s.rn, "
            "(SELECT max(id) FROM lots) + row_number() OVER (ORDER BY s.new_id, l.id) AS new_id "
            "FROM lots l JOIN _ins s ON l.trd_buy_id = s.old_id"
        )
        n = con.execute(
            "INSERT INTO lots SELECT l.* REPLACE (m.new_id AS id, m.buy_id AS trd_buy_id, "
            "m.buy_id || '-1' AS trd_buy_number_anno, "
            "m.buy_id || '-' || regexp_extract(l.lot_number, '-(.*)$', 1) AS lot_number, "
            f"{later(3).replace('s.rn', 'm.rn')} AS last_update_date, {later(3).replace('s.rn', 'm.rn')} AS index_date) "
            "FROM lots l JOIN _ins_l m ON l.id = m.old_id ORDER BY m.new_id"
        ).fetchone()[0]
        self.count("lots", "inserted", n)
        con.execute("DROP TABLE IF EXISTS _ins_c")
        con.execute(
            "CREATE TEMP TABLE _ins_c AS SELECT c.id AS old_id, s.new_id AS buy_id, s.rn, "
            "(SELECT max(id) FROM contract) + row_number() OVER (ORDER BY s.new_id, c.id) AS new_id "
            "FROM contract c JOIN _ins s ON c.trd_buy_id = s.old_id WHERE c.parent_id IS NULL"
        )
        sign = later(4).replace("s.rn", "m.rn")
        n = con.execute(
            f"INSERT INTO contract SELECT c.* REPLACE (m.new_id AS id, m.buy_id AS trd_buy_id, "
            f"m.buy_id || '-1' AS trd_buy_number_anno, m.buy_id || '-1' AS contract_number_sys, "
            f"{sign} AS sign_date, {sign} AS crdate, {sign} AS last_update_date, {sign} AS index_date, "
            "2025 AS fin_year, 2 AS ref_contract_status_id, NULL AS fakt_exec_date, 0.0 AS fakt_sum, "
            "0.0 AS fakt_sum_wnds, '2025-12-31 23:59:59' AS ec_end_date, '2025-12-31 23:59:59' AS contract_end_date) "
            "FROM contract c JOIN _ins_c m ON c.id = m.old_id ORDER BY m.new_id"
        ).fetchone()[0]
        self.count("contract", "inserted", n)
        n = con.execute(
            "INSERT INTO contract_units SELECT u.* REPLACE (m.new_id AS contract_id, "
            "(SELECT max(id) FROM contract_units) + row_number() OVER (ORDER BY m.new_id, u.id) AS id, "
            "l.new_id AS lot_id, 0.0 AS fact_sum, NULL AS exec_fakt_date, 0 AS executed, 2 AS ref_contract_status_id) "
            "FROM contract_units u JOIN _ins_c m ON u.contract_id = m.old_id JOIN _ins_l l ON l.old_id = u.lot_id "
            "ORDER BY m.new_id, u.id"
        ).fetchone()[0]
        self.count("contract_units", "inserted", n)

    def run(self) -> dict[str, dict[str, int]]:
        self.deletions()
        self.updates()
        self.inserts()
        for t in ("_chg", "_ins", "_ins_l", "_ins_c"):
            self.con.execute(f"DROP TABLE IF EXISTS {t}")
        self.con.execute("UPDATE world_meta SET value = ? WHERE key = 'epoch'", [str(self.epoch)])
        self.con.execute(
            "UPDATE world_meta SET value = ? WHERE key = 'date_to'",
            [fmt(self.base + dt.timedelta(seconds=self.clock + 6 * 3600))],
        )
        return self.stats


def advance_world(con: duckdb.DuckDBPyConnection, epochs: int = 1) -> dict[str, dict[str, int]]:
    """Apply the next ``epochs`` epochs of change on ``con`` (one transaction per epoch).

    Epoch n (stored in ``world_meta``) updates about 0.5 % of the rows of every entity table (new
    cursor time on 2025-01-01 + (n - 1) days, after everything earlier, and a changed value),
    deletes a few objects with their children, inserts a few new announcements with contracts,
    and records every update and deletion in ``journal``. Returns the counts per table, summed
    over the epochs.
    """
    if epochs < 0:
        raise ValueError(f"epochs must be >= 0, got {epochs}")
    meta = dict(con.execute("SELECT key, value FROM world_meta").fetchall())
    total: dict[str, dict[str, int]] = {}
    for i in range(epochs):
        epoch = int(meta["epoch"]) + 1 + i
        con.execute("BEGIN TRANSACTION")
        try:
            stats = _Epoch(con, epoch, int(meta["seed"])).run()
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        for table, st in stats.items():
            agg = total.setdefault(table, {"updated": 0, "deleted": 0, "inserted": 0})
            for k, v in st.items():
                agg[k] += v
    return total
