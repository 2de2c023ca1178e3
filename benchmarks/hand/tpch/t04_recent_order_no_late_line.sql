SELECT DISTINCT o.o_custkey AS profile_id
FROM tpch.orders AS o
WHERE o.o_orderdate BETWEEN DATE '1998-02-04' AND DATE '1998-08-03'
  AND NOT EXISTS (
    SELECT 1 FROM tpch.lineitem AS l
    WHERE l.l_orderkey = o.o_orderkey AND l.l_receiptdate > l.l_commitdate
  )
