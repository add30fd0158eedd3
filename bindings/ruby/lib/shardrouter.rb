# frozen_string_literal: true

require "json"
require "shardrouter/shardrouter"
require "shardrouter/follower"

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
  # Version of this gem: the version of librouter it carries and was
  # compiled with (include/librouter/router.h), also LIBROUTER_VERSION.
  VERSION = LIBROUTER_VERSION

  # Included by every exception the library raises for a librouter status
  # code (+:ENOMEM+ apart: NoMemoryError): <tt>rescue ShardRouter::Error</tt>
  # catches them all. Arguments Ruby itself can judge raise plain
  # ArgumentError, TypeError or RangeError. A module, not a class: the classes that include it
  # keep Ruby's own superclasses (StandardError, ArgumentError, IOError),
  # so <tt>rescue ArgumentError</tt> and <tt>rescue IOError</tt> catch
  # InvalidError and ResourceError too. The class follows the status code
  # alone, through librouter's error category (docs/errors.md).
  module Error
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

  # A routing document or snapshot that does not load: included by
  # InvalidDocumentError (the document is invalid), NotFoundError (it
  # names what is not there; a missing snapshot file), and given to the
  # ResourceError of a document or snapshot path that cannot be opened or
  # read.
  module DocumentError
    include Error

    # @return [String, nil] JSON path of the first error
    #   ("keyspaces.user.tables.users.column_vindexes[0].name")
    attr_reader :path
    # @return [Integer, nil] line of a JSON syntax error (1-based)
    attr_reader :line
    # @return [Integer, nil] column of a JSON syntax error (1-based)
    attr_reader :column
    # @return [Array<Note>] every error and warning of the load
    attr_reader :notes
    # @return [Integer, nil] the system's reason (+Errno::ENOENT::Errno+...)
    #   when a document or snapshot path could not be opened or read
    attr_reader :errno
  end

  # A publish was refused by a guard (+:EEMPTY+, +:EVERSION+, +:ESHRINK+,
  # +:EKSIDCHANGE+, or one of the subclasses below); nothing changed and
  # the table in service keeps serving.
  class RefusedError < StandardError
    include Error

    # @return [Array<Change>] what the refused table would have changed
    attr_reader :diff
    # @return [ShadowVerdict, nil] what the refused table would have done
    #   to the sample keys (Router#set_sample); nil without a sample, or
    #   when a guard refused before the shadow evaluation ran
    attr_reader :shadow
  end

  # The content of the table is fenced (+:EFENCED+): it was refused by a
  # content guard, rolled back from, discarded from quarantine or fenced
  # by hand, and comes back (under any version number). Router#lift_fence
  # allows it again.
  class FencedError < RefusedError; end

  # The table breaks an operator invariant (+:EINVARIANT+, Router#add_invariant);
  # the message quotes the invariant, the culprit names the keyspace or
  # table. +allow_destructive+ does not override it. Also raised by
  # #add_invariant for an invariant the table in service already breaks.
  class InvariantError < RefusedError; end

  # Too many of the sample keys (Router#set_sample) would move to another
  # shard or become unroutable (+:ESHADOW+); the culprit is the keyspace,
  # #shadow the whole verdict. +allow_destructive+ overrides it.
  class ShadowError < RefusedError; end

  # A publish with +quarantine: true+ was refused by the empty, shrink or
  # shadow guard and kept pending (+:EQUARANTINED+): not serving, see
  # Router#pending, #approve_pending, #discard_pending. #culprit and
  # #reason are the guard's.
  class QuarantinedError < RefusedError
    # @return [Symbol, nil] the guard that refused it (+:EEMPTY+,
    #   +:ESHRINK+, +:ESHADOW+)
    attr_reader :guard_code
  end

  # A lookup cannot be answered by the table in service: a table disabled
  # by a routing rule (+:EDISABLED+), a reference table (+:EMULTISHARD+), a
  # lookup vindex (+:ENEEDSLOOKUP+), one not computed in process
  # (+:EUNSUPPORTED+), or NotFoundError. A value that maps to no keyspace
  # ID is not an error: lookups return nil.
  class NoRouteError < StandardError
    include Error
  end

  # No such keyspace, table, pending table or snapshot file, or nothing
  # published yet (+:ENOTFOUND+): a lookup with no answer (a NoRouteError)
  # and, when loading, a document that names what is not there (a
  # DocumentError).
  class NotFoundError < NoRouteError
    include DocumentError
  end

  # A bad argument or call the library rejects (+:EINVAL+, +:ERANGE+,
  # +:ESTATE+, +:ECALLBACK+): an ArgumentError.
  class InvalidError < ArgumentError
    include Error
  end

  # Router#rollback / #rollback_to: the history holds no such table
  # (+:ENOHISTORY+).
  class HistoryError < InvalidError; end

  # The document is not a valid routing document: JSON syntax, wrong
  # types, a VSchema Vitess would reject, a damaged snapshot (+:EDOC+,
  # +:EVSCHEMA+, +:EREFERENCE+, +:ECOVERAGE+, +:ESHARDNAME+). Also raised
  # by ShardRouter.keyspace_id for an unknown vindex type or bad params
  # (+:EREFERENCE+). For a snapshot file #path, #line and #column are nil.
  class InvalidDocumentError < InvalidError
    include DocumentError
  end

  # The system failed the call (+:EIO+): a snapshot that cannot be written,
  # a document or snapshot path that cannot be opened or read (then also
  # a DocumentError, with #errno). An IOError.
  class ResourceError < IOError
    include Error
  end

  # A status code newer than this binding: a StandardError that includes
  # Error (docs/errors.md).
  class UnknownStatusError < StandardError; end
  private_constant :UnknownStatusError

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
  #     apply); +:rule+ (a routing rule vtgate keeps as an error: lookups
  #     through it raise +:ERULE+); +:keyspace+ (a keyspace vtgate keeps
  #     with its build error: lookups in it raise +:EKEYSPACE+)
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

  # A fenced content hash (Router#fences).
  #
  # @!attribute [r] content_hash
  #   @return [Integer]
  # @!attribute [r] version
  #   @return [Integer] of the table that was fenced (0: unknown)
  # @!attribute [r] origin
  #   @return [Symbol] +:refused+ (by a guard), +:rolled_back+ (a rollback
  #     left it), +:discarded+ (from quarantine) or +:manual+ (Router#fence)
  # @!attribute [r] code
  #   @return [Symbol, nil] the guard's code for +:refused+ (+:ESHRINK+...)
  # @!attribute [r] fenced_at
  #   @return [Time]
  class Fence; end

  # What a table would do to the sample keys of one keyspace (or of all:
  # ShadowVerdict#totals, keyspace "").
  #
  # @!attribute [r] keyspace
  #   @return [String]
  # @!attribute [r] keys
  #   @return [Integer] sample keys naming the keyspace
  # @!attribute [r] routed
  #   @return [Integer] of which route in the table in service (to a shard
  #     or to no keyspace ID)
  # @!attribute [r] moved
  #   @return [Integer] routed by both tables, to another shard
  # @!attribute [r] unroutable
  #   @return [Integer] routed in service, not by the new table
  # @!attribute [r] newly_routable
  #   @return [Integer] not routed in service, routed by the new table
  class ShadowStat; end

  # The shadow evaluation of a table on the sample keys (Router#set_sample):
  # Router#check's Diff#shadow, RefusedError#shadow.
  #
  # @!attribute [r] keyspaces
  #   @return [Array<ShadowStat>] one per keyspace named by the sample,
  #     sorted by name
  # @!attribute [r] totals
  #   @return [ShadowStat] the sums (keyspace "")
  class ShadowVerdict
    # @param keyspace [String, Symbol]
    # @return [ShadowStat, nil] the counts of +keyspace+
    def [](keyspace)
      name = keyspace.to_s
      keyspaces.find { |s| s.keyspace == name }
    end
  end

  # What a publish would change (Router#check): an Array of Change, plus
  # the shadow verdict when the router has a sample.
  class Diff < Array
    # @return [ShadowVerdict, nil] what the table would do to the sample
    #   keys (Router#set_sample); nil without a sample or with nothing in
    #   service
    attr_reader :shadow

    # @param changes [Array<Change>]
    # @param shadow [ShadowVerdict, nil]
    def initialize(changes = [], shadow = nil)
      super(changes)
      @shadow = shadow
      freeze
    end
  end

  # Verify a last-known-good snapshot (Router#save_snapshot) without
  # loading it into a router: the format tag, the exact length, the
  # checksum, and that the document gives back the recorded version and
  # content hash.
  #
  # @param path [String, Pathname]
  # @return [Hash] +{version: Integer, content_hash: Integer}+
  # @raise [DocumentError] missing (NotFoundError, +:ENOTFOUND+),
  #   unreadable (ResourceError, +:EIO+, with #errno) or damaged
  #   (InvalidDocumentError, +:EDOC+: the reason says what)
  # @raise [InvalidError] too large (+:ERANGE+)
  def self.verify_snapshot(path)
    _verify_snapshot(path_arg(path))
  end

  # A file path as a String (Pathname and other #to_path objects too, but
  # not a stream: a File or Tempfile, open or closed, is never reopened by
  # its path).
  def self.path_arg(path)
    path = path.to_path if !path.is_a?(String) && !path.respond_to?(:closed?) && path.respond_to?(:to_path)
    raise TypeError, "a path is a String or Pathname, not #{path.class}" unless path.is_a?(String)

    path
  end
  private_class_method :_verify_snapshot, :_error_for_status, :path_arg

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
    PUBLISH_QUARANTINE = 0x4 # :nodoc:
    DUMP_COMPACT = 0x1 # :nodoc:
    DUMP_VITESS = 0x2 # :nodoc:
    private_constant :PUBLISH_DESTRUCTIVE, :PUBLISH_DRY_RUN, :PUBLISH_QUARANTINE, :DUMP_COMPACT, :DUMP_VITESS

    # A router with nothing in service (lookups raise NoRouteError until the
    # first publish).
    #
    # @param history [Integer] accepted tables kept for rollback, 1..1024
    # @param max_shrink [Float] share of a keyspace's tables a publish may
    #   drop without +allow_destructive+, 0..1
    # @param snapshot_path [String, Pathname, nil] last-known-good file
    #   saved (as #save_snapshot) after every accepted publish, approval and
    #   rollback; a failed save is counted in stats[:snapshots_failed] and
    #   warned about, and the publish stands. These calls release the GVL
    #   while librouter writes and fsyncs the file.
    # @param fence_cap [Integer] content hashes remembered as fenced (refused
    #   by a content guard, rolled back from, discarded from quarantine),
    #   oldest forgotten first, 0..65536; 0 turns fencing off
    # @raise [ArgumentError] an option out of range
    def initialize(history: 8, max_shrink: 0.1, snapshot_path: nil, fence_cap: 0)
      _init(history, max_shrink, snapshot_path.nil? ? nil : path_arg(snapshot_path), fence_cap)
    end

    # A router whose table in service comes from a last-known-good snapshot
    # (#save_snapshot, or +snapshot_path:+), with its recorded version: for
    # a process that restarts while its live source is missing or broken.
    # A damaged snapshot is refused whole, never half-loaded.
    #
    #   router = begin
    #     ShardRouter::Router.from_snapshot(LKG, snapshot_path: LKG)
    #   rescue ShardRouter::DocumentError, ShardRouter::InvalidError
    #     ShardRouter::Router.new(snapshot_path: LKG) # first start, or damaged
    #   end
    #
    # @param path [String, Pathname]
    # @param opts as Router.new (+history:+, +max_shrink:+,
    #   +snapshot_path:+, +fence_cap:+)
    # @return [Router]
    # @raise [DocumentError, InvalidError] as ShardRouter.verify_snapshot
    def self.from_snapshot(path, **opts)
      router = new(**opts)
      router.send(:_publish_snapshot, router.send(:path_arg, path))
      router
    end

    # Load a routing document and make it the table in service if every
    # guard passes.
    #
    # @param doc [String, Hash, Pathname, IO] JSON text (a String whose first
    #   non-blank character is "{"), a Hash (converted with JSON.generate),
    #   a file path (any other String, or a Pathname), or an IO to read
    #   from where it stands (never reopened by its path; a closed one
    #   raises IOError). The
    #   three shapes Vitess accepts: a SrvVSchema ({"keyspaces": ...}), a
    #   map of keyspace name to keyspace, or one keyspace's VSchema (give
    #   its name with +keyspace:+)
    # @param version [Integer, nil] the table's version, overriding the
    #   document's "version"; nil or 0: the document's, or the next version
    #   when it has none
    # @param allow_destructive [Boolean] let the publish drop keyspaces or
    #   more than max_shrink of a keyspace's tables, and move or strand
    #   sample keys (#set_sample); fences and invariants still apply
    # @param keyspace [String, nil] name of a single-keyspace document
    # @param shards [Hash{String=>Array<String>,Integer}, nil] shards per
    #   keyspace (names like "-80", or a count for an even split), replacing
    #   the document's "shards"; sharded keyspaces need them one way or the
    #   other
    # @param strict [Boolean] fields Vitess does not know are errors
    #   (otherwise they are skipped as Vitess skips them, with a warning)
    # @param quarantine [Boolean] a table the empty, shrink or shadow guard
    #   refuses is kept pending (#pending) instead of dropped, and
    #   QuarantinedError is raised; an operator approves or discards it
    # @return [Integer] the version now in service
    # @raise [DocumentError] the document is invalid (InvalidDocumentError),
    #   names a keyspace it does not define (NotFoundError), or its path
    #   cannot be read (ResourceError); nothing changed
    # @raise [RefusedError] a guard refused it; nothing changed
    #   (subclasses: FencedError, InvariantError, ShadowError,
    #   QuarantinedError)
    def publish(doc, version: nil, allow_destructive: false, keyspace: nil, shards: nil, strict: false,
                quarantine: false)
      src, is_path = document_source(doc)
      flags = (allow_destructive ? PUBLISH_DESTRUCTIVE : 0) | (quarantine ? PUBLISH_QUARANTINE : 0)
      _publish(src, is_path, keyspace_arg(keyspace), shards_arg(shards), strict, flags, version_arg(version))
    end

    # Dry run of #publish: the same verdict, nothing changes (nothing is
    # quarantined or fenced either).
    #
    # @param (see #publish)
    # @return [Diff] what publishing +doc+ would change (an Array of
    #   Change); Diff#shadow is the shadow verdict on the sample keys when
    #   a sample is set (#set_sample), else nil
    # @raise [DocumentError] the document is invalid
    # @raise [RefusedError] a publish would be refused (RefusedError#diff
    #   holds the changes, RefusedError#shadow the verdict)
    def check(doc, version: nil, allow_destructive: false, keyspace: nil, shards: nil, strict: false)
      src, is_path = document_source(doc)
      flags = PUBLISH_DRY_RUN | (allow_destructive ? PUBLISH_DESTRUCTIVE : 0)
      Diff.new(*_publish(src, is_path, keyspace_arg(keyspace), shards_arg(shards), strict, flags,
                         version_arg(version)))
    end

    # Give the router sample keys, taken from the application's own
    # traffic: from then on every publish and check first routes them
    # through the table in service and the new table, and a share of a
    # keyspace's routed keys above +max_moved+ moving to another shard, or
    # above +max_unroutable+ becoming unroutable, refuses the publish with
    # ShadowError (unless +allow_destructive+). The verdict is
    # Router#check's Diff#shadow and RefusedError#shadow.
    #
    #   router.set_sample([["user", "users", 42], ["user", "users", "abc".b]],
    #                     max_moved: 0.6)
    #
    # @param keys [Array<Array(String, String, Object)>] [keyspace, table,
    #   value] triples; keyspace and table Strings or Symbols, value as in
    #   #route (Integer, String, nil, or an Array for a multi-column
    #   vindex); the keys are copied. An empty Array clears the sample.
    # @param max_moved [Float] 0..1; 1.0 (default): never refuse for moves
    #   (resharding moves keys by design)
    # @param max_unroutable [Float] 0..1; 0.0 (default): any key becoming
    #   unroutable refuses
    # @return [self]
    # @raise [ArgumentError] thresholds outside 0..1, a malformed key
    # @raise [TypeError, RangeError] a value #route would not take
    def set_sample(keys, max_moved: 1.0, max_unroutable: 0.0)
      raise TypeError, "sample keys must be an Array of [keyspace, table, value], not #{keys.class}" unless keys.is_a?(Array)

      { max_moved: max_moved, max_unroutable: max_unroutable }.each do |name, v|
        raise TypeError, "#{name} must be Numeric, not #{v.class}" unless v.is_a?(Numeric)
        raise ArgumentError, "#{name} must be in 0..1, not #{v}" unless v >= 0 && v <= 1
      end
      triples = keys.map do |key|
        unless key.is_a?(Array) && key.size == 3
          raise ArgumentError, "a sample key is [keyspace, table, value], not #{key.inspect[0, 80]}"
        end

        [name_arg(key[0], "keyspace"), name_arg(key[1], "table"), key[2]].freeze
      end
      _set_sample(triples.freeze, max_moved, max_unroutable)
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
    # @raise [NotFoundError] no such keyspace (+:ENOTFOUND+)
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
    def document_source(doc)
      case doc
      when String
        json_text?(doc) ? [doc, false] : [doc, true]
      when Hash
        [JSON.generate(doc), false]
      else
        # A stream (File, Tempfile, StringIO...) is read as it stands, never
        # reopened by its path: a closed one raises IOError ("closed
        # stream") as IO#read does. A Pathname (no #closed?) is a path.
        return [io_text(doc), false] if doc.respond_to?(:read) && (doc.respond_to?(:closed?) || !doc.respond_to?(:to_path))
        return [doc.to_path.to_str, true] if doc.respond_to?(:to_path)

        raise TypeError, "a routing document is a JSON String, a Hash, a path or an IO, not #{doc.class}"
      end
    end

    def io_text(io)
      text = io.read
      raise TypeError, "#{io.class}#read gave #{text.class}, not a String" unless text.is_a?(String)

      text
    end

    def json_text?(str)
      str.match?(/\A[[:space:]]*\{/)
    end

    # The version: keyword as librouter's override (0: none).
    def version_arg(version)
      return 0 if version.nil?
      unless version.is_a?(Integer) && version >= 0 && version <= VERSION_MAX
        raise ArgumentError, "version must be an Integer in 0..#{VERSION_MAX}, not #{version.inspect}"
      end

      version
    end

    def path_arg(path)
      ShardRouter.send(:path_arg, path)
    end

    def name_arg(name, what)
      raise TypeError, "#{what} must be a String or Symbol, not #{name.class}" unless name.is_a?(String) || name.is_a?(Symbol)
      raise ArgumentError, "#{what} contains a NUL byte" if name.to_s.include?("\0")

      name.to_s.dup.freeze
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
