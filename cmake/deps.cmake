# Dependencies: cJSON, mbedTLS and SQLite from Debian; libwebsockets 4.1.6
# rebuilt against mbedTLS (scripts/build-lws.sh) unless PARLEY_USE_SYSTEM_LWS.
# With PARLEY_DEPS_PREFIX (the minimal and Windows profiles), mbedTLS, cJSON
# and libwebsockets are the static builds of scripts/build-deps.sh under it
# (mbedtls/, cjson/, lws/), made from the same Debian sources.
find_package(Threads REQUIRED)
if(PARLEY_DEPS_PREFIX)
  set(PARLEY_LWS_PREFIX "${PARLEY_DEPS_PREFIX}/lws")
  foreach(lib mbedtls/lib/libmbedtls.a mbedtls/lib/libmbedx509.a mbedtls/lib/libmbedcrypto.a
              cjson/lib/libcjson.a lws/lib/libwebsockets.a)
    if(NOT EXISTS "${PARLEY_DEPS_PREFIX}/${lib}")
      message(FATAL_ERROR "${PARLEY_DEPS_PREFIX}/${lib} is missing: run scripts/build-deps.sh first")
    endif()
  endforeach()
  # Named like pkg-config's target, so every consumer links it the same way.
  add_library(PkgConfig::CJSON INTERFACE IMPORTED)
  set_target_properties(PkgConfig::CJSON PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${PARLEY_DEPS_PREFIX}/cjson/include"
    INTERFACE_LINK_LIBRARIES "${PARLEY_DEPS_PREFIX}/cjson/lib/libcjson.a"
    INTERFACE_COMPILE_DEFINITIONS CJSON_HIDE_SYMBOLS)
  set(MBEDTLS_INCLUDE_DIR "${PARLEY_DEPS_PREFIX}/mbedtls/include")
  set(MBEDTLS_LIB "${PARLEY_DEPS_PREFIX}/mbedtls/lib/libmbedtls.a")
  set(MBEDX509_LIB "${PARLEY_DEPS_PREFIX}/mbedtls/lib/libmbedx509.a")
  set(MBEDCRYPTO_LIB "${PARLEY_DEPS_PREFIX}/mbedtls/lib/libmbedcrypto.a")
else()
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(CJSON REQUIRED IMPORTED_TARGET libcjson)
  find_path(MBEDTLS_INCLUDE_DIR mbedtls/ssl.h REQUIRED)
  find_library(MBEDTLS_LIB mbedtls REQUIRED)
  find_library(MBEDX509_LIB mbedx509 REQUIRED)
  find_library(MBEDCRYPTO_LIB mbedcrypto REQUIRED)
endif()
add_library(parley_mbedtls INTERFACE)
# BEFORE: a Debian mbedtls/config.h in /usr/include must never win over the
# profile's own.
target_include_directories(parley_mbedtls BEFORE INTERFACE ${MBEDTLS_INCLUDE_DIR})
target_link_libraries(parley_mbedtls INTERFACE ${MBEDTLS_LIB} ${MBEDX509_LIB} ${MBEDCRYPTO_LIB})
if(WIN32)
  # mbedTLS' entropy source and sockets (net_sockets.c), and what
  # libwebsockets needs.
  target_link_libraries(parley_mbedtls INTERFACE bcrypt advapi32 ws2_32)
  set(PARLEY_WIN32_LIBS ws2_32 userenv psapi iphlpapi crypt32)
endif()

