# The .deb for nodes and Docker hosts: `cpack -G DEB` in the build directory (or
# `cmake --build build --target package`) packs what `cmake --install` installs, under /usr:
# ubinfmt, ubinfmtd, the static ubinfmt-init, ubinfmt-runtime and its runc name, the systemd
# units, /etc/ubinfmt/runtime.conf (a conffile), the man pages, the engine and Kubernetes
# snippets and the documentation.  tests/integration/t_package.sh builds and checks it.
#
# The programs take their paths from the directory they run from (ubinfmt setup) or from
# fixed ones (/etc/ubinfmt, /run/ubinfmt), so a build configured for any prefix packs right.

set(UBINFMT_DEB_MAINTAINER "ubinfmt maintainers <ubinfmt@example.invalid>" CACHE STRING
    "The Maintainer field of the .deb: whoever builds and ships it")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ubinfmt)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT ${UBINFMT_DEB_MAINTAINER})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# ubinfmt_VERSION_ARCH.deb, as Debian names them.
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "foreign-architecture containers through qemu-user, without binfmt_misc")
set(CPACK_PACKAGE_DESCRIPTION
"ubinfmt traps execve and execveat with a seccomp user-notification filter and runs the
foreign programs of a container (arm64, armhf, riscv64, s390x, ppc64el, mips, i386) through
qemu-user, while native programs run natively. No binfmt_misc registration, no host-wide
state, no qemu inside the image.

This package installs ubinfmtd (the daemon, socket-activated by systemd), ubinfmt-runtime
(an OCI runtime that Docker, BuildKit, podman, containerd and Kubernetes call instead of
runc), ubinfmt setup (adds it to an engine's configuration and takes it out again),
ubinfmt-init (a static container init) and ubinfmt run (no daemon at all).")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Library dependencies from dpkg-shlibdeps; ubinfmtd hands containers the host's emulators,
# which must be static (they run inside images with another libc, or none).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "qemu-user-static")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "runc | crun")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "docker.io | podman | containerd")
# Stripped, as Debian ships programs.
set(CPACK_STRIP_FILES ON)

# Maintainer scripts (systemd units: enabled on install, left running on upgrade, stopped on
# removal) and the conffile list.
configure_file(${PROJECT_SOURCE_DIR}/deploy/debian/conffiles.in
               ${CMAKE_BINARY_DIR}/deploy/debian/conffiles @ONLY)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_BINARY_DIR}/deploy/debian/conffiles
    ${PROJECT_SOURCE_DIR}/deploy/debian/postinst
    ${PROJECT_SOURCE_DIR}/deploy/debian/prerm
    ${PROJECT_SOURCE_DIR}/deploy/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)

if(NOT TARGET ubinfmt-runtime)
  message(STATUS "Packaging without ubinfmt-runtime: it is not part of this tree yet")
endif()

include(CPack)
