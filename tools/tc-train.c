// tc-train: fine-tunes the TELEClass classifier (a BERT encoder plus a
// bilinear matching head) on tokens and training targets; writes
// checkpoints that Hugging Face transformers loads, and a metrics log.
#include "common/model/checkpoint.h"
#include "common/model/classifier.h"
#include "common/cli/cli.h"
#include "common/cli/files.h"
#include "common/comm/comm.h"
#include "common/comm/comm_threads.h"
#include "common/comm/devices.h"
#include "common/error.h"
#include "common/taxonomy/taxonomy.h"
#include "common/train/train_data.h"
#include "common/train/train_inputs.h"
#include "common/train/train_log.h"
#include "common/train/trainer.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if TC_HAVE_CUDA
#include "common/comm/comm_nccl.h"
#endif

static const char usage[] =
    "usage: tc-train [options] -o DIR TOKENS TARGETS\n"
    "       tc-train --objective contrastive [options] -o DIR ANCHORS POSITIVES\n"
    "       tc-train --plot LOG -o PNG\n"
    "Fine-tunes the TELEClass classifier: a BERT encoder and a bilinear head\n"
    "score(d, c) = doc(d) . W . e_c, trained with weighted multi-label BCE on\n"
    "TARGETS (tc-taxo targets, or a doc2labels.txt) for the documents of TOKENS\n"
    "(tc-tokenize). Writes DIR/checkpoint-STEP directories (Hugging Face layout plus\n"
    "head and training state), the links DIR/best, DIR/latest, DIR/final, and\n"
    "the metrics log DIR/log.jsonl.\n"
    "With --objective contrastive, the encoder alone is trained on pairs: row i of\n"
    "ANCHORS (tc-tokenize) with row i of POSITIVES (the same document ids), by the\n"
    "multiple-negatives ranking loss; every checkpoint is a sentence-transformers model.\n"
    "\n"
    "Objective:\n"
    "      --objective NAME    classifier (default) or contrastive\n"
    "      --similarity-scale X  contrastive: cosine similarities times X (default 20)\n"
    "      --cached-chunk N    contrastive: encode N sequences at a time (GradCache): the\n"
    "                          memory of N, the gradient of the whole batch (default: all)\n"
    "      --val-positives FILE  contrastive: the positives of --val's anchors\n"
    "Inputs:\n"
    "  -m, --model DIR         encoder to fine-tune (default models/all-MiniLM-L6-v2)\n"
    "      --class-vectors FILE  class-name embeddings (tc-encode), one row per class\n"
    "      --class-tokens FILE   class-name tokens (tc-tokenize), embedded by the model\n"
    "      --taxonomy FILE     class names and count (tc-taxo build)\n"
    "      --val FILE          validation tokens (targets from --val-targets, else TARGETS)\n"
    "      --val-targets FILE\n"
    "      --val-split F       hold out this fraction of the training documents; auto: a\n"
    "                          tenth, at most 500 (default 0: none; DIR/final is the model)\n"
    "Model:\n"
    "      --pooling MODE      mean, cls or pooler (default: the model's own, else mean)\n"
    "      --normalize         L2-normalize the document vector\n"
    "      --max-len N         truncate sequences to N tokens (default 128)\n"
    "      --head-init MODE    identity (default where the class vectors have the document\n"
    "                          vectors' size: the untrained head scores by doc . e_c) or\n"
    "                          random (as TELEClass)\n"
    "Optimization:\n"
    "      --epochs N          exactly N passes over the data; by default one pass, or as\n"
    "                          many as reach --min-steps, at most --max-epochs:\n"
    "                          steps = min(max(E, min-steps), max-epochs x E), E = steps\n"
    "                          of an epoch (600 documents at batch 16: 300 steps; 11,314:\n"
    "                          708 steps, one epoch; 200: 260 steps, 20 epochs)\n"
    "      --min-steps N       (default 300)\n"
    "      --max-epochs N      (default 20; 0: no limit)\n"
    "      --batch N           documents per rank and micro-batch (default 16)\n"
    "      --accumulate N      micro-batches per step (default 1)\n"
    "      --lr X              peak learning rate at the base batch (default 1e-4)\n"
    "      --lr-scale MODE     none, linear or sqrt: scale the rate by effective batch\n"
    "                          (batch x ranks x accumulate) / base batch (default none)\n"
    "      --base-batch N      the batch --lr is meant for (default 64)\n"
    "      --warmup-ratio X    warmup steps as a share of all steps (default 0.1)\n"
    "      --warmup-steps N    warmup steps (overrides the ratio)\n"
    "      --constant-lr       no decay after warmup\n"
    "      --weight-decay X    AdamW decay, not on biases and layer norms (default 0.01)\n"
    "      --adam-beta1 X, --adam-beta2 X, --adam-eps X  (default 0.9, 0.999, 1e-8)\n"
    "      --max-grad-norm X   clip the gradient's global norm (default 1; 0: off)\n"
    "      --loss MODE         weighted: divided by the step's document weights (default);\n"
    "                          mean: by its documents; sum: not divided (the reference's)\n"
    "      --max-steps N       stop after N steps\n"
    "      --shard-optimizer   each rank keeps and updates its share of the AdamW moments\n"
    "                          (reduce-scatter of gradients, all-gather of parameters)\n"
    "      --checkpoint-activations  keep each layer's output only; recompute the rest\n"
    "                          in the backward pass (less memory, a third more compute)\n"
    "      --seed N            shuffling, validation split, head initialization (default 42)\n"
    "Run:\n"
    "      --eval-every N      validate every N steps (default: at each epoch's end)\n"
    "      --save-every N      write a resumable checkpoint every N steps\n"
    "      --patience N        stop after N validations without improvement\n"
    "      --resume DIR        continue a run from its checkpoint (DIR or DIR/latest)\n"
    "      --log FILE          metrics log (default DIR/log.jsonl)\n"
    "      --tensorboard TB    TensorBoard event files of the log's figures (default DIR/runs)\n"
    "      --no-tensorboard    none\n"
    "      --plot LOG          draw a metrics log as a PNG (-o PNG) and exit\n"
    "      --log-every N       one log line per N steps (default 1 on the CPU, 10 on GPUs)\n"
    "GPUs:\n"
    "      --precision P       fp32, bf16 or fp16 arithmetic, f32 master weights (default fp32;\n"
    "                          the CPU: fp32 or bf16, where it has bf16 units)\n"
    "      --loss-scale X      fp16: the initial dynamic loss scale (default 65536)\n"
    "Several GPUs (--gpus 0,1,...) or ranks under mpirun/srun (one GPU each) train data\n"
    "parallel: each rank takes its share of every step; gradients are summed (NCCL).\n"
    "      --comm-timeout S    stop when a rank has not answered (MPI) or a GPU collective has\n"
    "                          not completed (NCCL) for S seconds, naming the rank where\n"
    "                          MPI can tell (default 600; 0: wait forever)\n"
    TC_CLI_COMMON_HELP TC_CLI_GPU_HELP;

