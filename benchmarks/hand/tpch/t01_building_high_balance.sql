SELECT c_custkey AS profile_id
FROM tpch.customer
WHERE c_mktsegment = 'BUILDING' AND c_acctbal > 5000
