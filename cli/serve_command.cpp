#include "cli/serve_command.hpp"

#include <csignal>
#include <cstring>
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "model/backends/disk/file_disk.hpp"
#include "model/backends/net/pcap.hpp"
#include "model/backends/net/scripted_peer.hpp"
#include "model/devices/blk/blk_device.hpp"
#include "model/devices/input/input_device.hpp"
#include "model/devices/net/net_device.hpp"
#include "sim/device_recorder.hpp"
#include "sim/scenario.hpp"
#include "transport/vhost_user/vhost_user_server.hpp"

namespace aerov::cli {

namespace {

volatile std::sig_atomic_t g_stop = 0;
volatile std::sig_atomic_t g_inject = 0;

extern "C" void on_stop_signal(int) { g_stop = 1; }
extern "C" void on_inject_signal(int) { g_inject = 1; }

struct ServeArgs {
  std::string device = "blk";
  std::string image;
  std::string socket;
  std::string stats;
  std::string pcap;
  std::string input_kind = "keyboard";
  std::string inject;  // input: events injected on SIGUSR1
  std::string peer_ip = "10.0.2.2";
  std::string record;  // blk: trace of the device side
  bool persist = false;
  bool verbose = false;
  uint32_t net_header_bytes = 12;
};

bool parse_ipv4(const std::string& text, model::backends::Ipv4Address& out) {
  std::istringstream in(text);
  for (size_t i = 0; i < 4; ++i) {
    unsigned v = 0;
    char dot = 0;
    if (!(in >> v) || v > 255) return false;
    out[i] = static_cast<uint8_t>(v);
    if (i < 3 && (!(in >> dot) || dot != '.')) return false;
  }
  return in.peek() == std::char_traits<char>::eof();
}

// Input script: one batch per line, "key CODE 0|1", "rel DX DY",
// "abs X Y", "button CODE 0|1"; '#' starts a comment.
bool inject_script(model::devices::InputDevice& dev, const std::string& path, std::string& error) {
  std::ifstream f(path);
  if (!f) {
    error = "cannot read " + path;
    return false;
  }
  std::string line;
  int lineno = 0;
  while (std::getline(f, line)) {
    ++lineno;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream in(line);
    std::string op;
    long a = 0, b = 0;
    in >> op >> a >> b;
    bool ok = false;
    if (!in.fail()) {
      if (op == "key" || op == "button") ok = dev.key(static_cast<uint16_t>(a), b != 0);
      else if (op == "rel") ok = dev.mouse_move(static_cast<int32_t>(a), static_cast<int32_t>(b));
      else if (op == "abs") ok = dev.tablet_position(static_cast<int32_t>(a), static_cast<int32_t>(b));
    }
    if (!ok) {
      error = path + ":" + std::to_string(lineno) + ": refused or malformed: " + line;
      return false;
    }
  }
  return true;
}

int serve(const ServeArgs& a) {
  using namespace aerov::model;
  if (!a.record.empty() && a.device == "input") {
    std::cerr << "aero-virtio serve: --record supports --device blk and net (input traces are not built yet)\n";
    return 64;
  }
  std::unique_ptr<backends::FileDisk> disk;
  std::unique_ptr<backends::ScriptedPeer> peer;
  std::unique_ptr<backends::PcapWriter> pcap;
  std::unique_ptr<backends::PcapTap> tap;
  std::unique_ptr<sim::RecordingNetBackend> recording_tap;
  // --record: what the replay needs to rebuild the device stack.
  nlohmann::json replay_config = nlohmann::json::object();
  std::unique_ptr<transport::VirtioDevice> device;
  devices::BlkDevice* blk = nullptr;
  devices::NetDevice* net = nullptr;
  devices::InputDevice* input = nullptr;
  const auto start = std::chrono::steady_clock::now();
  if (a.device == "blk") {
    if (a.image.empty()) {
      std::cerr << "aero-virtio serve: --device blk needs --image\n";
      return 64;
    }
    auto opened = backends::FileDisk::open(a.image);
    if (!opened.disk) {
      std::cerr << "aero-virtio serve: cannot open " << a.image << ": " << std::strerror(opened.error) << "\n";
      return 66;
    }
    disk = std::move(opened.disk);
    auto d = std::make_unique<devices::BlkDevice>(*disk);
    blk = d.get();
    device = std::move(d);
    replay_config = {{"disk_sectors", disk->sector_count()}};
  } else if (a.device == "net") {
    backends::Ipv4Address ip{};
    if (!parse_ipv4(a.peer_ip, ip)) {
      std::cerr << "aero-virtio serve: --peer-ip wants a.b.c.d, got '" << a.peer_ip << "'\n";
      return 64;
    }
    const backends::MacAddress peer_mac{0x52, 0x54, 0x00, 0xaa, 0xbb, 0x01};
    peer = std::make_unique<backends::ScriptedPeer>(peer_mac, ip);
    backends::NetBackend* backend = peer.get();
    if (!a.pcap.empty()) {
      pcap = std::make_unique<backends::PcapWriter>([start] {
        return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                         std::chrono::steady_clock::now() - start)
                                         .count());
      });
      tap = std::make_unique<backends::PcapTap>(*peer, *pcap);
      backend = tap.get();
    }
    if (!a.record.empty()) {
      recording_tap = std::make_unique<sim::RecordingNetBackend>(*backend);
      backend = recording_tap.get();
      replay_config = {{"net_header_bytes", a.net_header_bytes}, {"peer_mac", peer_mac}, {"peer_ip", ip}};
    }
    devices::NetDeviceOptions options;
    options.header_bytes = a.net_header_bytes;
    auto d = std::make_unique<devices::NetDevice>(backend, options);
    net = d.get();
    device = std::move(d);
  } else if (a.device == "input") {
    devices::InputDeviceOptions options;
    options.kind = a.input_kind == "mouse"    ? devices::input::InputKind::kMouse
                   : a.input_kind == "tablet" ? devices::input::InputKind::kTablet
                                              : devices::input::InputKind::kKeyboard;
    auto d = std::make_unique<devices::InputDevice>(options);
    input = d.get();
    device = std::move(d);
  }

