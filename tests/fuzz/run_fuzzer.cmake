# cmake -DFUZZER=... -DSEEDS=... -DCORPUS=... -DSECONDS=... -P run_fuzzer.cmake
# Copies the seeds into a fresh corpus directory and runs the fuzzer on it
# for SECONDS seconds; a crash, leak or sanitizer report fails the test.
file(REMOVE_RECURSE ${CORPUS})
file(MAKE_DIRECTORY ${CORPUS})
file(GLOB _seeds ${SEEDS}/*)
if(NOT _seeds)
  message(FATAL_ERROR "no seeds in ${SEEDS}")
endif()
file(COPY ${_seeds} DESTINATION ${CORPUS})
get_filename_component(_dir ${CORPUS} DIRECTORY)
execute_process(
  COMMAND ${FUZZER} -max_total_time=${SECONDS} -max_len=4096 -timeout=10
          -print_final_stats=1 -artifact_prefix=${_dir}/ ${CORPUS}
  RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "fuzzer exited with ${_rc} (crash artifacts in ${_dir})")
endif()
