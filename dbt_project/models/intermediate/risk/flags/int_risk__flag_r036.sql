-- R036 Lowest bid disqualified (Cardinal R036), per lot. Item = an awarded lot with bids of a not
-- cancelled process whose bids are compared on price (vars risk_bid_flag_methods,
-- risk_no_price_comparison_method_details): flagged when the lowest submitted bid is disqualified.
-- At a tie for the lowest price (var risk_r036_tie): valid_wins = flagged only when every bid at
-- that price is disqualified; first_bid = the first of them by bid id decides (Cardinal's order).
-- A lot without a valid priced bid is flagged only when var risk_r036_without_valid_bid (Cardinal:
-- not). Value = (lowest valid
-- price - lowest price) / lowest price (NULL when no bid is valid). Not computable when a bid has
-- no price.
with lots as (
    select l.ocid, l.lot_id, l.award_ids
    from {{ ref('int_risk__lots') }} as l
    inner join {{ ref('int_risk__processes') }} as p on p.ocid = l.ocid
    where l.is_awarded and p.is_bid_compared and p.is_price_compared and not p.is_cancelled
),

bids as (
    select b.*, min(b.price) over (partition by b.ocid, b.lot_id) as min_price
    from {{ ref('int_risk__bids') }} as b
    inner join lots as l on l.ocid = b.ocid and l.lot_id = b.lot_id
),

measured as (
    select
        ocid,
        lot_id,
        count(*) as bids,
        count(*) filter (where price is null) as unpriced,
        min(price) as min_price,
        min(price) filter (where is_valid) as min_valid_price,
        {%- if var('risk_r036_tie', 'valid_wins') == 'valid_wins' %}
        bool_and(is_disqualified) filter (where price = min_price) as lowest_all_disqualified,
        {%- elif var('risk_r036_tie') == 'first_bid' %}
        arg_min(is_disqualified, bid_id) filter (where price = min_price) as lowest_all_disqualified,
        {%- else %}
        {{ exceptions.raise_compiler_error("var risk_r036_tie must be valid_wins or first_bid") }}
        {%- endif %}
        {{ risk_id_list('case when price = min_price then bid_id end') }} as lowest_bid_ids,
        {{ risk_id_list('case when price = min_price then tenderer_id end') }} as lowest_tenderers
    from bids
    group by ocid, lot_id
),

items as (
    select
        m.ocid,
        m.lot_id as object_id,
        m.unpriced = 0 as computable,
        m.lowest_all_disqualified
        {%- if not var('risk_r036_without_valid_bid', true) %} and m.min_valid_price is not null{% endif %} as flagged,
        case when m.min_price > 0 then (m.min_valid_price - m.min_price) / m.min_price end as value,
        0 as threshold,
        case when m.min_price > 0 then coalesce((m.min_valid_price - m.min_price) / m.min_price, 1e9) end as severity,
        [m.lot_id] as lot_ids,
        m.lowest_bid_ids as bid_ids,
        l.award_ids as contract_ids,
        m.lowest_tenderers as party_ids,
        json_object(
            'lot_id', m.lot_id,
            'lowest_price', m.min_price,
            'lowest_valid_price', m.min_valid_price,
            'lowest_bids_disqualified', m.lowest_all_disqualified
        ) as detail,
        case when m.unpriced > 0 then 'a bid has no price' end as note
    from measured as m
    inner join lots as l on l.ocid = m.ocid and l.lot_id = m.lot_id
)

{{ risk_items_select('items', 'R036', 'lot') }}
