# Compiled-in versions for `llmsrec --version` and for every output file.
execute_process(COMMAND git -C ${PROJECT_SOURCE_DIR} describe --always --dirty --abbrev=12
  OUTPUT_VARIABLE LLMSREC_GIT_REVISION OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT LLMSREC_GIT_REVISION)
  set(LLMSREC_GIT_REVISION "unknown")
endif()
set(LLMSREC_YAML_CPP_VERSION "${yaml-cpp_VERSION}")
set(LLMSREC_VERSION_CPP ${PROJECT_BINARY_DIR}/generated/version_info.cpp)
configure_file(${PROJECT_SOURCE_DIR}/cmake/version_info.cpp.in ${LLMSREC_VERSION_CPP} @ONLY)
