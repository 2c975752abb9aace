#pragma once
/// \file Umbrella header: everything a harness needs to read judgments and measure judge biases.

#include "judgebias/audit.hpp"
#include "judgebias/compare.hpp"
#include "judgebias/dataset.hpp"
#include "judgebias/error.hpp"
#include "judgebias/gates.hpp"
#include "judgebias/judgment.hpp"
#include "judgebias/module.hpp"
#include "judgebias/perturb.hpp"
#include "judgebias/pipeline.hpp"
#include "judgebias/reader.hpp"
#include "judgebias/registry.hpp"
#include "judgebias/report.hpp"
#include "judgebias/stats.hpp"
#include "judgebias/synth.hpp"
#include "judgebias/version.hpp"
#include "judgebias/writers.hpp"
