# tb_module(NAME DEPS ...): one static library per src/ folder, from its *.cpp files, with the
# unit tests beside the code (*_test.cpp) as one GoogleTest binary labelled `unit`, and
# PostgreSQL tests (*_pgtest.cpp) labelled `pg` (they read TB_TEST_PG_URL).
function(tb_module name)
  cmake_parse_arguments(M "" "" "DEPS;EXTRA_SOURCES;FUZZ_DEPS;FUZZ_LIBS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  list(FILTER srcs EXCLUDE REGEX "(_test|_pgtest|_benchmark|_fuzz|/main)\\.cpp$")
  add_library(tb_${name} STATIC ${srcs} ${M_EXTRA_SOURCES})
  target_link_libraries(tb_${name} PUBLIC tb_flags ${M_DEPS})

  # Fuzz targets (*_fuzz.cpp, one LLVMFuzzerTestOneInput each) become fuzz_<stem> executables,
  # all under the target `fuzzers`; scripts/fuzz runs them. A fuzz build builds nothing else
  # of this folder's tests.
  if(TB_FUZZ)
    if(NOT TARGET fuzzers)
      add_custom_target(fuzzers)
    endif()
    file(GLOB fuzz_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_fuzz.cpp)
    foreach(f ${fuzz_sources})
      get_filename_component(stem ${f} NAME_WE)
      string(REGEX REPLACE "_fuzz$" "" stem ${stem})
      add_executable(fuzz_${stem} ${f})
      if(M_FUZZ_LIBS)  # the parts of the module its targets need, where the whole will not build
        target_link_libraries(fuzz_${stem} PRIVATE ${M_FUZZ_LIBS} ${M_FUZZ_DEPS})
      else()
        target_link_libraries(fuzz_${stem} PRIVATE tb_${name} ${M_FUZZ_DEPS})
      endif()
      target_link_options(fuzz_${stem} PRIVATE -fsanitize=fuzzer)
      set_target_properties(fuzz_${stem} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
      add_dependencies(fuzzers fuzz_${stem})
    endforeach()
    return()
  endif()

  file(GLOB tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_test.cpp)
  if(tests)
    add_executable(tb_${name}_test ${tests})
    target_link_libraries(tb_${name}_test PRIVATE tb_${name} GTest::gtest GTest::gmock GTest::gtest_main)
    add_test(NAME ${name} COMMAND tb_${name}_test)
    set_tests_properties(${name} PROPERTIES LABELS unit)
  endif()
  file(GLOB pgtests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_pgtest.cpp)
  if(pgtests)
    add_executable(tb_${name}_pgtest ${pgtests})
    target_link_libraries(tb_${name}_pgtest PRIVATE tb_${name} GTest::gtest GTest::gtest_main)
    add_test(NAME ${name}_pg COMMAND tb_${name}_pgtest)
    set_tests_properties(${name}_pg PROPERTIES LABELS pg)
  endif()
endfunction()

# tb_embed_sql(OUT_VAR DIR SYMBOL): turns the shared src/storage/migrations/NNNN_name.sql,
# each replaced by DIR/NNNN_name.sql when the backend has its own, into a generated .cpp
# defining `std::span<const tb::storage::Migration> SYMBOL()`: migrations ship in the binary.
function(tb_embed_sql out_var dir symbol)
  file(GLOB shared CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/storage/migrations/*.sql)
  file(GLOB own CONFIGURE_DEPENDS ${dir}/*.sql)
  set(sql ${own})
  foreach(f ${shared})
    get_filename_component(name ${f} NAME)
    if(NOT EXISTS ${dir}/${name})
      list(APPEND sql ${f})
    endif()
  endforeach()
  # Sort by file name (the version), whichever directory a file comes from.
  set(keyed "")
  foreach(f ${sql})
    get_filename_component(name ${f} NAME)
    list(APPEND keyed "${name}|${f}")
  endforeach()
  list(SORT keyed)
  set(sql "")
  foreach(k ${keyed})
    string(REGEX REPLACE "^[^|]*\\|" "" f "${k}")
    list(APPEND sql ${f})
  endforeach()
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${symbol}.cpp)
  string(REPLACE ";" "," files "${sql}")  # a list would be split into several arguments
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DSYMBOL=${symbol} "-DFILES=${files}"
            -P ${CMAKE_SOURCE_DIR}/cmake/embed_sql.cmake
    DEPENDS ${sql} ${CMAKE_SOURCE_DIR}/cmake/embed_sql.cmake
    COMMENT "Embedding migrations for ${symbol}"
    VERBATIM)
  set(${out_var} ${out} PARENT_SCOPE)
endfunction()

# tb_embed_text(OUT_VAR FILE SYMBOL): a generated .cpp defining `std::string_view SYMBOL()`
# that returns the text of FILE, rebuilt when FILE changes.
function(tb_embed_text out_var file symbol)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${symbol}.cpp)
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DSYMBOL=${symbol} -DFILE=${file}
            -P ${CMAKE_SOURCE_DIR}/cmake/embed_text.cmake
    DEPENDS ${file} ${CMAKE_SOURCE_DIR}/cmake/embed_text.cmake
    COMMENT "Embedding ${file}"
    VERBATIM)
  set(${out_var} ${out} PARENT_SCOPE)
endfunction()
