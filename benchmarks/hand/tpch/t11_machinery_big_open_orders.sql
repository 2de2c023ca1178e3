-- Members must be profiles: customers with an identifier of a profile type (every
-- audience of the library answers that question, so the hand-written query does too).
SELECT a.profile_id
FROM (
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
) AS a
WHERE a.profile_id IN (
  SELECT i.c_custkey FROM tpch.customer_identifiers AS i
  WHERE i.type IN ('user_id', 'email', 'android.idfa', 'ios.idfa') AND i.value IS NOT NULL
)
