# Writes a C file holding the bytes of INPUT as `const unsigned char NAME[]` and
# `const size_t NAME_size`. Run with: cmake -DINPUT=... -DOUTPUT=... -DNAME=... -P embed_bytes.cmake
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_length)
math(EXPR size "${hex_length} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
# A line break every 16 bytes keeps the file readable by editors.
string(REGEX REPLACE "((0x..,){16})" "\\1\n" bytes "${bytes}")
file(WRITE "${OUTPUT}.tmp"
    "/* Generated from ${NAME} at build time; do not edit. */\n"
    "#include <stddef.h>\n\n"
    "extern const unsigned char ${NAME}[];\n"
    "extern const size_t ${NAME}_size;\n"
    "const unsigned char ${NAME}[] = {\n${bytes}0};\n"
    "const size_t ${NAME}_size = ${size};\n")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
