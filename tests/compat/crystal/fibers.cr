# Fibers on Crystal's runtime, which runs them on Boehm GC: each fiber
# has a stack of its own, and the runtime writes the running fiber's
# stack base into GC_stackbottom at every switch (-Dpreview_mt: sets it
# per thread from its GC_set_push_other_roots callback, and pushes the
# stacks of the fibers not running with GC_push_all_eager).  The data
# each fiber builds is held by its own stack frames only, across
# switches and collections run from other fibers.

class Node
  property next : Node?
  property val : Int64

  def initialize(@val, @next = nil)
  end
end

def build(n, seed)
  head : Node? = nil
  n.times { |i| head = Node.new(seed * 1000 + i, head) }
  head
end

def sum(l : Node?)
  s = 0_i64
  while l
    s += l.val
    l = l.next
  end
  s
end

# Data held in the frames of a recursion, a fiber switch at the bottom.
def deep(depth, seed) : Int64
  local = build(50, seed + depth)
  if depth == 0
    Fiber.yield
    GC.collect if seed % 7 == 0
    sum(local)
  else
    deep(depth - 1, seed) + sum(local)
  end
end

ch = Channel(Int64).new
nf = 200
nf.times do |f|
  spawn do
    lst = build(2000, f.to_i64)
    10.times do |r|
      junk = Array.new(500) { |j| "s#{j}#{r}" }
      Fiber.yield
      GC.collect if f % 50 == 0 && r == 5
    end
    inner = Channel(Int64).new
    spawn { inner.send deep(20, f.to_i64) }
    ch.send sum(lst) + inner.receive
  end
end
total = 0_i64
nf.times { total += ch.receive }
puts total

table = {} of String => Array(Int32)
100000.times do |i|
  (table["key#{i % 5000}"] ||= [] of Int32) << i
end
puts table.size, table.sum { |k, v| v.sum.to_i64 }
strs = (1..200000).map { |i| i.to_s * 3 }
puts strs.sum(&.size)
