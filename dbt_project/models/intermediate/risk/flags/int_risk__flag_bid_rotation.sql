-- BID_ROTATION (ours; collusion): three tenderers who all bid on lots of at least var
-- risk_rotation_min_processes different processes of one buyer, with at least var
-- risk_rotation_min_winners different winners among them, rotate the wins. Item = a lot with at
-- least three tenderers in a competitive, not cancelled process: flagged when a ring's three bid on
-- it. Value = the most processes a ring covering the lot bid in together. Evidence: the ring.
with bidders as (
    select distinct p.buyer_id, b.ocid, b.lot_id, b.tenderer_id
    from {{ ref('int_risk__bids') }} as b
    inner join {{ ref('int_risk__processes') }} as p on p.ocid = b.ocid
    where p.is_competitive and not p.is_cancelled and b.tenderer_id is not null and p.buyer_id is not null
),

regulars as (
    -- a ring member bids in at least that many processes of the buyer: prune the rest early
    select buyer_id, tenderer_id
    from bidders
    group by buyer_id, tenderer_id
    having count(distinct ocid) >= {{ var('risk_rotation_min_processes') }}
),

candidates as (
    select b.* from bidders as b
    inner join regulars as r on r.buyer_id = b.buyer_id and r.tenderer_id = b.tenderer_id
),

triples as (
    select x.buyer_id, x.ocid, x.lot_id, x.tenderer_id as t1, y.tenderer_id as t2, z.tenderer_id as t3
    from candidates as x
    inner join candidates as y on y.lot_id = x.lot_id and y.ocid = x.ocid and y.tenderer_id > x.tenderer_id
    inner join candidates as z on z.lot_id = x.lot_id and z.ocid = x.ocid and z.tenderer_id > y.tenderer_id
),

groups as (
    select buyer_id, t1, t2, t3, count(distinct ocid) as processes
    from triples
    group by buyer_id, t1, t2, t3
    having count(distinct ocid) >= {{ var('risk_rotation_min_processes') }}
),

hits as (
    select g.buyer_id, g.t1, g.t2, g.t3, g.processes, t.ocid, t.lot_id, l.supplier_ids
    from groups as g
    inner join triples as t on t.buyer_id = g.buyer_id and t.t1 = g.t1 and t.t2 = g.t2 and t.t3 = g.t3
    inner join {{ ref('int_risk__lots') }} as l on l.ocid = t.ocid and l.lot_id = t.lot_id
),

rings as (
    select
        buyer_id, t1, t2, t3,
        any_value(processes) as processes,
        list_sort(list_distinct(list_filter(flatten(list(supplier_ids)), lambda s: s in (t1, t2, t3)))) as winners
    from hits
    group by buyer_id, t1, t2, t3
    having len(list_distinct(list_filter(flatten(list(supplier_ids)), lambda s: s in (t1, t2, t3))))
        >= {{ var('risk_rotation_min_winners') }}
),

ring_lots as (
    select
        h.ocid,
        h.lot_id,
        max(r.processes) as processes,
        list_sort(list_distinct(flatten(list([r.t1, r.t2, r.t3])))) as members,
        list_sort(list(
            json_object('members', [r.t1, r.t2, r.t3], 'processes', r.processes, 'winners', r.winners)::varchar
        )) as rings
    from hits as h
    inner join rings as r on r.buyer_id = h.buyer_id and r.t1 = h.t1 and r.t2 = h.t2 and r.t3 = h.t3
    group by h.ocid, h.lot_id
),

lots as (
    select ocid, lot_id, {{ risk_id_list('tenderer_id') }} as tenderer_ids
    from bidders
    group by ocid, lot_id
    having count(*) >= 3
),

items as (
    select
        l.ocid,
        l.lot_id as object_id,
        true as computable,
        r.lot_id is not null as flagged,
        coalesce(r.processes, 0) as value,
        {{ var('risk_rotation_min_processes') }} as threshold,
        coalesce(r.processes, 0) as severity,
        [l.lot_id] as lot_ids,
        null as bid_ids,
        null as contract_ids,
        coalesce(r.members, l.tenderer_ids) as party_ids,
        json_object('lot_id', l.lot_id, 'rings', coalesce(list_transform(r.rings, lambda x: x::json), [])) as detail,
        null as note
    from lots as l
    left join ring_lots as r on r.ocid = l.ocid and r.lot_id = l.lot_id
)

{{ risk_items_select('items', 'BID_ROTATION', 'lot') }}
