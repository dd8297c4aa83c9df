#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include <curl/curl.h>

namespace nexus::runtime {

/// libcurl's handles, owned: an easy handle and a header list, freed the
/// way libcurl says.
struct curl_easy_deleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct curl_slist_deleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using curl_easy_handle = std::unique_ptr<CURL, curl_easy_deleter>;
using curl_header_list = std::unique_ptr<curl_slist, curl_slist_deleter>;

/// A CURLOPT_WRITEFUNCTION that appends the body to the std::string that
/// CURLOPT_WRITEDATA points to.
inline std::size_t curl_append_body(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

} // namespace nexus::runtime
