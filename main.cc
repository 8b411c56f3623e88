#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>
#include <chrono>
#include "numtext.h"
namespace oldv { int mde_num_shortest(char *out, double v); }
int main(int argc, char **argv) {
  FILE *f = fopen(argv[1], "r"); std::vector<double> v; char line[4096];
  fgets(line, sizeof line, f);
  while (fgets(line, sizeof line, f)) { char *p = line; int k = 0; char *tok;
    while ((tok = strsep(&p, ",\n"))) { if (k++ >= 10 && *tok) v.push_back(strtod(tok, nullptr)); } }
  printf("%zu values\n", v.size());
  static char buf[64]; size_t tot = 0;
  for (int r = 0; r < 5; r++) {
    auto t0 = std::chrono::steady_clock::now();
    for (double x : v) tot += oldv::mde_num_shortest(buf, x);
    auto t1 = std::chrono::steady_clock::now();
    for (double x : v) tot += mde_num_shortest(buf, x);
    auto t2 = std::chrono::steady_clock::now();
    printf("old %.1f ms  new %.1f ms\n", std::chrono::duration<double,std::milli>(t1-t0).count(), std::chrono::duration<double,std::milli>(t2-t1).count());
  }
  char a[64], b[64]; size_t bad=0;
  for (double x : v) { int n=oldv::mde_num_shortest(a,x); int m=mde_num_shortest(b,x); if (n!=m||memcmp(a,b,n)) bad++; }
  printf("differ %zu %zu\n", bad, tot);
}
