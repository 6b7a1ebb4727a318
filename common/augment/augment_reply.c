// Instructions for generating pseudo-documents, and the lenient reading of
// what a model answers.
#include "common/augment/augment_sources.h"
#include "common/error.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// TELEClass's generation prompts (generation.py), with the number of
// documents and their length as variables and the path written with " > ".
const char *tc_aug_prompt_template(const char *style) {
    if (!style || !strcmp(style, "review"))
        return "Suppose you are an Amazon reviewer. Please generate {n} various and reliable passages following the "
               "requirements below:\n"
               "1. Must generate reviews following the themes of the taxonomy path: {path}, but without mentioning "
               "{path}.\n"
               "2. Must be in length above {words} words.\n"
               "3. The writing style and format of the text should be a product review.\n"
               "4. Should keep the generated text diverse, specific, and consistent with the given taxonomy path.\n"
               "You should focus on {leaf} as the documents' topic.";
    if (!strcmp(style, "encyclopedia"))
        return "Suppose you are a Wikipedia contributor. Please generate {n} various and reliable passages following "
               "the requirements below:\n"
               "1. Must generate articles following the themes of the taxonomy path: {path}, but without mentioning "
               "{path}.\n"
               "2. Must be in length above {words} words.\n"
               "3. The writing style and format of the text should be a Wikipedia page.\n"
               "4. Should keep the generated text diverse, specific, and consistent with the given taxonomy path.\n"
               "You should focus on {leaf} as the documents' topic.";
    return NULL;
}

int tc_aug_default_words(const char *style) { return style && !strcmp(style, "encyclopedia") ? 300 : 100; }

const char *tc_aug_format_prompt(void) {
    return "Your results should be a JSON array in the format [{\"doc\": text}], where text is each generated "
           "document.";
}

char *tc_aug_render(const char *template_text, const char *path, const char *leaf, int n, int words) {
    char number[32], length[32];
    snprintf(number, sizeof number, "%d", n);
    snprintf(length, sizeof length, "%d", words);
    struct {
        const char *name, *value;
    } vars[4] = {{"{path}", path}, {"{leaf}", leaf}, {"{n}", number}, {"{words}", length}};
    size_t size = 1;
    for (const char *p = template_text; *p;) {
        int hit = -1;
        for (int v = 0; v < 4 && hit < 0; v++)
            if (!strncmp(p, vars[v].name, strlen(vars[v].name))) hit = v;
        size += hit >= 0 ? strlen(vars[hit].value) : 1;
        p += hit >= 0 ? strlen(vars[hit].name) : 1;
    }
    char *out = tc_malloc(size), *at = out;
    if (!out) return NULL;
    for (const char *p = template_text; *p;) {
        int hit = -1;
        for (int v = 0; v < 4 && hit < 0; v++)
            if (!strncmp(p, vars[v].name, strlen(vars[v].name))) hit = v;
        if (hit >= 0) {
            at = stpcpy(at, vars[hit].value);
            p += strlen(vars[hit].name);
        } else {
            *at++ = *p++;
        }
    }
    *at = 0;
    return out;
}

// ---------------------------------------------------------------- answers

typedef struct {
    char **items;
    int n, cap;
} strings;

static int push(strings *s, const char *text) {
    if (!text || !text[0]) return 0;
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 8;
        char **p = tc_realloc(s->items, (size_t)cap * sizeof *p);
        if (!p) return -1;
        s->items = p, s->cap = cap;
    }
    if (!(s->items[s->n] = strdup(text))) return tc_fail("out of memory");
    s->n++;
    return 0;
}

// A document object's text: a known field, or its only string field.
static const char *doc_of(json_t *object) {
    static const char *const fields[] = {"doc", "text", "content", "document", "review", "article", "passage", NULL};
    for (int i = 0; fields[i]; i++) {
        const char *v = json_string_value(json_object_get(object, fields[i]));
        if (v) return v;
    }
    const char *only = NULL, *key;
    json_t *value;
    int strings_seen = 0;
    json_object_foreach(object, key, value) {
        if (json_is_string(value)) only = json_string_value(value), strings_seen++;
    }
    return strings_seen == 1 ? only : NULL;
}

static int collect(json_t *v, strings *out) {
    if (json_is_string(v)) return push(out, json_string_value(v));
    if (json_is_array(v)) {
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item) {
            if (json_is_string(item) && push(out, json_string_value(item))) return -1;
            if (json_is_object(item) && push(out, doc_of(item))) return -1;
        }
        return 0;
    }
    if (json_is_object(v)) {
        const char *key;
        json_t *value;
        json_object_foreach(v, key, value) {
            if (json_is_array(value)) return collect(value, out);  // {"docs": [...]}
        }
        return push(out, doc_of(v));
    }
    return 0;
}

// Drops commas that close a list or an object ("[1, 2,]"), outside strings.
static void forgive_trailing_commas(char *s) {
    int in_string = 0;
    for (char *p = s; *p; p++) {
        if (in_string) {
            if (*p == '\\' && p[1]) p++;
            else if (*p == '"') in_string = 0;
            continue;
        }
        if (*p == '"') in_string = 1;
        if (*p != ',') continue;
        char *q = p + 1;
        while (*q == ' ' || *q == '\n' || *q == '\r' || *q == '\t') q++;
        if (*q == ']' || *q == '}') *p = ' ';
    }
}

static json_t *load(const char *start, size_t len) {
    json_t *v = json_loadb(start, len, 0, NULL);
    if (v) return v;
    char *copy = strndup(start, len);
    if (!copy) return NULL;
    forgive_trailing_commas(copy);
    v = json_loads(copy, 0, NULL);
    free(copy);
    return v;
}

int tc_aug_parse_reply(const char *reply, char ***docs) {
    *docs = NULL;
    // where the JSON may be: the whole answer, a ``` fence, the outermost
    // brackets, the outermost braces
    const char *spans[4][2] = {{reply, reply + strlen(reply)}, {NULL, NULL}, {NULL, NULL}, {NULL, NULL}};
    const char *fence = strstr(reply, "```");
    if (fence) {
        const char *body = strchr(fence + 3, '\n'), *end = body ? strstr(body, "```") : NULL;
        if (end) spans[1][0] = body + 1, spans[1][1] = end;
    }
    const char *open = strchr(reply, '['), *close = strrchr(reply, ']');
    if (open && close > open) spans[2][0] = open, spans[2][1] = close + 1;
    open = strchr(reply, '{'), close = strrchr(reply, '}');
    if (open && close > open) spans[3][0] = open, spans[3][1] = close + 1;
    for (int i = 0; i < 4; i++) {
        if (!spans[i][0]) continue;
        json_t *v = load(spans[i][0], (size_t)(spans[i][1] - spans[i][0]));
        if (!v) continue;
        strings found = {0};
        int rc = collect(v, &found);
        json_decref(v);
        if (rc == 0 && found.n > 0) {
            *docs = found.items;
            return found.n;
        }
        for (int k = 0; k < found.n; k++) free(found.items[k]);
        free(found.items);
        if (rc) return -1;
    }
    return -1;
}
