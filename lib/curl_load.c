/* Loading libcurl when first needed; see curl_load.h. */
#include "curl_load.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Each entry's pointer is assigned through its field's own type, so a
 * field whose type does not match curl's prototype cannot compile. */
#define RESOLVE(field, sym)                                                                        \
    do {                                                                                           \
        if (!(api->field = (__typeof__(api->field))dlsym(h, #sym))) {                              \
            snprintf(err, errlen, "%s has no %s: %s", soname, #sym, dlerror());                    \
            goto missing;                                                                          \
        }                                                                                          \
    } while (0)

int vg__curl_load(const char *soname, vg__curl_api *api, char *err, size_t errlen)
{
    memset(api, 0, sizeof(*api));
    if (!soname)
        soname = VG_CURL_SONAME;
    /* RTLD_LOCAL: curl's symbols serve this table only, never a plugin. */
    void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(err, errlen, "cannot load %s: %s", soname, dlerror());
        return -ENOENT;
    }
    RESOLVE(global_init, curl_global_init);
    RESOLVE(easy_init, curl_easy_init);
    RESOLVE(easy_setopt, curl_easy_setopt);
    RESOLVE(easy_getinfo, curl_easy_getinfo);
    RESOLVE(easy_cleanup, curl_easy_cleanup);
    RESOLVE(easy_perform, curl_easy_perform);
    RESOLVE(easy_strerror, curl_easy_strerror);
    RESOLVE(multi_init, curl_multi_init);
    RESOLVE(multi_setopt, curl_multi_setopt);
    RESOLVE(multi_add_handle, curl_multi_add_handle);
    RESOLVE(multi_remove_handle, curl_multi_remove_handle);
    RESOLVE(multi_socket_action, curl_multi_socket_action);
    RESOLVE(multi_info_read, curl_multi_info_read);
    RESOLVE(multi_assign, curl_multi_assign);
    RESOLVE(multi_cleanup, curl_multi_cleanup);
    RESOLVE(slist_append, curl_slist_append);
    RESOLVE(slist_free_all, curl_slist_free_all);
    CURLcode rc = api->global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "%s: curl_global_init failed: %s", soname, api->easy_strerror(rc));
        memset(api, 0, sizeof(*api));
        return -EIO; /* not unloaded: curl may have set up part of its state */
    }
    return 0;
missing:
    /* Nothing of it ran yet, so it can go again. */
    dlclose(h);
    memset(api, 0, sizeof(*api));
    return -ENOENT;
}
