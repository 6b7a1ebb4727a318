# teleclass-c: top-level build.
#
#   make                 build every program into bin/
#   make CUDA=0          force the CPU-only build (CUDA=1 forces CUDA, failing loudly)
#   make check           build and run the test suite
#   make check SANITIZE=1  the same under AddressSanitizer + UBSan
#   make test            install what is missing, then check plain and sanitized
#   make check-gpu       GPU tests (needs an NVIDIA GPU)
#   make deps            install the Debian packages the build needs
#                        (PEERS=1: also the benchmarks' CPU peers, build/peers-venv)
#   make model           fetch the default model into models/ (NAME=all-mpnet-base-v2:
#                        the paper's encoder; scripts/models/ lists the known ones)
#   make demo            the whole pipeline on 20 Newsgroups
#   make quality         the pipeline at its defaults on several datasets (DATASETS=...)
#   make fuzz-smoke      build the fuzz targets (clang, libFuzzer), run each 4 s
#   make fuzz FUZZ_S=600 run each fuzz target FUZZ_S s; a table of findings
#                        (FUZZ_TARGETS="labels vocab": those only)
#   make install PREFIX=/usr/local
#
# Every program is tools/tc-NAME.c linked against libtc (common/ and its
# subsystem folders, formats/, kernels/). Adding a program, a library file or
# a unit test needs no edit here.

CC       ?= cc
NVCC     ?= nvcc
CUDA     ?= auto
MPI      ?= auto
SANITIZE ?= 0
NATIVE   ?= 1
PREFIX   ?= /usr/local
CUDA_ARCHS ?= 80 90 100
PYTHON   ?= python3

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

ifeq ($(SANITIZE),1)
  VARIANT := san-cuda$(CUDA)-mpi$(MPI)
else
  VARIANT := opt-cuda$(CUDA)-mpi$(MPI)
endif
BUILD := build/$(VARIANT)

# The probe runs once per variant, and again when the system's packages
# change (dpkg's status: a library installed after the first build is
# found); `make config` shows its summary again.
CONFIG := $(BUILD)/config.mk
$(CONFIG): scripts/probe.sh $(wildcard /var/lib/dpkg/status)
	@mkdir -p $(BUILD)
	@sh scripts/probe.sh "$(CC)" "$(CUDA)" "$(MPI)" "$(NVCC)" > $@.tmp 2> $(BUILD)/config.txt || { cat $(BUILD)/config.txt; rm -f $@.tmp; exit 1; }
	@mv $@.tmp $@
	@cat $(BUILD)/config.txt
ifeq ($(filter deps help clean distclean fuzz fuzz-smoke test demo model,$(MAKECMDGOALS)),)
-include $(CONFIG)
endif

WARN := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wstrict-prototypes -Wvla -Wno-format-truncation
CFLAGS_BASE := -std=c11 -g $(WARN) -D_GNU_SOURCE -pthread -fopenmp-simd -I. -MMD -MP \
               -DTC_VERSION='"$(VERSION)"' -DTC_HAVE_CUDA=$(HAVE_CUDA) -DTC_HAVE_MPI=$(HAVE_MPI) \
               -DTC_HAVE_DNNL=$(HAVE_DNNL)
ifeq ($(SANITIZE),1)
  OPTFLAGS := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else ifeq ($(NATIVE),1)
  OPTFLAGS := -O3 -march=native
else
  OPTFLAGS := -O3
endif
TC_CFLAGS := $(CFLAGS_BASE) $(OPTFLAGS) $(CFLAGS)
TC_LDFLAGS := $(OPTFLAGS) -pthread -Wl,--as-needed $(LDFLAGS)
LIBS := -lzstd -lyaml -lopenblas -lutf8proc -ljansson -lcurl -lm

ifeq ($(HAVE_DNNL),1)
  LIBS += -ldnnl -lgomp
