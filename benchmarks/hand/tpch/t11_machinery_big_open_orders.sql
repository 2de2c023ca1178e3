SELECT c.c_custkey AS profile_id
FROM tpch.customer AS c
WHERE c.c_mktsegment = 'MACHINERY'
  AND c.c_custkey IN (
    SELECT o.o_custkey
    FROM tpch.orders AS o
    WHERE o.o_orderstatus = 'O' AND o.o_totalprice > 200000
      AND EXISTS (SELECT 1 FROM tpch.lineitem AS l WHERE l.l_orderkey = o.o_orderkey AND l.l_quantity = 50)
    GROUP BY o.o_custkey
    HAVING count(*) >= 3
  )
