# Builds the API reference (docs/Doxyfile) into OUT_DIR and fails when Doxygen reports any
# warning: an undocumented public symbol or a malformed comment.
#   cmake -DDOXYGEN=<doxygen> -DSOURCE_DIR=<project root> -DOUT_DIR=<output dir> -P run_doxygen.cmake
if(NOT DOXYGEN OR NOT EXISTS "${DOXYGEN}")
  message(FATAL_ERROR "doxygen was not found, so the API reference cannot be checked; install "
                      "it (Debian: apt-get install doxygen, or ./run.sh test) and re-run cmake")
endif()

file(REMOVE_RECURSE "${OUT_DIR}")
file(MAKE_DIRECTORY "${OUT_DIR}")
set(log "${OUT_DIR}/doxygen-warnings.log")
# The project's settings, with the output moved into OUT_DIR. Doxygen resolves the relative
# INPUT paths against its working directory, the project root.
file(WRITE "${OUT_DIR}/Doxyfile"
     "@INCLUDE = \"${SOURCE_DIR}/docs/Doxyfile\"\n"
     "OUTPUT_DIRECTORY = \"${OUT_DIR}\"\n"
     "WARN_LOGFILE = \"${log}\"\n")
execute_process(COMMAND "${DOXYGEN}" "${OUT_DIR}/Doxyfile" WORKING_DIRECTORY "${SOURCE_DIR}"
                RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "doxygen failed (${result}):\n${output}")
endif()
if(NOT EXISTS "${OUT_DIR}/html/index.html")
  message(FATAL_ERROR "doxygen wrote no ${OUT_DIR}/html/index.html:\n${output}")
endif()
file(READ "${log}" warnings)
string(STRIP "${warnings}" warnings)
if(NOT warnings STREQUAL "")
  message(FATAL_ERROR "Doxygen warnings (every public symbol needs a /// comment):\n${warnings}")
endif()
message(STATUS "API reference: ${OUT_DIR}/html/index.html, no warnings")
