# frozen_string_literal: true

require "json"
require "shardrouter/shardrouter"

# ShardRouter: librouter, an embedded Vitess-exact shard router, in Ruby.
#
# A Router serves one routing table (a Vitess VSchema plus shard lists) to
# any number of threads without locks, and replaces it only when the new
# table passes the guards: a publish that would empty a keyspace, leave a
# gap in the keyspace-ID space, move the version backwards or drop tables
# silently is refused with a RefusedError, and the old table keeps serving.
#
#   router = ShardRouter::Router.new
#   router.publish(File.read("vschema.json"), shards: { "user" => 4 })
#   router.route("user", "users", 42)    # => "-40"
#   users = router.table("user", "users")
#   users.route(42)                      # => "-40", no name resolution
#   users.route_many([1, 2, 3])          # => ["80-c0", "40-80", "-40"]
#
# Lookups allocate nothing: shard names are frozen Strings made once per
# Router and shared by every result.
module ShardRouter
  # Version of this gem.
  VERSION = "0.1.0"

  # Base of every error this library raises (besides ArgumentError,
  # TypeError and RangeError for bad arguments, and NoMemoryError).
  #
  class Error < StandardError
    # @return [Symbol] librouter's status name without its prefix
    #   (+:EEMPTY+, +:ESHRINK+, +:ENOTFOUND+, +:EDOC+...)
    attr_reader :code
    # @return [Integer] librouter's negative status code
    attr_reader :status
    # @return [String, nil] the object at fault: a keyspace ("user"), a
    #   table ("user.users"), a shard ("user/-80"), a JSON path
    attr_reader :culprit
    # @return [String] what went wrong and why, without the culprit
    attr_reader :reason
  end

  # A publish was refused by a guard (+:EEMPTY+, +:EVERSION+, +:ESHRINK+);
  # nothing changed and the table in service keeps serving.
  class RefusedError < Error
    # @return [Array<Change>] what the refused table would have changed
    attr_reader :diff
  end

  # The document is not a valid routing document: JSON syntax, wrong
  # types, or a VSchema Vitess would reject (+:EDOC+, +:EVSCHEMA+,
  # +:EREFERENCE+, +:ECOVERAGE+, +:EEMPTY+, +:ESHARDNAME+, +:ERANGE+), or
  # the file could not be read (+:EIO+).
  class DocumentError < Error
    # @return [String, nil] JSON path of the first error
    #   ("keyspaces.user.tables.users.column_vindexes[0].name")
    attr_reader :path
    # @return [Integer, nil] line of a JSON syntax error (1-based)
    attr_reader :line
    # @return [Integer, nil] column of a JSON syntax error (1-based)
    attr_reader :column
    # @return [Array<Note>] every error and warning of the load
    attr_reader :notes
  end

  # A lookup cannot be answered by the table in service: no such keyspace
  # or table (or nothing published yet: +:ENOTFOUND+), a table disabled by
  # a routing rule (+:EDISABLED+), a reference table (+:EMULTISHARD+), a
  # lookup vindex (+:ENEEDSLOOKUP+) or one not computed in process
  # (+:EUNSUPPORTED+).  A value that maps to no keyspace ID is not an
  # error: lookups return nil.
  class NoRouteError < Error; end

  # Router#rollback / #rollback_to: the history holds no such table
  # (+:ENOHISTORY+).
  class HistoryError < Error; end

  # One difference between two tables.
  #
  # @!attribute [r] kind
  #   @return [Symbol] +:keyspace+, +:table+, +:vindex+, +:shard+ or +:rule+
  # @!attribute [r] op
  #   @return [Symbol] +:added+, +:removed+ or +:changed+
  # @!attribute [r] keyspace
  #   @return [String] "" for routing rules
  # @!attribute [r] name
  #   @return [String] the keyspace, table, vindex, shard or rule
  # @!attribute [r] detail
  #   @return [String] what changed ("sharded -> unsharded")
  class Change; end

  # A table kept for rollback.
  #
  # @!attribute [r] version
  #   @return [Integer]
  # @!attribute [r] content_hash
  #   @return [Integer]
  # @!attribute [r] accepted_at
  #   @return [Time] when it was first accepted
  # @!attribute [r] in_service
  #   @return [Boolean]
  class HistoryEntry; end

  # An error or warning about a routing document.
  #
  # @!attribute [r] kind
  #   @return [Symbol] +:error+; +:unknown+ (a field Vitess does not know
  #     either, skipped); +:ignored+ (a Vitess field that does not decide
  #     shards); +:unsupported+ (a Vitess routing field librouter does not
  #     apply)
  # @!attribute [r] code
  #   @return [Symbol] the error's code, +:OK+ for warnings
  # @!attribute [r] path
  #   @return [String] full JSON path of the value at fault
  # @!attribute [r] culprit
  #   @return [String]
  # @!attribute [r] message
  #   @return [String]
  # @!attribute [r] line
  #   @return [Integer] line of a syntax error, else 0
  # @!attribute [r] column
  #   @return [Integer] column of a syntax error, else 0
  class Note; end

  # The live router: one routing table in service, lock-free lookups from
  # any thread, guarded publishes, a history for rollback.
  #
  # Thread-safe: share one Router between the threads of a process (Puma).
  # After fork (Unicorn, Puma cluster mode) the child routes and publishes
  # normally. A Router cannot be copied (dup/clone raise TypeError) nor
  # shared between Ractors; each Ractor may make its own.
  class Router
    PUBLISH_DESTRUCTIVE = 0x1 # :nodoc:
    PUBLISH_DRY_RUN = 0x2 # :nodoc:
    DUMP_COMPACT = 0x1 # :nodoc:
    DUMP_VITESS = 0x2 # :nodoc:
    private_constant :PUBLISH_DESTRUCTIVE, :PUBLISH_DRY_RUN, :DUMP_COMPACT, :DUMP_VITESS

    # A router with nothing in service (lookups raise NoRouteError until the
    # first publish).
    #
    # @param history [Integer] accepted tables kept for rollback, 1..1024
    # @param max_shrink [Float] share of a keyspace's tables a publish may
    #   drop without +allow_destructive+, 0..1
    # @raise [ArgumentError] history or max_shrink out of range
    def initialize(history: 8, max_shrink: 0.1)
      _init(history, max_shrink)
    end

    # Load a routing document and make it the table in service if every
    # guard passes.
    #
    # @param doc [String, Hash, Pathname, IO] JSON text (a String whose first
    #   non-blank character is "{"), a Hash (converted with JSON.generate),
    #   a file path (any other String, or a Pathname), or an IO to read. The
    #   three shapes Vitess accepts: a SrvVSchema ({"keyspaces": ...}), a
    #   map of keyspace name to keyspace, or one keyspace's VSchema (give
    #   its name with +keyspace:+)
    # @param version [Integer, nil] the table's version, overriding the
    #   document's "version"; nil or 0: the next version
    # @param allow_destructive [Boolean] let the publish drop keyspaces or
    #   more than max_shrink of a keyspace's tables
    # @param keyspace [String, nil] name of a single-keyspace document
    # @param shards [Hash{String=>Array<String>,Integer}, nil] shards per
    #   keyspace (names like "-80", or a count for an even split), replacing
    #   the document's "shards"; sharded keyspaces need them one way or the
    #   other
    # @param strict [Boolean] fields Vitess does not know are errors
    #   (otherwise they are skipped as Vitess skips them, with a warning)
    # @return [Integer] the version now in service
    # @raise [DocumentError] the document is invalid; nothing changed
    # @raise [RefusedError] a guard refused it; nothing changed
    def publish(doc, version: nil, allow_destructive: false, keyspace: nil, shards: nil, strict: false)
      src, is_path = document_source(doc, version)
      flags = allow_destructive ? PUBLISH_DESTRUCTIVE : 0
      _publish(src, is_path, keyspace_arg(keyspace), shards_arg(shards), strict, flags)
    end

    # Dry run of #publish: the same verdict, nothing changes.
    #
    # @param (see #publish)
    # @return [Array<Change>] what publishing +doc+ would change
    # @raise [DocumentError] the document is invalid
    # @raise [RefusedError] a publish would be refused (RefusedError#diff
    #   holds the changes)
    def check(doc, version: nil, allow_destructive: false, keyspace: nil, shards: nil, strict: false)
      src, is_path = document_source(doc, version)
      flags = PUBLISH_DRY_RUN | (allow_destructive ? PUBLISH_DESTRUCTIVE : 0)
      _publish(src, is_path, keyspace_arg(keyspace), shards_arg(shards), strict, flags)
    end

    # Make the table +steps+ entries back in the history the table in
    # service again: O(1), no rebuild, no guard.
    #
    # @param steps [Integer] >= 1
    # @return [Integer] the version now in service
    # @raise [HistoryError] the history is not that deep
    def rollback(steps = 1)
      _rollback(steps)
    end

    # The table in service as a routing document.
    #
    # @param keyspace [String, nil] only this keyspace's VSchema (routing
    #   rules left out); nil: a SrvVSchema with every keyspace
    # @param vitess [Boolean] plain Vitess: without librouter's "version"
    #   and "shards", for vtctldclient
    # @param compact [Boolean] one line instead of indented
    # @return [String, nil] JSON (sorted keys: equal tables, equal bytes);
    #   nil when nothing is published. Publishing it back gives the same
    #   content hash.
    # @raise [ShardRouter::Error] no such keyspace (+:ENOTFOUND+)
    def export(keyspace: nil, vitess: false, compact: false)
      _export(keyspace_arg(keyspace), (vitess ? DUMP_VITESS : 0) | (compact ? DUMP_COMPACT : 0))
    end

    # @return [String]
    def inspect
      format("#<%s version=%d content_hash=0x%016x>", self.class, version, content_hash)
    rescue Error
      "#<#{self.class} (uninitialized)>"
    end

    private

    VERSION_MAX = (1 << 64) - 1 # :nodoc:

    # [source, is_path]: a frozen String of JSON text, or a path.
    def document_source(doc, version)
      unless version.nil?
        unless version.is_a?(Integer) && version >= 0 && version <= VERSION_MAX
          raise ArgumentError, "version must be an Integer in 0..#{VERSION_MAX}, not #{version.inspect}"
        end
        # librouter has no version override: put it in the document.
        doc = with_version(doc, version)
      end
      case doc
      when String
        json_text?(doc) ? [doc, false] : [doc, true]
      when Hash
        [JSON.generate(doc), false]
      else
        return [doc.to_path.to_str, true] if doc.respond_to?(:to_path)
        return [doc.read.to_str, false] if doc.respond_to?(:read)

        raise TypeError, "a routing document is a JSON String, a Hash, a path or an IO, not #{doc.class}"
      end
    end

    def json_text?(str)
      str.match?(/\A[[:space:]]*\{/)
    end

    # The document as a Hash with "version" set (top level, in each of the
    # three shapes); JSON that does not parse is left for librouter to
    # report with its line and column.
    def with_version(doc, version)
      doc = File.read(doc.to_path) if doc.respond_to?(:to_path)
      doc = doc.read if !doc.is_a?(String) && !doc.is_a?(Hash) && doc.respond_to?(:read)
      doc = File.read(doc) if doc.is_a?(String) && !json_text?(doc)
      if doc.is_a?(String)
        begin
          parsed = JSON.parse(doc)
        rescue JSON::ParserError
          return doc
        end
        return doc unless parsed.is_a?(Hash)

        doc = parsed
      end
      return doc unless doc.is_a?(Hash)

      doc = doc.reject { |k, _| k.to_s == "version" }
      # Above int64, protobuf JSON writes 64-bit integers as strings.
      doc["version"] = version > (1 << 63) - 1 ? version.to_s : version
      doc
    end

    def keyspace_arg(keyspace)
      return nil if keyspace.nil?
      raise TypeError, "keyspace must be a String or Symbol, not #{keyspace.class}" unless keyspace.is_a?(String) || keyspace.is_a?(Symbol)

      keyspace.to_s.dup.freeze # read without the GVL by large loads
    end

    # [[keyspace, [shard, ...]], ...], every String a frozen copy, so the
    # extension may read them without the GVL.
    def shards_arg(shards)
      return nil if shards.nil?
      raise TypeError, "shards must be a Hash of keyspace to shard names or count, not #{shards.class}" unless shards.is_a?(Hash)

      shards.map do |ks, names|
        raise TypeError, "shards: keyspace must be a String or Symbol, not #{ks.class}" unless ks.is_a?(String) || ks.is_a?(Symbol)

        names = ShardRouter.shard_ranges(names) if names.is_a?(Integer)
        raise TypeError, "shards[#{ks.inspect}] must be an Array of shard names or a count, not #{names.class}" unless names.is_a?(Array)

        list = names.map do |n|
          raise TypeError, "shard names are Strings, not #{n.class}" unless n.is_a?(String)

          n.dup.freeze
        end
        [ks.to_s.dup.freeze, list.freeze].freeze
      end.freeze
    end
  end

  # A handle on one keyspace.table of a Router (Router#table): lookups skip
  # name resolution, and the handle stays valid across publishes and
  # rollbacks. Thread-safe like its Router.
  class Table
    # @return [String]
    def inspect
      "#<#{self.class} #{keyspace}.#{name}>"
    end
  end
end
