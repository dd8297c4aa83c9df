# The service's files (systemd unit, example workflow, manual page, Debian
# docs) in the `runtime` component, and the Debian package that
# scripts/package makes of that component with CPack:
# nexus_<version>_amd64.deb.

# Where the unit, the workflow and the data go is decided when installing,
# not when configuring: CPack installs under /usr whatever this build was
# configured for. Under /usr, Debian's places (/lib/systemd/system,
# /etc/nexus, /var/lib/nexus: GNUInstallDirs' own rule for /usr); under any
# other prefix, the prefix's. The unit is made there and then, so that it
# names the program and files where they were installed.
set(nexus_unit_template "${PROJECT_SOURCE_DIR}/cmake/debian/nexus.service.in")
set(nexus_workflow "${PROJECT_SOURCE_DIR}/examples/order.json")
set(nexus_unit_staging "${PROJECT_BINARY_DIR}/service")
install(CODE "
  if(CMAKE_INSTALL_PREFIX STREQUAL \"/usr\")
    set(NEXUS_UNIT_DIR /lib/systemd/system)
    set(NEXUS_ETC_DIR /etc/nexus)
    set(NEXUS_STATE_DIR /var/lib/nexus)
  else()
    set(NEXUS_UNIT_DIR \"\${CMAKE_INSTALL_PREFIX}/lib/systemd/system\")
    set(NEXUS_ETC_DIR \"\${CMAKE_INSTALL_PREFIX}/etc/nexus\")
    set(NEXUS_STATE_DIR \"\${CMAKE_INSTALL_PREFIX}/var/lib/nexus\")
  endif()
  set(NEXUS_BIN_DIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
  # One staging file per destination: installs to two places may run at once.
  string(MD5 staging \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}\")
  set(staging \"${nexus_unit_staging}/\${staging}\")
  configure_file(\"${nexus_unit_template}\" \"\${staging}/nexus.service\" @ONLY)
  file(INSTALL \"\${staging}/nexus.service\" DESTINATION \"\${NEXUS_UNIT_DIR}\")
  file(INSTALL \"${nexus_workflow}\" DESTINATION \"\${NEXUS_ETC_DIR}\" RENAME workflow.json)
" COMPONENT runtime)

# The manual page, from `nexus --help` and `--version` (Debian's help2man),
# with the files and exit status added.
find_program(HELP2MAN help2man)
if(HELP2MAN)
  add_custom_command(OUTPUT "${PROJECT_BINARY_DIR}/nexus.1.gz"
    COMMAND "${HELP2MAN}" --no-info --section 1
            --name "durable sagas, pipelines and circuit breakers on actors"
            --include "${PROJECT_SOURCE_DIR}/cmake/debian/nexus.h2m"
            --output "${PROJECT_BINARY_DIR}/nexus.1" $<TARGET_FILE:nexus>
    COMMAND gzip -9nf "${PROJECT_BINARY_DIR}/nexus.1"
    DEPENDS nexus "${PROJECT_SOURCE_DIR}/cmake/debian/nexus.h2m"
    COMMENT "Manual page nexus.1 from nexus --help"
    VERBATIM)
  add_custom_target(nexus_manual ALL DEPENDS "${PROJECT_BINARY_DIR}/nexus.1.gz")
  install(FILES "${PROJECT_BINARY_DIR}/nexus.1.gz"
          DESTINATION "${CMAKE_INSTALL_MANDIR}/man1" COMPONENT runtime)
else()
  message(STATUS "help2man not found: no manual page (scripts/setup installs it)")
endif()

# What Debian asks of every package's docs: the copyright, and the
# changelog of a native package, compressed reproducibly.
add_custom_command(OUTPUT "${PROJECT_BINARY_DIR}/changelog.gz"
  COMMAND gzip -9nc "${PROJECT_SOURCE_DIR}/cmake/debian/changelog" > "${PROJECT_BINARY_DIR}/changelog.gz"
  DEPENDS "${PROJECT_SOURCE_DIR}/cmake/debian/changelog")
add_custom_target(nexus_changelog ALL DEPENDS "${PROJECT_BINARY_DIR}/changelog.gz")
install(FILES "${PROJECT_SOURCE_DIR}/cmake/debian/copyright" "${PROJECT_BINARY_DIR}/changelog.gz"
        DESTINATION "${CMAKE_INSTALL_DOCDIR}" COMPONENT runtime)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME nexus)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "durable sagas, pipelines and circuit breakers on actors")
set(CPACK_PACKAGE_DESCRIPTION
"Nexus runs multi-step work that must never be left half done: sagas whose
steps are compensated in reverse order when one fails for good, retries with
exponential backoff, circuit breakers, and a durable RocksDB event log from
which a restarted node finishes what it started. This package holds the
nexus program and a systemd service running its HTTP API on loopback.")
set(CPACK_PACKAGE_CONTACT "The Nexus developers <nexus@nexus.invalid>")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Depends: what dpkg-shlibdeps finds for the libraries the program links,
# and adduser for the system user.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  "${PROJECT_SOURCE_DIR}/cmake/debian/postinst;${PROJECT_SOURCE_DIR}/cmake/debian/prerm;${PROJECT_SOURCE_DIR}/cmake/debian/postrm;${PROJECT_SOURCE_DIR}/cmake/debian/conffiles")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
# Installed with DESTDIR, so that the install code above sees /usr.
set(CPACK_SET_DESTDIR ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_CMAKE_PROJECTS "${PROJECT_BINARY_DIR};nexus;runtime;/")
set(CPACK_PACKAGE_DIRECTORY "${PROJECT_BINARY_DIR}/package")
include(CPack)
