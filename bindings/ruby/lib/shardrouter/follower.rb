# frozen_string_literal: true

module ShardRouter
  # librouter's etcd follower (router_etcd) publishing into a Router from
  # background threads. The C side is ext/shardrouter/follower.c (its
  # opening comment has the threading and lifetime rules).
  #
  #   f = ShardRouter::Follower.new(router, endpoints: "http://127.0.0.1:2379",
  #                                 source: :vitess, cell: "zone1") do |ev|
  #     warn "#{ev.kind} #{ev.name} #{ev.reason}" if ev.code != 0
  #   end
  #   f.start
  #   ...
  #   f.close
  #
  # source: :document follows one key (key:) holding a routing document;
  # :vitess follows a Vitess cell's serving topology, read-only (CellInfo
  # under topo_root, then the cell's SrvVSchema and every SrvKeyspace).
  # tls_ca_file, tls_cert_file, tls_key_file: PEM files for https://
  # endpoints; username and password: etcd's own authentication (the C
  # follower keeps its own copy of the password and wipes it when freed).
  # Every change goes through the router's guards; refusals leave the
  # table in service and are reported in #status and in the status key.
  # The block (or on_event:) gets a Follower::Event on a Ruby thread of
  # the follower's. Raises ShardRouter::Error when the gem was built
  # without the follower (AVAILABLE is false: it needs libcurl,
  # libprotobuf-c and protoc-c at build time).
  class Follower
    # rubocop:disable Metrics/ParameterLists
    def initialize(router, endpoints:, key: nil, source: :document, cell: nil, topo_root: nil,
                   tablet_type: nil, cell_endpoints: nil, instance: nil, status_prefix: nil,
                   snapshot: nil, lease_ttl: 10, destructive: false, backoff_min_ms: 100,
                   backoff_max_ms: 5000, request_timeout_ms: 5000, debounce_ms: 200,
                   tls_ca_file: nil, tls_cert_file: nil, tls_key_file: nil, username: nil,
                   password: nil, on_event: nil, &block)
      raise ArgumentError, "give on_event: or a block, not both" if on_event && block

      str = ->(v) { v&.to_s }
      opts = {
        endpoints: Array(endpoints).map(&:to_s).join(","), key: str[key], source: str[source],
        cell: str[cell], topo_root: str[topo_root], tablet_type: str[tablet_type],
        cell_endpoints: str[cell_endpoints], instance: str[instance],
        status_prefix: str[status_prefix], snapshot: snapshot.nil? ? nil : File.path(snapshot),
        lease_ttl: lease_ttl, destructive: destructive, backoff_min_ms: backoff_min_ms,
        backoff_max_ms: backoff_max_ms, request_timeout_ms: request_timeout_ms,
        debounce_ms: debounce_ms,
        tls_ca_file: tls_ca_file.nil? ? nil : File.path(tls_ca_file),
        tls_cert_file: tls_cert_file.nil? ? nil : File.path(tls_cert_file),
        tls_key_file: tls_key_file.nil? ? nil : File.path(tls_key_file),
        username: str[username], password: str[password]
      }
      _init(router, opts, on_event || block)
    end
    # rubocop:enable Metrics/ParameterLists

    # Start, yield the follower, close it afterwards.
    def self.open(router, **kw, &body)
      on_event = kw.delete(:on_event)
      f = new(router, on_event: on_event, **kw)
      f.start
      return f unless body

      begin
        body.call(f)
      ensure
        f.close
      end
    end
  end
end
