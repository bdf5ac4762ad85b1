# Turns the files of ui/dist into a C++ source (the table behind http::UiAssets()), so that the
# server serves its web UI from its own binary. Script mode:
#   cmake -DDIST=<ui/dist> -DOUT=<ui_assets.cc> -P embed_ui.cmake
# Each file's `<name>.gz` (written by ui/scripts/finish-build.mjs) becomes its gzip variant; hidden
# files are left out.
if(NOT DIST OR NOT OUT)
  message(FATAL_ERROR "embed_ui.cmake needs -DDIST=<dir> and -DOUT=<file>")
endif()

file(GLOB_RECURSE files RELATIVE "${DIST}" "${DIST}/*")
list(FILTER files EXCLUDE REGEX "(^|/)\\.")
list(FILTER files EXCLUDE REGEX "\\.gz$")
list(SORT files)

# The bytes of a file as "0x3c,0x21,...", 24 to a line.
function(bytes_of path out_var)
  file(READ "${path}" hex HEX)
  string(LENGTH "${hex}" n)
  if(n EQUAL 0)
    set(${out_var} "0" PARENT_SCOPE)
    return()
  endif()
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
  string(REPEAT "0x..," 24 line)
  string(REGEX REPLACE "(${line})" "\\1\n" hex "${hex}")
  set(${out_var} "${hex}" PARENT_SCOPE)
endfunction()

set(arrays "")
set(table "")
set(i 0)
foreach(f IN LISTS files)
  bytes_of("${DIST}/${f}" body)
  file(SIZE "${DIST}/${f}" size)
  string(APPEND arrays "// ${f}\nconst unsigned char kFile${i}[] = {\n${body}};\n")
  if(EXISTS "${DIST}/${f}.gz")
    bytes_of("${DIST}/${f}.gz" gz)
    file(SIZE "${DIST}/${f}.gz" gz_size)
    string(APPEND arrays "const unsigned char kGzip${i}[] = {\n${gz}};\n")
    set(gz_ref "kGzip${i}, ${gz_size}")
  else()
    set(gz_ref "nullptr, 0")
  endif()
  string(APPEND table "    {\"${f}\", kFile${i}, ${size}, ${gz_ref}},\n")
  math(EXPR i "${i} + 1")
endforeach()
if(i EQUAL 0)
  # No built UI: the server answers /ui/ with a 404 that says so.
  set(table "    {\"\", nullptr, 0, nullptr, 0},\n")
  set(count 0)
else()
  set(count ${i})
endif()

set(text "// Generated from ui/dist by src/http/embed_ui.cmake: do not edit.
#include \"http/ui.h\"

namespace vault::http {
namespace {

${arrays}
const UiAsset kAssets[] = {
${table}};

}  // namespace

std::span<const UiAsset> UiAssets() { return std::span<const UiAsset>(kAssets, ${count}); }

}  // namespace vault::http
")
# Written only when it changed, so that an unchanged UI recompiles nothing.
file(WRITE "${OUT}.tmp" "${text}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
