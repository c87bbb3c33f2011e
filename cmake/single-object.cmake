# Rewrites libparley.a as one relocatable object whose only global symbols
# are parley_*. Run with cmake -P after the archive is built:
#   -DARCHIVE=libparley.a [-DLWS=libwebsockets.a] -DLD=ld -DOBJCOPY=objcopy
#   -DAR=ar -DWORK=dir
#
# Why: a static library is a bag of objects, and every global in it takes
# part in the host's link. Hidden visibility only matters to a shared
# object, so our internal helpers (proto.c's `bad`, `member`...) and
# libwebsockets' OpenSSL compatibility layer (SSL_new, SSL_CTX_new...) would
# clash with the host's own code or its OpenSSL. A partial link (`ld -r`)
# joins Parley's objects with the libwebsockets members they need and
# resolves every reference between them; objcopy then makes everything but
# parley_* local. Undefined references (libc, mbedTLS, cJSON, pthread) stay
# undefined: the host links those, as pkg-config --static and
# Parley::parley_static say.
foreach(v ARCHIVE LD OBJCOPY AR WORK)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "single-object.cmake: ${v} is not set")
  endif()
endforeach()

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "single-object.cmake: `${ARGN}` failed (${rc}):\n${err}")
  endif()
endfunction()

file(MAKE_DIRECTORY "${WORK}")
set(obj "${WORK}/parley.o")
set(extra)
if(LWS)
  set(extra "${LWS}")
endif()
# The archive's members whole, libwebsockets' only where referenced.
run("${LD}" -r -o "${obj}" --whole-archive "${ARCHIVE}" --no-whole-archive ${extra})
run("${OBJCOPY}" --wildcard "--keep-global-symbol=parley_*" "${obj}")
file(REMOVE "${ARCHIVE}")
run("${AR}" qc "${ARCHIVE}" "${obj}")
run("${AR}" s "${ARCHIVE}")
