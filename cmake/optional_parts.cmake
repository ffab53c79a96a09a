# Parts of nanoml that are developed on parallel branches: code that needs them compiles against
# their headers, and is switched on by a definition once their implementation is in the tree
# (until then it reports NML_E_UNSUPPORTED instead of failing to link). Detection looks for the
# function definition at the start of a line, as clang-format writes it.
function(nml_tree_defines out symbol)
  set(found OFF)
  foreach(f ${ARGN})
    file(STRINGS "${f}" hit REGEX "^nml_status ${symbol}\\(")
    if(hit)
      set(found ON)
    endif()
  endforeach()
  set(${out} ${found} PARENT_SCOPE)
endfunction()

# The host IR and its .tflite writer (include/nanoml/ir.h): the trainer's exporter needs them.
nml_tree_defines(nml_have_ir_ops nml_ir_add_op ${NML_HOST_SRC})
nml_tree_defines(nml_have_ir_writer nml_ir_to_tflite ${NML_HOST_SRC})
set(NML_HAVE_IR OFF)
if(nml_have_ir_ops AND nml_have_ir_writer)
  set(NML_HAVE_IR ON)
endif()
# The runtime interpreter (include/nanoml/runtime.h): `nanoml eval` needs it.
nml_tree_defines(NML_HAVE_INTERPRETER nml_interpreter_init ${NML_RUNTIME_SRC})
if(NML_HAVE_IR)
  target_compile_definitions(nanoml_host PUBLIC NML_HAVE_IR=1)
endif()
if(NML_HAVE_INTERPRETER)
  target_compile_definitions(nanoml_host PUBLIC NML_HAVE_INTERPRETER=1)
endif()
message(STATUS "nanoml: host IR ${NML_HAVE_IR}, runtime interpreter ${NML_HAVE_INTERPRETER}")
