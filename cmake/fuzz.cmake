# libFuzzer targets: every fuzz/*.cpp (defining LLVMFuzzerTestOneInput) becomes
# build/fuzz/<name>, with seeds from fuzz/corpus/<name>/ and an optional
# dictionary fuzz/<name>.dict. Needs clang (Debian: clang-14 + libclang-rt-14-dev),
# so it lives in its own build directory:
#   CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DLLMSREC_BUILD_FUZZ=ON \
#     -DLLMSREC_BUILD_TESTS=OFF -DLLMSREC_BUILD_BENCH=OFF
#   ninja -C build-fuzz tokenizer_json_fuzz && build-fuzz/fuzz/tokenizer_json_fuzz -runs=20000 fuzz/corpus/tokenizer_json_fuzz
# Each target is also a CTest smoke (label `fuzz`) running LLMSREC_FUZZ_RUNS inputs.
option(LLMSREC_BUILD_FUZZ "Build libFuzzer targets in fuzz/ (clang only)" OFF)
set(LLMSREC_FUZZ_RUNS 20000 CACHE STRING "inputs each fuzz smoke test runs")

if(LLMSREC_BUILD_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "LLMSREC_BUILD_FUZZ needs clang (libFuzzer); configure a separate build with "
                        "CC=clang-14 CXX=clang++-14, found ${CMAKE_CXX_COMPILER_ID}")
  endif()
  # Coverage feedback and ASan inside the library code under test, not just the harness.
  target_compile_options(llmsrec PRIVATE -fsanitize=fuzzer-no-link,address -fno-omit-frame-pointer)
  target_link_options(llmsrec INTERFACE -fsanitize=address)
  enable_testing()
  file(GLOB LLMSREC_FUZZ_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/fuzz/*.cpp)
  foreach(src ${LLMSREC_FUZZ_SOURCES})
    get_filename_component(name ${src} NAME_WE)
    add_executable(${name} ${src})
    target_link_libraries(${name} PRIVATE llmsrec)
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address -fno-omit-frame-pointer)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer,address)
    set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
    set(args -runs=${LLMSREC_FUZZ_RUNS} -max_len=8192)
    if(EXISTS ${PROJECT_SOURCE_DIR}/fuzz/${name}.dict)
      list(APPEND args -dict=${PROJECT_SOURCE_DIR}/fuzz/${name}.dict)
    endif()
    string(JOIN " " args_text ${args})  # for the bash -c line below (a CMake list would split at ';')
    if(IS_DIRECTORY ${PROJECT_SOURCE_DIR}/fuzz/corpus/${name})
      # libFuzzer writes new inputs into the first corpus dir: give it a scratch copy.
      add_test(NAME fuzz_${name}
               COMMAND bash -c "d=$(mktemp -d) && cp -r ${PROJECT_SOURCE_DIR}/fuzz/corpus/${name}/. $d && $<TARGET_FILE:${name}> ${args_text} $d; rc=$?; rm -rf $d; exit $rc")
    else()
      add_test(NAME fuzz_${name} COMMAND ${name} ${args})
    endif()
    set_tests_properties(fuzz_${name} PROPERTIES LABELS fuzz TIMEOUT 900)
  endforeach()
endif()
