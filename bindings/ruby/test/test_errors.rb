# frozen_string_literal: true

require_relative "helper"
require "tmpdir"

# Exceptions follow the status code alone, through librouter's error
# category (docs/errors.md, issue 16): one class per code whatever the
# call, Ruby's own superclasses (ArgumentError, IOError) where the doc
# gives them, and the code on every exception.
class TestErrors < Minitest::Test
  include TestHelper

  ERRORS_MD = File.expand_path("../../../docs/errors.md", __dir__)

  # docs/errors.md's table: code name => [status, Ruby class name].
  def self.doc_table
    File.read(ERRORS_MD).scan(/^\| `ROUTER_(E[A-Z]+)` \((-\d+)\) \| \w+ \| `\w+` \| `(\w+)` \|$/)
        .to_h { |name, status, klass| [name.to_sym, [Integer(status), klass]] }
  end

  def error_for(status, culprit = "user.users", message = "what went wrong")
    ShardRouter.send(:_error_for_status, status, culprit, message)
  end

  def test_each_status_code_raises_the_class_docs_errors_md_gives
    table = self.class.doc_table
    assert_equal 27, table.size, "every code of ROUTER_ERRNO_MAP has a row"
    table.each do |name, (status, klass)|
      if name == :ENOMEM
        assert_equal "NoMemoryError", klass
        assert_raises(NoMemoryError) { error_for(status) }
        next
      end
      e = error_for(status)
      assert_instance_of ShardRouter.const_get(klass), e, name.to_s
      assert_kind_of ShardRouter::Error, e, name.to_s
      assert_kind_of StandardError, e, name.to_s
    end
  end

  def test_categories_decide_the_superclass
    { -1 => ArgumentError, -4 => ArgumentError, -17 => ArgumentError, -25 => ArgumentError,
      -14 => ArgumentError, -18 => ArgumentError, -6 => ArgumentError, -7 => ArgumentError,
      -9 => ArgumentError, -5 => ArgumentError, -19 => IOError }.each do |status, std|
      assert_kind_of std, error_for(status), status.to_s
    end
    [-3, -12, -13, -15, -16].each { |s| assert_kind_of ShardRouter::NoRouteError, error_for(s) }
    [-8, -10, -11, -24, -20, -21, -22, -23].each { |s| assert_kind_of ShardRouter::RefusedError, error_for(s) }
    [-3, -18, -6, -7, -9, -5].each { |s| assert_kind_of ShardRouter::DocumentError, error_for(s) }
    [-1, -4, -17, -25, -14, -19, -12, -8].each { |s| refute_kind_of ShardRouter::DocumentError, error_for(s) }
  end

  def test_the_hierarchy_is_the_one_docs_errors_md_draws
    m = ShardRouter
    assert_instance_of Module, m::Error
    assert_instance_of Module, m::DocumentError
    assert_operator m::DocumentError, :<, m::Error
    assert_equal StandardError, m::RefusedError.superclass
    [m::FencedError, m::InvariantError, m::ShadowError, m::QuarantinedError].each do |k|
      assert_equal m::RefusedError, k.superclass
    end
    assert_equal StandardError, m::NoRouteError.superclass
    assert_equal m::NoRouteError, m::NotFoundError.superclass
    assert_operator m::NotFoundError, :<, m::DocumentError
    assert_equal ArgumentError, m::InvalidError.superclass
    assert_equal m::InvalidError, m::HistoryError.superclass
    assert_equal m::InvalidError, m::InvalidDocumentError.superclass
    assert_operator m::InvalidDocumentError, :<, m::DocumentError
    assert_equal IOError, m::ResourceError.superclass
    [m::RefusedError, m::NoRouteError, m::InvalidError, m::ResourceError].each do |k|
      assert_operator k, :<, m::Error
    end
  end

  def test_a_code_newer_than_the_binding_is_a_standard_error_that_includes_error
    [-28, -99, 7].each do |status|
      e = error_for(status)
      assert_kind_of StandardError, e
      assert_kind_of ShardRouter::Error, e
      [ShardRouter::RefusedError, ShardRouter::NoRouteError, ShardRouter::InvalidError,
       ShardRouter::ResourceError, ShardRouter::DocumentError].each { |k| refute_kind_of k, e }
      assert_equal status, e.status
    end
  end

  def test_every_exception_carries_status_code_culprit_and_reason
    e = error_for(-14, "user", "no table 3 back")
    assert_equal(-14, e.status)
    assert_equal :ENOHISTORY, e.code
    assert_equal "user", e.culprit
    assert_equal "no table 3 back", e.reason
    assert_equal "user: no table 3 back (ROUTER_ENOHISTORY)", e.message
    e = error_for(-1, "", "")
    assert_nil e.culprit
    assert_equal "invalid argument (ROUTER_EINVAL)", e.message
    assert_equal :EINVAL, e.code
    assert_equal [], error_for(-8).diff
    assert_nil error_for(-8).shadow
  end

  # --- from real calls --------------------------------------------------------

  def test_not_found_is_the_same_class_from_routing_loading_and_snapshots
    r = router_with
    Dir.mktmpdir do |dir|
      [-> { r.route("user", "nope", 1) },
       -> { ShardRouter::Router.new.publish(user_doc, shards: { "nope" => 2 }) },
       -> { ShardRouter::Router.new.save_snapshot(File.join(dir, "x.lkg")) },
       -> { ShardRouter.verify_snapshot(File.join(dir, "missing.lkg")) },
       -> { r.approve_pending },
       -> { r.export(keyspace: "nope") }].each do |call|
        e = assert_raises(ShardRouter::NotFoundError) { call.call }
        assert_equal :ENOTFOUND, e.code
        assert_equal(-3, e.status)
        assert_kind_of ShardRouter::NoRouteError, e
        assert_kind_of ShardRouter::DocumentError, e
      end
    end
  end

  def test_bad_input_is_rescued_as_argument_error
    r = router_with
    e = assert_raises(ArgumentError) { r.rollback(3) }
    assert_instance_of ShardRouter::HistoryError, e
    assert_equal :ENOHISTORY, e.code
    e = assert_raises(ArgumentError) { r.table("x" * 129, "users") }
    assert_instance_of ShardRouter::InvalidError, e
    assert_includes %i[ERANGE EINVAL], e.code
    e = assert_raises(ArgumentError) { ShardRouter::Router.new.fence(1) }
    assert_instance_of ShardRouter::InvalidError, e
    assert_equal :ESTATE, e.code
    e = assert_raises(ArgumentError) { ShardRouter::Router.allocate.version }
    assert_instance_of ShardRouter::InvalidError, e
    assert_equal :ESTATE, e.code
  end

  def test_bad_documents_are_invalid_documents_and_argument_errors
    from_doc = assert_raises(ArgumentError) { ShardRouter::Router.new.publish("{") }
    from_vindex = assert_raises(ArgumentError) { ShardRouter.keyspace_id("nope", 1) }
    [from_doc, from_vindex].each do |e|
      assert_instance_of ShardRouter::InvalidDocumentError, e
      assert_kind_of ShardRouter::DocumentError, e
    end
    assert_equal :EDOC, from_doc.code
    assert_equal :EREFERENCE, from_vindex.code
    assert_equal 1, from_doc.line
  end

  def test_paths_that_cannot_be_opened_are_resource_errors_rescued_as_io_error
    Dir.mktmpdir do |dir|
      missing = File.join(dir, "missing.json")
      e = assert_raises(IOError) { ShardRouter::Router.new.publish(missing) }
      assert_instance_of ShardRouter::ResourceError, e
      assert_kind_of ShardRouter::DocumentError, e
      assert_equal :EIO, e.code
      assert_equal missing, e.culprit
      assert_equal Errno::ENOENT::Errno, e.errno
      e = assert_raises(IOError) { ShardRouter::Router.new.publish(dir) }
      assert_equal Errno::EISDIR::Errno, e.errno
      e = assert_raises(ShardRouter::NotFoundError) { ShardRouter.verify_snapshot(missing) }
      assert_equal Errno::ENOENT::Errno, e.errno
      e = assert_raises(IOError) { router_with.save_snapshot(File.join(dir, "no", "such")) }
      assert_instance_of ShardRouter::ResourceError, e
      refute_kind_of ShardRouter::DocumentError, e # writing: no document involved
    end
  end

  def test_refusals_keep_their_classes_wherever_they_come_from
    r = router_with
    e = assert_raises(ShardRouter::RefusedError) { r.publish({ "keyspaces" => {} }) }
    assert_instance_of ShardRouter::RefusedError, e
    assert_equal :EEMPTY, e.code
    refute_kind_of ArgumentError, e
  end
end
