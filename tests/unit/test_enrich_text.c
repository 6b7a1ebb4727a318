// The word rule of enrichment and the built-in stop-word list.
#include "tests/harness.h"
#include "common/taxonomy/enrich.h"

typedef struct {
    char text[512];
    size_t used;
} joined;

static void join(const char *start, size_t length, void *context) {
    joined *j = context;
    j->used += (size_t)snprintf(j->text + j->used, sizeof j->text - j->used, "%s%.*s", j->used ? "|" : "", (int)length,
                                start);
}

static void test_words(void) {
    char text[] = "The NASA's shuttle-launch (1993) don't 'quoted' x 3d ümlaut a1 --- ''";
    joined j = {0};
    long n = tc_enrich_words(text, join, &j);
    CHECKF(!strcmp(j.text, "the|nasa|shuttle|launch|don't|quoted|3d|ümlaut|a1"), "%s", j.text);
    CHECK(n == 9);
    char long_word[80];
    memset(long_word, 'a', 60);
    long_word[60] = 0;
    joined k = {0};
    CHECK(tc_enrich_words(long_word, join, &k) == 0);
}

static void test_stopwords(void) {
    const char *stop[] = {"the", "and", "don't", "yourselves", "a", "would"};
    const char *keep[] = {"space", "hockey", "dont", "zebra", "aaa"};
    for (size_t i = 0; i < sizeof stop / sizeof *stop; i++) CHECKF(tc_enrich_builtin_stopword(stop[i]), "%s", stop[i]);
    for (size_t i = 0; i < sizeof keep / sizeof *keep; i++) CHECKF(!tc_enrich_builtin_stopword(keep[i]), "%s", keep[i]);
}

int main(void) {
    RUN(test_words);
    RUN(test_stopwords);
    HARNESS_EXIT();
}
