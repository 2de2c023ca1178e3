SELECT DISTINCT o.o_custkey AS profile_id
FROM tpch.orders AS o
JOIN (
  SELECT l_orderkey
  FROM tpch.lineitem
  WHERE l_shipmode = 'AIR' AND l_receiptdate > l_commitdate
  GROUP BY l_orderkey
  HAVING count(*) >= 2
) AS late ON late.l_orderkey = o.o_orderkey
WHERE o.o_orderdate > DATE '1996-12-31'
