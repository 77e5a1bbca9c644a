# Installs /etc/vigil at install time (install(SCRIPT), see CMakeLists.txt),
# where the prefix is known as it is then (cmake --install --prefix P, or
# CPack's): /etc/vigil for /usr, as Debian has it, <prefix>/etc/vigil for any
# other prefix, so that an install never writes outside its prefix and
# DESTDIR. The config is installed only where there is none: a reinstall
# never overwrites a user's edits. conf.d/ gets the examples (only *.lua is
# read), policies.d/ is made empty.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(etc "/etc/vigil")
else()
  set(etc "${CMAKE_INSTALL_PREFIX}/etc/vigil")
endif()
set(dst "$ENV{DESTDIR}${etc}")
if(EXISTS "${dst}/vigil.lua")
  message(STATUS "Kept: ${dst}/vigil.lua (the shipped one is in share/vigil)")
else()
  file(INSTALL DESTINATION "${etc}" TYPE FILE FILES "${VIGIL_ETC_SRC}/vigil.lua")
endif()
file(GLOB examples "${VIGIL_ETC_SRC}/conf.d/*.example")
file(INSTALL DESTINATION "${etc}/conf.d" TYPE FILE FILES ${examples})
file(MAKE_DIRECTORY "${dst}/policies.d")
