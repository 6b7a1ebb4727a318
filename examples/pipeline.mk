# The TELEClass pipeline as a Makefile: every stage is a target with its
# inputs and outputs, so `make STAGE` reruns one stage and make's dependency
# tracking reruns only what changed. Included by examples/*/Makefile and by
# `make demo` (scripts/demo.sh); variables below, all overridable:
#
#   make -f examples/pipeline.mk DATA=../shared/data/20ng WORK=work/20ng metrics
#
# Stages (targets): taxonomy tokens embeddings names annotate enrich refine
# augment targets train predict metrics, and the two reference rows:
# zeroshot (the annotation step on the test documents: every class ranked by
# its similarity, sets from the top-down search; no training) and supervised
# (the same classifier trained on the gold training labels). `report` prints
# the three rows side by side, scored alike (scripts/pipeline-report.sh).
#
# The defaults are meant for any corpus, with DATA and WORK alone:
# - annotation compares a document with each class's whole subtree
#   (tc-refine annotate --class-similarity subtree): abstract top-level names
#   no longer lead the top-down search astray;
# - training has a budget in steps, not epochs (tc-train's default: one
#   epoch, at least 300 steps, at most 20 epochs), so a corpus of 500
#   documents is trained as long as one of 5,000; the head starts as the
#   identity, i.e. as the class-name similarity; the final checkpoint is used;
# - the supervised reference is trained for at least 3 epochs (and 300
#   steps) with a tenth of the gold training documents held out, and its
#   best checkpoint on them is used: a converged ceiling, not a sibling with
#   the pipeline's budget.
# tc-train(1) and tc-refine(1) give the measurements behind each choice.

# the project's root, as seen from where make runs
TOP        ?= .
DATA       ?= $(TOP)/../shared/data/20ng
WORK       ?= work/pipeline
BIN        ?= $(TOP)/bin
MODEL      ?= $(TOP)/models/all-MiniLM-L6-v2
# The two encoders, both MODEL unless set: SIM_MODEL embeds the class names,
# key terms and documents that annotation, enrichment and refinement compare
# (tc-tokenize, tc-encode); CLS_MODEL is the classifier's encoder, trained by
# tc-train and run by tc-predict (its tokens and the class vectors its head
# starts from). TELEClass computes similarities with all-mpnet-base-v2:
# SIM_MODEL=$(TOP)/models/all-mpnet-base-v2 (make model NAME=all-mpnet-base-v2).
SIM_MODEL  ?= $(MODEL)
CLS_MODEL  ?= $(MODEL)
# key-term files to start from (name:term,... lines, e.g. an LLM's), if any
TERMS      ?=
# where pseudo-documents come from: corpus (the confident documents, no model
# needed), import (TELEClass generated_docs.txt in AUGMENT_DIR) or llm (AUGMENT_LLM URL)
AUGMENT    ?= corpus
AUGMENT_DIR ?= $(DATA)/train
AUGMENT_LLM ?=
# first N training and test documents, or all
TRAIN_DOCS ?= all
TEST_DOCS  ?= all
# tokens per document, for encoding and training
MAX_LEN    ?= 128
# tc-train's budget and rate, when set (else tc-train's defaults)
EPOCHS     ?=
BATCH      ?=
LR         ?=
# more tc-train flags (both classifiers), and the supervised reference's own
TRAIN_FLAGS ?=
SUPERVISED_FLAGS ?= --epochs 3 --min-steps 300 --val-split auto
# The arithmetic of tc-encode's and tc-predict's matrix products (their
# --precision: fp32 when empty; int8 or bf16 on the CPU, bf16 or fp16 on
# GPUs, auto); tc-train keeps its own (TRAIN_FLAGS).
PRECISION  ?=
# e.g. GPUS=--gpus 0,1 (by default every program uses all visible GPUs, else the CPU)
GPUS       ?=
# flags for every program (-q: errors only)
TC_FLAGS   ?= -q
# key terms per class from corpus-based enrichment
TOP_K      ?= 20