enum {
    OPT_CLASS_VECTORS = TC_OPT_FIRST_PROGRAM, OPT_CLASS_TOKENS, OPT_TAXONOMY, OPT_VAL, OPT_VAL_TARGETS, OPT_VAL_SPLIT,
    OPT_POOLING, OPT_NORMALIZE, OPT_MAX_LEN, OPT_HEAD_INIT, OPT_EPOCHS, OPT_BATCH, OPT_ACCUMULATE, OPT_LR,
    OPT_LR_SCALE, OPT_BASE_BATCH, OPT_MIN_STEPS, OPT_MAX_EPOCHS, OPT_WARMUP_RATIO, OPT_WARMUP_STEPS, OPT_CONSTANT_LR, OPT_WEIGHT_DECAY, OPT_BETA1,
    OPT_BETA2, OPT_ADAM_EPS, OPT_MAX_GRAD_NORM, OPT_LOSS, OPT_MAX_STEPS, OPT_SEED, OPT_EVAL_EVERY, OPT_SAVE_EVERY,
    OPT_PATIENCE, OPT_RESUME, OPT_LOG, OPT_PLOT, OPT_LOG_EVERY, OPT_PRECISION, OPT_LOSS_SCALE, OPT_SHARD_OPTIMIZER,
    OPT_CHECKPOINT_ACTIVATIONS, OPT_OBJECTIVE, OPT_SIMILARITY_SCALE, OPT_CACHED_CHUNK, OPT_VAL_POSITIVES,
    OPT_TENSORBOARD, OPT_NO_TENSORBOARD, OPT_COMM_TIMEOUT,
};

typedef struct {
    const char *model, *class_vectors, *class_tokens, *taxonomy, *val, *val_targets, *pooling, *head_init;
    const char *resume, *log, *plot, *tokens, *targets, *lr_scale, *precision;
    const char *positives, *val_positives;  // --objective contrastive: targets is NULL
    double val_split, lr, loss_scale, comm_timeout;
    int normalize, max_len, base_batch, checkpoint_activations, epochs_given, min_steps_given;
    tc_train_config t;
} options;

// The settings the two objectives share, checked after either's own.
static void check_common(tc_cli *cli, const options *o) {
    if (o->val && o->val_split > 0) tc_cli_usage_error(cli, "--val and --val-split exclude each other");
    tc_lr_scaling scaling;
    if (tc_lr_scaling_parse(o->lr_scale, &scaling)) tc_cli_usage_error(cli, "--lr-scale: %s", tc_error());
    if (strcmp(o->precision, "fp32") && strcmp(o->precision, "bf16") && strcmp(o->precision, "fp16"))
        tc_cli_usage_error(cli, "--precision: '%s' is not fp32, bf16 or fp16", o->precision);
    if (o->loss_scale > 0 && strcmp(o->precision, "fp16"))
        tc_cli_usage_error(cli, "--loss-scale is for --precision fp16");
}

// --objective contrastive: ANCHORS POSITIVES, no classes.
static void parse_contrastive(tc_cli *cli, int argc, char **argv, options *o) {
    if (argc - optind != 2) tc_cli_usage_error(cli, "expected ANCHORS and POSITIVES");
    if (!cli->output) tc_cli_usage_error(cli, "-o DIR is required (the checkpoints' directory)");
    if (o->class_vectors || o->class_tokens || o->taxonomy || o->head_init || o->val_targets)
        tc_cli_usage_error(cli, "--objective contrastive trains the encoder alone: --class-vectors, --class-tokens, "
                                "--taxonomy, --head-init and --val-targets are for the classifier");
    if (o->val && !o->val_positives) tc_cli_usage_error(cli, "--val needs --val-positives");
    if (o->val_positives && !o->val) tc_cli_usage_error(cli, "--val-positives needs --val");
    if (o->pooling && !strcmp(o->pooling, "pooler"))
        tc_cli_usage_error(cli, "--objective contrastive: sentence-transformers has no pooler pooling; use mean or cls");
    if (o->epochs_given && !o->min_steps_given) o->t.min_steps = 0;
    if (o->val) o->val_split = 0;
    check_common(cli, o);
    o->tokens = argv[optind];
    o->positives = argv[optind + 1];
}

