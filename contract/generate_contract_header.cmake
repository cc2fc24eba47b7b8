# Generates <aerov/contract/windows_device_contract.hpp> from
# docs/windows-device-contract.json.
#
#   cmake -DIN=<json> -DOUT=<header> -P generate_contract_header.cmake
#
# This is a CMake script rather than a compiled tool so that it also runs in
# the cross builds (AEROV_FREESTANDING_ONLY), where no host programs are built.
# The emitted header is freestanding C++17: <stdint.h>/<stddef.h> only,
# constexpr data, no library types.
#
# Every string(JSON ...) call below is made without ERROR_VARIABLE, so a
# missing key or a value of the wrong type stops the build with an error that
# names the key.

cmake_minimum_required(VERSION 3.25)

if(NOT DEFINED IN OR NOT DEFINED OUT)
  message(FATAL_ERROR "usage: cmake -DIN=<json> -DOUT=<header> -P ${CMAKE_CURRENT_LIST_FILE}")
endif()

file(READ "${IN}" json)

# --- helpers -----------------------------------------------------------------

# FEATURE_NAME -> FeatureName ("RING_INDIRECT_DESC" -> "RingIndirectDesc").
function(camel_case out name)
  string(TOLOWER "${name}" lower)
  string(REPLACE "_" ";" parts "${lower}")
  set(result "")
  foreach(part IN LISTS parts)
    if(part STREQUAL "")
      continue()
    endif()
    string(SUBSTRING "${part}" 0 1 first)
    string(SUBSTRING "${part}" 1 -1 rest)
    string(TOUPPER "${first}" first)
    string(APPEND result "${first}${rest}")
  endforeach()
  set(${out} "${result}" PARENT_SCOPE)
endfunction()

# A C++ string literal for an arbitrary JSON string.
function(c_string out value)
  string(REPLACE "\\" "\\\\" value "${value}")
  string(REPLACE "\"" "\\\"" value "${value}")
  set(${out} "\"${value}\"" PARENT_SCOPE)
endfunction()

# Checks that a JSON value is a hex string ("0x1AF4") and returns it unchanged
# (it is a valid C++ integer literal as is).
function(hex_value out value what)
  if(NOT value MATCHES "^0x[0-9A-Fa-f]+$")
    message(FATAL_ERROR "${IN}: ${what} must be a hex string like \"0x1AF4\", got \"${value}\"")
  endif()
  set(${out} "${value}" PARENT_SCOPE)
endfunction()

function(dec_value out value what)
  if(NOT value MATCHES "^[0-9]+$")
    message(FATAL_ERROR "${IN}: ${what} must be a non-negative JSON integer, got \"${value}\"")
  endif()
  set(${out} "${value}" PARENT_SCOPE)
endfunction()

# JSON array of strings -> CMake list.
function(json_string_list out)
  string(JSON n LENGTH "${json}" ${ARGN})
  set(result "")
  if(n GREATER 0)
    math(EXPR last "${n} - 1")
    foreach(i RANGE ${last})
      string(JSON item GET "${json}" ${ARGN} ${i})
      list(APPEND result "${item}")
    endforeach()
  endif()
  set(${out} "${result}" PARENT_SCOPE)
endfunction()

# --- top level ---------------------------------------------------------------

string(JSON contract_name GET "${json}" contract)
string(JSON major GET "${json}" major)
string(JSON pci_revision GET "${json}" pci_revision)
string(JSON vendor_id GET "${json}" vendor_id)
dec_value(major "${major}" "major")
dec_value(pci_revision "${pci_revision}" "pci_revision")
hex_value(vendor_id "${vendor_id}" "vendor_id")
c_string(contract_lit "${contract_name}")

