# An --llm URL with credentials (user:password@, ?api_key=) reaches the
# server whole, the path completed before its query string, but the secrets
# appear nowhere else: not in the outputs' provenance (tc-dump --meta), not in
# the response cache, not on stderr, for a success or an error, in tc-refine
# and tc-augment alike.
. "$TC_ROOT/tests/cli/lib.sh"
. "$TC_ROOT/tests/llm/stub.sh"
FX="$TC_HELPERS/refine-fixture"
H="$TC_ROOT/tests/cli/refine"
py=$(python_with json) || { skip llm_secrets "python3 is needed for the stub server"; exit 0; }
STUB_PYTHON=$py

"$FX" taxonomy "$H/labels.txt" "$H/label_hierarchy.txt" "$H/keyterms.txt" > taxo.tct
"$FX" terms "$H/term_embeddings.txt" > terms.tct
printf 'x1\t1 0 0\nx2\t0 0.6 0.8\n' > emb.txt
"$FX" embeddings emb.txt > docs.tct
printf 'x1\tA text.\nx2\tAnother text.\n' > corpus.txt
refine="--gpus none --taxonomy taxo.tct --terms terms.tct --corpus corpus.txt --llm-timeout 0.5 --llm-backoff 0.01 --concurrency 1"

# nothing holds "SECRET" but the server's log
no_secret() { ! grep -rq SECRET "$@"; }

stub_start "" || { fail llm_secrets "stub server did not start"; exit 0; }
port=${STUB_URL#http://127.0.0.1:}
port=${port%/v1}
url="http://me:SECRET-pw@127.0.0.1:$port/v1?api_key=SECRET-key&tier=free"
expect refine_with_secrets 0 tc-refine annotate $refine --llm "$url" --llm-cache cache docs.tct -o llm.tct
cp "$T/err" refine.err
check refine_request_path grep -q '"path": "/v1/chat/completions?api_key=SECRET-key&tier=free"' "$STUB_LOG"
tc-dump --meta llm.tct > meta.txt 2>&1
check refine_provenance_masked grep -q "http://\*\*\*@127.0.0.1:$port/v1?api_key=\*\*\*&tier=free" meta.txt
check refine_no_secret_in_provenance no_secret meta.txt
check refine_no_secret_in_cache no_secret cache
check refine_cache_written test -n "$(find cache -name '*.json')"
check refine_no_secret_on_stderr no_secret refine.err
# --llm=URL, one word, is masked the same way
expect refine_with_secrets_one_word 0 tc-refine annotate $refine "--llm=$url" --llm-cache cache docs.tct -o llm2.tct
check refine_one_word_no_secret sh -c "tc-dump --meta llm2.tct | grep -q 'api_key=\*\*\*' && ! tc-dump --meta llm2.tct | grep -q SECRET"

expect augment_with_secrets 0 tc-augment -t taxo.tct --llm-timeout 0.5 --llm-backoff 0.01 --concurrency 1 \
    --llm "$url" --llm-cache cache --docs-out gen.txt -o gen.tct
cp "$T/err" augment.err
check augment_no_secret sh -c "tc-dump --meta gen.tct > gmeta.txt 2>&1 && ! grep -q SECRET gmeta.txt augment.err && ! grep -rq SECRET cache"
stub_stop

# an error names the endpoint, masked
stub_start "400" || { fail llm_secrets "stub server did not start"; exit 0; }
port=${STUB_URL#http://127.0.0.1:}
port=${port%/v1}
expect_error refine_error_masked 1 "127.0.0.1:$port/v1/chat/completions\?api_key=\*\*\*&tier=free: HTTP 400" \
    tc-refine annotate $refine --llm "http://me:SECRET-pw@127.0.0.1:$port/v1?api_key=SECRET-key&tier=free" \
    --llm-cache none docs.tct -o err.tct
check refine_error_no_secret no_secret "$T/err"
stub_stop
