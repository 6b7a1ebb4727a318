// tc_redact_urls: the user information and secret parameters of any URL in
// a text masked, everything else copied as it is.
#include "tests/harness.h"
#include "common/redact.h"

static const char *redacted(const char *text) {
    static char out[512];
    return tc_redact_urls(out, sizeof out, text);
}

#define SAME(text, want) CHECKF(!strcmp(redacted(text), want), "'%s' gave '%s'", text, redacted(text))

static void test_user_information(void) {
    SAME("http://user:pass@host:8000/v1", "http://***@host:8000/v1");
    SAME("https://KEY@api.example.com", "https://***@api.example.com");
    SAME("--llm=http://u:p@h/v1", "--llm=http://***@h/v1");
    SAME("http://host/v1/a@b", "http://host/v1/a@b");  // an @ in the path is no credential
    SAME("http://@host/", "http://@host/");
    SAME("ftp://me:pw@files", "ftp://***@files");
}

static void test_secret_parameters(void) {
    SAME("http://h/v1?api_key=abc&model=x", "http://h/v1?api_key=***&model=x");
    SAME("http://h/v1?key=abc", "http://h/v1?key=***");
    SAME("http://h/v1?Api-Key=abc;token=t;q=1", "http://h/v1?Api-Key=***;token=***;q=1");
    SAME("http://h/v1?access_token=abc#frag", "http://h/v1?access_token=***#frag");
    SAME("http://h/cb#access_token=abc&state=s", "http://h/cb#access_token=***&state=s");
    SAME("https://b.s3.amazonaws.com/o?X-Amz-Signature=ff&X-Amz-Credential=c&X-Amz-Date=d",
         "https://b.s3.amazonaws.com/o?X-Amz-Signature=***&X-Amz-Credential=***&X-Amz-Date=d");
    SAME("http://h/?password=p&secret=s&session_id=i&auth=a", "http://h/?password=***&secret=***&session_id=***&auth=***");
    SAME("http://h/?key=&page=2", "http://h/?key=&page=2");  // nothing to hide
    SAME("http://h/?api-version=2024-01&deployment=d", "http://h/?api-version=2024-01&deployment=d");
}

static void test_text_around_urls(void) {
    SAME("no url here: key=abc", "no url here: key=abc");
    SAME("x http://a:b@h/?key=k y https://c@i z", "x http://***@h/?key=*** y https://***@i z");
    SAME("'http://a:b@h/?key=k' rest", "'http://***@h/?key=***' rest");
    SAME("://a:b@h", "://a:b@h");
    SAME("", "");
    char small[12];
    tc_redact_urls(small, sizeof small, "http://a:b@host/?key=k");
    CHECKF(!strcmp(small, "http://***@"), "cut to '%s'", small);
    CHECK(tc_secret_parameter("API_KEY", 7) && !tc_secret_parameter("model", 5));
}

int main(void) {
    RUN(test_user_information);
    RUN(test_secret_parameters);
    RUN(test_text_around_urls);
    HARNESS_EXIT();
}
