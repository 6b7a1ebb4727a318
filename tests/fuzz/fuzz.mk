# The fuzz targets (tests/fuzz/fuzz_*.c), built with clang's libFuzzer,
# AddressSanitizer and UBSan, and their seed corpora. The library is built
# again for them, instrumented, in build/fuzz/obj (CPU only, no MPI).
# tests/fuzz/run.sh builds through this file and runs the targets:
#   make fuzz-smoke        each target a few seconds (part of make test)
#   make fuzz FUZZ_S=600   each target FUZZ_S seconds, then a table of findings
FUZZ_CC ?= clang
FUZZ_DIR := build/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS := -g -O1 -std=c11 -D_GNU_SOURCE -pthread -I. -DTC_VERSION='"fuzz"' -DTC_HAVE_CUDA=0 -DTC_HAVE_MPI=0 \
               -MMD -MP $(FUZZ_SAN) -fsanitize=fuzzer-no-link
# the project's warnings, on the targets and their helpers
FUZZ_WARN := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wstrict-prototypes -Wvla
FUZZ_LIBS := -lzstd -lyaml -lopenblas -lutf8proc -ljansson -lcurl -lm

FUZZ_LIB_SRC := $(wildcard common/*.c common/*/*.c formats/*.c kernels/cpu/*.c)
FUZZ_LIB_OBJ := $(FUZZ_LIB_SRC:%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_LIB := $(FUZZ_DIR)/libtc-fuzz.a
FUZZ_PROGRAMS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))

.PHONY: all targets seeds
.SECONDARY:
all: targets seeds
targets: $(FUZZ_PROGRAMS:%=$(FUZZ_DIR)/%)
seeds: $(FUZZ_DIR)/seeds/.made

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(@D)
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_DIR)/obj/tests/%.o: tests/%.c
	@mkdir -p $(@D)
	@$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_WARN) -c $< -o $@

$(FUZZ_LIB): $(FUZZ_LIB_OBJ)
	@rm -f $@
	@ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/obj/tests/fuzz/fuzz_%.o $(FUZZ_LIB)
	@echo "  FUZZ   $@"
	@$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -pthread $< $(FUZZ_LIB) $(FUZZ_LIBS) -o $@

# Small programs that write the binary seeds, built against the same library.
$(FUZZ_DIR)/%: $(FUZZ_DIR)/obj/tests/%.o $(FUZZ_LIB)
	@mkdir -p $(@D)
	@$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -pthread $< $(FUZZ_LIB) $(FUZZ_LIBS) -o $@

$(FUZZ_DIR)/seeds/.made: tests/fuzz/seeds.sh $(FUZZ_DIR)/fuzz/seeds $(FUZZ_DIR)/helpers/tct-sample
	@sh tests/fuzz/seeds.sh $(FUZZ_DIR)/seeds $(FUZZ_DIR)/fuzz/seeds $(FUZZ_DIR)/helpers/tct-sample
	@touch $@

-include $(shell find $(FUZZ_DIR)/obj -name '*.d' 2>/dev/null)
