// cxx_prog: a C++ program whose every new and delete goes through
// libstdc++'s operators to malloc and free (programs_test.sh runs it with
// and without libpargc-malloc and compares the output).  Containers of
// strings built and torn down on several threads, exceptions thrown and
// caught (their objects are malloc'd too), a checksum printed at the end.
#include <cstdio>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

static unsigned long work(int seed)
{
  std::map<std::string, std::vector<int>> m;
  std::unordered_map<int, std::unique_ptr<std::string>> u;
  unsigned long sum = 0;
  for (int i = 0; i < 20000; i++) {
    std::string k = "key" + std::to_string((i * 7919 + seed) % 5000);
    m[k].push_back(i);
    u[i % 3000] = std::make_unique<std::string>(k + k);
    if (i % 1000 == 0) {
      try {
        throw std::runtime_error(k);
      } catch (const std::exception &e) {
        sum += std::string(e.what()).size();
      }
    }
  }
  for (auto &kv : m)
    sum += kv.first.size() * kv.second.size();
  for (auto &kv : u)
    sum += kv.second->size();
  return sum;
}

int main()
{
  std::vector<std::thread> ts;
  std::vector<unsigned long> out(4);
  for (int t = 0; t < 4; t++)
    ts.emplace_back([t, &out] { out[t] = work(t); });
  for (auto &t : ts)
    t.join();
  unsigned long total = 0;
  for (auto v : out)
    total += v;
  std::printf("%lu\n", total);
  return 0;
}