static void parse(tc_cli *cli, int argc, char **argv, options *o) {
    static const struct option longs[] = {
        {"model", required_argument, 0, 'm'}, {"class-vectors", required_argument, 0, OPT_CLASS_VECTORS},
        {"class-tokens", required_argument, 0, OPT_CLASS_TOKENS}, {"taxonomy", required_argument, 0, OPT_TAXONOMY},
        {"val", required_argument, 0, OPT_VAL}, {"val-targets", required_argument, 0, OPT_VAL_TARGETS},
        {"val-split", required_argument, 0, OPT_VAL_SPLIT}, {"pooling", required_argument, 0, OPT_POOLING},
        {"normalize", no_argument, 0, OPT_NORMALIZE}, {"max-len", required_argument, 0, OPT_MAX_LEN},
        {"head-init", required_argument, 0, OPT_HEAD_INIT}, {"epochs", required_argument, 0, OPT_EPOCHS},
        {"batch", required_argument, 0, OPT_BATCH}, {"accumulate", required_argument, 0, OPT_ACCUMULATE},
        {"lr", required_argument, 0, OPT_LR}, {"lr-scale", required_argument, 0, OPT_LR_SCALE},
        {"base-batch", required_argument, 0, OPT_BASE_BATCH}, {"warmup-ratio", required_argument, 0, OPT_WARMUP_RATIO},
        {"warmup-steps", required_argument, 0, OPT_WARMUP_STEPS}, {"constant-lr", no_argument, 0, OPT_CONSTANT_LR},
        {"weight-decay", required_argument, 0, OPT_WEIGHT_DECAY}, {"adam-beta1", required_argument, 0, OPT_BETA1},
        {"adam-beta2", required_argument, 0, OPT_BETA2}, {"adam-eps", required_argument, 0, OPT_ADAM_EPS},
        {"max-grad-norm", required_argument, 0, OPT_MAX_GRAD_NORM}, {"loss", required_argument, 0, OPT_LOSS},
        {"max-steps", required_argument, 0, OPT_MAX_STEPS}, {"min-steps", required_argument, 0, OPT_MIN_STEPS},
        {"max-epochs", required_argument, 0, OPT_MAX_EPOCHS}, {"seed", required_argument, 0, OPT_SEED},
        {"eval-every", required_argument, 0, OPT_EVAL_EVERY}, {"save-every", required_argument, 0, OPT_SAVE_EVERY},
        {"patience", required_argument, 0, OPT_PATIENCE}, {"resume", required_argument, 0, OPT_RESUME},
        {"log", required_argument, 0, OPT_LOG}, {"plot", required_argument, 0, OPT_PLOT},
        {"log-every", required_argument, 0, OPT_LOG_EVERY}, {"precision", required_argument, 0, OPT_PRECISION},
        {"loss-scale", required_argument, 0, OPT_LOSS_SCALE}, {"shard-optimizer", no_argument, 0, OPT_SHARD_OPTIMIZER},
        {"checkpoint-activations", no_argument, 0, OPT_CHECKPOINT_ACTIVATIONS},
        {"objective", required_argument, 0, OPT_OBJECTIVE}, {"similarity-scale", required_argument, 0, OPT_SIMILARITY_SCALE},
        {"cached-chunk", required_argument, 0, OPT_CACHED_CHUNK}, {"val-positives", required_argument, 0, OPT_VAL_POSITIVES},
        {"tensorboard", required_argument, 0, OPT_TENSORBOARD}, {"no-tensorboard", no_argument, 0, OPT_NO_TENSORBOARD},
        {"comm-timeout", required_argument, 0, OPT_COMM_TIMEOUT},
        TC_CLI_COMMON_OPTIONS, TC_CLI_GPU_OPTIONS, {0}};
    int c;
    while ((c = tc_cli_getopt(cli, argc, argv, "m:", longs)) != -1) {
        switch (c) {
        case 'm': o->model = optarg; break;
        case OPT_CLASS_VECTORS: o->class_vectors = optarg; break;
        case OPT_CLASS_TOKENS: o->class_tokens = optarg; break;
        case OPT_TAXONOMY: o->taxonomy = optarg; break;
        case OPT_VAL: o->val = optarg; break;
        case OPT_VAL_TARGETS: o->val_targets = optarg; break;
        case OPT_VAL_SPLIT:
            o->val_split = !strcmp(optarg, "auto") ? -1 : tc_cli_parse_double(cli, "--val-split", optarg, 0, 0.9);
            break;
        case OPT_POOLING: o->pooling = optarg; break;
        case OPT_NORMALIZE: o->normalize = 1; break;
        case OPT_MAX_LEN: o->max_len = (int)tc_cli_parse_int(cli, "--max-len", optarg, 2, 100000); break;
        case OPT_HEAD_INIT: o->head_init = optarg; break;
        case OPT_EPOCHS:
            o->t.epochs = (int)tc_cli_parse_int(cli, "--epochs", optarg, 1, 1000000);
            o->epochs_given = 1;
            break;
        case OPT_BATCH: o->t.batch = (int)tc_cli_parse_int(cli, "--batch", optarg, 1, 65536); break;
        case OPT_ACCUMULATE: o->t.accumulate = (int)tc_cli_parse_int(cli, "--accumulate", optarg, 1, 65536); break;
        case OPT_LR: o->lr = tc_cli_parse_double(cli, "--lr", optarg, 0, 1e30); break;
        case OPT_LR_SCALE: o->lr_scale = optarg; break;
        case OPT_BASE_BATCH: o->base_batch = (int)tc_cli_parse_int(cli, "--base-batch", optarg, 1, 1 << 30); break;
        case OPT_WARMUP_RATIO: o->t.warmup_ratio = tc_cli_parse_double(cli, "--warmup-ratio", optarg, 0, 1); break;
        case OPT_WARMUP_STEPS: o->t.warmup_steps = tc_cli_parse_int(cli, "--warmup-steps", optarg, 0, 1L << 40); break;
        case OPT_CONSTANT_LR: o->t.constant_lr = 1; break;
        case OPT_WEIGHT_DECAY: o->t.weight_decay = (float)tc_cli_parse_double(cli, "--weight-decay", optarg, 0, 1); break;
        case OPT_BETA1: o->t.beta1 = (float)tc_cli_parse_double(cli, "--adam-beta1", optarg, 0, 0.999999); break;
        case OPT_BETA2: o->t.beta2 = (float)tc_cli_parse_double(cli, "--adam-beta2", optarg, 0, 0.99999999); break;
        case OPT_ADAM_EPS: o->t.eps = (float)tc_cli_parse_double(cli, "--adam-eps", optarg, 1e-30, 1); break;
        case OPT_MAX_GRAD_NORM: o->t.max_grad_norm = (float)tc_cli_parse_double(cli, "--max-grad-norm", optarg, 0, 1e30); break;
        case OPT_LOSS:
            if (tc_loss_reduction_parse(optarg, &o->t.loss)) tc_cli_usage_error(cli, "--loss: %s", tc_error());
            break;
        case OPT_MAX_STEPS: o->t.max_steps = tc_cli_parse_int(cli, "--max-steps", optarg, 1, 1L << 40); break;
        case OPT_MIN_STEPS:
            o->t.min_steps = tc_cli_parse_int(cli, "--min-steps", optarg, 0, 1L << 40);
            o->min_steps_given = 1;
            break;
        case OPT_MAX_EPOCHS: o->t.max_epochs = (int)tc_cli_parse_int(cli, "--max-epochs", optarg, 0, 1000000); break;
        case OPT_SEED: o->t.seed = (uint64_t)tc_cli_parse_int(cli, "--seed", optarg, 0, INT64_MAX); break;
        case OPT_EVAL_EVERY: o->t.eval_every = tc_cli_parse_int(cli, "--eval-every", optarg, 1, 1L << 40); break;
        case OPT_SAVE_EVERY: o->t.save_every = tc_cli_parse_int(cli, "--save-every", optarg, 1, 1L << 40); break;
        case OPT_PATIENCE: o->t.patience = (int)tc_cli_parse_int(cli, "--patience", optarg, 1, 1000000); break;
        case OPT_RESUME: o->resume = optarg; break;
        case OPT_LOG: o->log = optarg; break;
        case OPT_PLOT: o->plot = optarg; break;
        case OPT_LOG_EVERY: o->t.log_every = tc_cli_parse_int(cli, "--log-every", optarg, 1, 1L << 40); break;
        case OPT_PRECISION: o->precision = optarg; break;
        case OPT_LOSS_SCALE: o->loss_scale = tc_cli_parse_double(cli, "--loss-scale", optarg, 1, 1e30); break;
        case OPT_SHARD_OPTIMIZER: o->t.shard_optimizer = 1; break;
        case OPT_CHECKPOINT_ACTIVATIONS: o->checkpoint_activations = 1; break;
        case OPT_OBJECTIVE:
            if (!strcmp(optarg, "contrastive")) o->t.objective = TC_OBJECTIVE_CONTRASTIVE;
            else if (strcmp(optarg, "classifier")) tc_cli_usage_error(cli, "--objective: '%s' is not classifier or contrastive", optarg);
            break;
        case OPT_SIMILARITY_SCALE:
            o->t.similarity_scale = tc_cli_parse_double(cli, "--similarity-scale", optarg, 1e-6, 1e6);
            break;
        case OPT_CACHED_CHUNK: o->t.cached_chunk = (int)tc_cli_parse_int(cli, "--cached-chunk", optarg, 1, 1 << 20); break;
        case OPT_VAL_POSITIVES: o->val_positives = optarg; break;
        case OPT_TENSORBOARD:
            if (!*optarg) tc_cli_usage_error(cli, "--tensorboard needs a directory (--no-tensorboard: none)");
            o->t.tensorboard = optarg;
            break;
        case OPT_NO_TENSORBOARD: o->t.tensorboard = ""; break;
        case OPT_COMM_TIMEOUT: o->comm_timeout = tc_cli_parse_double(cli, "--comm-timeout", optarg, 0, 1e9); break;
        default: tc_cli_option(cli, c, optarg);
        }
    }
    if (o->plot) {
        if (optind != argc) tc_cli_usage_error(cli, "--plot takes the log alone");
        if (!cli->output) tc_cli_usage_error(cli, "--plot needs -o PNG");
        return;
    }
    if (o->t.objective == TC_OBJECTIVE_CONTRASTIVE) {
        parse_contrastive(cli, argc, argv, o);
        return;
    }
    if (o->t.similarity_scale > 0 || o->t.cached_chunk > 0 || o->val_positives)
        tc_cli_usage_error(cli, "--similarity-scale, --cached-chunk and --val-positives are for --objective contrastive");
    if (argc - optind != 2) tc_cli_usage_error(cli, "expected TOKENS and TARGETS");
    if (!cli->output) tc_cli_usage_error(cli, "-o DIR is required (the checkpoints' directory)");
    // --epochs N alone means N epochs: the floor of steps is for the default
    if (o->epochs_given && !o->min_steps_given) o->t.min_steps = 0;
    if (o->val) o->val_split = 0;
    if (o->val_targets && !o->val) tc_cli_usage_error(cli, "--val-targets needs --val");
    if (!o->resume && !o->class_vectors && !o->class_tokens)
        tc_cli_usage_error(cli, "the class vectors are needed: --class-vectors FILE or --class-tokens FILE");
    if (o->class_vectors && o->class_tokens) tc_cli_usage_error(cli, "--class-vectors and --class-tokens exclude each other");
    if (o->head_init && strcmp(o->head_init, "random") && strcmp(o->head_init, "identity"))
        tc_cli_usage_error(cli, "--head-init: '%s' is not random or identity", o->head_init);
    check_common(cli, o);
    o->tokens = argv[optind];
    o->targets = argv[optind + 1];
}

