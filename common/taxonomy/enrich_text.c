// Words of documents for enrichment, and the built-in stop-word list.
#include "common/taxonomy/enrich.h"

#include <stdlib.h>
#include <string.h>

// English function words: the common closed list (articles, pronouns,
// auxiliaries, prepositions, conjunctions, contractions) plus a few words
// that are frequent in any corpus and name no topic.
static const char *const stopwords[] = {
    "a", "about", "above", "after", "again", "against", "ain", "all", "also", "am", "an", "and", "any", "are",
    "aren", "aren't", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but",
    "by", "can", "can't", "cannot", "could", "couldn", "couldn't", "d", "did", "didn", "didn't", "do", "does",
    "doesn", "doesn't", "doing", "don", "don't", "down", "during", "each", "either", "else", "etc", "even", "ever",
    "every", "few", "for", "from", "further", "get", "gets", "got", "had", "hadn", "hadn't", "has", "hasn",
    "hasn't", "have", "haven", "haven't", "having", "he", "he'd", "he'll", "he's", "her", "here", "hers",
    "herself", "him", "himself", "his", "how", "however", "i", "i'd", "i'll", "i'm", "i've", "if", "in", "into",
    "is", "isn", "isn't", "it", "it'd", "it'll", "it's", "its", "itself", "just", "let", "let's", "ll", "m", "ma",
    "may", "me", "might", "mightn", "mightn't", "more", "most", "much", "must", "mustn", "mustn't", "my", "myself",
    "needn", "needn't", "neither", "no", "nor", "not", "now", "o", "of", "off", "on", "once", "one", "only", "or",
    "other", "others", "our", "ours", "ourselves", "out", "over", "own", "re", "s", "said", "same", "say", "says",
    "shall", "shan", "shan't", "she", "she'd", "she'll", "she's", "should", "should've", "shouldn", "shouldn't",
    "since", "so", "some", "such", "t", "than", "that", "that'll", "that's", "the", "their", "theirs", "them",
    "themselves", "then", "there", "there's", "these", "they", "they'd", "they'll", "they're", "they've", "this",
    "those", "though", "through", "thus", "to", "too", "under", "until", "up", "upon", "us", "ve", "very", "was",
    "wasn", "wasn't", "we", "we'd", "we'll", "we're", "we've", "were", "weren", "weren't", "what", "what's",
    "when", "where", "whether", "which", "while", "who", "who's", "whom", "whose", "why", "will", "with", "within",
    "without", "won", "won't", "would", "wouldn", "wouldn't", "y", "yet", "you", "you'd", "you'll", "you're",
    "you've", "your", "yours", "yourself", "yourselves",
};

static int compare_string(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

int tc_enrich_builtin_stopword(const char *word) {
    // the list above is in byte order, so a binary search finds a word
    return bsearch(&word, stopwords, sizeof stopwords / sizeof *stopwords, sizeof *stopwords, compare_string) != NULL;
}

static int is_word_byte(unsigned char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '\'' || ch >= 0x80;
}

static int has_letter(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch >= 'a' && ch <= 'z') || ch >= 0x80) return 1;
    }
    return 0;
}

long tc_enrich_words(char *text, void (*word)(const char *start, size_t length, void *context), void *context) {
    long count = 0;
    unsigned char *p = (unsigned char *)text;
    while (*p) {
        if (!is_word_byte(*p)) {
            p++;
            continue;
        }
        unsigned char *start = p;
        for (; *p && is_word_byte(*p); p++)
            if (*p >= 'A' && *p <= 'Z') *p = (unsigned char)(*p + 32);
        unsigned char *end = p;
        while (start < end && *start == '\'') start++;
        while (end > start && end[-1] == '\'') end--;
        if (end - start >= 2 && end[-1] == 's' && end[-2] == '\'') end -= 2;  // possessive
        while (end > start && end[-1] == '\'') end--;
        size_t n = (size_t)(end - start);
        if (n < 2 || n > 48 || !has_letter((const char *)start, n)) continue;
        word((const char *)start, n, context);
        count++;
    }
    return count;
}
