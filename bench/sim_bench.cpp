// Simulation and replay throughput (issue: deterministic simulation).
//
// Sim/<scenario>: one iteration = one whole seeded run of the scenario
// (fault phase of `steps` operations, then the liveness phase) on the
// deterministic machine; counter events_per_second = machine events run
// (doorbells served, interrupts taken, submissions, backend ticks, ...) per
// CPU second. Seeds vary per iteration, as a sweep would.
// Replay/<scenario>: one iteration = replaying a run recorded once in
// setup (2000 operations, the default run length) against a fresh device
// model, machine set-up included; events_per_second =
// trace events replayed per CPU second; bytes_per_event = the trace file's
// size over its event count.
// Baseline_EventQueue: schedule + run of an empty event on model/sim's
// EventQueue, the floor under every simulated event. Baseline_TraceRead:
// parsing the net recording (verified, end-record hash included) into the
// flat EventList without replaying it, the floor under replay; its
// bytes_per_event counter says how many bytes per event reading copies and
// the end record's file hash (XXH3-64 in format v2, file_hash.hpp) covers.
// Baseline_TraceBytes/<scenario>: reading the bytes of Replay/<scenario>'s
// recording once, the ceiling on that replay (see the function).
// compare.py prints each case's events/s and the baseline's.
#include <benchmark/benchmark.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <span>
#include <unistd.h>
#include <string>

#include "bench/memcpy_baseline.hpp"
#include "model/sim/event_queue.hpp"
#include "sim/replay.hpp"
#include "sim/scenario.hpp"
#include "traces/trace_reader.hpp"