static void defaults(options *o) {
    memset(o, 0, sizeof *o);
    o->model = "models/all-MiniLM-L6-v2";
    o->lr = 1e-4;
    o->lr_scale = "none";
    o->precision = "fp32";
    o->base_batch = 64;
    o->comm_timeout = TC_COMM_DEFAULT_TIMEOUT;
    o->max_len = 128;
    o->t = (tc_train_config){.batch = 16, .accumulate = 1, .epochs = 1, .min_steps = TC_DEFAULT_MIN_STEPS,
                             .max_epochs = TC_DEFAULT_MAX_EPOCHS, .seed = 42, .warmup_ratio = 0.1,
                             .warmup_steps = -1, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .weight_decay = 0.01f,
                             .max_grad_norm = 1.0f, .loss = TC_LOSS_WEIGHTED};
}

// ---------------------------------------------------------------- setup

typedef struct {
    tc_bert_model model;
    char *resume_dir;
    tc_train_set train, val;
    tc_train_set train_pos, val_pos;  // --objective contrastive: the positives of train and val
    uint32_t *train_idx, *val_idx;
    uint64_t n_train, n_val;
    int K, D, has_val_set;
    float *E, *W;
    char **class_names;
    tc_class_tokens class_tokens;
} inputs;

// K and D, class names, E: from the resumed head, vectors or tokens.
static void load_classes(const tc_cli *cli, const options *o, inputs *in) {
    char **ids = NULL;
    if (in->resume_dir) {
        int n;
        if (tc_checkpoint_load_head(in->resume_dir, &in->K, &in->D, in->model.cfg.hidden, &in->W, &in->E) ||
            tc_checkpoint_class_names(in->resume_dir, &ids, &n))
            tc_cli_die(cli);
        if (n != in->K) tc_cli_fail(cli, "%s: %d class names for %d classes", in->resume_dir, n, in->K);
    } else if (o->class_vectors) {
        if (tc_load_class_vectors(o->class_vectors, &in->K, &in->D, &in->E, &ids)) tc_cli_die(cli);
    } else {
        if (tc_load_class_tokens(o->class_tokens, &in->model, o->max_len, &in->class_tokens)) tc_cli_die(cli);
        in->K = in->class_tokens.K;
        in->D = in->model.cfg.hidden;
        ids = in->class_tokens.ids;
        in->class_tokens.ids = NULL;
    }
    const char *what = in->resume_dir ? in->resume_dir : o->class_vectors ? o->class_vectors : o->class_tokens;
    if (o->taxonomy) {
        tc_taxonomy tx;
        if (tc_taxonomy_load(&tx, o->taxonomy)) tc_cli_die(cli);
        if (tx.n_classes != in->K)
            tc_cli_fail(cli, "%s: %d classes, but %s has %d", what, in->K, o->taxonomy, tx.n_classes);
        tc_free_strings(ids, in->K);
        ids = tc_calloc((size_t)in->K, sizeof *ids);
        for (int k = 0; ids && k < in->K; k++) ids[k] = strdup(tx.names[k]);
        tc_taxonomy_free(&tx);
    }
    if (!ids) {
        ids = tc_calloc((size_t)in->K, sizeof *ids);
        for (int k = 0; ids && k < in->K; k++) {
            char buf[16];
            snprintf(buf, sizeof buf, "%d", k);
            ids[k] = strdup(buf);
        }
    }
    if (!ids) tc_cli_die(cli);
    in->class_names = ids;
}

