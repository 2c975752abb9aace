#pragma once
// libcurl, loaded when the runner first needs it (dlopen of libcurl.so.4) rather than linked: the
// program's other commands then start without mapping libcurl and the thirty libraries it pulls in
// (TLS, Kerberos, LDAP, ...), which took `judgebias --version` from 3 ms to 11 ms and raised the
// memory a process needs merely to start.
#include <curl/curl.h>

namespace judgebias::judge {

struct curl_api {
  CURLcode (*global_init)(long);
  CURL* (*easy_init)();
  CURLcode (*easy_setopt)(CURL*, CURLoption, ...);
  CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...);
  void (*easy_cleanup)(CURL*);
  const char* (*easy_strerror)(CURLcode);
  CURLM* (*multi_init)();
  CURLMcode (*multi_add_handle)(CURLM*, CURL*);
  CURLMcode (*multi_remove_handle)(CURLM*, CURL*);
  CURLMcode (*multi_perform)(CURLM*, int*);
  CURLMcode (*multi_poll)(CURLM*, struct curl_waitfd*, unsigned int, int, int*);
  CURLMsg* (*multi_info_read)(CURLM*, int*);
  CURLMcode (*multi_cleanup)(CURLM*);
  curl_slist* (*slist_append)(curl_slist*, const char*);
  void (*slist_free_all)(curl_slist*);
  time_t (*getdate)(const char*, const time_t*);
};

/// The loaded library, initialised once (curl_global_init). Throws io_error naming what is missing
/// when libcurl cannot be loaded.
const curl_api& curl();

}  // namespace judgebias::judge
