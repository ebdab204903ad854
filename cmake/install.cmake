# Installs the library, public headers, a CMake package (find_package(emberdb)) and a
# pkg-config file.
include(CMakePackageConfigHelpers)

install(TARGETS emberdb EXPORT emberdbTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/emberdb DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT emberdbTargets NAMESPACE emberdb::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/emberdb)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/emberdbConfig.cmake.in
  ${PROJECT_BINARY_DIR}/emberdbConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/emberdb)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/emberdbConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/emberdbConfig.cmake ${PROJECT_BINARY_DIR}/emberdbConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/emberdb)

file(RELATIVE_PATH EMBERDB_PC_TO_PREFIX "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
string(REGEX REPLACE "/$" "" EMBERDB_PC_TO_PREFIX "${EMBERDB_PC_TO_PREFIX}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/emberdb.pc.in ${PROJECT_BINARY_DIR}/emberdb.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/emberdb.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
