#pragma once
// Building large JSON objects in linear time.

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace judgebias::detail {

/// Appends a member to a JSON object without looking the key up (an ordered_json object searches its
/// keys linearly, so filling one with n members by operator[] costs n²). The caller knows the key is new.
inline void append_member(nlohmann::ordered_json& object, std::string key, nlohmann::ordered_json value) {
  if (!object.is_object()) object = nlohmann::ordered_json::object();
  auto& members = object.get_ref<nlohmann::ordered_json::object_t&>();
  members.std::vector<typename nlohmann::ordered_json::object_t::value_type>::emplace_back(std::move(key),
                                                                                           std::move(value));
}

}  // namespace judgebias::detail
