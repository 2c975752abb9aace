// The yardstick: one bare simdjson on-demand pass over a judgment file that touches every field an
// analysis needs and keeps nothing. judgebias run is measured against it (docs/performance.md).
// Usage: simdjson_pass FILE.jsonl
#include <cstdio>
#include <cstring>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <simdjson.h>

namespace od = simdjson::ondemand;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: simdjson_pass FILE.jsonl\n");
    return 2;
  }
  const int fd = ::open(argv[1], O_RDONLY);
  if (fd < 0) {
    std::perror(argv[1]);
    return 1;
  }
  od::parser parser;
  std::vector<char> buf((1u << 20) + simdjson::SIMDJSON_PADDING);
  std::size_t end = 0;
  std::uint64_t records = 0, checksum = 0;
  auto touch_candidate = [&](od::value v) {
    for (auto f : v.get_object()) {
      std::string_view key = f.unescaped_key();
      if (key == "length" || key == "tokens")
        checksum += f.value().get_uint64().value();
      else if (key == "id" || key == "model" || key == "text")
        checksum += f.value().get_string().value().size();
    }
  };
  auto line = [&](const char* p, std::size_t n) {
    auto doc = parser.iterate(simdjson::padded_string_view(p, n, n + simdjson::SIMDJSON_PADDING));
    for (auto f : doc.get_object()) {
      std::string_view key = f.unescaped_key();
      od::value v = f.value();
      if (key == "a" || key == "b" || key == "response")
        touch_candidate(v);
      else if (key == "score" || key == "gold" || key == "prob_a") {
        double d = 0;
        if (v.get_double().get(d) == simdjson::SUCCESS)
          checksum += static_cast<std::uint64_t>(d);
        else if (std::string_view s; v.get_string().get(s) == simdjson::SUCCESS)
          checksum += s.size();
      } else if (key == "run")
        checksum += v.get_uint64().value();
      else if (key == "perturbation" || key == "scale" || key == "meta")
        checksum += v.raw_json_token().size();
      else if (std::string_view s; v.get_string().get(s) == simdjson::SUCCESS)
        checksum += s.size();
    }
    ++records;
  };
  while (true) {
    if (end == buf.size() - simdjson::SIMDJSON_PADDING) buf.resize(buf.size() * 2);
    const ssize_t got = ::read(fd, buf.data() + end, buf.size() - simdjson::SIMDJSON_PADDING - end);
    if (got < 0) {
      std::perror("read");
      return 1;
    }
    end += static_cast<std::size_t>(got);
    std::size_t begin = 0;
    while (const char* nl = static_cast<const char*>(std::memchr(buf.data() + begin, '\n', end - begin))) {
      const std::size_t stop = static_cast<std::size_t>(nl - buf.data());
      if (stop > begin) line(buf.data() + begin, stop - begin);
      begin = stop + 1;
    }
    if (got == 0) {
      if (begin < end) line(buf.data() + begin, end - begin);
      break;
    }
    std::memmove(buf.data(), buf.data() + begin, end - begin);
    end -= begin;
  }
  ::close(fd);
  std::printf("%llu records, checksum %llu\n", static_cast<unsigned long long>(records),
              static_cast<unsigned long long>(checksum));
  return 0;
}