  // --record: the device side as a trace `aero-virtio replay` runs without
  // the guest (sim/device_recorder.hpp).
  std::unique_ptr<sim::DeviceRecorder> recorder;
  if (!a.record.empty()) {
    traces::Provenance p;
    p.scenario = a.device;
    p.commit = sim::build_commit();
    p.config_json = replay_config.dump();
    p.devices = {{0, "virtio-" + a.device, 0, 4, 0}};
    recorder = std::make_unique<sim::DeviceRecorder>(*device, a.record, p);
    if (recording_tap) recording_tap->recorder = recorder.get();
  }
  transport::VirtioDevice& served = recorder ? static_cast<transport::VirtioDevice&>(*recorder) : *device;

  namespace vu = transport::vhost_user;
  const uint64_t protocol = net != nullptr ? vu::VhostUserBackend::kOfferedProtocolFeatures & ~vu::kProtocolConfig
                                           : vu::VhostUserBackend::kOfferedProtocolFeatures;
  transport::vhost_user::VhostUserBackend backend(served, protocol);
  if (recorder) backend.on_interrupt = [&recorder](uint16_t q) { recorder->interrupt(q); };
  if (net != nullptr) net->on_rx_pending = [&backend] { backend.kick(devices::NetDevice::kRxQueue); };
  if (input != nullptr) input->on_events_pending = [&backend] { backend.kick(devices::InputDevice::kEventQueue); };
  transport::vhost_user::VhostUserServer server(backend);
  if (const std::string e = server.listen(a.socket); !e.empty()) {
    std::cerr << "aero-virtio serve: " << e << "\n";
    return 69;
  }
  std::signal(SIGTERM, on_stop_signal);
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGUSR1, on_inject_signal);
  std::cerr << "aero-virtio serve: " << a.device << " listening on " << a.socket << "\n";
  transport::vhost_user::ServeOptions options;
  options.once = !a.persist;
  options.verbose = a.verbose;
  options.poll_interval_ms = 20;
  int code = 0;
  const std::string error = server.run(
      options, [] { return g_stop != 0; },
      [&] {
        if (g_inject == 0 || input == nullptr) return;
        g_inject = 0;
        std::string e;
        if (!inject_script(*input, a.inject, e)) {
          std::cerr << "aero-virtio serve: input: " << e << "\n";
          code = 1;
        }
      });
  if (!error.empty()) {
    std::cerr << "aero-virtio serve: " << error << "\n";
    code = 1;
  }
  nlohmann::json j;
  if (recorder) {
    backend.disconnect();  // a last reset, recorded, before the end record
    const std::string why = recorder->finish();
    j["record"] = {{"path", a.record}, {"events", recorder->events()}, {"complete", why.empty()}, {"stopped", why}};
    if (!why.empty()) std::cerr << "aero-virtio serve: recording stopped early: " << why << "\n";
  }
  const auto& vs = backend.stats();
  j["device"] = a.device;
  j["vhost_user"] = {{"messages", vs.messages}, {"errors", vs.errors}, {"kicks", vs.kicks},
                     {"calls", vs.calls}, {"activations", vs.activations}, {"mem_tables", vs.mem_tables},
                     {"last_error", backend.last_error()}};
  if (blk != nullptr) {
    const auto& s = blk->stats();
    j["blk"] = {{"ok", s.ok}, {"ioerr", s.ioerr}, {"unsupp", s.unsupp}, {"malformed", s.malformed},
                {"chain_errors", s.chain_errors}, {"flushes_synced", disk->syncs()}};
  }
  if (net != nullptr) {
    const auto& s = net->stats();
    j["net"] = {{"tx_frames", s.tx_frames}, {"rx_frames", s.rx_frames}, {"tx_short_header", s.tx_short_header},
                {"tx_runt", s.tx_runt}, {"rx_too_small", s.rx_too_small}, {"rx_overflow", s.rx_overflow},
                {"arp_replies", peer->stats().arp_replies}, {"echo_replies", peer->stats().echo_replies},
                {"ignored", peer->stats().ignored}, {"malformed", peer->stats().malformed}};
    if (pcap) {
      std::ofstream f(a.pcap, std::ios::binary);
      f.write(reinterpret_cast<const char*>(pcap->bytes().data()), static_cast<std::streamsize>(pcap->bytes().size()));
      j["net"]["pcap_records"] = pcap->records();
    }
  }
  if (input != nullptr) {
    const auto& s = input->stats();
    j["input"] = {{"events_queued", s.events_queued}, {"events_delivered", s.events_delivered},
                  {"events_dropped", s.events_dropped}, {"refused", s.refused}};
  }
  if (!a.stats.empty()) {
    std::ofstream f(a.stats);
    f << j.dump(2) << "\n";
  } else {
    std::cout << j.dump(2) << "\n";
  }
  return code;
}

}  // namespace