# parley_lws_build(TARGET PREFIX [VARIANT]): an interface target over the
# static libwebsockets that scripts/build-lws.sh builds into PREFIX (once).
# VARIANT libuv links the mbedTLS that build-lws.sh built beside it
# (PREFIX/mbedtls) through the interface target ${target}_mbedtls, which
# whatever uses that libwebsockets must link rather than parley_mbedtls.
function(parley_lws_build target prefix)
  set(variant ${ARGN})
  set(archives "${prefix}/lib/libwebsockets.a")
  if(variant STREQUAL "libuv")
    set(mb "${prefix}/mbedtls")
    set(mb_libs "${mb}/lib/libmbedtls.a" "${mb}/lib/libmbedx509.a" "${mb}/lib/libmbedcrypto.a")
    list(APPEND archives ${mb_libs})
  endif()
  set(missing OFF)
  foreach(a ${archives})
    if(NOT EXISTS "${a}")
      set(missing ON)
    endif()
  endforeach()
  if(missing)
    message(STATUS "Building libwebsockets 4.1.6 with mbedTLS ${variant} into ${prefix}")
    execute_process(COMMAND "${CMAKE_SOURCE_DIR}/scripts/build-lws.sh" "${prefix}" ${variant}
                    RESULT_VARIABLE lws_rc)
    if(NOT lws_rc EQUAL 0)
      message(FATAL_ERROR "libwebsockets build failed (see above)")
    endif()
  endif()
  add_library(${target} INTERFACE)
  # BEFORE: this prefix's lws_config.h must win over a system libwebsockets-dev
  # in /usr/include (a mix compiles, then crashes).
  target_include_directories(${target} BEFORE INTERFACE "${prefix}/include")
  if(variant STREQUAL "libuv")
    target_link_libraries(${target} INTERFACE ${target}_mbedtls)
  endif()
  # An imported target, so that CMake orders mbedTLS (and libcap, which lws
  # uses when the build host had it) after the archive on every link line.
  add_library(${target}_archive STATIC IMPORTED)
  set_target_properties(${target}_archive PROPERTIES
                        IMPORTED_LOCATION "${prefix}/lib/libwebsockets.a")
  set(tls parley_mbedtls)
  if(variant STREQUAL "libuv")
    set(tls ${target}_mbedtls)
    add_library(${tls} INTERFACE)
    # BEFORE: Debian's mbedtls/config.h (without variable buffers) must not
    # be the one the server's code sees: mbedtls_ssl_context differs.
    target_include_directories(${tls} BEFORE INTERFACE "${mb}/include")
    target_link_libraries(${tls} INTERFACE ${mb_libs})
  endif()
  set(lws_deps ${tls} Threads::Threads ${CMAKE_DL_LIBS} ${PARLEY_WIN32_LIBS})
  file(STRINGS "${prefix}/include/lws_config.h" lws_has_cap REGEX "^#define LWS_HAVE_LIBCAP")
  if(lws_has_cap)
    find_library(CAP_LIB cap REQUIRED)
    list(APPEND lws_deps ${CAP_LIB})
    set(PARLEY_PC_CAP -lcap PARENT_SCOPE)
  endif()
  if(variant STREQUAL "libuv")
    pkg_check_modules(LIBUV REQUIRED IMPORTED_TARGET libuv)
    list(APPEND lws_deps PkgConfig::LIBUV)
  endif()
  set_target_properties(${target}_archive PROPERTIES INTERFACE_LINK_LIBRARIES "${lws_deps}")
  target_link_libraries(${target} INTERFACE ${target}_archive)
endfunction()

if(PARLEY_USE_SYSTEM_LWS)
  add_library(parley_lws INTERFACE)
  pkg_check_modules(LWS REQUIRED IMPORTED_TARGET libwebsockets)
  target_link_libraries(parley_lws INTERFACE PkgConfig::LWS)
  set(PARLEY_PC_LWS -lwebsockets)
  target_compile_definitions(parley_lws INTERFACE PARLEY_SYSTEM_LWS=1)
else()
  parley_lws_build(parley_lws "${PARLEY_LWS_PREFIX}")
endif()

# parley-server's own libwebsockets: the same source with lws' libuv event
# loop (epoll), so that idle connections cost no CPU (docs/scaling.md). The
# client library never links it. PARLEY_SERVER_LWS_UV=OFF (or a system
# libwebsockets, or the prefix of a profile) serves with the poll() build.
option(PARLEY_SERVER_LWS_UV "Serve parley-server with libwebsockets' libuv event loop" ON)
set(PARLEY_LWS_UV_PREFIX "${PARLEY_LWS_PREFIX}-uv" CACHE PATH
    "Prefix of the mbedTLS + libuv libwebsockets build (parley-server)")
# parley_server_mbedtls is the mbedTLS the server links: the one that
# libwebsockets was built against (its own, with variable record buffers,
# for the libuv build; docs/scaling.md).
if(PARLEY_SERVER_LWS_UV AND NOT PARLEY_USE_SYSTEM_LWS AND NOT PARLEY_DEPS_PREFIX)
  parley_lws_build(parley_server_lws "${PARLEY_LWS_UV_PREFIX}" libuv)
  # Its patches (scripts/lws-patches/server/) have tests of their own.
  set(PARLEY_SERVER_OWN_LWS ON)
  add_library(parley_server_mbedtls INTERFACE)
  target_link_libraries(parley_server_mbedtls INTERFACE parley_server_lws_mbedtls)
else()
  add_library(parley_server_lws INTERFACE)
  target_link_libraries(parley_server_lws INTERFACE parley_lws)
  add_library(parley_server_mbedtls INTERFACE)
  target_link_libraries(parley_server_mbedtls INTERFACE parley_mbedtls)
endif()
