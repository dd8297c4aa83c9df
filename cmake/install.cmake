# `cmake --install build --prefix PREFIX`: the nexus program, the product
# libraries with their public headers, and a CMake package, so that another
# project embeds Nexus with
#
#   find_package(Nexus 0.2 CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE Nexus::actors)
#
# Targets: Nexus::config, Nexus::storage, Nexus::runtime, Nexus::actors (each
# brings the ones before it). Installed in two components: `runtime` (the
# program, its manual page, the systemd unit and the example workflow: what
# the Debian package holds) and `development` (libraries, headers, package).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(NEXUS_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/Nexus")
# Headers go under include/nexus/, included as <nexus/actors/engine.hpp>;
# they include one another as "config/workflow.hpp", hence both folders.
set(NEXUS_INCLUDE_DIR "${CMAKE_INSTALL_INCLUDEDIR}/nexus")

install(TARGETS nexus RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}" COMPONENT runtime)

foreach(lib config storage runtime actors)
  set_target_properties(nexus_${lib} PROPERTIES EXPORT_NAME ${lib})
endforeach()
install(TARGETS nexus_config nexus_storage nexus_runtime nexus_actors
  EXPORT NexusTargets
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT development
  INCLUDES DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}" "${NEXUS_INCLUDE_DIR}")

# The public API: what the README's "Embedded in a C++ program" uses (the
# engine, a workflow file's loader, handlers and their outcomes, logging
# set-up) and what those headers include. None includes CAF or RocksDB;
# tests/install/install_test.sh checks that, and builds a program against them.
set(NEXUS_PUBLIC_HEADERS
  actors/engine.hpp
  actors/stage_stats.hpp
  config/error_kind.hpp
  config/input_line.hpp
  config/trace_context.hpp
  config/workflow.hpp
  config/workflow_loader.hpp
  runtime/input_source.hpp
  runtime/logging.hpp
  runtime/outcome.hpp
  runtime/run_summary.hpp
  runtime/saga_machine.hpp
  runtime/signal_log.hpp
  runtime/start_request.hpp
  runtime/step_context.hpp
  storage/append_request.hpp
  storage/breaker_row.hpp
  storage/event.hpp
  storage/saga_row.hpp
  storage/saga_status.hpp
)
foreach(header ${NEXUS_PUBLIC_HEADERS})
  get_filename_component(folder "${header}" DIRECTORY)
  install(FILES "${PROJECT_SOURCE_DIR}/${header}"
          DESTINATION "${NEXUS_INCLUDE_DIR}/${folder}" COMPONENT development)
endforeach()

install(EXPORT NexusTargets NAMESPACE Nexus:: DESTINATION "${NEXUS_CMAKE_DIR}"
        COMPONENT development)
configure_package_config_file(cmake/NexusConfig.cmake.in
  "${PROJECT_BINARY_DIR}/NexusConfig.cmake" INSTALL_DESTINATION "${NEXUS_CMAKE_DIR}")
# 0.x: a minor release may change the API, so 0.2 takes any 0.2.z only.
write_basic_package_version_file("${PROJECT_BINARY_DIR}/NexusConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
# FindCAF.cmake goes with the package: Debian's CAF installs no config file.
install(FILES "${PROJECT_BINARY_DIR}/NexusConfig.cmake"
              "${PROJECT_BINARY_DIR}/NexusConfigVersion.cmake"
              "${PROJECT_SOURCE_DIR}/cmake/FindCAF.cmake"
        DESTINATION "${NEXUS_CMAKE_DIR}" COMPONENT development)