std::function<int()> add_serve_command(CLI::App& app) {
  auto args = std::make_shared<ServeArgs>();
  auto* cmd = app.add_subcommand("serve", "Serve a device model as a vhost-user back-end on a UNIX socket");
  cmd->add_option("--device", args->device, "blk, net or input")
      ->check(CLI::IsMember({"blk", "net", "input"}))
      ->required();
  cmd->add_option("--socket", args->socket, "UNIX socket path to listen on")->required();
  cmd->add_option("--image", args->image, "blk: raw disk image (FileDisk, FLUSH = fdatasync)");
  cmd->add_option("--stats", args->stats, "Write counters as JSON here on exit (default stdout)");
  cmd->add_option("--pcap", args->pcap, "net: write the frames both ways to this capture on exit");
  cmd->add_option("--peer-ip", args->peer_ip, "net: IPv4 address of the scripted peer (ARP, ICMP echo)");
  cmd->add_option("--net-header-bytes", args->net_header_bytes,
                  "net: virtio_net_hdr size, 12 for virtio 1.0 guests such as Linux, 10 for the contract")
      ->check(CLI::IsMember({10, 12}));
  cmd->add_option("--input-kind", args->input_kind, "input: keyboard, mouse or tablet")
      ->check(CLI::IsMember({"keyboard", "mouse", "tablet"}));
  cmd->add_option("--inject", args->inject, "input: event script injected on each SIGUSR1");
  cmd->add_option("--record", args->record,
                  "blk, net: record the device side as a trace that 'aero-virtio replay' runs without the guest");
  cmd->add_flag("--persist", args->persist, "Accept a new front-end after one hangs up");
  cmd->add_flag("-v,--verbose", args->verbose, "Log every vhost-user message to stderr");
  return [cmd, args]() -> int { return *cmd ? serve(*args) : -1; };
}

}  // namespace aerov::cli
