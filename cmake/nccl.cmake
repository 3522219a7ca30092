# NCCL backend: AUTO turns it on when a CUDA toolkit with NCCL is found. It must
# compile and link on machines without a GPU (it just cannot run there).
#
# Where it looks (first hit wins):
#  - CUDA: CUDAToolkit_ROOT / $CUDA_HOME / $CUDA_PATH / nvcc on PATH (CMake's
#    FindCUDAToolkit), then /usr/local/cuda and the newest /usr/local/cuda-*:
#    CI shells and cron jobs often lack /usr/local/cuda/bin on PATH.
#  - NCCL: NCCL_ROOT / $NCCL_ROOT / $NCCL_HOME (e.g. the nvidia-nccl wheel of a
#    Python torch, which ships only libnccl.so.2), then the CUDA toolkit.
set(LLMSREC_NCCL_ENABLED OFF)
if(NOT LLMSREC_WITH_NCCL STREQUAL "OFF")
  if(NOT DEFINED CUDAToolkit_ROOT AND NOT DEFINED ENV{CUDA_HOME} AND NOT DEFINED ENV{CUDA_PATH})
    find_program(LLMSREC_NVCC_ON_PATH nvcc)
    if(NOT LLMSREC_NVCC_ON_PATH)
      file(GLOB llmsrec_cuda_dirs LIST_DIRECTORIES true /usr/local/cuda-*)
      list(SORT llmsrec_cuda_dirs COMPARE NATURAL ORDER DESCENDING)
      foreach(dir /usr/local/cuda ${llmsrec_cuda_dirs})
        if(EXISTS ${dir}/bin/nvcc)
          set(CUDAToolkit_ROOT ${dir})
          break()
        endif()
      endforeach()
    endif()
  endif()
  find_package(CUDAToolkit QUIET)
  set(llmsrec_nccl_hints ${NCCL_ROOT} $ENV{NCCL_ROOT} $ENV{NCCL_HOME} ${CUDAToolkit_LIBRARY_ROOT})
  find_path(NCCL_INCLUDE_DIR nccl.h HINTS ${llmsrec_nccl_hints} ${CUDAToolkit_INCLUDE_DIRS} PATH_SUFFIXES include)
  find_library(NCCL_LIBRARY NAMES nccl libnccl.so.2 HINTS ${llmsrec_nccl_hints} ${CUDAToolkit_LIBRARY_DIR}
               PATH_SUFFIXES lib lib64)
  if(CUDAToolkit_FOUND AND NCCL_INCLUDE_DIR AND NCCL_LIBRARY)
    set(LLMSREC_NCCL_ENABLED ON)
    add_library(LLMSREC::nccl INTERFACE IMPORTED)
    target_include_directories(LLMSREC::nccl INTERFACE ${NCCL_INCLUDE_DIR})
    target_link_libraries(LLMSREC::nccl INTERFACE ${NCCL_LIBRARY} CUDA::cudart)
    file(STRINGS ${NCCL_INCLUDE_DIR}/nccl.h llmsrec_nccl_version REGEX "^#define NCCL_(MAJOR|MINOR|PATCH) ")
    string(REGEX REPLACE "[^0-9;]" "" llmsrec_nccl_version "${llmsrec_nccl_version}")
    list(JOIN llmsrec_nccl_version "." llmsrec_nccl_version)
    # NCCL follows torch's producing stream only when libtorch is a CUDA build
    # (it links c10_cuda); a CPU libtorch may still ship the c10/cuda headers.
    if(TARGET c10_cuda OR C10_CUDA_LIBRARY)
      set_property(SOURCE ${PROJECT_SOURCE_DIR}/cluster/communicator_nccl.cpp APPEND PROPERTY COMPILE_DEFINITIONS
                   LLMSREC_TORCH_CUDA=1)
      set(llmsrec_nccl_order "torch's current CUDA stream")
    else()
      set(llmsrec_nccl_order "the legacy default stream (libtorch has no CUDA)")
    endif()
    message(STATUS "llmsrec: NCCL backend ON (NCCL ${llmsrec_nccl_version}: ${NCCL_LIBRARY}; "
                   "CUDA ${CUDAToolkit_VERSION}: ${CUDAToolkit_LIBRARY_DIR}; ordered after ${llmsrec_nccl_order})")
  elseif(LLMSREC_WITH_NCCL STREQUAL "ON")
    message(FATAL_ERROR "LLMSREC_WITH_NCCL=ON but not found: CUDA toolkit found=${CUDAToolkit_FOUND} "
                        "(set CUDAToolkit_ROOT), nccl.h=${NCCL_INCLUDE_DIR}, libnccl=${NCCL_LIBRARY} (set NCCL_ROOT)")
  else()
    message(STATUS "llmsrec: NCCL backend OFF (CUDA toolkit found=${CUDAToolkit_FOUND}, nccl.h=${NCCL_INCLUDE_DIR}, "
                   "libnccl=${NCCL_LIBRARY}; set CUDAToolkit_ROOT / NCCL_ROOT)")
  endif()
endif()
