# Installing normlab for other projects: headers under include/normlab/, the shared and static
# libraries, the normlab command, a CMake package (find_package(normlab)) and normlab.pc, and a
# Debian package made by CPack.
include(CMakePackageConfigHelpers)

install(TARGETS normlab normlab_static EXPORT normlabTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES normlab.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/normlab)
# core/mpi_communicator.h declares what only a build with MPI (NORMLAB_MPI) defines.
if(NORMLAB_MPI)
  set(NORMLAB_HEADER_EXCLUDE)
else()
  set(NORMLAB_HEADER_EXCLUDE PATTERN "mpi_communicator.h" EXCLUDE)
endif()
install(DIRECTORY core layers optim data model io DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/normlab
        FILES_MATCHING PATTERN "*.h" ${NORMLAB_HEADER_EXCLUDE})

set(NORMLAB_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/normlab)
install(EXPORT normlabTargets NAMESPACE normlab:: DESTINATION ${NORMLAB_CMAKE_DIR})
configure_package_config_file(cmake/normlabConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/normlabConfig.cmake INSTALL_DESTINATION ${NORMLAB_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/normlabConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/normlabConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/normlabConfigVersion.cmake
        DESTINATION ${NORMLAB_CMAKE_DIR})

# normlab.pc finds its prefix from its own place (${pcfiledir}), so an install into any prefix,
# or a package unpacked anywhere, describes itself correctly.
file(RELATIVE_PATH NORMLAB_PC_TO_PREFIX /root/${CMAKE_INSTALL_LIBDIR}/pkgconfig /root)
# The static library needs MPI's libraries (pkg-config --static); Open MPI names them ompi-c.
if(NORMLAB_MPI)
  set(NORMLAB_PC_MPI ompi-c)
endif()
# and oneDNN's with its OpenMP runtime (Debian's libdnnl is built with GCC's).
if(NORMLAB_ONEDNN)
  set(NORMLAB_PC_ONEDNN "-ldnnl -lgomp")
endif()
configure_file(cmake/normlab.pc.in ${CMAKE_CURRENT_BINARY_DIR}/normlab.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/normlab.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME normlab)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_CONTACT "normlab maintainers <normlab@localhost>")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
# Run-time libraries from dpkg-shlibdeps; the headers need these development packages.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libopenblas0 | libopenblas0-pthread, libopenblas-dev, nlohmann-json3-dev")
# The static library links libdnnl.so, a file of the development package.
if(NORMLAB_ONEDNN)
  string(APPEND CPACK_DEBIAN_PACKAGE_DEPENDS ", libdnnl-dev")
endif()
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
include(CPack)
