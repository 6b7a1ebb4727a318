# tc-augment --llm against the stub chat server on loopback: answers that
# are not JSON, fenced JSON, documents too short, naming the path, repeated,
# and 429/5xx/timeouts/malformed answers on the way; the per-path report;
# the cache (a rerun asks nothing, a failed run resumes with only what is
# missing); templates from a YAML config; an unreachable endpoint.
. "$TC_ROOT/tests/cli/lib.sh"
. "$TC_ROOT/tests/llm/stub.sh"
FX="$TC_HELPERS/refine-fixture"
H="$TC_ROOT/tests/cli/refine"
py=$(python_with json) || { skip augment_llm "python3 is needed for the stub server"; exit 0; }
STUB_PYTHON=$py
# paths: 0 animals>dogs>poodles, 1 animals>cats, 2 plants>trees, 3 plants>flowers
"$FX" taxonomy "$H/labels.txt" "$H/label_hierarchy.txt" > taxo.tct
common="-t taxo.tct --llm-timeout 0.5 --llm-backoff 0.01 --concurrency 1"

# One request at a time, so the faults fall in a known order:
#   path 0: not JSON (unreadable), then fenced JSON: 5 documents;
#   path 1: five too short, five naming "cats", five equal (one kept), then
#           429, 500, a timeout, a malformed body -- retried -- and 5 good
#           ones of which 4 are needed;
#   paths 2 and 3: one answer each.
stub_start "badjson,fenced,short,mention,dups,429,500,timeout,malformed" 2 || { fail augment_llm "stub did not start"; exit 0; }
expect llm_generate 0 tc-augment $common --attempts 5 --llm "$STUB_URL" --llm-cache cache1 --docs-out gen.txt --report gen.tsv -o gen.tct
check llm_twenty_documents test "$(wc -l < gen.txt)" -eq 20
check llm_requests test "$(stub_requests)" -eq 12
check llm_summary grep -q "20 documents for 4 paths: 4 complete, 0 short of 5 valid documents, 0 failed" "$T/err"
check llm_stats grep -q "8 calls: 0 from the cache, 12 requests sent, 4 retries (1 rate-limited, 1 timeouts, 1 server errors, 1 malformed)" "$T/err"
check llm_report_path0 grep -q "^0	animals > dogs > poodles	5	2	1	0	0	0	ok$" gen.tsv
check llm_report_path1 grep -q "^1	animals > cats	5	4	0	5	5	4	ok$" gen.tsv
"$FX" show-labels gen.tct > gen.labels
check llm_labels_are_paths sh -c "grep -q '^aug:0-0	0,2,6		0,0,1$' gen.labels && grep -q '^aug:1-4	0,3		0,1$' gen.labels && grep -q '^aug:3-4	1,5		0,1$' gen.labels"
check llm_ids_match_texts test "$(cut -f1 gen.txt)" = "$(cut -f1 gen.labels)"
check llm_no_repeated_text test "$(cut -f2 gen.txt | sort | uniq -d | wc -l)" -eq 0
check llm_no_path_names sh -c "! cut -f2 gen.txt | grep -qiw -e cats -e animals"
check llm_prompt_is_teleclass grep -q "Suppose you are an Amazon reviewer. Please generate 5 various" "$STUB_LOG"
check llm_prompt_path grep -q "taxonomy path: animals > dogs > poodles, but without mentioning" "$STUB_LOG"
check llm_asks_json grep -q "JSON array in the format" "$STUB_LOG"
check llm_generation_settings grep -q '\\"max_tokens\\":3000' "$STUB_LOG"
# a rerun asks nothing and writes the same documents
expect llm_rerun 0 tc-augment $common --attempts 5 --llm "$STUB_URL" --llm-cache cache1 --docs-out gen2.txt -o gen2.tct
check llm_rerun_asks_nothing test "$(stub_requests)" -eq 12
check llm_rerun_same cmp gen.txt gen2.txt
stub_stop

# path 1 meets a client error: the run fails without output; a second run
# asks only for path 1
stub_start "ok,400" || { fail augment_llm "stub did not start"; exit 0; }
expect_error llm_path_fails 1 "1 of 4 paths failed \\(first: animals > cats: .*HTTP 400: bad request, says the stub\\); answers received so far are cached" \
    tc-augment $common --llm "$STUB_URL" --llm-cache cache2 --docs-out part.txt -o part.tct
check llm_path_fails_no_outputs sh -c "test ! -e part.txt && test ! -e part.tct"
check llm_path_fails_asked_all test "$(stub_requests)" -eq 4
expect llm_resume 0 tc-augment $common --llm "$STUB_URL" --llm-cache cache2 --docs-out part.txt -o part.tct
check llm_resume_asks_one_path test "$(stub_requests)" -eq 5
check llm_resume_complete test "$(wc -l < part.txt)" -eq 20

# templates and settings from a YAML config
cat > config.yaml <<'YAML'
tc-augment:
  template: encyclopedia
  words: 200
  docs-per-path: 2
  id-prefix: "gen-"
YAML
expect llm_config 0 tc-augment $common --config config.yaml --llm "$STUB_URL" --llm-cache none --docs-out cfg.txt -o cfg.tct
check llm_config_template grep -q "Suppose you are a Wikipedia contributor. Please generate 2 various" "$STUB_LOG"
check llm_config_words grep -q "above 200 words" "$STUB_LOG"
check llm_config_count sh -c "test \$(wc -l < cfg.txt) -eq 8 && head -1 cfg.txt | grep -q '^gen-0-0	'"
expect llm_own_prompt 0 tc-augment $common --llm "$STUB_URL" --llm-cache none --docs-per-path 1 --format-prompt "" \
    --prompt "Please generate {n} texts about {leaf} ({path}), at least {words} words each, as a JSON list." --docs-out own.txt -o own.tct
check llm_own_prompt_sent grep -q "Please generate 1 texts about poodles (animals > dogs > poodles), at least 100 words each" "$STUB_LOG"
# a wrong address (404) stops the run at once, whatever the path
before=$(stub_requests)
expect_error llm_wrong_address 1 "/api/chat/completions: HTTP 404: no such route /api/chat/completions" \
    tc-augment $common --llm "${STUB_URL%/v1}/api" --llm-cache none --docs-out none.txt -o none.tct
check llm_wrong_address_asked_once test "$(stub_requests)" -eq $((before + 1))
port=${STUB_URL#http://127.0.0.1:}
stub_stop

expect_error llm_unreachable 1 "127.0.0.1:${port%/v1}/v1/chat/completions: unreachable" \
    tc-augment $common --llm "http://127.0.0.1:${port%/v1}/v1" --llm-cache none --docs-out none.txt -o none.tct
check llm_unreachable_no_outputs sh -c "test ! -e none.txt && test ! -e none.tct"
