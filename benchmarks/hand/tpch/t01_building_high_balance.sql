-- Members must be profiles: customers with an identifier of a profile type (every
-- audience of the library answers that question, so the hand-written query does too).
SELECT a.profile_id
FROM (
  SELECT c_custkey AS profile_id
  FROM tpch.customer
  WHERE c_mktsegment = 'BUILDING' AND c_acctbal > 5000
) AS a
WHERE a.profile_id IN (
  SELECT i.c_custkey FROM tpch.customer_identifiers AS i
  WHERE i.type IN ('user_id', 'email', 'android.idfa', 'ios.idfa') AND i.value IS NOT NULL
)