// A sentence encoder has no classes: a head of one class vector of zeros
// stands in, never trained (common/train/contrastive.h).
static void no_classes(const tc_cli *cli, inputs *in) {
    in->K = 1;
    in->D = in->model.cfg.hidden;
    in->E = tc_calloc((size_t)in->D, sizeof *in->E);
    in->class_names = tc_calloc(1, sizeof *in->class_names);
    if (!in->E || !in->class_names || !(in->class_names[0] = strdup("pair"))) tc_cli_die(cli);
}

// One side of the pairs: a tokens file read whole, checked against the model.
static void load_side(const tc_cli *cli, const inputs *in, const char *path, const tc_train_load_options *lo,
                      tc_train_set *s) {
    if (tc_train_set_load_tokens(s, path, lo) || tc_bert_check_tokens(&in->model, path, s->token_attrs, s->n_token_attrs))
        tc_cli_die(cli);
}

// The training set (and the validation set) of each objective.
static void load_sets(const tc_cli *cli, const options *o, inputs *in, const tc_train_load_options *lo) {
    if (o->t.objective == TC_OBJECTIVE_CONTRASTIVE) {
        load_side(cli, in, o->tokens, lo, &in->train);
        load_side(cli, in, o->positives, lo, &in->train_pos);
        if (tc_train_pairs_check(&in->train, &in->train_pos, o->tokens, o->positives)) tc_cli_die(cli);
        if (!o->val) return;
        load_side(cli, in, o->val, lo, &in->val);
        load_side(cli, in, o->val_positives, lo, &in->val_pos);
        if (tc_train_pairs_check(&in->val, &in->val_pos, o->val, o->val_positives)) tc_cli_die(cli);
        return;
    }
    if (tc_train_set_load(&in->train, o->tokens, o->targets, lo) ||
        tc_bert_check_tokens(&in->model, o->tokens, in->train.token_attrs, in->train.n_token_attrs))
        tc_cli_die(cli);
    if (o->val &&
        (tc_train_set_load(&in->val, o->val, o->val_targets ? o->val_targets : o->targets, lo) ||
         tc_bert_check_tokens(&in->model, o->val, in->val.token_attrs, in->val.n_token_attrs)))
        tc_cli_die(cli);
}

