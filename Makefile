# The two commands: `make run` and `make test`. Everything else is a helper.
BUILD      ?= build
ASAN_BUILD ?= build-asan
STATE_DIR  ?= .state
PORT       ?= 8080
JOBS       ?= $(shell nproc)
CMAKE_GEN  := -G Ninja

.PHONY: run test build deps test-deps unit asan package bench clean

deps:
	@tools/install-deps.sh build

test-deps:
	@tools/install-deps.sh test

$(BUILD)/build.ninja:
	@cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONSULT_TESTS=ON >/dev/null

build: deps $(BUILD)/build.ninja
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	@tools/run-dev.sh $(BUILD)/appliance/consultd $(STATE_DIR) $(PORT)

test: test-deps $(BUILD)/build.ninja
	@cmake --build $(BUILD) -j $(JOBS)
	@cd $(BUILD) && ctest --output-on-failure -j 2 --timeout 300
	@$(MAKE) --no-print-directory asan

# The unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer.
asan: test-deps
	@cmake -S . -B $(ASAN_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DCONSULT_SANITIZE=ON \
	  -DCONSULT_UNIT_ONLY=ON -DCMAKE_CXX_FLAGS=-O1 >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS) --target consult_unit_tests
	@cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/sanitizers/lsan.supp:print_suppressions=0 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j 2 -L unit --timeout 300

package: build
	@cd $(BUILD) && cpack -G DEB

bench: build
	@tests/bench/startup_bench.sh $(BUILD)/appliance/consultd
	@tests/bench/api_bench.sh $(BUILD)/appliance/consultd
	@$(BUILD)/tests/consult_cloud_bench
	@tests/media/run_in_netns.sh $(BUILD)/tests/consult_media_bench

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
