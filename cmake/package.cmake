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

# The programs. An installed parley-chat finds libparley, and an installed
# parley-server its shipped bot flow, knowledge base and surveys
# (DATADIR/parley), relative to their own location, so a prefix runs from
# wherever it is installed or moved to.
if(PARLEY_BUILD_EXAMPLES)
  file(RELATIVE_PATH PARLEY_BIN_TO_LIB ${CMAKE_INSTALL_FULL_BINDIR} ${CMAKE_INSTALL_FULL_LIBDIR})
  file(RELATIVE_PATH PARLEY_BIN_TO_DATA ${CMAKE_INSTALL_FULL_BINDIR} ${CMAKE_INSTALL_FULL_DATADIR}/parley)
  # (parley-server links no shared library of ours.)
  set_target_properties(parley-chat PROPERTIES INSTALL_RPATH "$ORIGIN/${PARLEY_BIN_TO_LIB}")
  target_compile_definitions(parley-server PRIVATE PARLEY_SERVER_INSTALLED_DATA="${PARLEY_BIN_TO_DATA}")
  install(DIRECTORY examples/server/flows examples/server/kb examples/server/console
          DESTINATION ${CMAKE_INSTALL_DATADIR}/parley)
  install(FILES examples/server/surveys.json examples/server/sla.json
          DESTINATION ${CMAKE_INSTALL_DATADIR}/parley)
endif()