static void load_data(const tc_cli *cli, const options *o, inputs *in) {
    tc_train_load_options lo = {o->max_len, in->model.cfg.vocab_size, in->K};
    load_sets(cli, o, in, &lo);
    if (in->train.n_without_targets) tc_note("%s: %llu documents without targets left out", o->tokens, (unsigned long long)in->train.n_without_targets);
    if (o->val) {
        in->has_val_set = 1;
        in->n_train = in->train.n_docs;
        in->n_val = in->val.n_docs;
        in->train_idx = tc_malloc_array(in->n_train, sizeof *in->train_idx);
        in->val_idx = tc_malloc_array(in->n_val, sizeof *in->val_idx);
        if (!in->train_idx || !in->val_idx) tc_cli_die(cli);
        for (uint64_t i = 0; i < in->n_train; i++) in->train_idx[i] = (uint32_t)i;
        for (uint64_t i = 0; i < in->n_val; i++) in->val_idx[i] = (uint32_t)i;
        return;
    }
    double fraction = o->val_split >= 0 ? o->val_split : tc_val_split_auto(in->train.n_docs);
    if (tc_split_indices(in->train.n_docs, fraction, o->t.seed, &in->train_idx, &in->n_train, &in->val_idx, &in->n_val))
        tc_cli_die(cli);
    if (in->n_train == 0) tc_cli_fail(cli, "%s: no training documents left after holding out %g for validation", o->tokens, fraction);
    in->has_val_set = in->n_val > 0;
}

static void load_inputs(const tc_cli *cli, const options *o, inputs *in) {
    memset(in, 0, sizeof *in);
    if (o->resume && tc_checkpoint_resolve(o->resume, &in->resume_dir)) tc_cli_die(cli);
    if (tc_bert_model_load(&in->model, in->resume_dir ? in->resume_dir : o->model)) tc_cli_die(cli);
    if (o->t.objective == TC_OBJECTIVE_CONTRASTIVE) no_classes(cli, in);
    else load_classes(cli, o, in);
    load_data(cli, o, in);
}

static void free_inputs(inputs *in) {
    tc_bert_model_free(&in->model);
    free(in->resume_dir);
    tc_train_set_free(&in->train);
    tc_train_set_free(&in->val);
    tc_train_set_free(&in->train_pos);
    tc_train_set_free(&in->val_pos);
    free(in->train_idx), free(in->val_idx), free(in->E), free(in->W);
    tc_free_strings(in->class_names, in->K);
    tc_free_class_tokens(&in->class_tokens);
}

// ---------------------------------------------------------------- ranks

// What every rank shares: options, inputs, devices.
typedef struct {
    const tc_cli *cli;
    const options *o;
    inputs *in;
    tc_pooling pooling;
    tct_dtype precision;
    tc_train_config t;      // each rank runs a copy
} plan;

// The class vectors from their names' tokens, embedded by the model as it
// starts on rank 0 and sent to the others, so that every rank starts from
// the same bits whatever its GPU.
static int embed_class_names(const plan *p, tc_classifier *cl, tc_comm *comm) {
    const inputs *in = p->in;
    int K = in->K, C = in->model.cfg.hidden, B = cl->opt.max_batch;
    float *E = tc_malloc_array((size_t)K * (size_t)C, sizeof *E);
    int rc = E ? 0 : -1;
    for (int k = 0; rc == 0 && comm->rank == 0 && k < K; k += B) {
        int n = K - k < B ? K - k : B;
        rc = tc_classifier_encode(cl, (const int32_t *const *)in->class_tokens.rows + k, in->class_tokens.lengths + k,
                                  n, E + (size_t)k * C);
    }
    if (tc_comm_any(comm, rc != 0)) rc = rc ? -1 : tc_fail("rank 0 could not embed the class names");
    if (rc == 0 && comm->size > 1) rc = comm->ops->broadcast(comm, E, (size_t)K * (size_t)C * sizeof *E, 0);
    if (rc == 0) rc = tc_classifier_set_head(cl, NULL, E);
    free(E);
    return rc;
}

// The head starts as the identity (score = doc . e_c, the class-name
// similarity the pipeline's annotation starts from) unless asked for a random
// one or the class vectors are not the size of the document vectors.
static int identity_head(const options *o, const inputs *in) {
    if (o->head_init) return !strcmp(o->head_init, "identity");
    return in->D == in->model.cfg.hidden;
}

static tc_classifier *build_classifier(const plan *p, tc_backend *be, tc_comm *comm) {
    const inputs *in = p->in;
    const options *o = p->o;
    int longest = in->train.longest > in->val.longest ? in->train.longest : in->val.longest;
    if (in->class_tokens.longest > longest) longest = in->class_tokens.longest;
    if (in->train_pos.longest > longest) longest = in->train_pos.longest;
    if (in->val_pos.longest > longest) longest = in->val_pos.longest;
    // contrastive: a pass encodes a chunk of the anchors and positives
    int rows = o->t.batch, chunk = o->t.cached_chunk;
    if (o->t.objective == TC_OBJECTIVE_CONTRASTIVE) rows = chunk > 0 && chunk < 2 * rows ? chunk : 2 * rows;
    tc_classifier_options co = {rows, rows * longest, longest, p->pooling, o->normalize, o->checkpoint_activations};
    float *zeros = in->E ? NULL : tc_calloc((size_t)in->K * (size_t)in->D, sizeof *zeros);
    tc_classifier *cl = NULL;
    int rc = in->E || zeros ? 0 : -1;
    if (rc == 0)
        rc = tc_classifier_create(&cl, be, (tc_bert_model *)&in->model, &co, in->E ? in->E : zeros, in->K, in->D, in->W);
    free(zeros);
    if (rc == 0 && !in->E) rc = embed_class_names(p, cl, comm);
    if (rc == 0 && !in->resume_dir) rc = tc_classifier_init_head(cl, o->t.seed, identity_head(o, in));
    if (rc) {
        tc_classifier_free(cl);
        return NULL;
    }
    return cl;
}

