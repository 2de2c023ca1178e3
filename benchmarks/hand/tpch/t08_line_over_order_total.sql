SELECT DISTINCT o.o_custkey AS profile_id
FROM tpch.orders AS o
JOIN tpch.lineitem AS l ON l.l_orderkey = o.o_orderkey
WHERE l.l_extendedprice > o.o_totalprice
