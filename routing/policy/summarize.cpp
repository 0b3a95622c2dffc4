#include "routing/policy/summarize.hpp"

#include <algorithm>
#include <bit>
#include <cassert>
#include <functional>
#include <limits>
#include <queue>
#include <tuple>
#include <utility>

namespace transit::routing {
namespace {

// The candidates. Normalised P prefixes are pairwise disjoint, so they are the leaves of the
// binary trie of addresses. A prefix that covers some leaves is never better than the smallest
// prefix covering the same leaves (it covers more addresses and overlaps F whenever the smaller
// one does), and that smallest prefix is a branching node of the trie. So the only candidates are
// the nodes of the path-compressed trie: the leaves and their branching ancestors, 2n - 1 nodes.
// A cover that splits a P prefix into parts is never needed either: the P prefix itself is one
// prefix, wastes nothing and is always allowed.

constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();

struct Node {
  Ipv4Prefix prefix;
  std::uint64_t covered = 0;   // addresses of P under the node
  std::uint32_t left = kNone;  // kNone for a leaf (a normalised P prefix)
  std::uint32_t right = kNone;
  std::uint32_t leaves = 1;     // normalised P prefixes under the node
  std::uint32_t min_count = 1;  // fewest allowed prefixes that cover the node's P addresses
  bool takeable = true;         // may be sent: overlaps no F prefix, or is a P prefix

  bool isLeaf() const { return left == kNone; }
  std::uint64_t waste() const { return prefix.size() - covered; }
};

// The nodes in post-order (children before parents, a left subtree before the right one), so the
// root is the last node and a node's subtree is the 2 * leaves - 1 nodes ending at it.
using Trie = std::vector<Node>;

// Sorted, duplicates and prefixes inside another prefix of the set dropped.
std::vector<Ipv4Prefix> normalise(std::span<const Ipv4Prefix> prefixes) {
  std::vector<Ipv4Prefix> sorted(prefixes.begin(), prefixes.end());
  // Sorted by network, then length: a prefix comes before the prefixes it contains.
  std::sort(sorted.begin(), sorted.end());
  std::vector<Ipv4Prefix> out;
  out.reserve(sorted.size());
  for (const auto& prefix : sorted) {
    // Kept prefixes are disjoint and sorted, so only the last one can contain `prefix`.
    if (out.empty() || !out.back().contains(prefix)) {
      out.push_back(prefix);
    }
  }
  return out;
}

// The forbidden addresses as sorted disjoint ranges; overlap queries by binary search.
class ForbiddenRanges {
 public:
  explicit ForbiddenRanges(std::span<const Ipv4Prefix> forbidden) {
    for (const auto& prefix : normalise(forbidden)) {
      ranges_.push_back({prefix.network().value(), prefix.last().value()});
    }
  }

  bool overlaps(const Ipv4Prefix& prefix) const {
    const std::uint32_t first = prefix.network().value();
    // The first range ending at or after `first` is the only one that can overlap.
    auto it = std::lower_bound(
        ranges_.begin(), ranges_.end(), first,
        [](const Range& range, std::uint32_t value) { return range.last < value; });
    return it != ranges_.end() && it->first <= prefix.last().value();
  }