// One rank: its backend (GPU `device`, or the CPU when < 0), its
// classifier, the training loop. 0, or -1 after tc_fail.
static int run_rank(const plan *p, tc_comm *comm, int device, tc_train_result *r) {
    tc_backend *be = NULL;
#if TC_HAVE_CUDA
    if (device >= 0) be = tc_backend_cuda_create(device, p->precision);
    if (be && tc_comm_nccl_attach(comm, be)) {
        tc_backend_destroy(be);
        return -1;
    }
#endif
    if (device < 0) be = tc_backend_cpu_create_train(tc_cli_threads(p->cli), p->precision);
    if (!be) return -1;
    tc_classifier *cl = build_classifier(p, be, comm);
    tc_train_config t = p->t;
    int rc = cl ? tc_train_run(cl, comm, &t, r) : -1;
    // after a failure under NCCL, queued collectives may wait for ranks
    // that will never come: leave it all to the end of the process
    if (rc == 0 || strcmp(comm->name, "nccl")) {
        tc_classifier_free(cl);
        tc_backend_destroy(be);
    }
    return rc;
}

typedef struct {
    const plan *p;
    tc_comm *comm;
    int device;
    tc_train_result r;
    pthread_t thread;
} rank_job;

#if TC_HAVE_CUDA
// A rank in a thread of its own. A failing rank ends the process at once:
// the others would wait for it in their next collective.
static void *rank_thread(void *arg) {
    rank_job *j = arg;
    if (run_rank(j->p, j->comm, j->device, &j->r)) {
        tc_print_error();
        fflush(NULL);
        _exit(1);
    }
    return NULL;
}
#endif

// --gpus with several GPUs in one process: a thread and an NCCL
// communicator per GPU.
static int run_threads(const plan *p, const tc_devices *dev, tc_train_result *r) {
#if TC_HAVE_CUDA
    int n = dev->n_gpus;
    tc_comm *comms[TC_MAX_GPUS];
    rank_job jobs[TC_MAX_GPUS];
    if (tc_comm_nccl_threads_create(n, dev->gpus, p->o->comm_timeout, comms)) return -1;
    for (int i = 0; i < n; i++) {
        jobs[i] = (rank_job){p, comms[i], dev->gpus[i], {0}, 0};
        if (pthread_create(&jobs[i].thread, NULL, rank_thread, &jobs[i])) {
            fprintf(stderr, "tc-train: cannot start the thread of GPU %d\n", dev->gpus[i]);
            _exit(1);
        }
    }
    for (int i = 0; i < n; i++) pthread_join(jobs[i].thread, NULL);
    for (int i = 0; i < n; i++) tc_comm_destroy(comms[i]);
    *r = jobs[0].r;
    return 0;
#else
    return tc_fail("this build has no CUDA backend");
#endif
}

// The communicator of this process's rank and its GPU (-1: the CPU):
// under an MPI launcher with GPUs, one GPU per rank (by its rank on the
// node) and NCCL over MPI; several ranks without GPUs, MPI; else one rank.
// timeout: --comm-timeout, which bounds NCCL's start already.
static tc_comm *open_comm(const tc_cli *cli, const tc_devices *dev, double timeout, int *device) {
    tc_comm *comm = NULL;
    *device = dev->n_gpus > 0 ? dev->gpus[0] : -1;
    int mpi = dev->n_gpus > 0 ? tc_comm_launcher_size() >= 1 : tc_comm_launched();
    if (!mpi) {
        comm = tc_comm_single_create();
        if (!comm) tc_cli_die(cli);
        return comm;
    }
#if TC_HAVE_MPI
    comm = tc_comm_mpi_create();
    if (!comm) tc_cli_die(cli);
    comm->timeout = timeout;
#if TC_HAVE_CUDA
    if (dev->n_gpus > 0) {
        // the GPU of the rank's place on its node; one visible GPU: the
        // launcher gave each rank its own (CUDA_VISIBLE_DEVICES)
        int local = dev->n_gpus == 1 ? 0 : tc_comm_local_rank();
        if (local >= dev->n_gpus)
            tc_cli_fail(cli, "rank %d is rank %d of its node, but --gpus gives %d GPUs: one GPU per rank", comm->rank,
                        local, dev->n_gpus);
        *device = dev->gpus[local];
        comm = tc_comm_nccl_over(comm, *device);
        if (!comm) tc_cli_die(cli);
    }
#endif
#else
    tc_cli_fail(cli, "started by an MPI launcher, but this build has no MPI (install openmpi and rebuild)");
#endif
    return comm;
}

// Every file read or written, checked before any work: no output may
// replace an input (--log over the tokens), and -o must be a directory that
// can be made or written.
static void check_files(const tc_cli *cli, const options *o) {
    static char default_log[4096];
    if (o->plot) {
        tc_files_input("--plot", o->plot);
        tc_cli_check_files(cli);
        return;
    }
    const char *named[][2] = {{"TOKENS", o->tokens}, {"TARGETS", o->targets}, {"--class-vectors", o->class_vectors},
                               {"--class-tokens", o->class_tokens}, {"--taxonomy", o->taxonomy}, {"--val", o->val},
                               {"--val-targets", o->val_targets}, {"POSITIVES", o->positives},
                               {"--val-positives", o->val_positives}};
    for (size_t i = 0; i < sizeof named / sizeof *named; i++) tc_files_input(named[i][0], named[i][1]);
    tc_files_input_model("--model", o->model);
    tc_files_input_model("--resume", o->resume);
    tc_files_output_dir("-o", cli->output);
    snprintf(default_log, sizeof default_log, "%s/log.jsonl", cli->output);
    tc_files_output("--log", o->log ? o->log : default_log);
    if (o->t.tensorboard && o->t.tensorboard[0]) tc_files_output_dir("--tensorboard", o->t.tensorboard);
    tc_cli_check_files(cli);
}

