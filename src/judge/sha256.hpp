#pragma once
// SHA-256 (FIPS 180-4), for the keys of the judge runner's cache: a key is the hash of everything that
// determines a server's answer, so two requests share an entry only when they are the same request.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace judgebias::judge {

class sha256 {
 public:
  sha256();
  void update(std::string_view bytes);
  /// The digest as 64 lowercase hexadecimal digits. Ends the hash: call once.
  std::string hex();

 private:
  void block(const unsigned char* p);
  std::array<std::uint32_t, 8> h_;
  std::array<unsigned char, 64> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t length_ = 0;  // bytes hashed so far
};

/// SHA-256 of `bytes`, in hexadecimal.
std::string sha256_hex(std::string_view bytes);

}  // namespace judgebias::judge
