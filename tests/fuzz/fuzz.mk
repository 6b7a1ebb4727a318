# make fuzz: builds the fuzz targets with clang's libFuzzer and seeds a corpus
# from streams the test helper writes. Run one for 10 minutes with:
#   build/fuzz/fuzz_tct_reader -max_total_time=600 -max_len=65536 build/fuzz/corpus
FUZZ_CC ?= clang
FUZZ_DIR := build/fuzz
FUZZ_FLAGS := -g -O1 -std=c11 -D_GNU_SOURCE -I. -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_LIB := formats/tct_read.c formats/tct_table.c formats/tct_util.c formats/tct_write.c common/error.c

all: $(FUZZ_DIR)/fuzz_tct_reader $(FUZZ_DIR)/corpus/.seeded
	@echo "fuzz: run $(FUZZ_DIR)/fuzz_tct_reader -max_total_time=600 -max_len=65536 $(FUZZ_DIR)/corpus"

$(FUZZ_DIR)/fuzz_tct_reader: tests/fuzz/fuzz_tct_reader.c $(FUZZ_LIB)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) $^ -lzstd -o $@

$(FUZZ_DIR)/corpus/.seeded: tests/helpers/tct-sample.c
	@$(MAKE) --no-print-directory -f Makefile tests
	@mkdir -p $(@D)
	@sample=$$(ls build/*/tests/helpers/tct-sample | head -n 1); \
	$$sample dtypes > $(@D)/dtypes.tct && $$sample table 50 > $(@D)/table.tct && \
	$$sample rows 20 3 > $(@D)/rows.tct && zstdcat $(@D)/dtypes.tct > $(@D)/dtypes-raw.tct && \
	$$sample version 2 > $(@D)/version.tct && touch $@
