// emberdb-bench --plot: a recall@10 versus p50 latency chart (PNG) drawn by gnuplot, one line
// per system, each point labelled with its nprobe. gnuplot runs as a child process on a
// generated script (Debian: apt-get install -y gnuplot-nox).
#pragma once

#include <string>
#include <vector>

#include "emberdb/status.h"

namespace emberdb::bench {

struct PlotPoint {
  int nprobe = 0;
  double p50_us = 0;
  double recall10 = 0;
};

struct PlotSeries {
  std::string name;  // legend, e.g. "engine"
  std::vector<PlotPoint> points;
};

// The gnuplot script: pngcairo where this gnuplot has it, else the libgd png terminal; log-x
// latency; data inline (datablocks), so the script is self-contained. Points with a
// non-positive latency cannot sit on a log axis and are left out.
std::string GnuplotScript(const std::vector<PlotSeries>& series, const std::string& png_path,
                          const std::string& title);

// Whether a `gnuplot` executable is on PATH: checked before a long run rather than after it.
bool GnuplotAvailable();

// Writes the script next to `png_path` (png_path + ".gp", kept for reuse) and runs gnuplot on
// it. NotSupported when gnuplot is not installed, IOError when it fails.
Status WritePlot(const std::vector<PlotSeries>& series, const std::string& png_path,
                 const std::string& title);

}  // namespace emberdb::bench
