SELECT o_custkey AS profile_id
FROM tpch.orders
GROUP BY o_custkey
HAVING count(*) >= 20