W := $(WORK)
TRAIN_CORPUS := $(DATA)/train/corpus.txt
TEST_CORPUS  := $(DATA)/test/corpus.txt
TEST_GOLD    := $(DATA)/test/doc2labels.txt
TRAIN_GOLD   := $(DATA)/train/doc2labels.txt
TOKENIZE     = $(BIN)/tc-tokenize $(TC_FLAGS) --model $(CLS_MODEL) --max-len $(MAX_LEN)
PRECISION_FLAG = $(if $(PRECISION),--precision $(PRECISION))
ENCODE       = $(BIN)/tc-encode $(TC_FLAGS) --model $(CLS_MODEL) $(GPUS) $(PRECISION_FLAG)
SIM_TOKENIZE = $(BIN)/tc-tokenize $(TC_FLAGS) --model $(SIM_MODEL) --max-len $(MAX_LEN)
SIM_ENCODE   = $(BIN)/tc-encode $(TC_FLAGS) --model $(SIM_MODEL) $(GPUS) $(PRECISION_FLAG)
# documents tokenized for the similarity encoder: the classifier's tokens
# when the two are one model, else their own (NAME.sim-tokens.tct)
SIM_TOKENS := $(if $(filter $(abspath $(SIM_MODEL)),$(abspath $(CLS_MODEL))),tokens,sim-tokens)
TRAIN    = $(BIN)/tc-train $(TC_FLAGS) --model $(CLS_MODEL) --max-len $(MAX_LEN) $(if $(EPOCHS),--epochs $(EPOCHS)) \
           $(if $(BATCH),--batch $(BATCH)) $(if $(LR),--lr $(LR)) $(TRAIN_FLAGS) $(GPUS)
PREDICT  = $(BIN)/tc-predict $(TC_FLAGS) $(GPUS) $(PRECISION_FLAG)
take = $(if $(filter all,$(strip $(1))),cat,head -n $(strip $(1)))

.PHONY: all taxonomy tokens embeddings names annotate enrich refine augment targets train predict \
        metrics zeroshot supervised report clean
.DELETE_ON_ERROR:
all: report

$(W)/.dir:
	@mkdir -p $(W) && touch $@

# ---- inputs: the slices of the corpus this run uses
$(W)/train.txt: $(TRAIN_CORPUS) | $(W)/.dir
	$(call take,$(TRAIN_DOCS)) $< > $@
$(W)/test.txt: $(TEST_CORPUS) | $(W)/.dir
	$(call take,$(TEST_DOCS)) $< > $@
$(W)/test-gold.txt: $(TEST_GOLD) | $(W)/.dir
	$(call take,$(TEST_DOCS)) $< > $@
$(W)/train-gold.txt: $(TRAIN_GOLD) | $(W)/.dir
	$(call take,$(TRAIN_DOCS)) $< > $@

# ---- taxonomy and class names
taxonomy: $(W)/taxonomy.tct
$(W)/taxonomy.tct: $(DATA)/labels.txt $(DATA)/label_hierarchy.txt $(TERMS) | $(W)/.dir
	$(BIN)/tc-taxo build $(TC_FLAGS) --labels $(DATA)/labels.txt --hierarchy $(DATA)/label_hierarchy.txt \
	    $(foreach t,$(TERMS),--terms $(t)) -o $@

# names.txt: every class's name and key terms, embedded (SIM_MODEL) and
# gathered per class for annotation; classes.emb.tct: the names alone, the
# class vectors the classifier's head starts from (CLS_MODEL)
names: $(W)/names.terms.tct $(W)/classes.emb.tct
$(W)/names.txt: $(W)/taxonomy.tct
	$(BIN)/tc-taxo texts $(TC_FLAGS) $< -o $@
$(W)/classes.txt: $(W)/taxonomy.tct
	$(BIN)/tc-taxo texts $(TC_FLAGS) --names-only $< -o $@
