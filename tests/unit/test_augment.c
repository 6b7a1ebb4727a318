// The lenient reading of generated documents, template variables, text
// cleaning, and the root-to-leaf paths of a DAG.
#include "tests/harness.h"
#include "common/augment/augment_sources.h"
#include "common/error.h"

static int parsed(const char *reply, const char *first, int want) {
    char **docs;
    int n = tc_aug_parse_reply(reply, &docs);
    int ok = n == want && (n <= 0 || (first && !strcmp(docs[0], first)));
    if (!ok) printf("  %d documents from: %s\n", n, reply);
    for (int i = 0; i < n; i++) free(docs[i]);
    if (n > 0) free(docs);
    return ok;
}

static void test_parse_replies(void) {
    CHECK(parsed("[{\"doc\": \"one\"}, {\"doc\": \"two\"}]", "one", 2));
    CHECK(parsed("[\"one\", \"two\", \"three\"]", "one", 3));
    CHECK(parsed("Sure! Here they are:\n```json\n[{\"doc\": \"a\"},\n {\"doc\": \"b\"},\n]\n```\nEnjoy.", "a", 2));
    CHECK(parsed("{\"docs\": [{\"text\": \"x\"}]}", "x", 1));
    CHECK(parsed("{\"doc\": \"single\"}", "single", 1));
    CHECK(parsed("Here: [{\"review\": \"r1\"}, {\"title\": 3, \"body\": \"r2\"}] that's all", "r1", 2));
    CHECK(parsed("[{\"doc\": \"with, comma ] and brace }\"}]", "with, comma ] and brace }", 1));
    CHECK(parsed("I cannot write that.", NULL, -1));
    CHECK(parsed("[]", NULL, -1));
    CHECK(parsed("[1, 2, 3]", NULL, -1));
    CHECK(parsed("", NULL, -1));
}

static void test_render_and_clean(void) {
    char *p = tc_aug_render("{n} on {leaf} / {path} / {words} {unknown}", "a > b", "b", 5, 100);
    CHECK(p && !strcmp(p, "5 on b / a > b / 100 {unknown}"));
    free(p);
    char *c = tc_aug_clean_text("  one\ttwo\n\nthree  \r\n");
    CHECK(c && !strcmp(c, "one two three"));
    free(c);
    CHECK(tc_aug_word_count(" a  bc\td\n") == 3 && tc_aug_word_count("") == 0);
    CHECK(tc_aug_prompt_template("encyclopedia") && !tc_aug_prompt_template("limerick"));
    CHECK(tc_aug_default_words("encyclopedia") == 300 && tc_aug_default_words("review") == 100);
}

static void test_paths_of_a_dag(void) {
    // a > c, b > c, c > d, a > e: paths a>c>d, a>e, b>c>d
    const char *names[5] = {"a", "b", "c_c", "d", "e"};
    int32_t edges[8] = {0, 2, 1, 2, 2, 3, 0, 4};
    tc_taxonomy t;
    REQUIRE(tc_taxonomy_init(&t, 5, names, 4, edges) == 0);
    tc_paths p;
    REQUIRE(tc_paths_collect(&p, &t) == 0);
    CHECK(p.n == 3);
    char *text = tc_path_text(&t, &p, 0);
    CHECK(text && !strcmp(text, "a > c c > d"));
    free(text);
    text = tc_path_text(&t, &p, 2);
    CHECK(text && !strcmp(text, "b > c c > d"));
    free(text);
    CHECK(p.offsets[1] - p.offsets[0] == 3 && p.offsets[2] - p.offsets[1] == 2);
    tc_paths_free(&p);
    tc_taxonomy_free(&t);
}

int main(void) {
    RUN(test_parse_replies);
    RUN(test_render_and_clean);
    RUN(test_paths_of_a_dag);
    HARNESS_EXIT();
}
