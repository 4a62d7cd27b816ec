# SPDX-License-Identifier: MIT
# Writes OUT with the source tree's commit (git describe --always --dirty),
# only when it changed, so a run's JSON names the code that made it.
execute_process(COMMAND git -C "${SRC}" describe --always --dirty --abbrev=12
	OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR commit STREQUAL "")
	set(commit "unknown")
endif()
set(text "#define VMM_GIT_COMMIT \"${commit}\"\n")
if(EXISTS "${OUT}")
	file(READ "${OUT}" old)
endif()
if(NOT "${old}" STREQUAL "${text}")
	file(WRITE "${OUT}" "${text}")
endif()
