"""One procurement procedure: announcement, lots, applications, contracts (mixed into :class:`Chunk`)."""

from __future__ import annotations

import datetime as dt

from sandbox import patterns as pt
from sandbox.world.catalogue import UNIT_NAMES
from sandbox.world.constants import DATE_TO, LOT_PREFIX, VAT
from sandbox.world.layout import fmt
from sandbox.world.parties import Party, _rand_dt
from sandbox.world.records import Bid, LotSpec, Proc


class ProcurementMixin:
    """The core of :class:`Chunk`: one procurement procedure with its bids and contracts."""

    # --- the core: one procurement procedure ----------------------------------------------------
    def procure(
        self,
        buyer: Party,
        method: int,
        publish: dt.datetime,
        specs: list[LotSpec],
        *,
        outcome: str = "awarded",
        period_days: float | None = None,
        parent_id: int | None = None,
        vat_override: bool = False,
        amendments: list[float] | None = None,
        register: bool = True,
    ) -> Proc:
        """Write one announcement with its lots, applications, contracts, acts and payments.

        ``specs[i].bids`` (competitive methods) or ``specs[i].winner`` (direct methods) must be
        set for an awarded outcome; ``amendments`` are the contract values after each amendment,
        as factors of the original value (applied to the first lot's contract).
        """
        rng, w = self.rng, self.world
        direct = method in (6, 23)
        tid = w.new_id("trd_buy")
        number = f"{tid}-1"
        if direct:
            start = publish
            end = publish + dt.timedelta(hours=int(rng.integers(2, 48)))
        else:
            start = publish + dt.timedelta(hours=int(rng.integers(1, 24)))
            days = period_days if period_days is not None else self.uniform(pt.BG_MIN_PERIOD_DAYS, 30)
            end = start + dt.timedelta(days=days)
            end = end.replace(hour=int(rng.integers(10, 18)), minute=0, second=0)
        itogi = end + dt.timedelta(days=self.uniform(1, 6))
        status = {"awarded": 350, "failed": 360, "cancelled": 410}[outcome]
        if outcome == "cancelled":
            itogi = publish + dt.timedelta(days=self.uniform(1, (end - publish).days + 1))
        proc = Proc(tid, number, method, start, end, [], specs)
        last_update = itogi + dt.timedelta(hours=int(rng.integers(1, 72)))
        year = publish.year
        first = specs[0].item
        lot_status = {"awarded": 4, "failed": 5, "cancelled": 6}[outcome]
        for k, spec in enumerate(specs, start=1):
            lid = w.new_id("lots")
            proc.lots.append(lid)
            self.bufs["lots"].add(
                id=lid,
                lot_number=f"{tid}-{LOT_PREFIX.get(method, 'Л')}{k}",
                ref_lot_status_id=lot_status,
                last_update_date=fmt(last_update),
                union_lots=0,
                count=spec.quantity,
                amount=spec.amount,
                name_ru=spec.item.name_ru,
                name_kz=spec.item.name_kz,
                description_ru=f"{spec.item.name_ru}, {spec.quantity:g} {UNIT_NAMES[spec.item.unit].lower()}",
                customer_id=buyer.pid,
                customer_bin=buyer.biin,
                trd_buy_number_anno=number,
                trd_buy_id=tid,
                dumping=0,
                ref_trade_methods_id=spec.planned_method,
                ref_buy_trade_methods_id=method,
                psd_sign=0,
                consulting_services=0,
                point_list=list(spec.plan_ids),
                enstru_list=[spec.item.code],
                pln_point_kato_list=[buyer.kato],
                singl_org_sign=0,
                is_deleted=0,
                index_date=fmt(last_update),
                system_id=3,
            )
        winner0 = specs[0].winner if direct else None
        self.bufs["trd_buy"].add(
            id=tid,
            number_anno=number,
            name_ru=first.name_ru if len(specs) == 1 else f"{first.name_ru} и др.",
            name_kz=first.name_kz,
            total_sum=round(sum(s.amount for s in specs), 2),
            count_lots=len(specs),
            ref_trade_methods_id=method,
            ref_subject_type_id=first.subject_type,
            customer_bin=buyer.biin,
            customer_pid=buyer.pid,
            customer_name_ru=buyer.name_ru,
            org_bin=buyer.biin,
            org_pid=buyer.pid,
            org_name_ru=buyer.name_ru,
            ref_buy_status_id=status,
            start_date=fmt(start),
            end_date=fmt(end),
            repeat_start_date=None,
            repeat_end_date=None,
            publish_date=fmt(publish),
            itogi_date_public=fmt(itogi),
            ref_type_trade_id=2 if method == 6 else 1,
            disable_person_id=None,
            discus_start_date=fmt(start) if method == 2 else None,
            discus_end_date=fmt(start + dt.timedelta(days=5)) if method == 2 else None,
            id_supplier=winner0.pid if winner0 else None,
            biin_supplier=winner0.biin if winner0 else None,
            parent_id=parent_id,
            singl_org_sign=0,
            is_light_industry=0,
            is_construction_work=int(first.subject_type == 2),
            ref_spec_purchase_type_id=None,
            last_update_date=fmt(last_update),
            fin_year=year,
            kato=buyer.kato,
            system_id=3,
            index_date=fmt(last_update),
        )
        # applications: one per supplier per announcement, app_lots per lot, offers per plan point
        if not direct and outcome != "cancelled":
            self._applications(proc, last_update)
            if register:
                self.register_triples(buyer, [s.bids or [] for s in specs])
        if outcome != "awarded":
            return proc
        for i, (lid, spec) in enumerate(zip(proc.lots, specs, strict=True)):
            if direct:
                winner = spec.winner
                value = (
                    spec.award if spec.award is not None else round(spec.amount * self.uniform(0.86, 1.0), 2)
                )
            else:
                admitted = [b for b in spec.bids if b.status == 1]
                best = min(admitted, key=lambda b: b.price)
                winner, value = best.supplier, best.price
            sign = itogi + dt.timedelta(days=self.uniform(2, 12))
            cid = self._contract(
                buyer,
                proc,
                lid,
                spec,
                winner,
                value,
                sign,
                method,
                vat_override=vat_override,
                amendments=amendments if i == 0 else None,
            )
            proc.contracts.append(cid)
            proc.winners.append(winner)
            proc.sign_dates.append(sign)
            proc.sums.append(value)
        return proc

    def _applications(self, proc: Proc, last_update: dt.datetime) -> None:
        rng, w = self.rng, self.world
        by_supplier: dict[int, list[tuple[int, LotSpec, Bid]]] = {}
        order: list[Party] = []
        for lid, spec in zip(proc.lots, proc.specs, strict=True):
            for bid in spec.bids or []:
                if bid.supplier.pid not in by_supplier:
                    by_supplier[bid.supplier.pid] = []
                    order.append(bid.supplier)
                by_supplier[bid.supplier.pid].append((lid, spec, bid))
        span = proc.end - proc.start - dt.timedelta(hours=1)
        dates = {}
        for p in order:
            late = [b.late_hours for _, _, b in by_supplier[p.pid] if b.late_hours is not None]
            if late:
                dates[p.pid] = (proc.end + dt.timedelta(hours=late[0])).replace(microsecond=0)
            else:
                dates[p.pid] = _rand_dt(rng, proc.start, proc.start + span)
        for p in sorted(order, key=lambda q: (dates[q.pid], q.pid)):
            aid = w.new_id("trd_app")
            proc.apps[p.pid] = aid
            self.bufs["trd_app"].add(
                id=aid,
                buy_id=proc.trd_buy_id,
                supplier_id=p.pid,
                supplier_bin_iin=p.biin,
                date_apply=fmt(dates[p.pid]),
                last_update_date=fmt(max(last_update, dates[p.pid])),
                ref_app_status_id=3,
            )
            for lid, spec, bid in by_supplier[p.pid]:
                alid = w.new_id("app_lots")
                self.bufs["app_lots"].add(
                    app_id=aid,
                    id=alid,
                    lot_id=lid,
                    status_id=bid.status,
                    reject_reason=bid.reject_reason,
                    price=bid.price,
                    discount_price=bid.price,
                    dumping=0,
                )
                n = len(spec.plan_ids)
                for pp in spec.plan_ids:
                    count = spec.quantity / n
                    self.bufs["offers"].add(
                        app_lot_id=alid,
                        id=w.new_id("offers"),
                        pln_point_id=pp,
                        price=round(bid.price / spec.quantity, 2),
                        count=count,
                        total_sum=round(bid.price / n, 2),
                    )

    def _contract(
        self,
        buyer: Party,
        proc: Proc,
        lot_id: int,
        spec: LotSpec,
        winner: Party,
        value: float,
        sign: dt.datetime,
        method: int,
        *,
        vat_override: bool,
        amendments: list[float] | None,
    ) -> int:
        rng, w = self.rng, self.world
        cid = w.new_id("contract")
        vat = VAT if (winner.vat_payer or vat_override) else 1.0
        value = round(value, 2)
        wnds = round(value * vat, 2)
        plan_exec = sign + dt.timedelta(days=self.uniform(20, 120))
        executed = plan_exec < DATE_TO and rng.random() < 0.85
        fakt_exec = plan_exec - dt.timedelta(days=self.uniform(0, 10)) if executed else None
        status = 3 if executed else 2
        crdate = sign - dt.timedelta(hours=int(rng.integers(2, 72)))
        last = min((fakt_exec or sign) + dt.timedelta(days=self.uniform(1, 20)), DATE_TO)
        last = max(last, sign)
        common = dict(
            trd_buy_id=proc.trd_buy_id,
            trd_buy_number_anno=proc.number_anno,
            deleted=0,
            supplier_id=winner.pid,
            supplier_biin=winner.biin,
            supplier_legal_address=winner.address,
            customer_id=buyer.pid,
            customer_bin=buyer.biin,
            customer_legal_address=buyer.address,
            ref_subject_type_id=spec.item.subject_type,
            ref_contract_agr_form_id=1,
            ref_finsource_id=int(self.choice([1, 2, 2, 3])),
            ref_currency_code="KZT",
            exchange_rate=1.0,
            ec_end_date=fmt(dt.datetime(sign.year, 12, 31, 23, 59, 59)),
            contract_end_date=fmt(dt.datetime(sign.year, 12, 31, 23, 59, 59)),
            ref_contract_cancel_id=None,
            description_ru=spec.item.name_ru,
            fakt_trade_methods_id=method,
            system_id=3,
        )
        self.bufs["contract"].add(
            id=cid,
            parent_id=None,
            root_id=None,
            ref_contract_status_id=status,
            crdate=fmt(crdate),
            last_update_date=fmt(last),
            contract_number=f"{int(rng.integers(1, 999))}-{sign:%Y}",
            contract_number_sys=f"{proc.trd_buy_id}-{len(proc.contracts) + 1}",
            fin_year=sign.year,
            contract_sum=value,
            contract_sum_wnds=wnds,
            sign_date=fmt(sign),
            plan_exec_date=fmt(plan_exec),
            fakt_exec_date=fmt(fakt_exec),
            fakt_sum=value if executed else 0.0,
            fakt_sum_wnds=wnds if executed else 0.0,
            ref_contract_type_id=1,
            index_date=fmt(last),
            **common,
        )
        n = len(spec.plan_ids)
        for pp in spec.plan_ids:
            q = spec.quantity / n
            self.bufs["contract_units"].add(
                contract_id=cid,
                id=w.new_id("contract_units"),
                lot_id=lot_id,
                pln_point_id=pp,
                item_price=round(value / spec.quantity, 2),
                item_price_wnds=round(wnds / spec.quantity, 2),
                quantity=q,
                total_sum=round(value / n, 2),
                total_sum_wnds=round(wnds / n, 2),
                fact_sum=round(wnds / n, 2) if executed else 0.0,
                exec_fakt_date=fmt(fakt_exec),
                exec_plan_date=fmt(plan_exec),
                executed=int(executed),
                parent_id=None,
                root_id=None,
                ref_contract_status_id=status,
                ref_amendm_agreem_justif_id=None,
                enstru_code=spec.item.code,
            )
        if executed:
            approve = min(fakt_exec + dt.timedelta(days=self.uniform(1, 5)), DATE_TO)
            self.bufs["acts"].add(
                id=w.new_id("acts"),
                akt_date=fmt(fakt_exec),
                number_act=f"АВР-{int(rng.integers(1, 9999))}",
                approve_date=fmt(approve),
                contract_id=cid,
                contract_root_id=cid,
                status_id=2,
                is_deleted=0,
                day_overdue=0,
                sum_fine=0.0,
                sum_transfer=wnds,
                supplier_id=winner.pid,
                customer_id=buyer.pid,
                date_action=fmt(approve),
            )
            parts = [1.0] if rng.random() < 0.7 else [0.3, 0.7]
            pay_date = approve
            for share in parts:
                pay_date = min(pay_date + dt.timedelta(days=self.uniform(1, 15)), DATE_TO)
                self.bufs["treasury_pay"].add(
                    id=w.new_id("treasury_pay"),
                    contract_id=cid,
                    pay_amount=round(wnds * share, 2),
                    pay_date=fmt(pay_date),
                    prepay_sum=0.0,
                    kato=buyer.kato,
                    fin_source="Местный бюджет"
                    if buyer.kato[:2] not in ("71", "75")
                    else "Республиканский бюджет",
                    last_update_date=fmt(pay_date),
                )
        for k, factor in enumerate(amendments or [], start=1):
            asign = sign + dt.timedelta(days=k * self.uniform(10, 25))
            if asign >= DATE_TO:  # late contracts: squeeze the amendments into the year
                asign = sign + (DATE_TO - sign) * k / (len(amendments) + 1)
            asum = round(value * factor, 2)
            aid = w.new_id("contract")
            self.bufs["contract"].add(
                id=aid,
                parent_id=cid,
                root_id=cid,
                ref_contract_status_id=status,
                crdate=fmt(asign - dt.timedelta(hours=3)),
                last_update_date=fmt(max(asign, last)),
                contract_number=f"ДС-{k}",
                contract_number_sys=f"{proc.trd_buy_id}-{len(proc.contracts) + 1}-{k}",
                fin_year=asign.year,
                contract_sum=asum,
                contract_sum_wnds=round(asum * vat, 2),
                sign_date=fmt(asign),
                plan_exec_date=fmt(plan_exec),
                fakt_exec_date=fmt(fakt_exec),
                fakt_sum=asum if executed else 0.0,
                fakt_sum_wnds=round(asum * vat, 2) if executed else 0.0,
                ref_contract_type_id=2,
                index_date=fmt(max(asign, last)),
                **common,
            )
        return cid
