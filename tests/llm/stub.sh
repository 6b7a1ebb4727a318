# Sourced by CLI tests that talk to the stub chat server (tests/llm/stub_server.py).
#   stub_start [FAULTS] [SLEEP]   starts it; sets $STUB_URL, $STUB_LOG, $STUB_PID
#   stub_requests                 requests it has received so far
#   stub_stop                     stops it (also on exit)
stub_start() {
    stub_stop
    STUB_LOG="$T/stub.log.$$.$(date +%s%N)"
    port_file="$STUB_LOG.port"
    ${STUB_PYTHON:-python3} "$TC_ROOT/tests/llm/stub_server.py" --port-file "$port_file" --log "$STUB_LOG" \
        --faults "${1:-}" --sleep "${2:-2}" 2> "$STUB_LOG.err" &
    STUB_PID=$!
    i=0
    while [ ! -s "$port_file" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    if [ ! -s "$port_file" ]; then
        echo "stub server did not start: $(cat "$STUB_LOG.err")" >&2
        return 1
    fi
    STUB_URL="http://127.0.0.1:$(cat "$port_file")/v1"
    trap stub_stop EXIT
}
stub_requests() { wc -l < "$STUB_LOG" | tr -d ' '; }
stub_stop() {
    if [ -n "${STUB_PID:-}" ]; then
        kill "$STUB_PID" 2> /dev/null
        wait "$STUB_PID" 2> /dev/null
        STUB_PID=
    fi
}