set(h "")
string(APPEND h
"// windows_device_contract.hpp
//
// generated from docs/windows-device-contract.json — do not edit
// Edit the JSON (and docs/contract.md, which tests/contract keeps in sync)
// and rebuild; contract/generate_contract_header.cmake writes this file.
//
// Freestanding C++17: usable in the Windows 7 drivers as well as on the host.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace aerov::contract {

inline constexpr const char* kContractName = ${contract_lit};
inline constexpr uint32_t kMajor = ${major};
inline constexpr uint8_t kPciRevision = ${pci_revision};
inline constexpr uint16_t kVendorId = ${vendor_id};

// ---------------------------------------------------------------------------
// Feature bits (bit numbers in the 64-bit virtio feature word)
// ---------------------------------------------------------------------------

")

string(JSON num_features LENGTH "${json}" feature_bits)
if(num_features EQUAL 0)
  message(FATAL_ERROR "${IN}: feature_bits is empty")
endif()
math(EXPR last_feature "${num_features} - 1")
set(feature_table "")
set(known_features "")
foreach(i RANGE ${last_feature})
  string(JSON fname MEMBER "${json}" feature_bits ${i})
  string(JSON fbit GET "${json}" feature_bits "${fname}")
  dec_value(fbit "${fbit}" "feature_bits.${fname}")
  if(fbit GREATER 63)
    message(FATAL_ERROR "${IN}: feature_bits.${fname} = ${fbit} does not fit in 64 bits")
  endif()
  camel_case(camel "${fname}")
  list(APPEND known_features "${fname}")
  set(feature_const_${fname} "kFeature${camel}")
  string(APPEND h "inline constexpr uint32_t kFeature${camel} = ${fbit};\n")
  string(APPEND feature_table "    {\"${fname}\", ${fbit}},\n")
endforeach()

string(APPEND h "
// Mask of a single feature bit.
constexpr uint64_t feature_mask(uint32_t bit) { return uint64_t{1} << bit; }

struct FeatureSpec {
  const char* name;  // feature_bits key, e.g. \"RING_INDIRECT_DESC\"
  uint32_t bit;
};

// Every feature_bits entry, sorted by name (CMake's JSON reader does not keep
// the key order of the file).
inline constexpr FeatureSpec kFeatures[] = {
${feature_table}};
inline constexpr size_t kNumFeatures = sizeof(kFeatures) / sizeof(kFeatures[0]);

// ---------------------------------------------------------------------------
// Devices
// ---------------------------------------------------------------------------

struct QueueSpec {
  const char* name;
  uint16_t index;
  uint16_t size;
};

struct FunctionSpec {
  uint8_t function;         // PCI function number
  const char* role;         // \"keyboard\", \"mouse\", ...; the device name for single-function devices
  uint16_t subsystem_id;    // PCI Subsystem Device ID
  const char* hardware_id;  // revision-gated Windows hardware ID
  bool required;            // false for optional functions (input tablet)
};

struct DeviceSpec {
  const char* name;  // \"net\", \"blk\", \"input\", \"snd\"
  uint32_t virtio_type;
  uint16_t device_id;
  uint16_t subsystem_vendor_id;
  uint8_t revision;
  uint8_t class_base, class_sub, class_prog_if;
  const QueueSpec* queues;
  uint16_t num_queues;
  const FunctionSpec* functions;
  uint8_t num_functions;
  uint64_t features_offered;    // OR of feature_mask(kFeature...)
  uint64_t features_forbidden;  // OR of feature_mask(kFeature...)
  const char* inf;
  const char* service;
  const char* setup_class;
  const char* setup_class_guid;
  const char* start_type;        // e.g. \"SERVICE_BOOT_START\"
  const char* load_order_group;  // \"\" when the service has none
  uint16_t vendor_id;
};
")

# Feature name list -> C++ mask expression.
function(feature_mask_expr out device list_name)
  json_string_list(names devices ${device} ${list_name})
  set(expr "")
  foreach(name IN LISTS names)
    if(NOT name IN_LIST known_features)
      message(FATAL_ERROR "${IN}: devices[${device}].${list_name} names unknown feature \"${name}\"")
    endif()
    if(NOT expr STREQUAL "")
      string(APPEND expr " |\n      ")
    endif()
    string(APPEND expr "feature_mask(${feature_const_${name}})")
  endforeach()
  if(expr STREQUAL "")
    set(expr "0")
  endif()
  set(${out} "${expr}" PARENT_SCOPE)
endfunction()

string(JSON num_devices LENGTH "${json}" devices)
if(num_devices EQUAL 0)
  message(FATAL_ERROR "${IN}: devices is empty")
endif()
math(EXPR last_device "${num_devices} - 1")
set(device_list "")
set(device_asserts "")
foreach(d RANGE ${last_device})
  string(JSON name GET "${json}" devices ${d} name)
  if(NOT name MATCHES "^[a-z][a-z0-9_]*$")
    message(FATAL_ERROR "${IN}: device name \"${name}\" must be a lower-case identifier")
  endif()
  camel_case(camel "${name}")
  set(k "k${camel}")

  string(JSON virtio_type GET "${json}" devices ${d} virtio_type)
  string(JSON dev_vendor GET "${json}" devices ${d} pci vendor_id)
  string(JSON device_id GET "${json}" devices ${d} pci device_id)
  string(JSON ss_vendor GET "${json}" devices ${d} pci subsystem_vendor_id)
  string(JSON revision GET "${json}" devices ${d} pci revision)
  string(JSON class_base GET "${json}" devices ${d} pci class base)
  string(JSON class_sub GET "${json}" devices ${d} pci class sub)
  string(JSON class_prog_if GET "${json}" devices ${d} pci class prog_if)
  dec_value(virtio_type "${virtio_type}" "${name}.virtio_type")
  hex_value(dev_vendor "${dev_vendor}" "${name}.pci.vendor_id")
  hex_value(device_id "${device_id}" "${name}.pci.device_id")
  hex_value(ss_vendor "${ss_vendor}" "${name}.pci.subsystem_vendor_id")
  hex_value(revision "${revision}" "${name}.pci.revision")
  hex_value(class_base "${class_base}" "${name}.pci.class.base")
  hex_value(class_sub "${class_sub}" "${name}.pci.class.sub")
  hex_value(class_prog_if "${class_prog_if}" "${name}.pci.class.prog_if")

  # Queues.
  string(JSON num_queues LENGTH "${json}" devices ${d} queues)
  if(num_queues EQUAL 0)
    message(FATAL_ERROR "${IN}: device ${name} has no queues")
  endif()
  math(EXPR last_queue "${num_queues} - 1")
  string(APPEND h "\ninline constexpr QueueSpec ${k}Queues[] = {\n")
  foreach(q RANGE ${last_queue})
    string(JSON qname GET "${json}" devices ${d} queues ${q} name)
    string(JSON qindex GET "${json}" devices ${d} queues ${q} index)
    string(JSON qsize GET "${json}" devices ${d} queues ${q} size)
    dec_value(qindex "${qindex}" "${name}.queues[${q}].index")
    dec_value(qsize "${qsize}" "${name}.queues[${q}].size")
    c_string(qname_lit "${qname}")
    string(APPEND h "    {${qname_lit}, ${qindex}, ${qsize}},\n")
  endforeach()
  string(APPEND h "};\n")

  # Functions.
  string(JSON num_functions LENGTH "${json}" devices ${d} functions)
  if(num_functions EQUAL 0)
    message(FATAL_ERROR "${IN}: device ${name} has no functions")
  endif()
  math(EXPR last_function "${num_functions} - 1")
  string(APPEND h "inline constexpr FunctionSpec ${k}Functions[] = {\n")
  foreach(f RANGE ${last_function})
    string(JSON fnum GET "${json}" devices ${d} functions ${f} function)
    string(JSON frole GET "${json}" devices ${d} functions ${f} role)
    string(JSON fss GET "${json}" devices ${d} functions ${f} subsystem_id)
    string(JSON fhwid GET "${json}" devices ${d} functions ${f} hardware_id)
    string(JSON freq GET "${json}" devices ${d} functions ${f} required)
    dec_value(fnum "${fnum}" "${name}.functions[${f}].function")
    hex_value(fss "${fss}" "${name}.functions[${f}].subsystem_id")
    c_string(frole_lit "${frole}")
    c_string(fhwid_lit "${fhwid}")
    if(freq STREQUAL "ON")
      set(freq_lit true)
    elseif(freq STREQUAL "OFF")
      set(freq_lit false)
    else()
      message(FATAL_ERROR "${IN}: ${name}.functions[${f}].required must be true or false")
    endif()
    string(APPEND h "    {${fnum}, ${frole_lit}, ${fss},\n     ${fhwid_lit}, ${freq_lit}},\n")
  endforeach()
  string(APPEND h "};\n")

  # Features.
  feature_mask_expr(offered ${d} features_offered)
  feature_mask_expr(forbidden ${d} features_forbidden)

  # Windows side.
  string(JSON w_inf GET "${json}" devices ${d} windows inf)
  string(JSON w_service GET "${json}" devices ${d} windows service)
  string(JSON w_class GET "${json}" devices ${d} windows setup_class)
  string(JSON w_guid GET "${json}" devices ${d} windows setup_class_guid)
  string(JSON w_start GET "${json}" devices ${d} windows start_type)
  string(JSON w_group ERROR_VARIABLE no_group GET "${json}" devices ${d} windows load_order_group)
  if(no_group)
    set(w_group "")
  endif()
  foreach(var w_inf w_service w_class w_guid w_start w_group)
    c_string(${var}_lit "${${var}}")
  endforeach()

  string(APPEND h "inline constexpr DeviceSpec ${k} = {
    /* name */ \"${name}\",
    /* virtio_type */ ${virtio_type},
    /* device_id */ ${device_id},
    /* subsystem_vendor_id */ ${ss_vendor},
    /* revision */ ${revision},
    /* class base/sub/prog_if */ ${class_base}, ${class_sub}, ${class_prog_if},
    /* queues */ ${k}Queues, ${num_queues},
    /* functions */ ${k}Functions, ${num_functions},
    /* features_offered */
      ${offered},
    /* features_forbidden */
      ${forbidden},
    /* inf */ ${w_inf_lit},
    /* service */ ${w_service_lit},
    /* setup_class */ ${w_class_lit},
    /* setup_class_guid */ ${w_guid_lit},
    /* start_type */ ${w_start_lit},
    /* load_order_group */ ${w_group_lit},
    /* vendor_id */ ${dev_vendor},
};
")
  string(APPEND device_list "    ${k},\n")
  string(APPEND device_asserts
    "static_assert((${k}.features_offered & ${k}.features_forbidden) == 0,\n"
    "              \"${name}: a feature is both offered and forbidden\");\n"
    "static_assert(${k}.device_id == 0x1040 + ${k}.virtio_type, \"${name}: PCI-2 device ID\");\n")
endforeach()

string(APPEND h "
inline constexpr DeviceSpec kDevices[] = {
${device_list}};
inline constexpr size_t kNumDevices = sizeof(kDevices) / sizeof(kDevices[0]);

// Consistency of the JSON itself; a failure here means the JSON is wrong.
${device_asserts}
// ---------------------------------------------------------------------------
// Rules, in document order
// ---------------------------------------------------------------------------

struct RuleSpec {
  const char* id;       // e.g. \"VQ-7\"
  char kind;            // 'M' must, 'S' should, 'P' project policy
  const char* section;  // section heading in docs/contract.md
  const char* title;
};

inline constexpr RuleSpec kRules[] = {
")

string(JSON num_rules LENGTH "${json}" rules)
if(num_rules EQUAL 0)
  message(FATAL_ERROR "${IN}: rules is empty")
endif()
math(EXPR last_rule "${num_rules} - 1")
set(seen_rules "")
foreach(r RANGE ${last_rule})
  string(JSON rid GET "${json}" rules ${r} id)
  string(JSON rkind GET "${json}" rules ${r} kind)
  string(JSON rsection GET "${json}" rules ${r} section)
  string(JSON rtitle GET "${json}" rules ${r} title)
  if(NOT rid MATCHES "^[A-Z]+-[0-9]+$")
    message(FATAL_ERROR "${IN}: rules[${r}].id \"${rid}\" is not of the form ABC-1")
  endif()
  if(rid IN_LIST seen_rules)
    message(FATAL_ERROR "${IN}: rule ${rid} is listed twice")
  endif()
  list(APPEND seen_rules "${rid}")
  if(NOT rkind MATCHES "^[MSP]$")
    message(FATAL_ERROR "${IN}: rule ${rid} has kind \"${rkind}\", expected M, S or P")
  endif()
  c_string(rsection_lit "${rsection}")
  c_string(rtitle_lit "${rtitle}")
  string(APPEND h "    {\"${rid}\", '${rkind}', ${rsection_lit}, ${rtitle_lit}},\n")
endforeach()

string(APPEND h "};
inline constexpr size_t kNumRules = sizeof(kRules) / sizeof(kRules[0]);

namespace detail {
constexpr bool str_equal(const char* a, const char* b) {
  if (a == nullptr || b == nullptr) return a == b;
  while (*a != '\\0' && *a == *b) {
    ++a;
    ++b;
  }
  return *a == *b;
}
}  // namespace detail

// The rule with the given ID, or nullptr.
constexpr const RuleSpec* find_rule(const char* id) {
  for (size_t i = 0; i < kNumRules; ++i) {
    if (detail::str_equal(kRules[i].id, id)) return &kRules[i];
  }
  return nullptr;
}

// True if a rule with the given ID exists. (Prefer this to comparing
// find_rule() with nullptr in a static_assert: GCC's -Waddress warns there.)
constexpr bool has_rule(const char* id) {
  for (size_t i = 0; i < kNumRules; ++i) {
    if (detail::str_equal(kRules[i].id, id)) return true;
  }
  return false;
}

// The device with the given name (\"net\", \"blk\", \"input\", \"snd\"), or nullptr.
constexpr const DeviceSpec* find_device(const char* name) {
  for (size_t i = 0; i < kNumDevices; ++i) {
    if (detail::str_equal(kDevices[i].name, name)) return &kDevices[i];
  }
  return nullptr;
}

// The bit number of the named feature (feature_bits key), or -1.
constexpr int find_feature(const char* name) {
  for (size_t i = 0; i < kNumFeatures; ++i) {
    if (detail::str_equal(kFeatures[i].name, name)) return static_cast<int>(kFeatures[i].bit);
  }
  return -1;
}

}  // namespace aerov::contract
")

# Write only when the content changes so dependents are not rebuilt needlessly.
set(existing "")
if(EXISTS "${OUT}")
  file(READ "${OUT}" existing)
endif()
if(NOT existing STREQUAL h)
  file(WRITE "${OUT}" "${h}")
endif()
