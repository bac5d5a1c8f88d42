# Cross build for arm64 hosts with Debian's cross compiler (gcc-aarch64-linux-gnu, from
# tools/deps.sh) against a sysroot of arm64 -dev packages unpacked from .debs
# (tools/sysroot.sh; dpkg's own architecture list is not touched):
#
#   bash tools/sysroot.sh
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
#
# UBINFMT_ARM64_SYSROOT names another sysroot (default: <repo>/.cache/arm64/sysroot).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)

if(NOT UBINFMT_ARM64_SYSROOT)
  get_filename_component(_ubinfmt_repo "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
  set(UBINFMT_ARM64_SYSROOT "${_ubinfmt_repo}/.cache/arm64/sysroot")
endif()
if(NOT EXISTS "${UBINFMT_ARM64_SYSROOT}/usr/include/seccomp.h")
  message(FATAL_ERROR "no arm64 sysroot at ${UBINFMT_ARM64_SYSROOT}: run tools/sysroot.sh")
endif()
# try_compile projects see the toolchain file again: pass the sysroot on.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES UBINFMT_ARM64_SYSROOT)

# Debian's gcc is multiarch-aware: with --sysroot it searches usr/include/aarch64-linux-gnu and
# (usr/)lib/aarch64-linux-gnu under it, where the unpacked packages put their files.
set(CMAKE_SYSROOT "${UBINFMT_ARM64_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH "${UBINFMT_ARM64_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config reads the sysroot's .pc files only, and prefixes their paths with it.
set(ENV{PKG_CONFIG_DIR} "")
set(ENV{PKG_CONFIG_LIBDIR} "${UBINFMT_ARM64_SYSROOT}/usr/lib/aarch64-linux-gnu/pkgconfig:${UBINFMT_ARM64_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${UBINFMT_ARM64_SYSROOT}")

# The tests' own programs cannot run here: ctest runs the arm64 suite in the emulated machine
# (tools/arm64-vm.sh).
set(CMAKE_CROSSCOMPILING_EMULATOR "")
