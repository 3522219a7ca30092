# jemalloc as the process allocator of every llmsrec program (not the fuzzers:
# sanitizers bring their own). glibc's malloc serves libtorch's 64-byte-aligned
# activation buffers from fresh pages every step (freed chunks are fragmented by
# small allocations in between), and first-touch page faults cost ~16 us per
# 4 KiB page on these VMs: a 25 MB tensor took 55 ms to fill instead of 0.6 ms.
# core/jemalloc_conf.c keeps freed pages for reuse (see there).
#   llmsrec_use_jemalloc(target)
set(LLMSREC_WITH_JEMALLOC AUTO CACHE STRING "link jemalloc into the executables: AUTO, ON, OFF")
set_property(CACHE LLMSREC_WITH_JEMALLOC PROPERTY STRINGS AUTO ON OFF)
set(LLMSREC_JEMALLOC_LIBRARY "")
if(LLMSREC_BUILD_FUZZ)
  message(STATUS "llmsrec: jemalloc OFF in the fuzz build (ASan replaces malloc)")
elseif(NOT LLMSREC_WITH_JEMALLOC STREQUAL "OFF")
  find_library(JEMALLOC_LIBRARY NAMES jemalloc)
  if(JEMALLOC_LIBRARY)
    set(LLMSREC_JEMALLOC_LIBRARY ${JEMALLOC_LIBRARY})
    message(STATUS "llmsrec: jemalloc ON (${JEMALLOC_LIBRARY})")
  elseif(LLMSREC_WITH_JEMALLOC STREQUAL "ON")
    message(FATAL_ERROR "LLMSREC_WITH_JEMALLOC=ON but libjemalloc was not found (apt-get install libjemalloc-dev)")
  else()
    message(WARNING "llmsrec: jemalloc not found (apt-get install libjemalloc-dev): glibc malloc, training runs "
                    "several times slower on VMs with costly page faults")
  endif()
endif()

function(llmsrec_use_jemalloc target)
  if(LLMSREC_JEMALLOC_LIBRARY)
    target_sources(${target} PRIVATE ${PROJECT_SOURCE_DIR}/core/jemalloc_conf.c)
    target_link_libraries(${target} PRIVATE ${LLMSREC_JEMALLOC_LIBRARY})
  endif()
endfunction()
