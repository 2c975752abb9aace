#pragma once
// Building a JSON object tree from (path, value) pairs in linear time.

#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/json_object.hpp"

namespace judgebias::detail {

// A tree of JSON objects built key by key in first-insertion order, each key found by hash, then
// turned into an ordered_json without a lookup: linear in the keys (ordered_json finds a key by a
// linear scan, so building a wide object with it is quadratic).
class json_tree {
 public:
  json_tree() : nodes_(1) {}
  /// The node at `path` (objects created as needed).
  std::size_t at(const std::vector<std::string_view>& path) {
    std::size_t n = 0;
    for (auto key : path) n = child(n, key);
    return n;
  }
  void set(std::size_t n, nlohmann::ordered_json value) {
    nodes_[n].leaf = std::move(value);
    nodes_[n].is_leaf = true;
  }
  nlohmann::ordered_json take(std::size_t n = 0) {
    node& x = nodes_[n];
    if (x.is_leaf) return std::move(x.leaf);
    nlohmann::ordered_json out = nlohmann::ordered_json::object();
    for (auto& [key, c] : x.children) detail::append_member(out, std::move(key), take(c));
    return out;
  }

 private:
  struct node {
    std::vector<std::pair<std::string, std::size_t>> children;
    std::unordered_map<std::string, std::size_t> index;  // once there are more than a few children
    nlohmann::ordered_json leaf;
    bool is_leaf = false;
  };
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
  std::vector<node> nodes_;
};

}  // namespace judgebias::detail
