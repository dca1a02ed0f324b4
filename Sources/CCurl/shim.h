#ifndef CLONECTL_CCURL_SHIM_H
#define CLONECTL_CCURL_SHIM_H
// curl_easy_setopt / getinfo / curl_multi_setopt are variadic and not imported by Swift:
// one typed wrapper per argument type.
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

static inline CURLcode clonectl_easy_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode clonectl_easy_setopt_ptr(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode clonectl_easy_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode clonectl_easy_setopt_off_t(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode clonectl_easy_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
typedef size_t (*clonectl_data_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);
static inline CURLcode clonectl_easy_setopt_datafn(CURL *h, CURLoption o, clonectl_data_callback f) { return curl_easy_setopt(h, o, f); }
typedef int (*clonectl_xferinfo_callback)(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow);
static inline CURLcode clonectl_easy_setopt_xferinfofn(CURL *h, CURLoption o, clonectl_xferinfo_callback f) { return curl_easy_setopt(h, o, f); }

// CURLOPT_DEBUGFUNCTION: lets the verbose trace go through our redaction instead of straight to stderr.
typedef int (*clonectl_debug_callback)(CURL *h, curl_infotype type, char *data, size_t size, void *userdata);
static inline CURLcode clonectl_easy_setopt_debugfn(CURL *h, CURLoption o, clonectl_debug_callback f) { return curl_easy_setopt(h, o, f); }
// CURL_HTTP_VERSION_1_1 and CURL_ERROR_SIZE as plain values.
static inline long clonectl_http_version_1_1(void) { return (long)CURL_HTTP_VERSION_1_1; }
static inline int clonectl_error_size(void) { return CURL_ERROR_SIZE; }

static inline CURLcode clonectl_easy_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode clonectl_easy_getinfo_ptr(CURL *h, CURLINFO i, void **v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode clonectl_easy_getinfo_string(CURL *h, CURLINFO i, char **v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode clonectl_easy_getinfo_off_t(CURL *h, CURLINFO i, curl_off_t *v) { return curl_easy_getinfo(h, i, v); }

static inline CURLMcode clonectl_multi_setopt_long(CURLM *m, CURLMoption o, long v) { return curl_multi_setopt(m, o, v); }

// CURLMsg holds a union; give Swift plain accessors.
static inline CURL *clonectl_msg_easy(CURLMsg *m) { return m->easy_handle; }
static inline int clonectl_msg_done(CURLMsg *m) { return m->msg == CURLMSG_DONE; }
static inline CURLcode clonectl_msg_result(CURLMsg *m) { return m->data.result; }
#endif
