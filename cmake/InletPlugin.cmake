# Helpers that give every plugin the same shape:
#   <name>_logic   static library with the plugin's logic (plain C++, unit-testable, no .so)
#   inlet_<kind>_<name>  the MODULE (.so) = logic + the entry file with the export macro
#   test_<kind>_<name>   GoogleTest executable over the logic (when TESTS are given)
#
# inlet_add_plugin(KIND auth|sink NAME github SOURCES a.cpp ENTRY entry.cpp
#                  [LIBS ...] [TESTS t.cpp ...] [TEST_LIBS ...])

function(inlet_add_plugin)
  cmake_parse_arguments(P "" "KIND;NAME" "SOURCES;ENTRY;LIBS;TESTS;TEST_LIBS" ${ARGN})
  string(REPLACE "-" "_" ident ${P_NAME})
  set(logic inlet_${P_KIND}_${ident}_logic)
  set(module inlet_${P_KIND}_${ident})

  add_library(${logic} STATIC ${P_SOURCES})
  target_link_libraries(${logic} PUBLIC inlet_sdk ${P_LIBS})
  target_include_directories(${logic} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
  set_target_properties(${logic} PROPERTIES CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)

  add_library(${module} MODULE ${P_ENTRY})
  target_link_libraries(${module} PRIVATE ${logic})
  # Only inlet_plugin_magic / inlet_plugin_entry are exported; every symbol must resolve now.
  set_target_properties(${module} PROPERTIES
    PREFIX "" OUTPUT_NAME ${module}
    LIBRARY_OUTPUT_DIRECTORY ${INLET_PLUGIN_DIR}
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  target_link_options(${module} PRIVATE -Wl,--no-undefined -Wl,--exclude-libs,ALL)
  set_property(GLOBAL APPEND PROPERTY INLET_PLUGIN_TARGETS ${module})

  if(INLET_BUILD_TESTS AND P_TESTS)
    set(test test_${P_KIND}_${ident})
    add_executable(${test} ${P_TESTS})
    target_link_libraries(${test} PRIVATE ${logic} inlet_testing ${P_TEST_LIBS} GTest::gtest GTest::gtest_main)
    target_compile_definitions(${test} PRIVATE
      INLET_SOURCE_DIR="${CMAKE_SOURCE_DIR}" INLET_PLUGIN_DIR="${INLET_PLUGIN_DIR}"
      INLET_PLUGIN_SRC_DIR="${CMAKE_CURRENT_SOURCE_DIR}")
    gtest_discover_tests(${test} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS "${P_KIND}")
  endif()
endfunction()

function(inlet_add_auth_provider name)
  inlet_add_plugin(KIND auth NAME ${name} ${ARGN})
endfunction()

function(inlet_add_sink name)
  inlet_add_plugin(KIND sink NAME ${name} ${ARGN})
endfunction()

# INLET_PLUGINS (a ;-list of folder names) builds only those plugins; empty builds all.
# Adds every sub-folder of the current directory that has a CMakeLists.txt.
macro(inlet_add_plugin_folders)
  file(GLOB _children RELATIVE ${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR}/*)
  list(SORT _children)
  foreach(_child ${_children})
    if(IS_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/${_child} AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${_child}/CMakeLists.txt
       AND (NOT INLET_PLUGINS OR _child IN_LIST INLET_PLUGINS))
      add_subdirectory(${_child})
    endif()
  endforeach()
endmacro()
