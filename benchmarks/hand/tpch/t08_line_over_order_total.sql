-- Members must be profiles: customers with an identifier of a profile type (every
-- audience of the library answers that question, so the hand-written query does too).
SELECT a.profile_id
FROM (
  SELECT DISTINCT o.o_custkey AS profile_id
  FROM tpch.orders AS o
  JOIN tpch.lineitem AS l ON l.l_orderkey = o.o_orderkey
  WHERE l.l_extendedprice > o.o_totalprice
) AS a
WHERE a.profile_id IN (
  SELECT i.c_custkey FROM tpch.customer_identifiers AS i
  WHERE i.type IN ('user_id', 'email', 'android.idfa', 'ios.idfa') AND i.value IS NOT NULL
)
