/* The exec-capable mounts of a workload; see mounts.h. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "mounts.h"

/* Undoes mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
    char *o = s;
    for (; *s; s++) {
        if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] && s[3]) {
            *o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
            s += 3;
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
}

int exec_mounts_each(int pid, int (*cb)(const char *path, bool root, void *arg), void *arg)
{
    char path[4200];
    snprintf(path, sizeof(path), "/proc/%d/root", pid);
    int rc = cb(path, true, arg);
    snprintf(path, sizeof(path), "/proc/%d/mountinfo", pid);
    FILE *f = fopen(path, "re");
    char line[4096];
    while (f && fgets(line, sizeof(line), f)) {
        /* id parent major:minor root mountpoint options ... */
        char *save, *tok = strtok_r(line, " ", &save);
        char *mp = NULL, *opts = NULL;
        for (int i = 0; tok && i < 6; i++, tok = strtok_r(NULL, " ", &save)) {
            if (i == 4)
                mp = tok;
            else if (i == 5)
                opts = tok;
        }
        if (!mp || !opts || strcmp(mp, "/") == 0 || strstr(opts, "noexec"))
            continue;
        unescape(mp);
        snprintf(path, sizeof(path), "/proc/%d/root%s", pid, mp);
        cb(path, false, arg);
    }
    if (f)
        fclose(f);
    return rc;
}
