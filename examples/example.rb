require "shardrouter"

ROUTER = ShardRouter::Router.new(history: 8, max_shrink: 0.1)
# A VSchema as vtctldclient takes it; sharded keyspaces need their shards.
ROUTER.publish("tests/data/examples/customer_sharded.json", keyspace: "customer",
               shards: { "customer" => %w[-80 80-] })
CUSTOMERS = ROUTER.table("customer", "customer") # handle: no name lookup
CUSTOMERS.route(29_999)                         # => "-80" (frozen, shared)

begin
  ROUTER.publish({ "keyspaces" => { "customer" => {} } })  # the January 2026 shape
rescue ShardRouter::RefusedError => e
  e.culprit                                     # => "customer"
end
CUSTOMERS.route(29_999)                         # => "-80", still version 1
