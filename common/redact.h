// Secrets out of URLs before they are shown or stored. A URL given on the
// command line (--llm https://user:KEY@host/v1?api_key=KEY) would otherwise
// be copied into the provenance of every output, the LLM cache and every
// message that names the endpoint; all of these take it through here.
#ifndef TC_REDACT_H
#define TC_REDACT_H

#include <stddef.h>

// Copies `text` to `out` (at most out_size bytes with the NUL, cut like
// snprintf) with every URL in it (SCHEME://...) masked: the user
// information before '@' becomes "***", and so does the value of each query
// or fragment parameter whose name holds key, token, secret, pass, auth,
// sig, credential or session (api_key, access_token, X-Amz-Signature,
// password, ...), whatever the case. Returns out.
char *tc_redact_urls(char *out, size_t out_size, const char *text);

// 1 if the parameter name is one whose value tc_redact_urls masks.
int tc_secret_parameter(const char *name, size_t len);

#endif
