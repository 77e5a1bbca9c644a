/*
 * libcurl, loaded when first needed rather than linked (the webhooks, the
 * falco output, the net plugin's Kubernetes client).
 *
 * vigild does not name libcurl among its needed libraries: linked, it
 * would map libcurl and its TLS stack (OpenSSL, GnuTLS through librtmp,
 * Kerberos, LDAP, ssh2, nghttp2: some thirty libraries) into every daemon
 * at start, and their relocated data alone costs about a megabyte of
 * private memory, on hosts most of which never send a webhook. The webhook
 * code instead calls curl through this table of function pointers, typed
 * from curl's own prototypes (curl/curl.h is still what the code compiles
 * against), so every call is checked as a direct call would be.
 *
 * The webhooks call it on the loop thread; core/output's falco output and
 * the net plugin load it on threads of their own.
 */
#ifndef VG_CURL_LOAD_H
#define VG_CURL_LOAD_H

#include <curl/curl.h>
#include <stddef.h>

/* The soname loaded when the caller names none: libcurl's ABI since 7.16,
 * which Debian ships in the libcurl4 package. */
#define VG_CURL_SONAME "libcurl.so.4"

/* The curl functions vigil uses; add one here (and to the list in
 * curl_load.c) before using it. */
typedef struct vg__curl_api {
    __typeof__(curl_global_init) *global_init;
    __typeof__(curl_easy_init) *easy_init;
    __typeof__(curl_easy_setopt) *easy_setopt;
    __typeof__(curl_easy_getinfo) *easy_getinfo;
    __typeof__(curl_easy_cleanup) *easy_cleanup;
    __typeof__(curl_easy_perform) *easy_perform; /* core/output's threads; never on the loop */
    __typeof__(curl_easy_strerror) *easy_strerror;
    __typeof__(curl_multi_init) *multi_init;
    __typeof__(curl_multi_setopt) *multi_setopt;
    __typeof__(curl_multi_add_handle) *multi_add_handle;
    __typeof__(curl_multi_remove_handle) *multi_remove_handle;
    __typeof__(curl_multi_socket_action) *multi_socket_action;
    __typeof__(curl_multi_info_read) *multi_info_read;
    __typeof__(curl_multi_assign) *multi_assign;
    __typeof__(curl_multi_cleanup) *multi_cleanup;
    __typeof__(curl_slist_append) *slist_append;
    __typeof__(curl_slist_free_all) *slist_free_all;
} vg__curl_api;

/* Loads `soname` (NULL: VG_CURL_SONAME), resolves every function of the
 * table into *api and initialises libcurl (curl_global_init, which counts
 * its callers, so each caller may call this once). The library stays loaded
 * for the life of the process: curl's and the TLS library's global state
 * and exit handlers live in it, so it is never unloaded.
 * 0; -ENOENT when the library cannot be loaded or lacks a function, -EIO
 * when curl_global_init fails; either way err says why (with dlerror's
 * text) and *api is left zeroed. */
int vg__curl_load(const char *soname, vg__curl_api *api, char *err, size_t errlen);

#endif