namespace {

void Sim(benchmark::State& state, const std::string& scenario) {
  uint64_t events = 0;
  uint64_t payload = 0;
  uint64_t seed = 1;
  for (auto _ : state) {
    aerov::sim::RunOptions o;
    o.scenario = scenario;
    o.seed = seed++;
    o.steps = static_cast<uint64_t>(state.range(0));
    const auto r = aerov::sim::run(o);
    if (r.outcome != aerov::sim::Outcome::kPass) {
      state.SkipWithError(aerov::sim::failure_line(o, r).c_str());
      return;
    }
    events += r.events;
    payload += r.payload_bytes;
  }
  state.counters["events_per_second"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["sim_events"] = benchmark::Counter(1);
  if (payload != 0 && events != 0) {
    // What an event carries on average: with Baseline_Memcpy's bandwidth,
    // the rate the run could not beat even if copying each payload byte
    // once were all it did (compare.py prints it).
    state.counters["payload_bytes_per_event"] =
        benchmark::Counter(static_cast<double>(payload) / static_cast<double>(events));
  }
}

// The run Replay/<scenario> and Baseline_TraceBytes/<scenario> use,
// recorded once per process (seed 43, 2000 operations) and parsed; its
// arena is the trace file's bytes. Empty if recording failed.
const aerov::traces::Trace& recorded(const std::string& scenario) {
  static std::map<std::string, aerov::traces::Trace> traces;
  if (const auto it = traces.find(scenario); it != traces.end()) return it->second;
  aerov::sim::RunOptions o;
  o.scenario = scenario;
  o.seed = 43;
  o.steps = 2000;
  // Unique per process: CTest may run the smoke and compare tests at once.
  o.record = (std::filesystem::temp_directory_path() /
              ("aerov_bench_" + scenario + "_" + std::to_string(::getpid()) + ".trace"))
                 .string();
  aerov::sim::run(o);
  auto r = aerov::traces::read_trace_file(o.record);
  std::filesystem::remove(o.record);
  return traces[scenario] = r.ok() ? std::move(r.trace) : aerov::traces::Trace{};
}

double bytes_per_event(const aerov::traces::Trace& t) {
  return static_cast<double>(t.events.arena().size()) / static_cast<double>(t.events.size());
}

void Replay(benchmark::State& state, const std::string& scenario) {
  const auto& trace = recorded(scenario);
  if (trace.events.empty()) {
    state.SkipWithError("recording failed");
    return;
  }
  uint64_t events = 0;
  for (auto _ : state) {
    const auto r = aerov::sim::replay(trace);
    if (!r.ok) {
      state.SkipWithError(r.message.c_str());
      return;
    }
    events += r.events;
  }
  state.counters["events_per_second"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["replay_events"] = benchmark::Counter(1);
  // What one event carries: payload-heavy traces are bound by moving bytes.
  state.counters["bytes_per_event"] = benchmark::Counter(bytes_per_event(trace));
}

// Reading each byte of the recording once, which every replay must at
// least do (a mem_write's bytes go into guest memory, a dma_write's or
// host_output's are compared with the device's): the ceiling on
// Replay/<scenario>. A recording larger than the last-level cache comes
// from DRAM on every pass, so this is then the machine's DRAM read rate.
void Baseline_TraceBytes(benchmark::State& state, const std::string& scenario) {
  const auto& trace = recorded(scenario);
  if (trace.events.empty()) {
    state.SkipWithError("recording failed");
    return;
  }
  const std::span<const uint8_t> bytes = trace.events.arena();
  uint64_t events = 0;
  for (auto _ : state) {
    uint64_t acc[4] = {};
    size_t i = 0;
    for (; i + 32 <= bytes.size(); i += 32) {
      for (size_t k = 0; k < 4; ++k) {
        uint64_t w;
        std::memcpy(&w, bytes.data() + i + 8 * k, 8);
        acc[k] ^= w;
      }
    }
    for (; i < bytes.size(); ++i) acc[0] ^= bytes[i];
    benchmark::DoNotOptimize(acc[0] ^ acc[1] ^ acc[2] ^ acc[3]);
    events += trace.events.size();
  }
  state.counters["events_per_second"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["bytes_per_event"] = benchmark::Counter(bytes_per_event(trace));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
}

void Baseline_EventQueue(benchmark::State& state) {
  aerov::model::sim::EventQueue q;
  uint64_t events = 0;
  for (auto _ : state) {
    q.schedule_in(1 + (events & 7), [] {});
    q.run_next();
    ++events;
  }
  state.counters["events_per_second"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}

void Baseline_TraceRead(benchmark::State& state) {
  const std::span<const uint8_t> bytes = recorded("net").events.arena();
  uint64_t events = 0;
  for (auto _ : state) {
    const auto r = aerov::traces::read_trace(bytes);
    if (!r.ok()) {
      state.SkipWithError("trace unreadable");
      return;
    }
    events += r.trace.events.size();
  }
  state.counters["events_per_second"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  if (events != 0) {
    state.counters["bytes_per_event"] = benchmark::Counter(
        static_cast<double>(bytes.size()) * static_cast<double>(state.iterations()) /
        static_cast<double>(events));
  }
}

BENCHMARK_CAPTURE(Sim, blk, std::string("blk"))->ArgName("steps")->Arg(2000)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(Sim, net, std::string("net"))->ArgName("steps")->Arg(2000)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(Sim, input, std::string("input"))->ArgName("steps")->Arg(2000)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(Sim, snd, std::string("snd"))->ArgName("steps")->Arg(200)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(Replay, blk, std::string("blk"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(Replay, net, std::string("net"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(Replay, input, std::string("input"))->Unit(benchmark::kMillisecond);
BENCHMARK(Baseline_EventQueue);
// Copy bandwidth with the data in L1/L2 (16 KiB) and in L3 (4 MiB, about a
// blk run's working set: RAM disk, shadow, guest buffers).
BENCHMARK(aerov::bench::Baseline_Memcpy)->Name("Baseline_Memcpy")->ArgName("bytes")->Arg(16384)->Arg(4 << 20);
BENCHMARK(Baseline_TraceRead)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(Baseline_TraceBytes, blk, std::string("blk"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(Baseline_TraceBytes, net, std::string("net"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(Baseline_TraceBytes, input, std::string("input"))->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
