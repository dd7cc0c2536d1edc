# reelfarm_add_library(NAME SOURCES ... DEPENDS ...)
# One library per code folder: public headers in include/reelfarm/<folder>/,
# sources in src/.
function(reelfarm_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPENDS;PRIVATE_DEPENDS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC "${CMAKE_CURRENT_SOURCE_DIR}/include")
  target_link_libraries(${name} PUBLIC ${ARG_PUBLIC_DEPENDS} PRIVATE ${ARG_PRIVATE_DEPENDS})
endfunction()

# reelfarm_embed_files(OUT_CPP NAMESPACE SYMBOL FILES ...)
# Generates a .cpp that holds the given text files as string literals, so the
# binary carries its own SQL migrations and needs no files next to it.
function(reelfarm_embed_files out_cpp namespace symbol)
  set(files ${ARGN})
  add_custom_command(
    OUTPUT "${out_cpp}"
    COMMAND ${CMAKE_COMMAND} -DOUT=${out_cpp} -DNAMESPACE=${namespace} -DSYMBOL=${symbol}
            "-DFILES=${files}" -P "${PROJECT_SOURCE_DIR}/cmake/embed_files.cmake"
    DEPENDS ${files} "${PROJECT_SOURCE_DIR}/cmake/embed_files.cmake"
    COMMENT "Embedding ${symbol}"
    VERBATIM)
endfunction()
