# Runs the TensorFlow.js interoperability test (cmake -P; tests/CMakeLists.txt passes the
# variables): installs @tensorflow/tfjs from package-lock.json into WORK_DIR when it is missing
# or out of date, then
#   INTEROP write WORK_DIR        normlab trains and saves a model, and its folded form
#   node roundtrip.js WORK_DIR    TensorFlow.js loads it and compares, then saves its own
#   INTEROP check WORK_DIR        normlab loads TensorFlow.js' model and compares
# Node.js and npm are required: without them the test fails, it is never skipped.
foreach(var NODE NPM INTEROP SOURCE_DIR WORK_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_interop.cmake: -D${var}=... is missing")
  endif()
endforeach()
foreach(tool NODE NPM)
  if(NOT ${tool} OR NOT EXISTS "${${tool}}")
    message(FATAL_ERROR "${tool} was not found (got '${${tool}}'): the TensorFlow.js "
                        "interoperability test needs Node.js and npm; install them and "
                        "re-run cmake")
  endif()
endforeach()

function(run)
  execute_process(COMMAND ${ARGN} WORKING_DIRECTORY "${WORK_DIR}" RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    string(REPLACE ";" " " command "${ARGN}")
    message(FATAL_ERROR "failed (${status}): ${command}")
  endif()
endfunction()

file(MAKE_DIRECTORY "${WORK_DIR}")
file(COPY "${SOURCE_DIR}/package.json" "${SOURCE_DIR}/package-lock.json"
          "${SOURCE_DIR}/roundtrip.js" DESTINATION "${WORK_DIR}")

# npm ci installs exactly the locked versions; the copy of the lock file marks what is installed.
file(SHA256 "${SOURCE_DIR}/package-lock.json" wanted)
set(installed "")
if(EXISTS "${WORK_DIR}/node_modules/installed-lock.json")
  file(SHA256 "${WORK_DIR}/node_modules/installed-lock.json" installed)
endif()
if(NOT installed STREQUAL wanted)
  message(STATUS "installing @tensorflow/tfjs into ${WORK_DIR}/node_modules")
  run("${NPM}" ci --no-audit --no-fund --loglevel=error)
  file(COPY_FILE "${SOURCE_DIR}/package-lock.json" "${WORK_DIR}/node_modules/installed-lock.json")
endif()

foreach(dir normlab_model normlab_folded_model tfjs_model)
  file(REMOVE_RECURSE "${WORK_DIR}/${dir}")
endforeach()
run("${INTEROP}" write "${WORK_DIR}")
run("${NODE}" "${WORK_DIR}/roundtrip.js" "${WORK_DIR}")
run("${INTEROP}" check "${WORK_DIR}")
