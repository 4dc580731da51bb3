#ifndef CONVOPS_CCURL_SHIM_H
#define CONVOPS_CCURL_SHIM_H
#include <curl/curl.h>

// curl_easy_setopt / curl_easy_getinfo are variadic, which Swift cannot call:
// one typed wrapper per argument kind we pass.
static inline CURLcode convops_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode convops_curl_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode convops_curl_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode convops_curl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode convops_curl_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
typedef size_t (*convops_curl_data_cb)(char *ptr, size_t size, size_t nmemb, void *userdata);
static inline CURLcode convops_curl_setopt_datacb(CURL *h, CURLoption o, convops_curl_data_cb v) { return curl_easy_setopt(h, o, v); }
typedef int (*convops_curl_xferinfo_cb)(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow);
static inline CURLcode convops_curl_setopt_xferinfocb(CURL *h, CURLoption o, convops_curl_xferinfo_cb v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode convops_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode convops_curl_getinfo_double(CURL *h, CURLINFO i, double *v) { return curl_easy_getinfo(h, i, v); }
// CURLVERSION_NOW is a macro.
static const CURLversion convops_curl_version_now = CURLVERSION_NOW;
#endif
