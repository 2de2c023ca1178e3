-- Members must be profiles: customers with an identifier of a profile type (every
-- audience of the library answers that question, so the hand-written query does too).
-- TPC-H Q18's inner query: orders whose lines' quantities sum to more than 300.
SELECT a.profile_id
FROM (
  SELECT DISTINCT o.o_custkey AS profile_id
  FROM tpch.orders AS o
  WHERE o.o_orderkey IN (
    SELECT l.l_orderkey FROM tpch.lineitem AS l
    GROUP BY l.l_orderkey
    HAVING sum(l.l_quantity) > 300
  )
) AS a
WHERE a.profile_id IN (
  SELECT i.c_custkey FROM tpch.customer_identifiers AS i
  WHERE i.type IN ('user_id', 'email', 'android.idfa', 'ios.idfa') AND i.value IS NOT NULL
)