 private:
  struct Range {
    std::uint32_t first;
    std::uint32_t last;
  };
  std::vector<Range> ranges_;
};

// Builds the path-compressed trie of `leaves` (normalised, non-empty). The branching node
// between two adjacent leaves sits at the depth of their common leading bits; the trie is the
// Cartesian tree of those depths, built left to right with a stack.
Trie buildTrie(const std::vector<Ipv4Prefix>& leaves, const ForbiddenRanges& forbidden) {
  Trie nodes;
  nodes.reserve(2 * leaves.size() - 1);
  auto addLeaf = [&](const Ipv4Prefix& prefix) {
    Node leaf;
    leaf.prefix = prefix;
    leaf.covered = prefix.size();
    nodes.push_back(leaf);
    return static_cast<std::uint32_t>(nodes.size() - 1);
  };
  auto join = [&](std::uint32_t left, std::uint32_t right, int depth) {
    const Node& l = nodes[left];
    const Node& r = nodes[right];
    Node node;
    node.prefix = Ipv4Prefix::containing(l.prefix.network(), depth);
    node.covered = l.covered + r.covered;
    node.left = left;
    node.right = right;
    node.leaves = l.leaves + r.leaves;
    node.takeable = !forbidden.overlaps(node.prefix);
    node.min_count = node.takeable ? 1 : l.min_count + r.min_count;
    nodes.push_back(node);
    return static_cast<std::uint32_t>(nodes.size() - 1);
  };

  struct Pending {
    std::uint32_t node;  // a finished subtree
    int depth;           // depth of its join with the subtree to its right
  };
  std::vector<Pending> stack;
  std::uint32_t current = addLeaf(leaves.front());
  for (std::size_t i = 1; i < leaves.size(); ++i) {
    // Disjoint prefixes differ within their shorter length, so this is below both lengths.
    const int depth =
        std::countl_zero(leaves[i - 1].network().value() ^ leaves[i].network().value());
    while (!stack.empty() && stack.back().depth > depth) {
      current = join(stack.back().node, current, stack.back().depth);
      stack.pop_back();
    }
    stack.push_back({current, depth});
    current = addLeaf(leaves[i]);
  }
  while (!stack.empty()) {
    current = join(stack.back().node, current, stack.back().depth);
    stack.pop_back();
  }
  return nodes;
}

// Appends the prefixes of the cover rooted at `root` chosen by `pick`, in address order.
// pick(node) returns true to take the node whole, false to descend into its children.
template <typename Pick>
void collect(const Trie& nodes, std::uint32_t root, Pick pick, std::vector<Ipv4Prefix>& out) {
  const Node& node = nodes[root];
  if (node.isLeaf() || pick(root)) {
    out.push_back(node.prefix);
    return;
  }
  collect(nodes, node.left, pick, out);  // depth is at most 33: recursion is fine
  collect(nodes, node.right, pick, out);
}

// The result for cover `chosen` (sorted, disjoint, covering every prefix of `normalised`).
Summary makeSummary(const std::vector<Ipv4Prefix>& chosen,
                    const std::vector<Ipv4Prefix>& normalised, std::size_t limit) {
  Summary summary;
  summary.prefixes.reserve(chosen.size());
  std::uint64_t chosen_size = 0;
  std::uint64_t p_size = 0;
  std::size_t next = 0;
  for (const auto& prefix : chosen) {
    SummaryEntry entry{prefix, {}};
    while (next < normalised.size() && prefix.contains(normalised[next])) {
      entry.covers.push_back(normalised[next]);
      p_size += normalised[next].size();
      ++next;
    }
    assert(!entry.covers.empty());
    chosen_size += prefix.size();
    summary.prefixes.push_back(std::move(entry));
  }
  assert(next == normalised.size());
  summary.wasted_addresses = chosen_size - p_size;
  summary.within_limit = chosen.size() <= limit;
  return summary;
}

Summary unchanged(const std::vector<Ipv4Prefix>& normalised, std::size_t limit) {
  return makeSummary(normalised, normalised, limit);
}

// The cover with the fewest prefixes: every node that may be sent and whose parent may not.
// (A node that may be sent is one prefix; one that may not must be split, so this is the only
// cover with the fewest prefixes.)
Summary fewestPrefixes(const Trie& nodes, const std::vector<Ipv4Prefix>& normalised,
                       std::size_t limit) {
  std::vector<Ipv4Prefix> chosen;
  const auto root = static_cast<std::uint32_t>(nodes.size() - 1);
  collect(
      nodes, root, [&](std::uint32_t v) { return nodes[v].takeable; }, chosen);
  return makeSummary(chosen, normalised, limit);
}

// A DP cost: waste in the high bits, prefix count in the low 31 bits, so that comparing costs
// compares waste first and count second, and adding costs adds both. Waste is at most 2^32 and
// a count at most the number of normalised P prefixes (below 2^31), so neither overflows.
constexpr int kCountBits = 31;
constexpr std::uint64_t kInfinite = std::numeric_limits<std::uint64_t>::max();
constexpr std::uint64_t cost(std::uint64_t waste, std::uint64_t count) {
  return (waste << kCountBits) | count;
}

// The tree knapsack. table(v)[k - 1] = least cost covering v's P addresses with at most k
// prefixes inside v, for k = 1 .. min(limit, leaves(v)); bounding each table so makes the total
// work O(n * limit). Tables live on one stack (post-order: a node's children are the top two) and
// a node's table replaces its children's. split(v)[k - 1] records the choice: 0 = v itself, a > 0
// = at most a prefixes in the left child and k - a in the right.
std::vector<Ipv4Prefix> optimalCover(const Trie& nodes, std::size_t limit) {
  std::vector<std::uint64_t> tables;  // the stack of tables, back to back
  struct Table {
    std::size_t offset;
    std::uint32_t size;
  };
  std::vector<Table> stack;
  std::vector<std::uint32_t> splits;
  std::vector<std::size_t> split_offset(nodes.size(), 0);
  std::vector<std::uint64_t> merged;
  const auto cap = static_cast<std::uint32_t>(
      std::min<std::size_t>(limit, std::numeric_limits<std::uint32_t>::max()));

  for (std::uint32_t v = 0; v < nodes.size(); ++v) {
    const Node& node = nodes[v];
    if (node.isLeaf()) {
      stack.push_back({tables.size(), 1});
      tables.push_back(cost(0, 1));
      continue;
    }
    const Table right = stack.back();
    stack.pop_back();
    const Table left = stack.back();
    stack.pop_back();
    const std::uint64_t* lt = tables.data() + left.offset;
    const std::uint64_t* rt = tables.data() + right.offset;
    const auto ml = static_cast<std::int64_t>(left.size);
    const auto mr = static_cast<std::int64_t>(right.size);
    // Below a child's min_count its entries are infinite; the loop bounds skip them.
    const auto fl = static_cast<std::int64_t>(nodes[node.left].min_count);
    const auto fr = static_cast<std::int64_t>(nodes[node.right].min_count);
    const std::uint32_t m = std::min(cap, left.size + right.size);
    const std::uint64_t whole = node.takeable ? cost(node.waste(), 1) : kInfinite;

    merged.assign(m, kInfinite);
    split_offset[v] = splits.size();
    splits.resize(splits.size() + m);
    std::uint32_t* split = splits.data() + split_offset[v];
    for (std::int64_t k = 1; k <= m; ++k) {
      std::uint64_t best = whole;
      std::uint32_t best_split = 0;
      const std::int64_t lo = std::max(fl, k - mr);
      const std::int64_t hi = std::min(ml, k - fr);
      for (std::int64_t a = lo; a <= hi; ++a) {
        const std::uint64_t candidate = lt[a - 1] + rt[k - a - 1];
        if (candidate < best) {
          best = candidate;
          best_split = static_cast<std::uint32_t>(a);
        }
      }
      merged[k - 1] = best;
      split[k - 1] = best_split;
    }
    tables.resize(left.offset);
    tables.insert(tables.end(), merged.begin(), merged.end());
    stack.push_back({left.offset, m});
  }

  // Walk the choices down from the root with the whole budget.
  std::vector<Ipv4Prefix> chosen;
  const auto root = static_cast<std::uint32_t>(nodes.size() - 1);
  assert(stack.size() == 1 && tables[stack.back().size - 1] != kInfinite);
  struct Visit {
    std::uint32_t node;
    std::uint32_t budget;
  };
  std::vector<Visit> todo{{root, stack.back().size}};
  while (!todo.empty()) {
    const Visit visit = todo.back();
    todo.pop_back();
    const Node& node = nodes[visit.node];
    const std::uint32_t a = node.isLeaf() ? 0 : splits[split_offset[visit.node] + visit.budget - 1];
    if (a == 0) {
      chosen.push_back(node.prefix);
      continue;
    }
    todo.push_back({node.right, visit.budget - a});  // popped after the left half
    todo.push_back({node.left, a});
  }
  return chosen;
}

}  // namespace

Summary summarize(std::span<const Ipv4Prefix> must_reach, std::span<const Ipv4Prefix> forbidden,
                  std::size_t limit) {
  const std::vector<Ipv4Prefix> normalised = normalise(must_reach);
  if (normalised.size() <= limit) {
    return unchanged(normalised, limit);
  }
  assert(normalised.size() < (std::size_t{1} << kCountBits));
  const Trie nodes = buildTrie(normalised, ForbiddenRanges(forbidden));
  if (nodes.back().min_count > limit) {
    return fewestPrefixes(nodes, normalised, limit);
  }
  return makeSummary(optimalCover(nodes, limit), normalised, limit);
}

Summary summarizeGreedy(std::span<const Ipv4Prefix> must_reach,
                        std::span<const Ipv4Prefix> forbidden, std::size_t limit) {
  const std::vector<Ipv4Prefix> normalised = normalise(must_reach);
  if (normalised.size() <= limit) {
    return unchanged(normalised, limit);
  }
  const Trie nodes = buildTrie(normalised, ForbiddenRanges(forbidden));

  // The summaries are always an antichain of trie nodes covering every leaf (initially the
  // leaves). Two adjacent summaries' smallest common supernet is the trie node where they branch,
  // and every node above the antichain is that node for exactly one adjacent pair. Merging at
  // node u replaces every summary under u and adds size(u) - (addresses of the summaries under
  // u) of waste; the merge changes that figure only for u's ancestors.
  const std::size_t n = nodes.size();
  std::vector<std::uint32_t> parent(n, kNone);
  std::vector<std::uint64_t> summarised(n);  // addresses of the summaries under the node
  std::vector<std::uint32_t> summaries(n);   // number of summaries under the node
  std::vector<char> merged(n, 0);            // the node is a summary, or lies under one
  for (std::uint32_t v = 0; v < n; ++v) {
    summarised[v] = nodes[v].covered;
    summaries[v] = nodes[v].leaves;
    if (!nodes[v].isLeaf()) {
      parent[nodes[v].left] = v;
      parent[nodes[v].right] = v;
    }
  }

  struct Candidate {
    std::uint64_t added;  // waste the merge adds
    Ipv4Address network;
    int length;
    std::uint32_t node;
  };
  // Least added waste first, then the lower address, then the smaller prefix.
  auto later = [](const Candidate& a, const Candidate& b) {
    return std::tie(a.added, a.network, b.length) > std::tie(b.added, b.network, a.length);
  };
  std::priority_queue<Candidate, std::vector<Candidate>, decltype(later)> queue(later);
  auto offer = [&](std::uint32_t v) {
    const Node& node = nodes[v];
    queue.push(
        {node.prefix.size() - summarised[v], node.prefix.network(), node.prefix.length(), v});
  };
  for (std::uint32_t v = 0; v < n; ++v) {
    if (!nodes[v].isLeaf() && nodes[v].takeable) {
      offer(v);
    }
  }

  std::size_t count = normalised.size();
  while (count > limit && !queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    const std::uint32_t u = top.node;
    const Node& node = nodes[u];
    if (merged[u] || top.added != node.prefix.size() - summarised[u]) {
      continue;  // already inside a summary, or a stale entry
    }
    const std::uint32_t removed = summaries[u] - 1;
    count -= removed;
    // The subtree is the 2 * leaves - 1 nodes ending at u in post-order.
    const std::uint32_t first = u + 1 - (2 * node.leaves - 1);
    std::fill(merged.begin() + first, merged.begin() + u + 1, 1);
    summarised[u] = node.prefix.size();
    summaries[u] = 1;
    // Ancestors: their summaries under them grow; only allowed ones are candidates, and every
    // ancestor of a node that may not be sent may not be sent either.
    for (std::uint32_t a = parent[u]; a != kNone && nodes[a].takeable; a = parent[a]) {
      summarised[a] += top.added;
      summaries[a] -= removed;
      offer(a);
    }
  }

  std::vector<Ipv4Prefix> chosen;
  collect(
      nodes, static_cast<std::uint32_t>(n - 1), [&](std::uint32_t v) { return merged[v] != 0; },
      chosen);
  return makeSummary(chosen, normalised, limit);
}

}  // namespace transit::routing
