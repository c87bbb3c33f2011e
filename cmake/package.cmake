include(CMakePackageConfigHelpers)
install(FILES include/parley.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS parley parley_static EXPORT ParleyTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT ParleyTargets NAMESPACE Parley:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Parley)
configure_package_config_file(cmake/ParleyConfig.cmake.in
  ${CMAKE_BINARY_DIR}/ParleyConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Parley)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/ParleyConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/ParleyConfig.cmake ${CMAKE_BINARY_DIR}/ParleyConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Parley)
file(RELATIVE_PATH PARLEY_PC_UP ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
configure_file(cmake/parley.pc.in ${CMAKE_BINARY_DIR}/parley.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/parley.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
