/*
 * The plugins' settings (plugins.<name>.<key> in the config) checked against
 * what the plugins of cfg->plugin_dir declare (vg_plugin_desc.settings, ABI
 * 1.4), before any plugin sees them. Each plugin file is opened for its
 * descriptor only (no init). An undeclared key (with the nearest declared
 * ones), a value of another type or out of range, or a plugin name close
 * to an installed one's (a typo) is a problem with the config's file and
 * the line of its `plugins` assignment. A name far from every installed
 * plugin's is allowed: a fleet's config may set a plugin a host lacks.
 */
#ifndef VG_PLUGIN_SETTINGS_H
#define VG_PLUGIN_SETTINGS_H

#include "config.h"
#include "diag.h"

/* 0, -EINVAL with the problems in diag, or -ENOMEM. */
int vg_plugin_settings_check(const vg_config *cfg, vg_diag *diag);

#endif