$(W)/names.emb.tct: $(W)/names.txt
	$(SIM_TOKENIZE) $< | $(SIM_ENCODE) -o $@
$(W)/classes.emb.tct: $(W)/classes.txt
	$(TOKENIZE) $< | $(ENCODE) -o $@
$(W)/names.terms.tct: $(W)/names.emb.tct $(W)/taxonomy.tct
	$(BIN)/tc-taxo term-embeddings $(TC_FLAGS) --taxonomy $(W)/taxonomy.tct $< -o $@

# ---- tokens and embeddings of the documents
tokens: $(W)/train.tokens.tct $(W)/test.tokens.tct $(W)/train.$(SIM_TOKENS).tct $(W)/test.$(SIM_TOKENS).tct
embeddings: $(W)/train.emb.tct $(W)/test.emb.tct
$(W)/%.tokens.tct: $(W)/%.txt
	$(TOKENIZE) $< -o $@
$(W)/%.sim-tokens.tct: $(W)/%.txt
	$(SIM_TOKENIZE) $< -o $@
$(W)/%.emb.tct: $(W)/%.$(SIM_TOKENS).tct
	$(SIM_ENCODE) $< -o $@

# ---- core classes: top-down search with the class names
annotate: $(W)/core.tct
$(W)/core.tct: $(W)/train.emb.tct $(W)/names.terms.tct $(W)/taxonomy.tct
	$(BIN)/tc-refine annotate $(TC_FLAGS) --taxonomy $(W)/taxonomy.tct --terms $(W)/names.terms.tct $< -o $@

# ---- corpus-based enrichment: key terms from the annotated documents
enrich: $(W)/taxonomy.enriched.tct
$(W)/candidates.txt: $(W)/train.txt $(W)/core.tct $(W)/taxonomy.tct
	$(BIN)/tc-taxo candidates $(TC_FLAGS) --taxonomy $(W)/taxonomy.tct --core $(W)/core.tct $< -o $@
$(W)/candidates.emb.tct: $(W)/candidates.txt
	$(SIM_TOKENIZE) $< | $(SIM_ENCODE) -o $@
$(W)/enrichment.txt: $(W)/train.txt $(W)/core.tct $(W)/candidates.emb.tct $(W)/taxonomy.tct
	$(BIN)/tc-taxo enrich $(TC_FLAGS) --taxonomy $(W)/taxonomy.tct --core $(W)/core.tct \
	    --embeddings $(W)/candidates.emb.tct --top-k $(TOP_K) $< -o $@
$(W)/taxonomy.enriched.tct: $(W)/taxonomy.tct $(W)/enrichment.txt
	$(BIN)/tc-taxo terms $(TC_FLAGS) --taxonomy $< $(W)/enrichment.txt -o $@

# ---- refinement: confident documents and their refined core classes
refine: $(W)/refined.tct
$(W)/refined.tct: $(W)/train.emb.tct $(W)/core.tct $(W)/taxonomy.enriched.tct $(W)/train.txt
	$(BIN)/tc-refine refine $(TC_FLAGS) --taxonomy $(W)/taxonomy.enriched.tct --annotation $(W)/core.tct \
	    --corpus $(W)/train.txt $< -o $@

# ---- path-based augmentation from the confident documents (no LLM needed)
augment: $(W)/augmented.tct
AUGMENT_SOURCE_corpus = --from-corpus $(W)/train.txt --refined $(W)/refined.tct
AUGMENT_SOURCE_import = --import $(AUGMENT_DIR)
AUGMENT_SOURCE_llm = --llm $(AUGMENT_LLM)
$(W)/augmented.tct: $(W)/refined.tct $(W)/train.txt $(W)/taxonomy.tct
	$(BIN)/tc-augment $(TC_FLAGS) --taxonomy $(W)/taxonomy.tct $(AUGMENT_SOURCE_$(AUGMENT)) \
	    --corpus $(W)/train.txt --docs-out $(W)/augmented.txt -o $@
