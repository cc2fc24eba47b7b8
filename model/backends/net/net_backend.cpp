// NetBackend and LoopbackPeer are header-only; this unit keeps the library
// non-empty for toolchains that dislike archives without objects.
#include "model/backends/net/net_backend.hpp"