endif
# cuBLAS is not linked: kernels/cuda/cublas_loader.cu opens it when a GPU is
# used (the rpath finds it), so that CPU runs skip its start-up cost.
ifeq ($(HAVE_CUDA),1)
  TC_CFLAGS += -I$(CUDA_HOME)/include
  LIBS += -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lnccl -lcudart -lstdc++ -ldl -lrt
  NVCCFLAGS := -O3 -std=c++17 -g -I. -DTC_HAVE_CUDA=1 -Werror all-warnings \
               -Xcompiler -Wall,-Wextra,-Werror,-Wno-unused-parameter,-fPIC \
               $(foreach a,$(CUDA_ARCHS),-gencode arch=compute_$(a),code=sm_$(a)) \
               -gencode arch=compute_$(lastword $(CUDA_ARCHS)),code=compute_$(lastword $(CUDA_ARCHS))
endif

LIB_SRC  := $(wildcard common/*.c common/*/*.c formats/*.c kernels/cpu/*.c)
CUDA_SRC := $(if $(filter 1,$(HAVE_CUDA)),$(wildcard kernels/cuda/*.cu common/*/*.cu))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o) $(CUDA_SRC:%.cu=$(BUILD)/%.o)
LIBTC    := $(BUILD)/libtc.a

PROGRAMS := $(patsubst tools/%.c,%,$(wildcard tools/tc-*.c))
PROG_BIN := $(PROGRAMS:%=$(BUILD)/bin/%)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
GPU_SRC  := $(wildcard tests/gpu/test_*.c)
GPU_BIN  := $(GPU_SRC:tests/gpu/%.c=$(BUILD)/tests/%)
HELPER_SRC := $(wildcard tests/helpers/*.c)
HELPER_BIN := $(HELPER_SRC:tests/helpers/%.c=$(BUILD)/tests/helpers/%)

# V=1 shows the full commands.
ifeq ($(V),1)
  Q :=
  say = @true
else
  Q := @
  say = @printf '  %-6s %s\n' $(1) $(2)
endif
.SECONDARY:

.PHONY: FORCE all config programs tests check check-gpu test deps model demo quality fuzz fuzz-smoke bench install clean distclean help
.DEFAULT_GOAL := all

all: programs
ifneq ($(SANITIZE),1)
	@mkdir -p bin
	@for p in $(PROGRAMS); do cmp -s $(BUILD)/bin/$$p bin/$$p || cp -f $(BUILD)/bin/$$p bin/$$p; done
endif

programs: $(PROG_BIN)
# With the CUDA backend the GPU tests are built too (run by check-gpu), so a
# machine without a GPU still compiles and links them.
tests: $(UNIT_BIN) $(HELPER_BIN) $(if $(filter 1,$(HAVE_CUDA)),$(GPU_BIN))

config: $(CONFIG)
	@cat $(BUILD)/config.txt

$(BUILD)/%.o: %.c $(CONFIG)
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(TC_CFLAGS) -c $< -o $@

# ptxas's resource report of every kernel (registers, stack frame, spills)
# goes to OBJ.ptxas, which tests/cli/test_cuda_resources.sh reads: spills
# and local memory fail make check. A change of nvcc's flags (CUDA_ARCHS)
# rebuilds the CUDA objects.
NVCC_STAMP := $(BUILD)/nvcc-flags.txt
$(NVCC_STAMP): FORCE
	@mkdir -p $(@D)
	@echo '$(NVCC) $(NVCCFLAGS)' | cmp -s - $@ || echo '$(NVCC) $(NVCCFLAGS)' > $@
FORCE:

$(BUILD)/%.o: %.cu $(CONFIG) $(NVCC_STAMP)
	@mkdir -p $(@D)
	$(call say,NVCC,$<)
	$(Q)$(NVCC) $(NVCCFLAGS) -Xptxas -v -MMD -MP -c $< -o $@ 2> $@.ptxas || { grep -v '^ptxas info\|^    [0-9]* bytes' $@.ptxas; exit 1; }
	@grep -v '^ptxas info\|^    [0-9]* bytes' $@.ptxas >&2 || true

$(LIBTC): $(LIB_OBJ)
	@rm -f $@
	$(call say,AR,$@)
	$(Q)ar rcs $@ $^

$(BUILD)/bin/%: $(BUILD)/tools/%.o $(LIBTC)
	@mkdir -p $(@D)
	$(call say,LINK,$@)
	$(Q)$(CC) $(TC_LDFLAGS) $< $(LIBTC) $(LIBS) -o $@

# MPI for tc-train's data-parallel ranks: Open MPI's flags (found by the
# probe) go to common/comm/comm_mpi.c alone, its libraries to tc-train alone.
ifeq ($(HAVE_MPI),1)
$(BUILD)/common/comm/comm_mpi.o: TC_CFLAGS += $(MPI_CFLAGS)
$(BUILD)/bin/tc-train: LIBS += $(MPI_LIBS)
endif

$(BUILD)/tests/helpers/%: $(BUILD)/tests/helpers/%.o $(LIBTC)
	@mkdir -p $(@D)
	$(call say,LINK,$@)
	$(Q)$(CC) $(TC_LDFLAGS) $< $(LIBTC) $(LIBS) -o $@

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(LIBTC)
	@mkdir -p $(@D)
	$(call say,LINK,$@)
	$(Q)$(CC) $(TC_LDFLAGS) $< $(LIBTC) $(LIBS) -o $@

$(BUILD)/tests/test_gpu_%: $(BUILD)/tests/gpu/test_gpu_%.o $(LIBTC)
	@mkdir -p $(@D)
	$(call say,LINK,$@)
	$(Q)$(CC) $(TC_LDFLAGS) $< $(LIBTC) $(LIBS) -o $@

# Test environment shared by check and check-gpu: where the programs are.
TEST_ENV := TC_BIN=$(abspath $(BUILD)/bin) TC_TESTBIN=$(abspath $(BUILD)/tests) \
            TC_BUILD=$(abspath $(BUILD)) TC_SANITIZE=$(SANITIZE) TC_HAVE_CUDA=$(HAVE_CUDA) \
            TC_HAVE_MPI=$(HAVE_MPI) TC_HAVE_DNNL=$(HAVE_DNNL) PYTHON=$(PYTHON)

check: all tests
	@$(TEST_ENV) sh tests/run.sh

check-gpu: all tests
ifeq ($(HAVE_CUDA),1)
	@$(TEST_ENV) TC_GPU=1 sh tests/run.sh gpu
else
	@echo "check-gpu: this build has no CUDA backend (nvcc, cuBLAS or NCCL missing, or CUDA=0)"; exit 1
endif

# The README's test command: install what is missing, then run the suite
# plain and under sanitizers; the last line sums both.
test:
	@sh tests/all.sh

deps:
	@sh scripts/deps.sh $(if $(filter 1,$(PEERS)),--peers)

# NAME only from the command line: some systems export NAME (the host's name)
model:
	@sh scripts/fetch-model.sh $(if $(filter command line,$(origin NAME)),$(NAME))

demo:
	@TRAIN_DOCS=$(TRAIN_DOCS) TEST_DOCS=$(TEST_DOCS) EPOCHS=$(EPOCHS) sh scripts/demo.sh

quality:
	@sh tests/bench/quality.sh $(DATASETS)

bench: all
	@echo "benchmarks: see tests/bench/README.md"

# tests/fuzz/README.md: the targets, their seeds, where findings go.
FUZZ_S ?= 60
fuzz:
	@FUZZ_TARGETS="$(FUZZ_TARGETS)" sh tests/fuzz/run.sh table $(FUZZ_S)

fuzz-smoke:
	@sh tests/fuzz/run.sh smoke 4

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 755 $(PROGRAMS:%=bin/%) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 man/man1/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 man/man5/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/

clean:
	rm -rf build bin

distclean: clean
	rm -rf models

help:
	@sed -n '3,20p' Makefile

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