$(W)/augmented.txt: $(W)/augmented.tct

# ---- training targets and the classifier
targets: $(W)/targets.tct
$(W)/targets.tct: $(W)/refined.tct $(W)/augmented.tct $(W)/taxonomy.tct
	$(BIN)/tc-taxo targets $(TC_FLAGS) --taxonomy $(W)/taxonomy.tct --augmented $(W)/augmented.tct $< -o $@
$(W)/train-all.txt: $(W)/train.txt $(W)/augmented.txt
	cat $^ > $@

train: $(W)/classifier/final
$(W)/classifier/final: $(W)/train-all.tokens.tct $(W)/targets.tct $(W)/classes.emb.tct $(W)/taxonomy.tct
	rm -rf $(W)/classifier
	$(TRAIN) --class-vectors $(W)/classes.emb.tct --taxonomy $(W)/taxonomy.tct -o $(W)/classifier \
	    $(W)/train-all.tokens.tct $(W)/targets.tct

predict: $(W)/predictions.tct
$(W)/predictions.tct: $(W)/test.tokens.tct $(W)/classifier/final $(W)/taxonomy.tct
	$(PREDICT) --model $(W)/classifier/final --taxonomy $(W)/taxonomy.tct --scores --paths $< -o $@

metrics: $(W)/metrics.tsv
$(W)/metrics.tsv: $(W)/predictions.tct $(W)/test-gold.txt $(W)/taxonomy.tct
	$(BIN)/tc-eval $(TC_FLAGS) --gold $(W)/test-gold.txt --taxonomy $(W)/taxonomy.tct --tsv $< -o $@

# ---- reference rows
zeroshot: $(W)/zeroshot.metrics.tsv
$(W)/zeroshot.tct: $(W)/test.emb.tct $(W)/names.terms.tct $(W)/taxonomy.tct
	$(BIN)/tc-refine annotate $(TC_FLAGS) --scores --taxonomy $(W)/taxonomy.tct --terms $(W)/names.terms.tct $< -o $@
$(W)/zeroshot.metrics.tsv: $(W)/zeroshot.tct $(W)/test-gold.txt $(W)/taxonomy.tct
	$(BIN)/tc-eval $(TC_FLAGS) --gold $(W)/test-gold.txt --taxonomy $(W)/taxonomy.tct --tsv $< -o $@

supervised: $(W)/supervised.metrics.tsv
$(W)/gold-targets.tct: $(W)/train-gold.txt $(W)/taxonomy.tct
	$(BIN)/tc-taxo targets $(TC_FLAGS) --paths --taxonomy $(W)/taxonomy.tct $< -o $@
$(W)/supervised/final: $(W)/train.tokens.tct $(W)/gold-targets.tct $(W)/classes.emb.tct $(W)/taxonomy.tct
	rm -rf $(W)/supervised
	$(TRAIN) $(SUPERVISED_FLAGS) --class-vectors $(W)/classes.emb.tct --taxonomy $(W)/taxonomy.tct -o $(W)/supervised \
	    $(W)/train.tokens.tct $(W)/gold-targets.tct
$(W)/supervised.predictions.tct: $(W)/test.tokens.tct $(W)/supervised/final $(W)/taxonomy.tct
	$(PREDICT) --model $(W)/supervised/best --taxonomy $(W)/taxonomy.tct --scores --paths $< -o $@
$(W)/supervised.metrics.tsv: $(W)/supervised.predictions.tct $(W)/test-gold.txt $(W)/taxonomy.tct
	$(BIN)/tc-eval $(TC_FLAGS) --gold $(W)/test-gold.txt --taxonomy $(W)/taxonomy.tct --tsv $< -o $@

report: $(W)/metrics.tsv $(W)/zeroshot.metrics.tsv $(W)/supervised.metrics.tsv
	@sh $(TOP)/scripts/pipeline-report.sh $(W)

clean:
	rm -rf $(W)
