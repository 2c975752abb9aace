#pragma once
// Building a tree of keys from (path, value) pairs in linear time, in first-insertion order: the JSON
// object tree of the report, and the order of a measurement's members.

#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/json_object.hpp"

namespace judgebias::detail {

// Keys in first-insertion order under each node, each found by hash once a node has more than a few
// (a linear scan would make a node with n children cost n²). A node is a leaf (it holds a Leaf) or an
// object of children; a leaf set on a node with children hides them, as a JSON value replaces an object.
template <class Leaf>
class key_tree {
 public:
  key_tree() : nodes_(1) {}
  /// The node at `path` (nodes created as needed).
  std::size_t at(const std::vector<std::string_view>& path) {
    std::size_t n = 0;
    for (auto key : path) n = child(n, key);
    return n;
  }
  void set(std::size_t n, Leaf value) {
    nodes_[n].leaf = std::move(value);
    nodes_[n].is_leaf = true;
  }
  /// Visits, depth first in insertion order, every leaf as f(path, &leaf) and every node with neither a
  /// leaf nor children (an empty object) as f(path, nullptr).
  template <class F>
  void walk(F&& f) {
    std::vector<std::string_view> path;
    walk(0, path, f);
  }

 protected:
  // (clang-tidy 14 flags the implicit members of a node, which can throw only std::bad_alloc.)
  struct node {  // NOLINT(bugprone-exception-escape)
    std::vector<std::pair<std::string, std::size_t>> children;
    std::unordered_map<std::string, std::size_t> index;  // once there are more than a few children
    Leaf leaf{};
    bool is_leaf = false;
  };
  std::vector<node> nodes_;

 private:
  template <class F>
  void walk(std::size_t n, std::vector<std::string_view>& path, F& f) {
    node& x = nodes_[n];
    if (x.is_leaf) {
      f(path, &x.leaf);
      return;
    }
    if (x.children.empty()) {
      if (n != 0) f(path, static_cast<Leaf*>(nullptr));
      return;
    }
    for (std::size_t k = 0; k < nodes_[n].children.size(); ++k) {
      path.push_back(nodes_[n].children[k].first);
      walk(nodes_[n].children[k].second, path, f);
      path.pop_back();
    }
  }
  std::size_t child(std::size_t n, std::string_view key) {
    {
      node& x = nodes_[n];
      if (x.index.empty()) {
        for (const auto& [k, c] : x.children)
          if (k == key) return c;
      } else if (auto it = x.index.find(std::string(key)); it != x.index.end()) {
        return it->second;
      }
    }
    const std::size_t c = nodes_.size();
    nodes_.emplace_back();
    node& x = nodes_[n];
    x.children.emplace_back(std::string(key), c);
    if (x.children.size() > 8) {
      if (x.index.empty())
        for (const auto& [k, i] : x.children) x.index.emplace(k, i);
      else
        x.index.emplace(std::string(key), c);
    }
    return c;
  }
};

// A tree of JSON objects built key by key, then turned into an ordered_json without a lookup.
class json_tree : public key_tree<nlohmann::ordered_json> {
 public:
  nlohmann::ordered_json take(std::size_t n = 0) {
    node& x = nodes_[n];
    if (x.is_leaf) return std::move(x.leaf);
    nlohmann::ordered_json out = nlohmann::ordered_json::object();
    for (auto& [key, c] : x.children) detail::append_member(out, std::move(key), take(c));
    return out;
  }
};

}  // namespace judgebias::detail
