# `cpack -G DEB` (make package): a Debian package of what `cmake --install`
# installs. /etc/vigil/vigil.lua is a conffile, so that dpkg keeps a user's
# edits on upgrade (and asks, or keeps them with --force-confold).
set(CPACK_PACKAGE_NAME vigil)
set(CPACK_PACKAGE_VENDOR "vigil")
set(CPACK_PACKAGE_CONTACT "vigil maintainers <vigil@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "container security daemon: learn, monitor, protect")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
# Staged through DESTDIR with the real prefix, so that etc/install_etc.cmake
# sees /usr and puts the config in /etc/vigil of the package.
set(CPACK_SET_DESTDIR ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# libcurl is loaded at run time (dlopen: webhooks, the falco output), so
# dpkg-shlibdeps cannot see it; librdkafka it finds in the kafka module.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libcurl4")
set(VIGIL_DEB_CONTROL ${CMAKE_BINARY_DIR}/deb-control)
file(MAKE_DIRECTORY ${VIGIL_DEB_CONTROL})
file(WRITE ${VIGIL_DEB_CONTROL}/conffiles
     "${CMAKE_INSTALL_FULL_SYSCONFDIR}/vigil/vigil.lua\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${VIGIL_DEB_CONTROL}/conffiles)
set(CPACK_GENERATOR DEB)
include(CPack)