static tct_dtype precision_of(const tc_cli *cli, const char *name, const tc_devices *dev) {
    tct_dtype t = !strcmp(name, "bf16") ? TCT_BF16 : !strcmp(name, "fp16") ? TCT_F16 : TCT_F32;
    if (dev->n_gpus == 0 && t == TCT_F16) tc_cli_usage_error(cli, "--precision fp16 needs a GPU (the CPU trains in fp32 or bf16)");
    // bf16 on a CPU without it: refused as tc-encode refuses it
    if (dev->n_gpus == 0 && tc_train_precision_cpu(t)) tc_cli_fail(cli, "%s", tc_error());
    return t;
}

int main(int argc, char **argv) {
    tc_cli cli;
    tc_cli_init(&cli, "tc-train", usage, &argc, &argv, 1);
    options o;
    defaults(&o);
    parse(&cli, argc, argv, &o);
    check_files(&cli, &o);
    if (o.plot) {
        if (tc_train_log_plot(o.plot, cli.output)) tc_cli_die(&cli);
        return 0;
    }
    tc_devices dev;
    if (tc_devices_select(&cli, &dev)) tc_cli_usage_error(&cli, "--gpus: %s", tc_error());
    plan p = {.cli = &cli, .o = &o, .precision = precision_of(&cli, o.precision, &dev)};
    tc_verbose_train_precision(p.precision, &dev);
    int device = -1;
    tc_comm *comm = dev.n_gpus > 1 && tc_comm_launcher_size() == 0 ? NULL : open_comm(&cli, &dev, o.comm_timeout, &device);
    int ranks = comm ? comm->size : dev.n_gpus, rank = comm ? comm->rank : 0;
    if (comm) comm->timeout = o.comm_timeout;
    inputs in;
    load_inputs(&cli, &o, &in);
    // one run at a time in a directory: a second would interleave the log
    // and race for the checkpoints' names. Taken once the inputs are read,
    // so that a wrong input leaves no directory behind.
    if (rank == 0 && tc_lock_dir(cli.output)) tc_cli_die(&cli);
    p.in = &in;
    p.pooling = in.model.default_pooling;
    if (o.pooling && tc_pooling_parse(o.pooling, &p.pooling)) tc_cli_usage_error(&cli, "--pooling: %s", tc_error());
    if (!o.pooling && in.model.st_unsupported_pooling[0])
        tc_cli_fail(&cli, "%s/1_Pooling/config.json: %s is not supported; choose --pooling mean, cls or pooler",
                    in.model.dir, in.model.st_unsupported_pooling);
    if (o.t.objective == TC_OBJECTIVE_CONTRASTIVE) {
        if (p.pooling == TC_POOL_POOLER)
            tc_cli_fail(&cli, "%s: pooler pooling has no sentence-transformers module; choose --pooling mean or cls",
                        in.model.dir);
        o.normalize |= in.model.default_normalize;  // the model's Normalize module stays in its output
    }
    tc_lr_scaling scaling;
    tc_lr_scaling_parse(o.lr_scale, &scaling);
    long effective = (long)o.t.batch * ranks * o.t.accumulate;
    tc_train_config *t = &o.t;
    t->train = &in.train, t->train_idx = in.train_idx, t->n_train = in.n_train;
    t->val = in.has_val_set ? (o.val ? &in.val : &in.train) : NULL;
    t->train_positives = &in.train_pos;
    t->val_positives = in.has_val_set ? (o.val ? &in.val_pos : &in.train_pos) : NULL;
    t->val_idx = in.val_idx, t->n_val = in.n_val;
    t->lr = tc_lr_scaled(o.lr, scaling, effective, o.base_batch);
    t->out_dir = cli.output;
    t->log_path = o.log;
    t->resume_dir = in.resume_dir;
    t->source_dir = in.resume_dir ? in.resume_dir : o.model;
    t->class_names = (const char *const *)in.class_names;
    t->max_len = o.max_len;
    t->cli = &cli;
    if (t->log_every == 0) t->log_every = dev.n_gpus > 0 ? 10 : 1;
    t->loss_scaling = p.precision == TCT_F16;
    t->loss_scale = (float)o.loss_scale;
    p.t = *t;
    int contrastive = o.t.objective == TC_OBJECTIVE_CONTRASTIVE;
    char classes[64];
    snprintf(classes, sizeof classes, contrastive ? "multiple-negatives ranking" : "%d classes", in.K);
    if (rank == 0)
        tc_note("%llu training %s, %llu validation; %s; effective batch %ld (%d x %d ranks x %d); "
                "learning rate %.3g; %s pooling%s; %s",
                (unsigned long long)in.n_train, contrastive ? "pairs" : "documents", (unsigned long long)in.n_val,
                classes, effective, t->batch, ranks,
                t->accumulate, t->lr, tc_pooling_name(p.pooling), o.normalize ? ", normalized" : "",
                dev.n_gpus ? o.precision : p.precision == TCT_BF16 ? "CPU, bf16" : "CPU");
    tc_train_result r;
    int rc = comm ? run_rank(&p, comm, device, &r) : run_threads(&p, &dev, &r);
    if (rc == 0 && rank == 0)
        tc_note("%ld steps; best %s loss %.6g at step %ld%s; checkpoints in %s (best, final)", r.steps,
                t->val ? "validation" : "training", r.best_metric, r.best_step, r.stopped_early ? " (stopped early)" : "",
                cli.output);
    if (rc) {
        // a lost rank: every rank that saw it says so (rank 0 may be the lost one)
        if (comm && comm->lost[0]) tc_fail("%s", comm->lost);
        if (rank == 0 || !comm || comm->lost[0]) tc_print_error();
        tc_comm_destroy(comm);
        exit(1);
    }
    free_inputs(&in);
    tc_comm_destroy(comm);
    return 0;
}
