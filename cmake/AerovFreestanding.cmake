# Code that ships inside the Windows 7 kernel drivers (virtqueue/driver,
# virtqueue/layout.hpp, transport/driver, drivers/windows7/common) is built
# as a C++17 subset with no exceptions, RTTI or hosted library, on the host
# exactly as under mingw-w64, so a hosted-only construct fails the normal
# build and not only the cross check.
set(AEROV_FREESTANDING_FLAGS -ffreestanding -fno-exceptions -fno-rtti)

function(aerov_add_freestanding_library name)
  add_library(${name} STATIC ${ARGN})
  set_target_properties(${name} PROPERTIES CXX_STANDARD 17 CXX_EXTENSIONS OFF)
  target_compile_options(${name} PRIVATE ${AEROV_FREESTANDING_FLAGS})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  set_property(GLOBAL APPEND PROPERTY AEROV_FREESTANDING_TARGETS ${name})
endfunction()
