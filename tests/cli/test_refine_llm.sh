# tc-refine annotate --llm against the stub chat server on loopback
# (tests/llm/stub_server.py): core classes picked by the model, lenient
# reading of its answer, names that are not candidates, answers naming
# none, retries on 429/5xx/timeouts/malformed answers, the response cache
# (a rerun and a resumed run ask nothing twice), an unreachable endpoint.
. "$TC_ROOT/tests/cli/lib.sh"
. "$TC_ROOT/tests/llm/stub.sh"
FX="$TC_HELPERS/refine-fixture"
H="$TC_ROOT/tests/cli/refine"
py=$(python_with json) || { skip refine_llm "python3 is needed for the stub server"; exit 0; }
STUB_PYTHON=$py

"$FX" taxonomy "$H/labels.txt" "$H/label_hierarchy.txt" "$H/keyterms.txt" > taxo.tct
"$FX" terms "$H/term_embeddings.txt" > terms.tct
# x1 and x3 are the hand case's x1 (candidates: animals, plants, dogs, cats,
# trees, flowers, poodles), x2 is its x2 (plants, animals, ...).
printf 'x1\t1 0 0\nx2\t0 0.6 0.8\nx3\t1 0 0\n' > emb.txt
"$FX" embeddings emb.txt > docs.tct
# x1: the model names poodles and "Dogs" (any case) and a class that is not a
# candidate; x2: no directive, the stub names the first two candidates;
# x3: an answer naming no candidate: the gap rule decides (poodles).
printf 'x1\tA text. [[reply:poodles, Dogs, unicorns]]\nx2\tAnother text.\nx3\tThird. [[reply:I cannot tell.]]\n' > corpus.txt
printf 'x1\t6,2,0\nx2\t1,0\nx3\t6,0,2\n' > expected.txt
common="--gpus none --taxonomy taxo.tct --terms terms.tct --corpus corpus.txt --llm-timeout 0.5 --llm-backoff 0.01 --concurrency 2"

stub_start "" || { fail refine_llm "stub server did not start"; exit 0; }
expect llm_annotate 0 env TC_LLM_API_KEY=k-123 tc-refine annotate $common --llm "$STUB_URL" --llm-cache cache1 docs.tct -o llm.tct
check llm_labels "$FX" check-labels llm.tct expected.txt 1
check llm_counts_unknown_names grep -q "1 answers named no candidate .*2 names that were not candidates" "$T/err"
check llm_sent_three test "$(stub_requests)" -eq 3
check llm_key_sent grep -q "Bearer k-123" "$STUB_LOG"
check llm_instruction_lists_candidates grep -q "categories: animals, plants, dogs, cats, trees, flowers, poodles\\." "$STUB_LOG"
tc-dump --meta llm.tct > meta.txt 2>&1
check llm_key_not_recorded sh -c "! grep -q k-123 meta.txt"
# a rerun is answered from the cache
expect llm_rerun 0 tc-refine annotate $common --llm "$STUB_URL" --llm-cache cache1 docs.tct -o llm2.tct
check llm_rerun_asks_nothing test "$(stub_requests)" -eq 3
check llm_rerun_same sh -c "'$FX' show-labels llm.tct > a; '$FX' show-labels llm2.tct > b; cmp -s a b"
check llm_rerun_reports_cache grep -q "3 calls: 3 from the cache, 0 requests sent" "$T/err"
stub_stop

# 429, 500, a timeout and a malformed answer before the answers: retried
stub_start "429,500,timeout,malformed" 2 || { fail refine_llm "stub server did not start"; exit 0; }
expect llm_retries 0 tc-refine annotate $common --concurrency 1 --llm "$STUB_URL" --llm-cache none docs.tct -o retried.tct
check llm_retries_labels "$FX" check-labels retried.tct expected.txt 1
check llm_retries_sent test "$(stub_requests)" -eq 7
check llm_retries_reported grep -q "4 retries (1 rate-limited, 1 timeouts, 1 server errors, 1 malformed)" "$T/err"
stub_stop

# retries exhausted: one clear line, no output file
stub_start "timeout,timeout,timeout" 2 || { fail refine_llm "stub server did not start"; exit 0; }
expect_error llm_gives_up 1 "gave up after 3 tries: no answer within 0.5 s" tc-refine annotate $common --llm-retries 2 --concurrency 1 --llm "$STUB_URL" --llm-cache none docs.tct -o gaveup.tct
check llm_gives_up_no_output test ! -e gaveup.tct
stub_stop

# a run that fails on its second document, resumed: only what is missing is asked
stub_start "ok,400" || { fail refine_llm "stub server did not start"; exit 0; }
expect_error llm_client_error 1 "HTTP 400: bad request, says the stub" tc-refine annotate $common --concurrency 1 --llm "$STUB_URL" --llm-cache cache2 docs.tct -o resumed.tct
check llm_client_error_sent test "$(stub_requests)" -eq 2
expect llm_resume 0 tc-refine annotate $common --concurrency 1 --llm "$STUB_URL" --llm-cache cache2 docs.tct -o resumed.tct
check llm_resume_asks_the_rest test "$(stub_requests)" -eq 4
check llm_resume_labels "$FX" check-labels resumed.tct expected.txt 1
port=${STUB_URL#http://127.0.0.1:}
stub_stop

# nobody listens on the port any more
expect_error llm_unreachable 1 "127.0.0.1:${port%/v1}/v1/chat/completions: unreachable" tc-refine annotate $common --llm "http://127.0.0.1:${port%/v1}/v1" --llm-cache none docs.tct -o none.tct
check llm_unreachable_no_output test ! -e none.tct
expect_error llm_not_http 1 "must be an http:// or https:// URL" tc-refine annotate $common --llm "localhost:8000" --llm-cache none docs.tct
