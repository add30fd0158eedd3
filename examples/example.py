import shardrouter

ROUTER = shardrouter.Router(history=8, max_shrink=0.1)
# A VSchema as vtctldclient takes it; sharded keyspaces need their shards.
ROUTER.publish("tests/data/examples/customer_sharded.json", keyspace="customer",
               shards={"customer": ["-80", "80-"]})
CUSTOMERS = ROUTER.table("customer", "customer")  # handle: no name lookup
CUSTOMERS.route(29999)                           # '-80' (a shared str)

try:
    ROUTER.publish({"keyspaces": {"customer": {}}})  # the January 2026 shape
except shardrouter.RefusedError as e:
    print(e)    # customer: keyspace customer is sharded ... (ROUTER_EEMPTY)
CUSTOMERS.route(29999)                           # '-80', still version 1
