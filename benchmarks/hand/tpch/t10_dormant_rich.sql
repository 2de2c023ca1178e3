SELECT c.c_custkey AS profile_id
FROM tpch.customer AS c
WHERE c.c_acctbal > 8000
  AND NOT EXISTS (
    SELECT 1 FROM tpch.orders AS o
    WHERE o.o_custkey = c.c_custkey
      AND o.o_orderdate BETWEEN DATE '1996-08-03' AND DATE '1998-08-03'
  )
