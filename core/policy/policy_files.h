/*
 * The policy files of the policy directories: every *.lua file, directories
 * in the order given, files by name within each (so "10-x.lua" loads before
 * "20-y.lua", and the user's directory after the shipped one).
 */
#ifndef VG_POLICY_FILES_H
#define VG_POLICY_FILES_H

#include <stddef.h>

#include "diag.h"

/* Lists the files: *files is a malloc()ed array of n malloc()ed paths, freed
 * with vg_policy_files_free. A missing directory is skipped; an unreadable
 * one is a diag message and -EACCES (or its errno). */
int vg_policy_files(char *const *dirs, char ***files, size_t *n, vg_diag *diag);
void vg_policy_files_free(char **files, size_t n);

/* Compiles every policy file as Lua 5.4 text (never bytecode) and reports
 * each syntax error as "file:line: message". 0 when all compile, else
 * -EINVAL. */
int vg_policy_files_check(char *const *dirs, vg_diag *diag);

#endif
