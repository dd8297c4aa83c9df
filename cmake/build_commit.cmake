# Run at every build (cmake -P): writes OUTPUT, a C++ file that holds the
# release (VERSION) and the commit of SOURCE_DIR being built, "-dirty" when
# the work tree differs from it, "unknown" outside a git checkout. The file
# is rewritten only when its text changes, so an unchanged commit rebuilds
# nothing.
execute_process(COMMAND git -C "${SOURCE_DIR}" rev-parse --short=12 HEAD
                OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE
                RESULT_VARIABLE failed ERROR_QUIET)
if(failed OR commit STREQUAL "")
  set(commit "unknown")
else()
  execute_process(COMMAND git -C "${SOURCE_DIR}" diff --quiet HEAD --
                  RESULT_VARIABLE dirty ERROR_QUIET)
  if(dirty)
    string(APPEND commit "-dirty")
  endif()
endif()
set(text "// Made by cmake/build_commit.cmake at each build: do not edit.
namespace nexus::app {
extern const char* const nexus_version;
extern const char* const nexus_commit;
const char* const nexus_version = \"${VERSION}\";
const char* const nexus_commit = \"${commit}\";
} // namespace nexus::app
")
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" old)
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUTPUT}" "${text}")
endif()
