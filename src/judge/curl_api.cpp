// Loads libcurl's entry points by name, once, on the first call.
#include "judge/curl_api.hpp"

#include <dlfcn.h>

#include <mutex>
#include <string>

#include <fmt/format.h>

#include "judgebias/error.hpp"

namespace judgebias::judge {

namespace {

template <class F>
void bind(void* lib, F& slot, const char* name) {
  void* p = ::dlsym(lib, name);
  if (!p)
    throw io_error(
        fmt::format("libcurl.so.4 has no {}: a libcurl older than 7.66 (Debian 12 has 7.88)", name));
  slot = reinterpret_cast<F>(p);
}

curl_api load() {
  void* lib = ::dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* why = ::dlerror();
    throw io_error(fmt::format("the judge runner needs libcurl (Debian: apt install libcurl4): {}",
                               why ? why : "libcurl.so.4 not found"));
  }
  curl_api a{};
  bind(lib, a.global_init, "curl_global_init");
  bind(lib, a.easy_init, "curl_easy_init");
  bind(lib, a.easy_setopt, "curl_easy_setopt");
  bind(lib, a.easy_getinfo, "curl_easy_getinfo");
  bind(lib, a.easy_cleanup, "curl_easy_cleanup");
  bind(lib, a.easy_strerror, "curl_easy_strerror");
  bind(lib, a.multi_init, "curl_multi_init");
  bind(lib, a.multi_add_handle, "curl_multi_add_handle");
  bind(lib, a.multi_remove_handle, "curl_multi_remove_handle");
  bind(lib, a.multi_perform, "curl_multi_perform");
  bind(lib, a.multi_poll, "curl_multi_poll");
  bind(lib, a.multi_info_read, "curl_multi_info_read");
  bind(lib, a.multi_cleanup, "curl_multi_cleanup");
  bind(lib, a.slist_append, "curl_slist_append");
  bind(lib, a.slist_free_all, "curl_slist_free_all");
  bind(lib, a.getdate, "curl_getdate");
  if (a.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw io_error("libcurl could not be initialised");
  return a;  // the library stays loaded for the life of the process
}

}  // namespace

const curl_api& curl() {
  static std::once_flag once;
  static curl_api api;
  std::call_once(once, [] { api = load(); });
  return api;
}

}  // namespace judgebias::judge
